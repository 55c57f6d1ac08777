r"""WeightedStackingClassifier against its members, the uniform average and
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

``--config many``: where weight fitting can overfit. Twelve cheap
scikit-learn members, each on its own random subset of the features (three
scaled LogisticRegressions, two GaussianNBs, two depth-3 trees, two
HistGradientBoostingClassifiers of 20 rounds, and three near-noise members:
two fully grown trees on two features each and a DummyClassifier drawing
random labels), blended for average precision by ``--optimizer`` ('greedy',
or 'differential_evolution' with ``--de-maxiter`` generations). Every binary
tabular set, protein_homo included, stratified-subsampled to ``--max-rows``
rows (3000). The table compares the outer-test AP of the blend with its
honest ``cv_score_`` (the mean of the per-inner-fold APs, as the outer score
is a mean of per-outer-fold APs) and in-sample ``oof_score_`` (both means
over the outer folds) and counts the data sets on which each is closer. No
network, so no GPU and one thread suffice.

Timing: weight fitting alone on synthetic probabilities of 10 estimators ×
100 000 rows (binary), per optimiser.

Usage (from the repository root)::

    PYTHONPATH=. python benchmarks/bench_stacking.py   # every binary tabular set
    python benchmarks/bench_stacking.py --quick --datasets ecoli yeast_me2
    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/bench_stacking.py \
        --config many --outer-cv 3 --skip-timing      # many members, greedy AP
    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/bench_stacking.py \
        --config many --outer-cv 3 --skip-timing \
        --optimizer differential_evolution --de-maxiter 20
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, get_scorer, log_loss
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from imbestimators import NeuralClassifier, WeightedStackingClassifier
from imbestimators.datasets import load_csv
from imbestimators.ensemble._stacking import _blend, _FixedProba
from imbestimators.ensemble._weights import optimize_weights

# ../shared/data next to the repository (searched upwards, so worktrees find it too).
DATA = next((p / "shared" / "data" for p in Path(__file__).resolve().parents
             if (p / "shared" / "data").is_dir()), Path("../shared/data"))
METHODS = ["lr", "hgb", "nn", "uniform", "sk_stacking", "weighted"]


def binary_datasets(include_large=False):
    manifest = json.loads((DATA / "manifest.json").read_text())
    return [entry["name"] for entry in manifest if entry["task"] == "binary"
            and (include_large or entry["name"] != "protein_homo")]


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


# --------------------------------------------------------- many members

def many_members(n_features, seed=0):
    """Twelve cheap members, each on its own random feature subset."""
    rng = np.random.RandomState(seed)

    def on(n_cols, model):
        cols = np.sort(rng.choice(n_features, min(n_cols, n_features), replace=False))
        return make_pipeline(ColumnTransformer([("cols", "passthrough", cols)]), model)

    half = max(1, n_features // 2)
    return (
        [(f"lr{i}", on(half, make_pipeline(StandardScaler(),
                                           LogisticRegression(max_iter=500))))
         for i in range(3)]
        + [(f"nb{i}", on(half, GaussianNB())) for i in range(2)]
        + [(f"tree{i}", on(half, DecisionTreeClassifier(max_depth=3, random_state=i)))
           for i in range(2)]
        + [(f"hgb{i}", on(half, HistGradientBoostingClassifier(
            max_iter=20, early_stopping=False, random_state=i))) for i in range(2)]
        # near noise: fully grown trees on two features, and random labels
        + [(f"deep{i}", on(2, DecisionTreeClassifier(random_state=i))) for i in range(2)]
        + [("dummy", DummyClassifier(strategy="stratified", random_state=0))]
    )


def fast_average_precision(y_true, score):
    """sklearn's average_precision_score (binary, unweighted), without its
    input validation, which costs ~4 ms a call and dominates the weight fit."""
    order = np.argsort(-score, kind="mergesort")
    score, y_true = score[order], np.asarray(y_true)[order] == 1
    last = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]  # per threshold
    tps = np.cumsum(y_true)[last]
    precision, recall = tps / (last + 1), tps / tps[-1]
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def ap_scorer(estimator, X, y, sample_weight=None):
    """The scorer of ``scoring='average_precision'``, fast (no sample weights)."""
    assert sample_weight is None
    return fast_average_precision(y, estimator.predict_proba(X)[:, 1])


def evaluate_many(name, outer_cv, max_rows, optimizer, de_maxiter):
    X, y = load_csv(DATA / f"{name}.csv.gz")
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    if len(y) > max_rows:
        X, _, y, _ = train_test_split(X, y, train_size=max_rows, stratify=y,
                                      random_state=0)
    params = ({"maxiter": de_maxiter} if optimizer == "differential_evolution"
              and de_maxiter else None)
    res = {k: [] for k in ("outer", "cv", "oof", "uniform", "best_member")}
    outer = StratifiedKFold(outer_cv, shuffle=True, random_state=0)
    for train, test in outer.split(X, y):
        inner = StratifiedKFold(5, shuffle=True, random_state=1)
        stack = WeightedStackingClassifier(
            many_members(X.shape[1]), scoring=ap_scorer,
            optimizer=optimizer, optimizer_params=params, cv=inner, random_state=0,
        ).fit(X[train], y[train])
        member_proba = [est.predict_proba(X[test])[:, 1] for est in stack.estimators_]
        res["outer"].append(average_precision_score(
            y[test], stack.predict_proba(X[test])[:, 1]))
        res["cv"].append(stack.cv_score_)
        res["oof"].append(stack.oof_score_)
        res["uniform"].append(average_precision_score(y[test], np.mean(member_proba, 0)))
        # the member with the best OOF AP, scored on the outer test part
        best = int(np.argmax(stack.oof_scores_individual_))
        res["best_member"].append(average_precision_score(y[test], member_proba[best]))
    return {k: float(np.mean(v)) for k, v in res.items()}, len(y)


def print_many(results):
    print("| dataset | rows | outer AP | cv_score_ | oof_score_ | |cv−outer| "
          "| |oof−outer| | closer | uniform AP | best member AP |")
    print("|" + "---|" * 10)
    for name, (r, n) in results.items():
        gap_cv, gap_oof = abs(r["cv"] - r["outer"]), abs(r["oof"] - r["outer"])
        closer = "cv" if gap_cv < gap_oof else "oof" if gap_oof < gap_cv else "tie"
        print(f"| {name} | {n} | {r['outer']:.3f} | {r['cv']:.3f} | {r['oof']:.3f} "
              f"| {gap_cv:.4f} | {gap_oof:.4f} | {closer} "
              f"| {r['uniform']:.3f} | {r['best_member']:.3f} |")
    rows = [r for r, _ in results.values()]
    keys = ("cv", "oof")
    mean = {k: np.mean([r[k] for r in rows]) for k in rows[0]}
    gap = {k: np.mean([abs(r[k] - r["outer"]) for r in rows]) for k in keys}
    bias = {k: np.mean([r[k] - r["outer"] for r in rows]) for k in keys}
    n_cv = sum(abs(r["cv"] - r["outer"]) < abs(r["oof"] - r["outer"]) for r in rows)
    n_oof = sum(abs(r["oof"] - r["outer"]) < abs(r["cv"] - r["outer"]) for r in rows)
    print(f"| **mean** | | {mean['outer']:.3f} | {mean['cv']:.3f} | {mean['oof']:.3f} "
          f"| {gap['cv']:.4f} | {gap['oof']:.4f} | cv {n_cv}, oof {n_oof} "
          f"| {mean['uniform']:.3f} | {mean['best_member']:.3f} |")
    print(f"\n{len(rows)} data sets; estimate − outer AP, mean (mean |·|):")
    for k, label in (("oof", "oof_score_"), ("cv", "cv_score_")):
        print(f"  {label:<11} {bias[k]:+.4f} ({gap[k]:.4f}); above the outer AP on "
              f"{sum(r[k] > r['outer'] for r in rows)} data sets")
    print(f"  cv_score_ closer to the outer AP than oof_score_ on {n_cv} data sets")


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
    parser.add_argument("--config", choices=["three", "many"], default="three",
                        help="three: LR, HGB and network, log-loss weights (default); "
                        "many: twelve cheap members on feature subsets, AP weights")
    parser.add_argument("--datasets", nargs="*", help="names in ../shared/data "
                        "(default: every binary tabular set, but protein_homo "
                        "with --config three)")
    parser.add_argument("--outer-cv", type=int, default=5)
    parser.add_argument("--quick", action="store_true",
                        help="fewer epochs/boosting rounds, 20 000 rows in the timing")
    parser.add_argument("--timing-rows", type=int,
                        help="rows of the timing problem "
                        "(default 100 000; 20 000 with --quick)")
    parser.add_argument("--de-maxiter", type=int,
                        help="generations of differential evolution in the timing "
                        "and in the --config many blend "
                        "(default: the estimator's default, 100)")
    parser.add_argument("--optimizer", default="greedy",
                        choices=["greedy", "differential_evolution"],
                        help="blend optimiser of --config many (AP weights)")
    parser.add_argument("--max-rows", type=int, default=3000,
                        help="--config many: stratified subsample of larger sets")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not args.skip_quality and args.config == "many":
        results = {}
        for name in args.datasets or binary_datasets(include_large=True):
            start = time.perf_counter()
            results[name] = evaluate_many(name, args.outer_cv, args.max_rows,
                                          args.optimizer, args.de_maxiter)
            print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
        print()
        print_many(results)
    elif not args.skip_quality:
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
