"""The operating point of a binary candidate, from its out-of-fold probabilities.

The threshold on the positive class's probability is tuned for a decision
metric (F1 for the ranking metrics, balanced accuracy, or the expected cost
of ``--cost-matrix``). Its score is cross-validated: fold ``k`` is decided
with the threshold tuned on the other folds' out-of-fold rows, so the
reported gain of tuning is not measured on the rows it was tuned on.
"""

import numpy as np
from sklearn.metrics import precision_recall_curve

from ._metrics import COST, decide

RECALLS = (0.5, 0.8, 0.9, 0.95)
MAX_THRESHOLDS = 512  # candidate thresholds: quantiles of the scores


def decision_metric(metric):
    """The metric a threshold is tuned for, given the ranking metric."""
    return metric if metric in (COST, "balanced_accuracy", "f1") else "f1"


def scores_at(metric, truth, score, thresholds, cost_matrix=None):
    """``metric`` of deciding positive when ``score >= t``, for every ``t``.

    From the confusion counts at each threshold (one sort, no loop over the
    thresholds): F1 = 2 TP / (2 TP + FP + FN), balanced accuracy =
    (TP / P + TN / N) / 2, expected cost = sum of C[true, predicted] per row.
    """
    truth = np.asarray(truth, dtype=int)
    order = np.argsort(score, kind="stable")
    ranked, positives = np.asarray(score)[order], truth[order]
    # Positives strictly below each threshold: the rows decided negative.
    below = np.concatenate([[0], np.cumsum(positives)])
    rows_below = np.searchsorted(ranked, thresholds, side="left")
    n, n_pos = len(truth), int(truth.sum())
    fn = below[rows_below]
    tp = n_pos - fn
    tn = rows_below - fn
    fp = (n - n_pos) - tn
    if metric == COST:
        c = np.asarray(cost_matrix, dtype=float)
        return (c[0, 0] * tn + c[0, 1] * fp + c[1, 0] * fn + c[1, 1] * tp) / n
    if metric == "balanced_accuracy":
        return (tp / max(n_pos, 1) + tn / max(n - n_pos, 1)) / 2
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)


def best_threshold(truth, score, metric, cost_matrix=None):
    """The threshold (decide positive when ``score >= t``) best for ``metric``.

    ``truth`` and the decisions are 0/1 (1: the positive class); the cost
    matrix, if any, is indexed the same way. Ties go to the middle one of the
    tied thresholds.
    """
    candidates = np.unique(np.quantile(score, np.linspace(0, 1, MAX_THRESHOLDS)))
    values = scores_at(metric, truth, score, candidates, cost_matrix)
    best = values.min() if metric == COST else values.max()
    tied = candidates[np.isclose(values, best, rtol=0, atol=1e-12)]
    return float(tied[len(tied) // 2])


def _value(metric, truth, score, threshold, cost_matrix):
    return float(scores_at(metric, truth, score, [threshold], cost_matrix)[0])


def tuned_operating_point(truth, score, folds, metric, cost_matrix=None,
                          default_decision=None):
    """The threshold tuned on all rows, and the cross-validated scores of the
    tuned and of the default decisions.

    Parameters
    ----------
    truth : ndarray of shape (n_samples,), 0/1
    score : ndarray of shape (n_samples,)
        Out-of-fold probability of the positive class.
    folds : list of (train, test)
        One partition of the rows (the test parts).
    metric : str
        The decision metric (:func:`decision_metric`).
    cost_matrix : ndarray of shape (2, 2) or None
        Indexed by (true, predicted) 0/1.
    default_decision : ndarray of shape (n_samples,), 0/1
        The decisions without tuning (most probable class or minimum
        expected cost).

    Returns
    -------
    dict with ``threshold``, ``tuned`` (mean over the folds of the tuned
    decision's score, each fold's threshold tuned on the other folds) and
    ``default`` (the same mean for ``default_decision``).
    """
    tuned = cross_validated(
        lambda rows: best_threshold(truth[rows], score[rows], metric, cost_matrix),
        lambda rows, t: _value(metric, truth[rows], score[rows], t, cost_matrix), folds)
    # The default decision as a 0/1 "score" decided at 0.5.
    default = cross_validated(
        lambda rows: 0.5,
        lambda rows, t: _value(metric, truth[rows], default_decision[rows].astype(float),
                               t, cost_matrix), folds)
    return {"threshold": best_threshold(truth, score, metric, cost_matrix),
            "tuned": tuned, "default": default}


def cross_validated(tune, value, folds):
    """The mean over ``folds`` of ``value(test, tune(train))``: each fold is
    decided with what was tuned on the other folds' rows, so a gain of tuning
    is not measured on the rows it was tuned on."""
    return float(np.mean([value(test, tune(train)) for train, test in folds]))


def precision_at_recall(truth, score, recalls=RECALLS):
    """The best precision among thresholds whose recall is at least each of
    ``recalls`` (the points of the precision-recall curve)."""
    precision, recall, _ = precision_recall_curve(truth, score)
    return [float(precision[recall >= r].max()) for r in recalls]


def operating_points(results, y_index, positive, folds, metric, cost_matrix):
    """``{name: point}`` for binary ``results``: the tuned threshold on the
    positive class's probability, its cross-validated score and the default
    decision's, and the precision at each of :data:`RECALLS`."""
    truth = (y_index == positive).astype(int)
    order = [1 - positive, positive]  # 0/1 (negative/positive) indexing of C
    costs = None if cost_matrix is None else np.asarray(cost_matrix)[np.ix_(order, order)]
    target = decision_metric(metric)
    points = {}
    for result in results:
        score = result.oof_proba[:, positive]
        default = (decide(result.oof_proba, cost_matrix) == positive).astype(int)
        point = tuned_operating_point(truth, score, folds, target, costs, default)
        point["metric"] = target
        point["precision_at_recall"] = precision_at_recall(truth, score)
        points[result.name] = point
    return points


def advice(point, it="it"):
    """Whether the tuned decision (``it``) beat the default one, cross-validated."""
    better = (point["tuned"] < point["default"] if point["metric"] == COST
              else point["tuned"] > point["default"])
    return (f"--tune-threshold saves the model with {it}" if better else
            "tuning does not help here: keep the default decision")


def describe(name, point, positive_label):
    """One sentence on a candidate's tuned operating point."""
    return (
        f"Operating point of {name}: decide {positive_label!s} when its probability is "
        f">= {point['threshold']:.3g}, tuned for {point['metric']}: "
        f"{point['tuned']:.3f} cross-validated, against {point['default']:.3f} with the "
        f"default decision ({advice(point)})."
    )
