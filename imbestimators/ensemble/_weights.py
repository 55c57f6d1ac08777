"""Blend-weight optimisers: non-negative weights summing to 1 that maximise a score.

Every optimiser sees only ``score(weights) -> float`` (higher is better) and
the number of estimators, so the same code serves the final weight fit and
each fold of the honest cross-validated estimate.
"""

import inspect

import numpy as np
from scipy.optimize import differential_evolution, minimize
from scipy.special import softmax
from sklearn.metrics import brier_score_loss, log_loss

from ..utils._compat import scorer_function

OPTIMIZERS = ("slsqp", "differential_evolution", "greedy")

# Scores that are smooth in the weights: there a gradient method finds the
# optimum; step-like scores (AUC, AP, accuracy, cost) need a search.
_SMOOTH_SCORES = {"neg_log_loss", "neg_brier_score"}
_SMOOTH_FUNCS = (log_loss, brier_score_loss)


def resolve_optimizer(optimizer, scoring, scorer):
    """The optimiser name that ``optimizer='auto'`` stands for."""
    if optimizer != "auto":
        return optimizer
    smooth = (
        (isinstance(scoring, str) and scoring in _SMOOTH_SCORES)
        or scorer_function(scorer) in _SMOOTH_FUNCS
    )
    return "slsqp" if smooth else "greedy"


def to_simplex(weights):
    """Clip at 0 and normalise to sum 1 (uniform when nothing is left)."""
    weights = np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    total = weights.sum()
    if not np.isfinite(total) or total <= 0:
        return np.full(len(weights), 1.0 / len(weights))
    return weights / total


def optimize_weights(score, n_estimators, optimizer, params=None, random_state=None):
    """Weights on the simplex that maximise ``score``.

    Parameters
    ----------
    score : callable
        ``score(weights) -> float``, higher is better; ``weights`` is on the
        simplex.
    n_estimators : int
    optimizer : {'slsqp', 'differential_evolution', 'greedy'}
    params : dict or None
        Keyword arguments of the optimiser (see ``WeightedStackingClassifier``).
    random_state : int or None
        Seed of differential evolution (the others are deterministic).

    Returns
    -------
    weights : ndarray of shape (n_estimators,)
    """
    params = dict(params or {})
    if n_estimators == 1:
        return np.ones(1)
    if optimizer == "slsqp":
        return _slsqp(score, n_estimators, **params)
    if optimizer == "differential_evolution":
        return _differential_evolution(score, n_estimators, random_state, **params)
    return _greedy(score, n_estimators, **params)


def _slsqp(score, n_estimators, maxiter=200, ftol=1e-10):
    start = np.full(n_estimators, 1.0 / n_estimators)
    result = minimize(
        lambda w: -score(to_simplex(w)),
        start,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * n_estimators,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
        options={"maxiter": maxiter, "ftol": ftol},
    )
    weights = to_simplex(result.x)
    # SLSQP may stop at a worse point than it started from on flat or
    # non-smooth stretches; never return worse than the uniform blend.
    return weights if score(weights) >= score(start) else start


def _differential_evolution(score, n_estimators, random_state, **params):
    # Search the unnormalised cube [0, 1]^m and normalise inside the
    # objective: every point of the cube maps onto the simplex.
    params = {"maxiter": 100, **params}
    seed_name = (
        "rng" if "rng" in inspect.signature(differential_evolution).parameters
        else "seed"
    )
    params.setdefault(seed_name, random_state)
    result = differential_evolution(
        lambda w: -score(to_simplex(w)), [(0.0, 1.0)] * n_estimators, **params
    )
    return to_simplex(result.x)


def _greedy(score, n_estimators, n_iter=50):
    """Ensemble selection with replacement (Caruana et al., 2004).

    Each round adds the estimator whose addition gives the best score (one
    more vote, so an estimator can be picked several times); the weights are
    the vote shares of the best-scoring prefix of the rounds.
    """
    counts = np.zeros(n_estimators)
    best_score, best_counts = -np.inf, None
    for round_ in range(1, n_iter + 1):
        trials = []
        for j in range(n_estimators):
            counts[j] += 1
            trials.append(score(counts / round_))
            counts[j] -= 1
        j = int(np.argmax(trials))
        counts[j] += 1
        if trials[j] > best_score:
            best_score, best_counts = trials[j], counts.copy()
    return best_counts / best_counts.sum()


def fit_recalibration(proba, y_index, sample_weight=None):
    """Parameters of ``softmax(a * log(proba) + b)`` that minimise the log-loss
    against Platt's targets.

    One slope ``a > 0`` (so the order of the rows by any class's probability
    is kept: ranking scores do not change) and one offset per class, ``b[0]``
    fixed at 0. For two classes this is Platt scaling of the blend's logit:
    ``p = sigmoid(a * logit(proba[:, 1]) + b[1])``. A blend of members trained
    with class weights inherits their inflated minority probabilities; this
    undoes the shift, as a logistic meta-learner would, with two parameters.

    The targets are Platt's (1999, section 2.2), as in scikit-learn's sigmoid
    calibration: a row of class ``c`` aims at ``(n_c + 1) / (n_c + 2)`` for
    its class, ``n_c`` the (weighted) count of class ``c``, and shares the
    rest equally among the other classes (for two classes, exactly Platt's
    ``1 / (n_0 + 2)`` for a negative row). Against 0/1 targets, OOF
    probabilities that separate the classes drive the slope without bound,
    and a row of new data on the wrong side then gets a probability near
    ``1e-15`` (a log-loss of 34 for that one row).

    Returns
    -------
    params : ndarray of shape (n_classes + 1,)
        ``[a, b_0, ..., b_{k-1}]``.
    """
    log_p = np.log(np.clip(proba, 1e-15, 1.0))
    n, k = log_p.shape
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    counts = np.bincount(y_index, weights=w, minlength=k)
    w = (w / w.sum())[:, None]
    hit = (counts + 1.0) / (counts + 2.0)
    targets = np.repeat(((1.0 - hit) / (k - 1))[y_index, None], k, axis=1)
    targets[np.arange(n), y_index] = hit[y_index]
    targets *= w  # weighted once, not at every step of the optimiser

    def loss(theta):
        z = theta[0] * log_p
        z[:, 1:] += theta[1:]
        # numpy's reduction: scipy's logsumexp checks its input at every call,
        # which costs more than the loss.
        z -= np.logaddexp.reduce(z, axis=1, keepdims=True)
        residual = np.exp(z) * w - targets
        grad = np.concatenate([[np.sum(residual * log_p)], residual[:, 1:].sum(axis=0)])
        return -np.sum(targets * z), grad

    start = np.r_[1.0, np.zeros(k - 1)]
    result = minimize(loss, start, jac=True, method="L-BFGS-B",
                      bounds=[(1e-3, None)] + [(None, None)] * (k - 1),
                      options={"gtol": 1e-10, "ftol": 1e-14, "maxiter": 1000})
    theta = result.x if result.fun <= loss(start)[0] else start
    return np.r_[theta[0], 0.0, theta[1:]]


def recalibrate(proba, params):
    """``softmax(a * log(proba) + b)`` with ``params = [a, b_0, ..., b_{k-1}]``."""
    z = params[0] * np.log(np.clip(proba, 1e-15, 1.0)) + params[1:]
    return softmax(z, axis=1)
