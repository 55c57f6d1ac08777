r"""WeightedStackingClassifier against the plain average of its members, the
member with the best OOF score, each member and scikit-learn's
StackingClassifier; and how honest its ``cv_score_`` is.

On every binary tabular set of ../shared/data at full size (a stratified,
seeded subsample only above ``--max-rows``, 30 000 by default), repeated outer
stratified CV (``--repeats`` × ``--outer-folds``, 2 × 3 by default). In each
outer training part every member is cross-validated on 5 inner folds and
refitted once; each blend rule then runs on those same fits (a cache keyed by
the training rows' contents serves every refit, so the rules differ only in
their weights) and is scored on the outer test part:

* ``auto``: ``WeightedStackingClassifier()`` with its default ``blend='auto'``;
* ``fitted``: ``blend='fitted', recalibrate=False`` (the weights as the
  optimiser finds them; computed from the same stack's ``fitted_weights_``
  and the fold scores of its (0, not recalibrated) candidate, exactly what
  such a fit holds);
* ``uniform``: the plain average of the refitted members;
* ``best_oof``: the member with the best OOF score;
* ``sk_stacking``: ``sklearn.ensemble.StackingClassifier`` with a
  LogisticRegression on the same inner folds;
* every member alone.

Member sets (``--config``): ``three`` is LogisticRegression(balanced) in a
scaler pipeline, HistGradientBoosting(balanced) and NeuralClassifier(balanced),
defaults otherwise; ``groups`` is the feature-group case (seven members, each
the same learner, LogisticRegression(balanced) in a scaler pipeline, on its
own seventh of the columns, as with seven molecular fingerprints; one column
each on sets with fewer than seven).

Scorers (``--scoring``): ``average_precision``, ``neg_log_loss`` and ``cost``
(``make_cost_scorer`` with a false negative costing 5 times a false positive,
the stack deciding by minimum expected cost). For each, the honesty table
gives the bias (mean of estimate − outer score) and mean absolute error of
``cv_score_`` and of ``oof_score_`` against the outer score of the same
stack, over all outer folds of all sets; and the time of the weight step (the
stack's fit, less the members' fits inside it) against the members' fits.

Results go to ``OUT/folds_<config>.csv`` as each (set, config, scoring) is
done; a rerun skips what is there. Members' fit times and predictions are
cached on disk under ``OUT/member_cache``, so a rerun trains nothing twice.

Each outer fold also records, in ``OUT/candidates_<config>.csv``, every
candidate blend of ``blend='auto'``: its held-out fold scores (the evidence
the selection rule reads), its outer-test score and its in-sample OOF score;
``--candidates`` replays the cached fits to record them for rows written
before they were. ``--report`` compares selection rules on them (the
one-standard-error rule at several multiples of the standard error), and
each candidate alone, on the tuning and the confirmation half of
``bench_defaults.py`` separately. ``--average`` sets the stacks'
``average=`` (``auto`` puts the geometric-mean candidates beside the
arithmetic ones, and *fitted* is then the optimiser's weights in the average
the stack chose; give it its own ``--out``). ``--oracle`` (three members,
average precision) replays the cached fits to score every weight vector of a
grid on each outer test part, and reports what weights chosen on those test
rows reach: how much any blend of these members could gain::

    OMP_NUM_THREADS=1 python benchmarks/bench_stacking.py            # everything
    python benchmarks/bench_stacking.py --config groups --datasets ecoli oil
    python benchmarks/bench_stacking.py --candidates                  # older rows
    python benchmarks/bench_stacking.py --report                      # tables only
    python benchmarks/bench_stacking.py --average auto --out results_auto/
    python benchmarks/bench_stacking.py --oracle                      # replays the fits
"""

import argparse
import ast
import itertools
import json
import os
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import joblib  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin, clone  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import (  # noqa: E402
    HistGradientBoostingClassifier,
    StackingClassifier,
)
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import get_scorer  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    RepeatedStratifiedKFold,
    StratifiedKFold,
    train_test_split,
)
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from imbestimators import NeuralClassifier, WeightedStackingClassifier  # noqa: E402
from imbestimators.datasets import get_data_home, load_csv  # noqa: E402
from imbestimators.metrics import check_scoring_positive, make_cost_scorer  # noqa: E402
from imbestimators.ensemble._stacking import (  # noqa: E402
    _blend,
    _choose_blend,
    _mixed,
)
from imbestimators.ensemble._weights import optimize_weights, recalibrate  # noqa: E402
from imbestimators.metrics._precomputed import PrecomputedClassifier  # noqa: E402
from imbestimators.utils._labels import label_positions  # noqa: E402

