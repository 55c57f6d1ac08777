"""The scores the weight fit calls most, computed straight from the arrays.

The weight fit scores a blend hundreds of times (greedy selection: rounds ×
estimators × (folds + 1)); scikit-learn's scorers validate their inputs on
every call, which costs more than the score itself. For the scorer names
below, and for :func:`~imbestimators.metrics.make_cost_scorer`'s scorers,
:func:`prepared_score` gives the scorer's value (to rounding) without that,
with the work that depends only on the labels done once for all the blends
of the same rows; anything else goes through the scorer.
"""

import numpy as np

from ..metrics._cost import expected_cost
from ..metrics._decision import decision_indices
from ..utils._compat import scorer_parts
from ..utils._labels import label_positions


def _binary_curve(y, score, weight):
    """Cumulative weighted true and false positives at each distinct
    threshold, highest first (scikit-learn's ``_binary_clf_curve``, which
    also leaves out the rows of zero weight)."""
    kept = weight != 0
    if not kept.any():
        return np.zeros(1), np.zeros(1)  # no weight: every score is undefined
    if not kept.all():
        y, score, weight = y[kept], score[kept], weight[kept]
    order = np.argsort(-score, kind="mergesort")
    score, y, weight = score[order], y[order], weight[order]
    last = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]
    tps = np.cumsum(y * weight)[last]
    fps = np.cumsum((1 - y) * weight)[last]
    return tps, fps


def _unweighted_curve(y, score):
    """For each distinct score of a positive row, highest first: how many
    positives and how many negatives score at least that much.

    Average precision changes only at the positives' scores, so this is
    :func:`_binary_curve` at those thresholds. Two sorts of the values, one
    per class, and a binary search: a few times faster than an ``argsort``
    of all rows, which the weight fit would otherwise pay hundreds of times.
    """
    positive = np.sort(score[y == 1])
    negative = np.sort(score[y != 1])
    if not len(positive):
        return np.zeros(1), np.zeros(1)
    # The distinct values of the sorted scores, without sorting them again.
    thresholds = positive[np.r_[np.diff(positive) != 0, True]][::-1]
    tps = len(positive) - np.searchsorted(positive, thresholds, side="left")
    fps = len(negative) - np.searchsorted(negative, thresholds, side="left")
    return tps.astype(float), fps.astype(float)


def _average_precision(y, score, weight):
    tps, fps = (_unweighted_curve(y, score) if weight is None
                else _binary_curve(y, score, weight))
    if tps[-1] <= 0:
        return None
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def _roc_auc(y, score, weight):
    if weight is None:
        # The Mann-Whitney statistic: for each positive, the negatives scored
        # below it, ties counted one half (the trapezoids of the ROC curve).
        positive, negative = score[y == 1], np.sort(score[y != 1])
        if not len(positive) or not len(negative):
            return None
        below = np.searchsorted(negative, positive, side="left")
        tied = np.searchsorted(negative, positive, side="right") - below
        return float((below.sum() + tied.sum() / 2) / (len(positive) * len(negative)))
    tps, fps = _binary_curve(y, score, weight)
    if tps[-1] <= 0 or fps[-1] <= 0:
        return None
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2)


_RANKING = {"average_precision": _average_precision, "roc_auc": _roc_auc}


def order_only(scoring, n_classes):
    """Whether ``scoring`` depends only on the order of the rows by the
    positive class's probability (binary average precision and ROC AUC), so
    that no increasing transformation of that probability can change it."""
    return isinstance(scoring, str) and scoring in _RANKING and n_classes == 2


