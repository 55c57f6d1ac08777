"""How NeuralClassifier with default settings does on real imbalanced data.

Runs every candidate on the same 5-fold stratified splits of each tabular
dataset in ../shared/data and writes a CSV plus a markdown table (per-dataset
results, mean and mean rank per estimator)::

    python benchmarks/bench_defaults.py                      # all binary tabular sets
    python benchmarks/bench_defaults.py --datasets ecoli oil --folds 3 --out /tmp/b

Large datasets are subsampled (stratified) to ``--max-rows`` rows so the
whole run stays under an hour on 2 cores.
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from imblearn.ensemble import BalancedRandomForestClassifier
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from imbestimators import NeuralClassifier, WeightedStackingClassifier
from imbestimators.datasets import load_csv

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def candidates(seed):
    mlp = MLPClassifier(random_state=seed, max_iter=200)
    return {
        "NeuralClassifier()": NeuralClassifier(random_state=seed),
        "NeuralClassifier(balanced)": NeuralClassifier(class_weight="balanced",
                                                       random_state=seed),
        # The catalogue's losses that re-balance without class weights.
        "NeuralClassifier(focal)": NeuralClassifier(loss="focal", random_state=seed),
        "NeuralClassifier(logit_adjusted)": NeuralClassifier(loss="logit_adjusted",
                                                             random_state=seed),
        "MLP+scaler": make_pipeline(StandardScaler(), clone(mlp)),
        "MLP+scaler+ROS": make_imb_pipeline(StandardScaler(),
                                            RandomOverSampler(random_state=seed),
                                            clone(mlp)),
        "LogReg(balanced)": make_pipeline(
            StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000)),
        "HGB(balanced)": HistGradientBoostingClassifier(class_weight="balanced",
                                                        random_state=seed),
        "BalancedRF": BalancedRandomForestClassifier(
            random_state=seed, sampling_strategy="all", replacement=True, bootstrap=False,
            n_jobs=1),
        # Blend weights fitted for average precision on 3 inner folds.
        "Stack(NN,HGB,LogReg)": WeightedStackingClassifier(
            [("nn", NeuralClassifier(class_weight="balanced", random_state=seed)),
             ("hgb", HistGradientBoostingClassifier(class_weight="balanced",
                                                    random_state=seed)),
             ("logreg", make_pipeline(StandardScaler(), LogisticRegression(
                 class_weight="balanced", max_iter=2000)))],
            scoring="average_precision", cv=3, random_state=seed),
    }


def binary_tabular_datasets():
    manifest = json.loads((DATA / "manifest.json").read_text())
    return [d["name"] for d in manifest if d["task"] == "binary"]


def evaluate(model, X, y, folds):
    rows = []
    for fold, (train, test) in enumerate(folds):
        start = time.perf_counter()
        model = clone(model).fit(X[train], y[train])
        fit_time = time.perf_counter() - start
        proba = model.predict_proba(X[test])[:, 1]
        pred = model.predict(X[test])
        rows.append({
            "fold": fold,
            "average_precision": average_precision_score(y[test], proba),
            "balanced_accuracy": balanced_accuracy_score(y[test], pred),
            "roc_auc": roc_auc_score(y[test], proba),
            "f1": f1_score(y[test], pred, zero_division=0.0),
            "fit_time": fit_time,
        })
    return rows


def markdown(summary, metric):
    table = summary.pivot(index="dataset", columns="estimator", values=metric)
    ranks = table.rank(axis=1, ascending=metric == "fit_time")
    lines = ["| dataset | " + " | ".join(table.columns) + " |",
             "|---" * (len(table.columns) + 1) + "|"]
    for name, row in table.iterrows():
        lines.append(f"| {name} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
    lines.append("| **mean** | " + " | ".join(f"**{v:.3f}**" for v in table.mean()) + " |")
    lines.append("| **mean rank** | " + " | ".join(f"{v:.2f}" for v in ranks.mean()) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument("--estimators", nargs="*", default=None)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--max-rows", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results/defaults")
    parser.add_argument("--merge", nargs="*", default=None, metavar="FOLDS_CSV",
                        help="only rebuild the tables from the folds.csv of runs "
                             "made in parts (e.g. one per core)")
    args = parser.parse_args(argv)
    if args.merge:
        frame = pd.concat([pd.read_csv(path) for path in args.merge], ignore_index=True)
        write_tables(frame, Path(args.out))
        return
    torch.set_num_threads(args.threads)
    # MLPClassifier warns at every fit that 200 epochs did not converge.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    models = candidates(args.seed)
    if args.estimators:
        models = {k: v for k, v in models.items() if k in args.estimators}
    records = []
    for name in args.datasets or binary_tabular_datasets():
        X, y = load_csv(DATA / f"{name}.csv.gz")
        X = X.astype(np.float32)
        if len(y) > args.max_rows:
            X, _, y, _ = train_test_split(X, y, train_size=args.max_rows, stratify=y,
                                          random_state=args.seed)
        folds = list(StratifiedKFold(args.folds, shuffle=True, random_state=args.seed)
                     .split(X, y))
        for est_name, model in models.items():
            for row in evaluate(model, X, y, folds):
                records.append({"dataset": name, "estimator": est_name, **row})
            last = pd.DataFrame(records[-args.folds:])
            print(f"{name:<16} {est_name:<28} AP {last.average_precision.mean():.3f}  "
                  f"BA {last.balanced_accuracy.mean():.3f}  "
                  f"fit {last.fit_time.sum():.1f}s", flush=True)
    write_tables(pd.DataFrame(records), out)


def write_tables(frame, out):
    """``folds.csv``, ``summary.csv`` and ``summary.md`` (printed too) in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "folds.csv", index=False)
    summary = frame.groupby(["dataset", "estimator"], as_index=False).mean(numeric_only=True)
    summary.to_csv(out / "summary.csv", index=False)
    text = []
    for metric in ("average_precision", "balanced_accuracy", "roc_auc", "f1", "fit_time"):
        text.append(f"### {metric}\n\n{markdown(summary, metric)}\n")
    (out / "summary.md").write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
