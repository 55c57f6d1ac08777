"""WeightedStackingClassifier against its members, the uniform average and
scikit-learn's StackingClassifier, and the weight-fitting time per optimiser.

Quality: on each binary dataset of ../shared/data, an outer stratified CV;
in each outer training part a WeightedStackingClassifier (log-loss weights,
5 inner folds) of LogisticRegression, HistGradientBoostingClassifier and
NeuralClassifier is fitted; its refitted members give the members' scores
and the uniform average, and a LogisticRegression fitted on the same OOF
probabilities of the positive class is exactly scikit-learn's
StackingClassifier(cv=<the same folds>, stack_method='predict_proba') on the
same members (no second round of base fits). Scores are averaged over the
outer folds. The last columns compare the stack's honest ``cv_score_`` and
optimistic ``oof_score_`` (log-loss) with its outer-test log-loss.

Timing: weight fitting alone on synthetic probabilities of 10 estimators ×
100 000 rows (binary), per optimiser.

Usage (from the repository root)::

    PYTHONPATH=. python benchmarks/bench_stacking.py   # every binary tabular set
    python benchmarks/bench_stacking.py --quick --datasets ecoli yeast_me2
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, get_scorer, log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from imbestimators import NeuralClassifier, WeightedStackingClassifier
from imbestimators.datasets import load_csv
from imbestimators.ensemble._stacking import _blend, _FixedProba
from imbestimators.ensemble._weights import optimize_weights

# ../shared/data next to the repository (searched upwards, so worktrees find it too).
DATA = next((p / "shared" / "data" for p in Path(__file__).resolve().parents
             if (p / "shared" / "data").is_dir()), Path("../shared/data"))
METHODS = ["lr", "hgb", "nn", "uniform", "sk_stacking", "weighted"]


def binary_datasets():
    manifest = json.loads((DATA / "manifest.json").read_text())
    return [entry["name"] for entry in manifest
            if entry["task"] == "binary" and entry["name"] != "protein_homo"]


def members(quick):
    return [
        ("lr", make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))),
        ("hgb", HistGradientBoostingClassifier(
            max_iter=50 if quick else 200, early_stopping=True, random_state=0)),
        ("nn", NeuralClassifier(hidden_layer_sizes=(64,), max_epochs=30 if quick else 100,
                                early_stopping=True, random_state=0)),
    ]


def evaluate(name, outer_cv, quick):
    X, y = load_csv(DATA / f"{name}.csv.gz")
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    scores = {m: {"ap": [], "ll": []} for m in METHODS}
    honest = {"outer": [], "cv": [], "oof": []}
    outer = StratifiedKFold(outer_cv, shuffle=True, random_state=0)
    for train, test in outer.split(X, y):
        inner = StratifiedKFold(5, shuffle=True, random_state=1)
        stack = WeightedStackingClassifier(members(quick), cv=inner).fit(X[train], y[train])
        member_proba = [est.predict_proba(X[test]) for est in stack.estimators_]
        final = LogisticRegression().fit(stack.oof_predictions_[:, :, 1], y[train])
        probas = dict(zip(["lr", "hgb", "nn"], member_proba))
        probas["uniform"] = np.mean(member_proba, axis=0)
        probas["sk_stacking"] = final.predict_proba(stack.transform(X[test]))
        probas["weighted"] = stack.predict_proba(X[test])
        for method, proba in probas.items():
            scores[method]["ap"].append(average_precision_score(y[test], proba[:, 1]))
            scores[method]["ll"].append(log_loss(y[test], proba, labels=stack.classes_))
        honest["outer"].append(-scores["weighted"]["ll"][-1])
        honest["cv"].append(stack.cv_score_)
        honest["oof"].append(stack.oof_score_)
    row = {m: (np.mean(s["ap"]), np.mean(s["ll"])) for m, s in scores.items()}
    return row, {k: float(np.mean(v)) for k, v in honest.items()}


def print_quality(results):
    head = "| dataset | " + " | ".join(f"{m} AP | {m} LL" for m in METHODS)
    head += " | outer −LL | cv_score_ | oof_score_ |"
    print(head)
    print("|" + "---|" * (1 + 2 * len(METHODS) + 3))
    for name, (row, honest) in results.items():
        cells = " | ".join(f"{row[m][0]:.3f} | {row[m][1]:.4f}" for m in METHODS)
        print(f"| {name} | {cells} | {honest['outer']:.4f} | {honest['cv']:.4f} "
              f"| {honest['oof']:.4f} |")
    mean = {m: np.mean([r[m] for r, _ in results.values()], axis=0) for m in METHODS}
    cells = " | ".join(f"{mean[m][0]:.3f} | {mean[m][1]:.4f}" for m in METHODS)
    gaps = {k: np.mean([abs(h[k] - h["outer"]) for _, h in results.values()])
            for k in ("cv", "oof")}
    print(f"| **mean** | {cells} | | |cv−outer| {gaps['cv']:.4f} "
          f"| |oof−outer| {gaps['oof']:.4f} |")


def time_optimizers(n_rows, de_maxiter=None, n_estimators=10, seed=0):
    rng = np.random.RandomState(seed)
    y = (rng.uniform(size=n_rows) < 0.1).astype(int)
    logits = (2 * y - 1)[:, None] * rng.uniform(0.2, 1.0, n_estimators) + rng.normal(
        scale=1.0, size=(n_rows, n_estimators))
    p1 = 1 / (1 + np.exp(-(logits - 2.2)))  # about the 10% prior
    proba = np.stack([1 - p1, p1], axis=2)  # (n_rows, n_estimators, 2)
    classes = np.array([0, 1])
    print(f"\nweight fitting time, {n_estimators} estimators × {n_rows} rows (binary)\n")
    print("| optimiser | scoring | seconds | score | score of uniform | params |")
    print("|---|---|---|---|---|---|")
    for scoring, optimizer in [("neg_log_loss", "slsqp"),
                               ("neg_log_loss", "differential_evolution"),
                               ("neg_log_loss", "greedy"),
                               ("average_precision", "greedy"),
                               ("average_precision", "differential_evolution")]:
        scorer = get_scorer(scoring)

        def score(w):
            view = _FixedProba(classes, _blend(proba, w))
            return scorer(view, np.empty((n_rows, 0)), y)

        params = ({"maxiter": de_maxiter} if optimizer == "differential_evolution"
                  and de_maxiter else {})
        start = time.perf_counter()
        w = optimize_weights(score, n_estimators, optimizer, params, random_state=0)
        seconds = time.perf_counter() - start
        uniform = score(np.full(n_estimators, 1 / n_estimators))
        print(f"| {optimizer} | {scoring} | {seconds:.1f} | {score(w):.4f} "
              f"| {uniform:.4f} | {params or 'defaults'} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="*", help="names in ../shared/data "
                        "(default: every binary tabular set but protein_homo)")
    parser.add_argument("--outer-cv", type=int, default=5)
    parser.add_argument("--quick", action="store_true",
                        help="fewer epochs/boosting rounds, 20 000 rows in the timing")
    parser.add_argument("--timing-rows", type=int,
                        help="rows of the timing problem "
                        "(default 100 000; 20 000 with --quick)")
    parser.add_argument("--de-maxiter", type=int,
                        help="generations of differential evolution in the timing "
                        "(default: the estimator's default, 100)")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not args.skip_quality:
        results = {}
        for name in args.datasets or binary_datasets():
            start = time.perf_counter()
            results[name] = evaluate(name, args.outer_cv, args.quick)
            print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
        print()
        print_quality(results)
    if not args.skip_timing:
        rows = args.timing_rows or (20_000 if args.quick else 100_000)
        time_optimizers(rows, args.de_maxiter)


if __name__ == "__main__":
    main()