from bench_defaults import TUNING  # noqa: E402  (the halves: fixed there, once)

# The collection: $IMBESTIMATORS_DATA, else ../shared/data beside the checkout.
DATA = get_data_home() or Path(__file__).resolve().parents[2] / "shared" / "data"
COSTS = [[0.0, 1.0], [5.0, 0.0]]  # a missed positive costs 5 false alarms
SCORINGS = ("average_precision", "neg_log_loss", "cost")
RULES = ("auto", "fitted", "uniform", "best_oof", "sk_stacking")

_CACHE = {}
_FIT_SECONDS = [0.0]     # the members' training time, as first measured
_MEMBER_SECONDS = [0.0]  # time spent inside the members in this run
_COUNTED = set()
# Members' fit times and predictions on disk (joblib.Memory under
# OUT/member_cache), keyed by the member, its training rows and the rows
# predicted: a rerun, or a new blend rule, replays them without training.
_MEMORY = [joblib.Memory(None, verbose=0)]
_AVERAGE = ["arithmetic"]  # the stacks' average= (--average)


def _fitted(tag, estimator, X, y):
    key = (tag, joblib.hash((X, y)))
    if key not in _CACHE:
        _CACHE[key] = clone(estimator).fit(X, y)
    return _CACHE[key]


def fit_seconds(tag, estimator, X, y):
    """Train ``estimator`` on (X, y) (kept in memory); the seconds it took."""
    start = time.perf_counter()
    _fitted(tag, estimator, X, y)
    return time.perf_counter() - start


def predicted_proba(tag, estimator, X_fit, y_fit, X):
    """``estimator`` fitted on (X_fit, y_fit), its probabilities of ``X``."""
    return _fitted(tag, estimator, X_fit, y_fit).predict_proba(X)


# joblib.Memory names the cache of a script's (``__main__``) functions after
# the script's path; named by this module, the member fits of one checkout are
# found by a run from another.
fit_seconds.__module__ = predicted_proba.__module__ = "bench_stacking"


class Cached(ClassifierMixin, BaseEstimator):
    """``estimator`` fitted once per distinct training set (keyed by ``tag`` and
    the rows' contents), so every blend rule reuses the same member fits, and
    replayed from the disk cache when it holds them."""

    def __init__(self, estimator=None, tag=""):
        self.estimator = estimator
        self.tag = tag

    def fit(self, X, y):
        start = time.perf_counter()
        self.X_fit_, self.y_fit_ = X, y
        self.classes_ = np.unique(y)
        seconds = _MEMORY[0].cache(fit_seconds)(self.tag, self.estimator, X, y)
        key = (self.tag, joblib.hash((X, y)))
        if key not in _COUNTED:  # each distinct fit counts once
            _COUNTED.add(key)
            _FIT_SECONDS[0] += seconds
        _MEMBER_SECONDS[0] += time.perf_counter() - start
        return self

    def predict_proba(self, X):
        start = time.perf_counter()
        replay = _MEMORY[0].cache(predicted_proba)
        proba = replay(self.tag, self.estimator, self.X_fit_, self.y_fit_, X)
        _MEMBER_SECONDS[0] += time.perf_counter() - start
        return proba

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def scaled_logreg():
    return make_pipeline(StandardScaler(),
                         LogisticRegression(class_weight="balanced", max_iter=2000))


def members(config, n_features, seed):
    if config == "three":
        bases = [("logreg", scaled_logreg()),
                 ("hgb", HistGradientBoostingClassifier(class_weight="balanced",
                                                        random_state=seed)),
                 ("nn", NeuralClassifier(class_weight="balanced", random_state=seed))]
    else:
        # Seven groups, or one column each on sets with fewer columns.
        groups = np.array_split(np.random.RandomState(seed).permutation(n_features),
                                min(7, n_features))
        bases = [(f"group{g}", make_pipeline(
            ColumnTransformer([("cols", "passthrough", np.sort(cols))]), scaled_logreg()))
            for g, cols in enumerate(groups)]
    return [(name, Cached(est, tag=name)) for name, est in bases]


def scorer_of(scoring):
    return make_cost_scorer(COSTS) if scoring == "cost" else get_scorer(scoring)


