"""Cross-validate the candidates on one set of stratified folds."""

import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from tqdm.auto import tqdm

from skorch.callbacks import EarlyStopping

from ..neural import NeuralClassifier
from ._candidates import CANDIDATES
from ._metrics import COST, METRICS, scores

N_BEST = 3  # plain candidates an ensemble candidate combines


@dataclass
class Result:
    """One candidate across all folds."""

    name: str
    description: str
    fold_scores: list = field(default_factory=list)  # {metric: value} per fold, in order
    fit_times: list = field(default_factory=list)
    oof_proba: np.ndarray = None  # out-of-fold probabilities (mean over the repeats)
    histories: list = field(default_factory=list)  # per fold, for networks
    error: str = None
    warnings: list = field(default_factory=list)
    estimator: str = ""  # what runs, as scikit-learn prints it (changed parameters)

    def mean(self, metric):
        return float(np.mean([s[metric] for s in self.fold_scores]))

    def std(self, metric):
        return float(np.std([s[metric] for s in self.fold_scores]))


def metric_names(cost_matrix):
    return METRICS + ((COST,) if cost_matrix is not None else ())


def ranked(results, metric):
    """Successful results, best first (expected cost: lowest first)."""
    ok = [r for r in results if r.error is None]
    sign = 1 if metric == COST else -1
    return sorted(ok, key=lambda r: sign * r.mean(metric))


def make_folds(y_index, cv, repeats, seed):
    """The (train, test) folds every candidate shares: ``repeats`` stratified
    ``cv``-fold partitions, repeat ``r`` shuffled with seed ``seed + r``."""
    return [
        fold
        for r in range(repeats)
        for fold in StratifiedKFold(cv, shuffle=True, random_state=seed + r)
        .split(np.zeros(len(y_index)), y_index)
    ]


def run_candidates(dataset, names, context, *, metric, folds, n_jobs, notify):
    """Fit every candidate on every fold; plain candidates first, then ensembles."""
    y_index = dataset.y_index
    positive = dataset.positive_index
    plain = [n for n in names if not CANDIDATES[n].ensemble]
    ensembles = [n for n in names if CANDIDATES[n].ensemble]
    total = len(names) * len(folds)
    with tqdm(total=total, desc="cross-validating", unit="fit", disable=None,
              file=sys.stderr) as progress:
        results = _run(plain, dataset, context, folds, y_index, positive, n_jobs, progress)
        if ensembles:
            best = ranked(results, metric)[:N_BEST]
            if len(best) < 2:
                notify(f"skipping {', '.join(ensembles)}: fewer than 2 candidates "
                       "succeeded.")
                progress.update(len(ensembles) * len(folds))
            else:
                context.best = [(r.name, CANDIDATES[r.name].factory(context)) for r in best]
                results += _run(ensembles, dataset, context, folds, y_index, positive,
                                n_jobs, progress)
    for result in results:
        if result.error:
            notify(f"candidate {result.name} failed: {result.error}")
        for message in result.warnings:
            notify(f"candidate {result.name} warned: {message}")
    return results


def _run(names, dataset, context, folds, y_index, positive, n_jobs, progress):
    models = {name: CANDIDATES[name].factory(context) for name in names}
    results = {
        name: Result(name, CANDIDATES[name].description,
                     oof_proba=np.zeros((len(y_index), len(dataset.classes))),
                     estimator=" ".join(repr(models[name]).split()))
        for name in names
    }
    tasks = []
    for name in names:
        model = Pipeline([("preprocess", dataset.preprocessor), ("model", models[name])])
        tasks += [delayed(_fit_fold)(name, model, dataset.X, dataset.y, i, train, test)
                  for i, (train, test) in enumerate(folds)]
    metrics = metric_names(context.cost_matrix)
    n_repeats = sum(len(test) for _, test in folds) / len(y_index)
    for name, i, proba, fit_time, history, error, caught in Parallel(
        n_jobs=n_jobs, return_as="generator_unordered"
    )(tasks):
        progress.update()
        result = results[name]
        result.warnings += [w for w in caught if w not in result.warnings]
        if error is not None or result.error is not None:
            result.error = result.error or f"fold {i + 1}: {error}"
            continue
        test = folds[i][1]
        result.oof_proba[test] += proba / n_repeats
        result.fit_times.append(fit_time)
        result.fold_scores.append(
            (i, scores(y_index[test], proba, positive, context.cost_matrix, metrics))
        )
        if history is not None:
            result.histories.append((i, history))
    for result in results.values():
        # Fold order, not completion order: the paired comparisons match folds.
        result.histories.sort(key=lambda item: item[0])
        result.fold_scores = [s for _, s in sorted(result.fold_scores, key=lambda t: t[0])]
    return list(results.values())


def _fit_fold(name, model, X, y, fold, train, test):
    """Fit on ``train``, predict ``test``; failures are returned, not raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            model = clone(model).fit(X.iloc[train], y[train])
            fit_time = time.perf_counter() - start
            proba = model.predict_proba(X.iloc[test])
        except Exception as exc:  # a failing candidate is reported; the others go on
            message = (str(exc).strip().splitlines() or [""])[0]
            return name, fold, None, None, None, f"{type(exc).__name__}: {message}", []
    messages = sorted({f"{w.category.__name__}: {str(w.message).splitlines()[0]}"
                       for w in caught})
    return name, fold, proba, fit_time, _history(model), None, messages


def _history(model):
    """Per-epoch losses of the network inside ``model``, if it holds one, and
    the epoch whose weights early stopping restored (None without it)."""
    while not isinstance(model, NeuralClassifier):
        if not hasattr(model, "steps"):
            return None
        model = model.steps[-1][1]
    epochs = [
        {"train_loss": epoch.get("train_loss"), "valid_loss": epoch.get("valid_loss")}
        for epoch in model.history_
    ]
    restored = next((cb.best_epoch_ for _, cb in model.net_.callbacks_
                     if isinstance(cb, EarlyStopping) and cb.load_best
                     and getattr(cb, "best_epoch_", None)), None)
    return {"epochs": epochs, "restored": restored}