def prepared_score(scoring, classes, y, sample_weight=None, positive=1,
                   cost_matrix=None):
    """``score(proba)``: ``scoring`` of a blend ``proba`` of the rows ``y`` as
    scikit-learn's scorer of that name computes it, or ``None`` where this
    shortcut does not apply; what depends only on the labels and weights is
    computed once, for all the blends scored on the same rows.

    Parameters
    ----------
    scoring : object
        The estimator's ``scoring`` parameter; only the names
        'average_precision' (binary, and multiclass when every class is in
        ``y``), 'roc_auc' (binary) and 'neg_log_loss', and
        scorers of :func:`~imbestimators.metrics.expected_cost` on ``predict``
        (:func:`~imbestimators.metrics.make_cost_scorer`), are computed here.
    classes : ndarray of shape (n_classes,)
    y : ndarray of shape (n_samples,)
        Labels (values of ``classes``).
    sample_weight : ndarray of shape (n_samples,) or None
    positive : int, default=1
        Column of the positive class in ``classes`` (binary ranking scores).
    cost_matrix : ndarray of shape (n_classes, n_classes) or None, default=None
        The estimator's decision costs: what ``predict`` decides by.

    Returns
    -------
    score : callable
        ``score(proba)`` with ``proba`` of shape (n_samples, n_classes), rows
        summing to 1; a float, or None.
    """
    if not isinstance(scoring, str):
        return _cost_score(scoring, classes, y, sample_weight, cost_matrix)
    weight = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if scoring == "neg_log_loss":
        if weight is not None and weight.sum() <= 0:
            return _no_shortcut
        rows, columns = np.arange(len(y)), label_positions(y, classes)

        def log_loss(proba):
            eps = np.finfo(proba.dtype).eps
            p = np.clip(proba[rows, columns], eps, 1 - eps)
            return float(-np.average(-np.log(p), weights=weight))

        return log_loss
    function = _RANKING.get(scoring)
    if function is None:
        return _no_shortcut
    if len(classes) == 2:
        truth = (y == classes[positive]).astype(float)
        return lambda proba: function(truth, proba[:, positive], weight)
    if scoring != "average_precision" or len(np.unique(y)) != len(classes):
        return _no_shortcut
    # scikit-learn's multiclass average precision: the unweighted mean over
    # the classes of each class's one-vs-rest average precision (defined only
    # when every class is in y).
    truths = [(y == c).astype(float) for c in classes]

    def mean_average_precision(proba):
        scores = [function(truth, proba[:, k], weight) for k, truth in enumerate(truths)]
        return None if None in scores else float(np.mean(scores))

    return mean_average_precision


def _no_shortcut(proba):
    return None


def _cost_score(scorer, classes, y, sample_weight, cost_matrix):
    """A cost scorer's value: the same :func:`expected_cost` of the same
    decisions, without the scorer's per-call checks of the estimator."""
    parts = scorer_parts(scorer)
    if parts is None:
        return _no_shortcut
    function, sign, response_method, kwargs = parts
    if function is not expected_cost or response_method != "predict":
        return _no_shortcut
    lookup = _cost_lookup(classes, y, sample_weight, **kwargs)

    def cost(proba):
        decisions = decision_indices(proba, cost_matrix)
        if lookup is None:  # expected_cost's checks, and its errors
            weight = {} if sample_weight is None else {"sample_weight": sample_weight}
            return sign * expected_cost(y, np.asarray(classes)[decisions], **kwargs,
                                        **weight)
        matrix, truth, column = lookup
        return sign * float(np.average(matrix[truth, column[decisions]],
                                       weights=sample_weight))

    return cost


def _cost_lookup(classes, y, sample_weight, cost_matrix, labels=None):
    """``(matrix, truth, column)`` such that ``matrix[truth, column[d]]`` are
    :func:`expected_cost`'s per-row costs of the decisions ``classes[d]``,
    when its checks would accept every such call (the checks cost ten times
    the cost itself); None otherwise."""
    if isinstance(cost_matrix, dict) or (
            sample_weight is not None
            and not (sample_weight.sum() > 0 and np.all(sample_weight >= 0))):
        return None
    if labels is None:
        # expected_cost's labels are those of y and of the decisions: fixed in
        # advance only when y already holds every class a decision can be.
        labels = np.unique(y)
        if not np.all(np.isin(classes, labels)):
            return None
    matrix = np.asarray(cost_matrix, dtype=float)
    if matrix.shape != (len(labels), len(labels)) or not np.all(matrix >= 0) \
            or not np.all(np.isfinite(matrix)):
        return None
    try:
        return matrix, label_positions(y, labels), label_positions(classes, labels)
    except ValueError:
        return None