def stack(config, n_features, scoring, blend, inner, seed):
    return WeightedStackingClassifier(
        members(config, n_features, seed), blend=blend, cv=inner, random_state=seed,
        average=_AVERAGE[0],
        scoring=scorer_of(scoring) if scoring == "cost" else scoring,
        cost_matrix=COSTS if scoring == "cost" else None)


def evaluate(name, config, scoring, max_rows, repeats, outer_folds, seed):
    """The rows of ``folds_<config>.csv`` and of ``candidates_<config>.csv``."""
    X, y, splits = outer_split(name, max_rows, repeats, outer_folds, seed)
    scorer = scorer_of(scoring)
    rows, candidates = [], []
    for k, (train, test) in enumerate(splits):
        inner = StratifiedKFold(5, shuffle=True, random_state=seed + 1)
        start, before = time.perf_counter(), _MEMBER_SECONDS[0]
        auto = stack(config, X.shape[1], scoring, "auto", inner, seed).fit(
            X[train], y[train])
        weight_seconds = time.perf_counter() - start - (_MEMBER_SECONDS[0] - before)
        # blend='uniform' runs no optimiser; 'fitted' is the auto stack's own
        # unshrunk candidate (shrinkage 0), so it needs no second weight fit.
        uniform = stack(config, X.shape[1], scoring, "uniform", inner, seed).fit(
            X[train], y[train])
        sk = StackingClassifier(members(config, X.shape[1], seed), cv=inner,
                                final_estimator=LogisticRegression(max_iter=1000),
                                stack_method="predict_proba").fit(X[train], y[train])
        keys = {"dataset": name, "config": config, "scoring": scoring, "rows": len(y),
                "outer_fold": k}
        candidates.append(candidates_row(auto, X, y, train, test, scoring, keys))
        row = {**keys, "blend": auto.blend_, "shrinkage": auto.shrinkage_,
               "weight_seconds": weight_seconds, "member_seconds": _FIT_SECONDS[0]}
        costs = COSTS if scoring == "cost" else None
        member_proba = np.stack([m.predict_proba(X[test]) for m in uniform.estimators_],
                                axis=1)
        probas = {"auto": auto.predict_proba(X[test]),
                  "fitted": _blend(member_proba, auto.fitted_weights_, auto.average_),
                  "uniform": member_proba.mean(axis=1),
                  "sk_stacking": sk.predict_proba(X[test])}
        for i, (member, _) in enumerate(auto.estimators):
            probas[member] = member_proba[:, i]
        probas["best_oof"] = member_proba[:, int(np.nanargmax(auto.oof_scores_individual_))]
        for rule, proba in probas.items():
            row[rule] = score_proba(scorer, proba, auto.classes_, y[test], costs)
        evidence = auto.blend_evidence_
        fitted_folds = evidence["cv_scores"][
            evidence["candidates"].index((0.0, auto.average_, False))]
        estimates = {
            "auto": (auto.cv_score_, auto.cv_score_se_, auto.oof_score_),
            "fitted": (np.nanmean(fitted_folds),
                       np.nanstd(fitted_folds, ddof=1) / np.sqrt(len(fitted_folds)),
                       score_proba(scorer, _blend(auto.oof_predictions_,
                                                  auto.fitted_weights_, auto.average_),
                                   auto.classes_, y[train], costs)),
        }
        for rule, (cv_score, cv_se, oof_score) in estimates.items():
            row[f"{rule}_cv_score"] = cv_score
            row[f"{rule}_cv_score_se"] = cv_se
            row[f"{rule}_oof_score"] = oof_score
        rows.append(row)
    return rows, candidates


def outer_split(name, max_rows, repeats, outer_folds, seed):
    X, y = load_csv(DATA / f"{name}.csv.gz")
    X = np.ascontiguousarray(X, dtype=np.float32)
    if len(y) > max_rows:
        X, _, y, _ = train_test_split(X, y, train_size=max_rows, stratify=y,
                                      random_state=seed)
    outer = RepeatedStratifiedKFold(n_splits=outer_folds, n_repeats=repeats,
                                    random_state=seed)
    return X, y, list(outer.split(X, y))


def evaluate_candidates(name, config, scoring, max_rows, repeats, outer_folds, seed):
    """:func:`candidates_row` of each outer fold (the stack refitted: replayed
    from the cache for folds :func:`evaluate` ran before it recorded them)."""
    X, y, splits = outer_split(name, max_rows, repeats, outer_folds, seed)
    rows = []
    for k, (train, test) in enumerate(splits):
        inner = StratifiedKFold(5, shuffle=True, random_state=seed + 1)
        auto = stack(config, X.shape[1], scoring, "auto", inner, seed).fit(
            X[train], y[train])
        rows.append(candidates_row(auto, X, y, train, test, scoring,
                                   {"dataset": name, "config": config,
                                    "scoring": scoring, "rows": len(y), "outer_fold": k}))
    return rows


def simplex_grid(n_members, steps=20):
    """Every weight vector of ``n_members`` non-negative multiples of
    ``1 / steps`` that sum to 1 (231 for three members)."""
    return [np.array(w) / steps for w in itertools.product(range(steps + 1),
                                                           repeat=n_members)
            if sum(w) == steps]


def evaluate_oracle(name, config, scoring, max_rows, repeats, outer_folds, seed):
    """Per outer fold (the stack refitted from the cache): the outer-test
    score of the default, the uniform average, the OOF-best member, the best
    member on the test rows, and of every weight vector of
    :func:`simplex_grid`, in both averages. The best of those, chosen on the
    test rows themselves, bounds what any weights of these members can
    reach there."""
    X, y, splits = outer_split(name, max_rows, repeats, outer_folds, seed)
    scorer, rows = scorer_of(scoring), []
    for k, (train, test) in enumerate(splits):
        inner = StratifiedKFold(5, shuffle=True, random_state=seed + 1)
        auto = stack(config, X.shape[1], scoring, "auto", inner, seed).fit(
            X[train], y[train])
        kept = [i for i, (member, _) in enumerate(auto.estimators)
                if member not in auto.excluded_]
        proba = np.stack([auto.estimators_[i].predict_proba(X[test]) for i in kept],
                         axis=1)

        def score(p):
            return score_proba(scorer, p, auto.classes_, y[test], None)

        alone = [score(proba[:, i]) for i in range(len(kept))]
        row = {"dataset": name, "config": config, "scoring": scoring, "rows": len(y),
               "outer_fold": k, "repeat": k // outer_folds,
               "auto": score(auto.predict_proba(X[test])),
               "uniform": score(proba.mean(axis=1)),
               "best_oof": alone[int(np.nanargmax(auto.oof_scores_individual_[kept]))],
               "best_test_member": max(alone)}
        for average in ("arithmetic", "geometric"):
            row[f"grid_{average}"] = repr([round(score(_blend(proba, w, average)), 6)
                                           for w in simplex_grid(len(kept))])
        rows.append(row)
    return rows


def report_oracle(frame):
    """Means over the sets, by half and in all, of the default, the uniform
    average, the OOF-best member, and three figures of weights chosen on
    outer test rows: per set, the weights best on one repeat's outer folds
    (every row once) scored on the other repeat's, both ways; the best single
    weight vector of each set on all its outer folds; and the best weights of
    each outer fold. The last two are scored on the rows they were chosen on:
    bounds, not estimates."""
    # Both averages side by side: one column per (average, weight vector).
    grid = np.hstack([np.array([ast.literal_eval(g) for g in frame[f"grid_{a}"]])
                      for a in ("arithmetic", "geometric")])
    frame = frame.assign(per_fold=grid.max(axis=1))
    per_set, other_repeat = {}, {}
    for name, rows in frame.groupby("dataset").groups.items():
        where = frame.index.get_indexer(rows)
        per_set[name] = grid[where].mean(axis=0).max()
        repeats = frame.loc[rows, "repeat"].to_numpy()
        transfers = []
        for r in np.unique(repeats):
            chosen = grid[where[repeats == r]].mean(axis=0).argmax()
            transfers.append(grid[where[repeats != r], chosen].mean())
        other_repeat[name] = np.mean(transfers) if len(transfers) > 1 else np.nan
    print("\n## what weights could reach: weights chosen on outer test rows "
          "(three members, AP)\n")
    print("| half | sets | default | uniform | best_oof | best test member | "
          "other repeat's best | best per set | best per fold | default − best_oof | "
          "other repeat's − best_oof | per set − best_oof |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for half in ("tuning", "confirmation", "all"):
        sub = (frame if half == "all"
               else frame[frame.dataset.isin(TUNING) == (half == "tuning")])
        if sub.empty:
            continue
        sets = sub.groupby("dataset").mean(numeric_only=True)
        sets["per_set"] = [per_set[name] for name in sets.index]
        sets["other_repeat"] = [other_repeat[name] for name in sets.index]
        m = sets.mean()
        print(f"| {half} | {len(sets)} | {m.auto:.4f} | {m.uniform:.4f} | "
              f"{m.best_oof:.4f} | {m.best_test_member:.4f} | {m.other_repeat:.4f} | "
              f"{m.per_set:.4f} | {m.per_fold:.4f} | {m.auto - m.best_oof:+.4f} | "
              f"{m.other_repeat - m.best_oof:+.4f} | {m.per_set - m.best_oof:+.4f} |")


def candidates_row(auto, X, y, train, test, scoring, keys):
    """Every candidate of the fitted ``auto`` stack's blend='auto': its held-out
    fold scores (``cv_matrix``, candidates × inner folds), its outer-test
    score and its in-sample score on the OOF rows (what ``oof_score_`` would
    be with it), the candidate predicting as the final fit would (weights
    shrunk from ``fitted_weights_``, recalibration fitted on all OOF rows)."""
    scorer, costs = scorer_of(scoring), COSTS if scoring == "cost" else None
    kept = [i for i, (member, _) in enumerate(auto.estimators)
            if member not in auto.excluded_]
    member_proba = np.stack([auto.estimators_[i].predict_proba(X[test]) for i in kept],
                            axis=1)
    best = np.eye(len(kept))[auto._first_best(auto.oof_scores_individual_[kept])]
    y_index = label_positions(y[train], auto.classes_)
    oof = auto.oof_predictions_[:, kept]
    evidence, scores, in_sample = auto.blend_evidence_, [], []
    for mix, average, recalibrated in evidence["candidates"]:
        # fitted_weights_ are those of average_: a candidate of the other
        # average is replayed with its own weights, fitted on all OOF rows.
        fitted = (auto.fitted_weights_[kept] if average == auto.average_
                  else refitted_weights(auto, y[train], kept, average))
        weights = _mixed(mix, fitted, best)
        proba, oof_proba = (_blend(member_proba, weights, average),
                            _blend(oof, weights, average))
        if recalibrated:
            params = auto._recalibration(np.arange(len(train)), weights, kept, y_index,
                                         None, average)
            proba = recalibrate(proba, params)
            oof_proba = recalibrate(oof_proba, params)
        scores.append(score_proba(scorer, proba, auto.classes_, y[test], costs))
        in_sample.append(score_proba(scorer, oof_proba, auto.classes_, y[train], costs))
    return {**keys,
            "candidates": repr([(m if m == "best_member" else float(m), a, bool(r))
                                for m, a, r in evidence["candidates"]]),
            "cv_matrix": repr(np.asarray(evidence["cv_scores"]).tolist()),
            "candidate_scores": repr(scores), "candidate_oof_scores": repr(in_sample)}


def one_se_pick(candidates, scores, multiple):
    """The candidate the estimator's rule keeps when the gain must exceed
    ``multiple`` standard errors."""
    return _choose_blend(candidates, scores, multiple)[0]


def report_rules(frame, multiples=(0.0, 0.5, 1.0, 1.5, 2.0)):
    """Selection rules on the recorded candidates, by half: the mean outer
    score against the uniform average (candidate 0), the sets more than 0.01
    below it, and the bias and mean absolute error against the outer score of
    the rule's own cv_score_ (each inner fold scored by the candidate the rule
    picks from the others) and oof_score_ (its pick's in-sample score). With
    candidates of both averages (``--average auto``), the rule is replayed on
    all of them and on the arithmetic ones alone (the default's), paired."""
    for (config, scoring), part in frame.groupby(["config", "scoring"]):
        print(f"\n## selection rules: {config} members, scoring={scoring}\n")
        print("| half | sets | candidates | rule | score − uniform | sets below uniform "
              "− 0.01 | cv_score_ bias / MAE | oof_score_ bias / MAE |")
        print("|---|---|---|---|---|---|---|---|")
        averages = {a for row in part.candidates for _, a, _ in _candidates_of(row)}
        pools = {"all": None} if len(averages) == 1 else {"all": None,
                                                          "arithmetic": "arithmetic"}
        for half in ("tuning", "confirmation"):
            sub = part[part.dataset.isin(TUNING) == (half == "tuning")]
            if sub.empty:
                continue
            for multiple in multiples:
                for pool, average in pools.items():
                    out = [_replay(row, multiple, average) for row in sub.itertuples()]
                    out = pd.DataFrame(out, columns=["dataset", "score", "uniform", "cv",
                                                     "oof"])
                    gap, oof_gap = out.cv - out.score, out.oof - out.score
                    per_set = out.groupby("dataset").mean()
                    below = per_set.index[per_set.score < per_set.uniform - 0.01].tolist()
                    print(f"| {half} | {len(per_set)} | {pool} | {multiple:g} SE | "
                          f"{(per_set.score - per_set.uniform).mean():+.4f} | "
                          f"{len(below)} {', '.join(below)} | {gap.mean():+.4f} / "
                          f"{gap.abs().mean():.4f} | {oof_gap.mean():+.4f} / "
                          f"{oof_gap.abs().mean():.4f} |")


def _replay(row, multiple, average=None):
    """The rule at ``multiple`` standard errors on one outer fold's recorded
    candidates (those of ``average`` only, if given): (dataset, its pick's
    outer score, the uniform average's, its cv_score_, its oof_score_)."""
    candidates = _candidates_of(row.candidates)
    keep = [i for i, (_, a, _) in enumerate(candidates) if average in (None, a)]
    candidates = [candidates[i] for i in keep]
    matrix = np.array(ast.literal_eval(row.cv_matrix), dtype=float)[keep]
    outer = np.array(ast.literal_eval(row.candidate_scores))[keep]
    estimate = np.nanmean([
        matrix[one_se_pick(candidates, np.delete(matrix, k, axis=1), multiple), k]
        for k in range(matrix.shape[1])])
    pick = one_se_pick(candidates, matrix, multiple)
    oof = np.array(ast.literal_eval(row.candidate_oof_scores))[keep][pick]
    return row.dataset, outer[pick], outer[0], estimate, oof


def _candidates_of(text):
    """The recorded candidates as (mix, average, recalibrated) triples (rows
    written before ``average=`` existed hold (mix, recalibrated) pairs)."""
    return [c if len(c) == 3 else (c[0], "arithmetic", c[1])
            for c in ast.literal_eval(text)]


def report_candidates(frame):
    """Each candidate blend alone, by half: its mean outer score against the
    uniform average (candidate 0) and the sets more than 0.01 below it."""
    for (config, scoring), part in frame.groupby(["config", "scoring"]):
        print(f"\n## each candidate: {config} members, scoring={scoring}\n")
        print("| half | sets | candidate | score − uniform | sets below uniform − 0.01 |")
        print("|---|---|---|---|---|")
        for half in ("tuning", "confirmation"):
            sub = part[part.dataset.isin(TUNING) == (half == "tuning")]
            if sub.empty:
                continue
            names = _candidates_of(sub.candidates.iloc[0])
            scores = pd.DataFrame([ast.literal_eval(s) for s in sub.candidate_scores],
                                  index=sub.dataset).groupby(level=0).mean()
            for i, candidate in enumerate(names):
                gain = scores[i] - scores[0]
                below = gain.index[gain < -0.01].tolist()
                print(f"| {half} | {len(scores)} | {candidate} | {gain.mean():+.4f} | "
                      f"{len(below)} {', '.join(below)} |")


def refitted_weights(auto, y_train, kept, average):
    """The optimiser's weights for ``average`` on all the OOF rows of the
    fitted stack ``auto`` (what ``fitted_weights_`` holds for its own
    ``average_``)."""
    counts = np.bincount(label_positions(y_train, auto.classes_))
    scorer = (check_scoring_positive(auto.scoring, auto.classes_, counts)[0]
              if isinstance(auto.scoring, str) else auto.scoring)
    score = auto._blend_score(scorer, y_train, None, np.arange(len(y_train)), kept,
                              average)
    return optimize_weights(score, len(kept), auto.optimizer_,
                            auto._check_optimizer_params(), None)


def score_proba(scorer, proba, classes, y, cost_matrix):
    view = PrecomputedClassifier(classes, proba, cost_matrix)
    return float(scorer(view, np.empty((len(y), 0)), y))


def binary_datasets():
    manifest = json.loads((DATA / "manifest.json").read_text())
    return [d["name"] for d in sorted(manifest, key=lambda d: d["n"])
            if d["task"] == "binary"]


def report(frame):
    for (config, scoring), part in frame.groupby(["config", "scoring"]):
        per_set = part.groupby("dataset", sort=False).mean(numeric_only=True)
        prefixes = ("logreg", "hgb", "nn", "group")
        members_ = [c for c in per_set.columns
                    if c.startswith(prefixes) and not c.endswith(("score", "se"))]
        cols = list(RULES) + members_
        print(f"\n## {config} members, scoring={scoring} "
              f"({part.dataset.nunique()} sets, {len(part)} outer folds)\n")
        print("| dataset | rows | " + " | ".join(cols) + " | blend_ |")
        print("|---" * (len(cols) + 3) + "|")
        for name, row in per_set.iterrows():
            decided = part[part.dataset == name].blend.value_counts().to_dict()
            print(f"| {name} | {int(row['rows'])} | "
                  + " | ".join(f"{row[c]:.4f}" for c in cols)
                  + f" | {decided} |")
        means = per_set[cols].mean()
        print("| **mean** | | " + " | ".join(f"**{means[c]:.4f}**" for c in cols) + " | |")
        below = per_set["auto"] < per_set["uniform"] - 0.01
        print(f"\nauto − uniform {means['auto'] - means['uniform']:+.4f}, "
              f"auto − best_oof {means['auto'] - means['best_oof']:+.4f}, "
              f"fitted − uniform {means['fitted'] - means['uniform']:+.4f}; "
              f"sets where auto < uniform − 0.01: {int(below.sum())} "
              f"{list(per_set.index[below])}; where fitted < uniform − 0.01: "
              f"{int((per_set['fitted'] < per_set['uniform'] - 0.01).sum())}")
        print("\nhonesty (estimate − outer score of the same stack; bias and mean "
              "|error| over outer folds, then over sets' means):")
        for blend in ("auto", "fitted"):
            for estimate in ("cv_score", "oof_score"):
                gap = part[f"{blend}_{estimate}"] - part[blend]
                per_set = gap.groupby(part.dataset).mean()
                print(f"  {blend:<6} {estimate}_: bias {gap.mean():+.4f}, "
                      f"mean |error| {gap.abs().mean():.4f}; per set: bias "
                      f"{per_set.mean():+.4f}, mean |error| {per_set.abs().mean():.4f}")
        print(f"weight step {part.weight_seconds.sum():.1f} s in all; members' fits "
              f"{part.groupby('dataset').member_seconds.max().sum():.0f} s")


BANDS = ((0, 2000, "< 2 000"), (2000, 10000, "2 000-10 000"), (10000, np.inf, ">= 10 000"))


def summary(frames):
    """The guide's tables: one line per (members, scoring) over all sets, and
    the default's gain over the plain average by size band."""
    print("\n## summary (means over the sets; honesty over the outer folds)\n")
    print("members  scoring   sets  default  uniform  best_oof  sklearn   fitted  below"
          "  cv_score_ bias/MAE  oof_score_ bias/MAE  weights / members (s)")
    bands = []
    for frame in frames:
        for (config, scoring), part in frame.groupby(["config", "scoring"], sort=False):
            per_set = part.groupby("dataset", sort=False).mean(numeric_only=True)
            means = per_set[list(RULES)].mean()
            below = int((per_set["auto"] < per_set["uniform"] - 0.01).sum())
            cv = part["auto_cv_score"] - part["auto"]
            oof = part["auto_oof_score"] - part["auto"]
            name = {"average_precision": "AP", "neg_log_loss": "log-loss"}.get(
                scoring, scoring)
            print(f"{config:<8} {name:<9} {len(per_set):>4}  "
                  + "  ".join(f"{means[r]:7.4f}" for r in
                              ("auto", "uniform", "best_oof", "sk_stacking", "fitted"))
                  + f"  {below:>5}    {cv.mean():+.4f} / {cv.abs().mean():.4f}"
                  f"    {oof.mean():+.4f} / {oof.abs().mean():.4f}"
                  f"    {part.weight_seconds.sum():6.0f} / "
                  f"{part.groupby('dataset').member_seconds.max().sum():.0f}")
            gain = per_set["auto"] - per_set["uniform"]
            bands.append((config, name, [
                (gain[(per_set.rows >= low) & (per_set.rows < high)])
                for low, high, _ in BANDS]))
    print("\ndefault − uniform by size band (mean over the sets; sets in brackets)\n")
    print("members  scoring   " + "  ".join(f"{label:>16}" for *_, label in BANDS))
    for config, name, gains in bands:
        print(f"{config:<8} {name:<9} " + "  ".join(
            f"{g.mean():+9.4f} ({len(g):>2})" if len(g) else f"{'':>16}" for g in gains))


def append(rows, path):
    """Append ``rows`` to the CSV at ``path`` in the columns of its header (a
    set with fewer feature groups leaves the missing members' columns empty)."""
    if path.exists():
        rows = rows.reindex(columns=pd.read_csv(path, nrows=0).columns)
    rows.to_csv(path, mode="a", header=not path.exists(), index=False)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", nargs="*", choices=["three", "groups"],
                        default=["three", "groups"])
    parser.add_argument("--scoring", nargs="*", choices=SCORINGS, default=list(SCORINGS))
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument("--max-rows", type=int, default=30000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--outer-folds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", nargs="+", default=["benchmarks/results/stacking"],
                        help="results folder; with --report, several (runs split by "
                             "--datasets) are reported together")
    parser.add_argument("--average", choices=["arithmetic", "geometric", "auto"],
                        default="arithmetic",
                        help="the stacks' average= (use its own --out folder)")
    replay = parser.add_mutually_exclusive_group()
    replay.add_argument("--candidates", action="store_true",
                        help="record every candidate blend (replays the cached fits)")
    replay.add_argument("--oracle", action="store_true",
                        help="three members, average precision: record the outer-test "
                             "score of every weight vector on a grid (replays the "
                             "cached fits), and report what the best of them reach")
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args(argv)
    if len(args.out) > 1 and not args.report:
        parser.error("several --out folders are read by --report only")
    _AVERAGE[0] = args.average
    out = Path(args.out[0])
    if args.oracle:  # a grid over the simplex: three members, one ranking score
        for option, value in (("config", "three"), ("scoring", "average_precision")):
            if getattr(args, option) not in ([value], parser.get_default(option)):
                parser.error(f"--oracle runs --{option} {value} only")
        args.config, args.scoring = ["three"], ["average_precision"]
    kind = "candidates" if args.candidates else "oracle" if args.oracle else "folds"
    paths = {config: out / f"{kind}_{config}.csv" for config in args.config}
    if not args.report:
        torch.set_num_threads(1)
        warnings.filterwarnings("ignore")
        out.mkdir(parents=True, exist_ok=True)
        _MEMORY[0] = joblib.Memory(out / "member_cache", verbose=0)
        done = set()
        for path in paths.values():
            if path.exists():
                previous = pd.read_csv(path)
                done |= set(zip(previous.dataset, previous.config, previous.scoring))
        for name in args.datasets or binary_datasets():
            for config in args.config:
                _CACHE.clear()  # member fits are shared by the scorings only
                _FIT_SECONDS[0] = 0.0
                _COUNTED.clear()
                path = paths[config]
                for scoring in args.scoring:
                    if (name, config, scoring) in done:
                        continue
                    run = (name, config, scoring, args.max_rows, args.repeats,
                           args.outer_folds, args.seed)
                    if args.candidates:
                        rows = pd.DataFrame(evaluate_candidates(*run))
                    elif args.oracle:
                        rows = pd.DataFrame(evaluate_oracle(*run))
                    else:
                        rows, candidates = map(pd.DataFrame, evaluate(*run))
                        append(candidates, out / f"candidates_{config}.csv")
                    append(rows, path)
                    print(f"{name:<20} {config:<6} {scoring:<18} " + (
                        "candidates recorded" if args.candidates else
                        "grid recorded" if args.oracle else
                        " ".join(f"{r} {rows[r].mean():.4f}" for r in RULES)
                        + f"  blend_ {rows.blend.value_counts().to_dict()}"), flush=True)
    folds = []
    for config in args.config:
        for kind, shows in (("folds", [report]),
                            ("candidates", [report_rules, report_candidates]),
                            ("oracle", [report_oracle])):
            found = [pd.read_csv(path) for folder in args.out
                     if (path := Path(folder) / f"{kind}_{config}.csv").exists()]
            if found:
                frame = pd.concat(found).sort_values(["rows", "dataset"], kind="stable")
                for show in shows:
                    show(frame.reset_index(drop=True))
                if kind == "folds":
                    folds.append(frame)
    if folds:
        summary(folds)


if __name__ == "__main__":
    main()
