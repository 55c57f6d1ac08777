"""Expected misclassification cost, and a scikit-learn scorer built on it."""

import numpy as np
from sklearn.metrics import make_scorer
from sklearn.utils import check_consistent_length, column_or_1d
from sklearn.utils.multiclass import unique_labels

from ..utils import check_cost_matrix
from ..utils._labels import label_positions


def expected_cost(y_true, y_pred, cost_matrix, labels=None, sample_weight=None):
    """Mean misclassification cost per sample.

    The cost of sample ``i`` is ``cost_matrix[t, p]`` where ``t`` and ``p``
    are the positions of ``y_true[i]`` and ``y_pred[i]`` in ``labels``; the
    result is the (weighted) mean of these costs.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    cost_matrix : array-like of shape (n_labels, n_labels) or dict
        ``C[i, j]`` is the cost of predicting ``labels[j]`` when the truth is
        ``labels[i]``; or a dict of dicts ``{true: {predicted: cost}}`` keyed by
        labels (missing entries cost 0). Finite and non-negative.
    labels : array-like of shape (n_labels,), default=None
        The labels in the order of the rows and columns of ``cost_matrix``.
        ``None`` uses the sorted labels found in ``y_true`` and ``y_pred``
        (and in the keys of a dict ``cost_matrix``); pass ``labels`` whenever
        some class may be absent from both, e.g. in a small validation fold.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples in the mean.

    Returns
    -------
    cost : float
        Mean cost per sample (lower is better).

    See Also
    --------
    make_cost_scorer : The scorer to select models with.
    min_expected_cost_decision : The decision that minimises this cost.

    Examples
    --------
    >>> from imbestimators.metrics import expected_cost
    >>> C = [[0, 1], [5, 0]]  # a missed positive costs 5, a false alarm 1
    >>> expected_cost([0, 0, 1, 1], [0, 1, 1, 0], C)
    1.5
    """
    y_true = column_or_1d(y_true, warn=True)
    y_pred = column_or_1d(y_pred, warn=True)
    check_consistent_length(y_true, y_pred, sample_weight)
    if len(y_true) == 0:
        raise ValueError("expected_cost needs at least one sample; y_true is empty.")
    labels = _cost_labels(y_true, y_pred, cost_matrix, labels)
    matrix = check_cost_matrix(cost_matrix, labels)
    rows = label_positions(y_true, labels, name="y_true")
    costs = matrix[rows, label_positions(y_pred, labels, name="y_pred")]
    if sample_weight is None:
        return float(costs.mean())
    sample_weight = column_or_1d(sample_weight).astype(np.float64)
    if np.any(sample_weight < 0) or not np.all(np.isfinite(sample_weight)):
        raise ValueError("sample_weight must be finite and non-negative.")
    if sample_weight.sum() <= 0:
        raise ValueError("sample_weight must have a positive sum.")
    return float(np.average(costs, weights=sample_weight))


def make_cost_scorer(cost_matrix, labels=None):
    """A scikit-learn scorer: the negative :func:`expected_cost` of ``predict``.

    Greater is better, as for every scikit-learn scorer, so the score is
    ``-expected_cost``. Use it as ``scoring=`` of ``GridSearchCV``,
    ``cross_val_score``, ``TunedThresholdClassifierCV`` (which then tunes the
    decision threshold for the costs), or of
    ``NeuralClassifier(early_stopping=True)``.

    Parameters
    ----------
    cost_matrix : array-like of shape (n_labels, n_labels) or dict
        ``C[i, j]`` is the cost of predicting ``labels[j]`` when the truth is
        ``labels[i]`` (see :func:`expected_cost`).
    labels : array-like of shape (n_labels,), default=None
        Order of the rows and columns of ``cost_matrix``; ``None`` uses the
        sorted labels seen in each scored fold, which is right whenever every
        class appears in the fold's truth or predictions.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y_true, sample_weight=None)``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from imbestimators.datasets import load_ecoli
    >>> from imbestimators.metrics import make_cost_scorer
    >>> X, y = load_ecoli(return_X_y=True)
    >>> scorer = make_cost_scorer([[0, 1], [5, 0]])
    >>> scores = cross_val_score(LogisticRegression(), X, y, scoring=scorer)
    >>> bool(scores.max() <= 0)
    True
    """
    # Validated now so that a bad matrix fails before any model is fitted.
    if labels is None and not isinstance(cost_matrix, dict):
        try:
            n_labels = len(cost_matrix)
        except TypeError as exc:
            raise TypeError(
                "cost_matrix must be a square array-like or a dict of dicts; got "
                f"{type(cost_matrix).__name__}."
            ) from exc
        check_cost_matrix(cost_matrix, np.arange(n_labels))
    else:
        check_cost_matrix(cost_matrix, _cost_labels([], [], cost_matrix, labels))
    return make_scorer(
        expected_cost, greater_is_better=False, cost_matrix=cost_matrix, labels=labels
    )


def _cost_labels(y_true, y_pred, cost_matrix, labels):
    if labels is not None:
        labels = column_or_1d(labels)
        if len(np.unique(labels)) != len(labels):
            raise ValueError(
                f"labels must not contain duplicates; got {labels.tolist()!r}."
            )
        return labels
    found = [np.asarray(y_true), np.asarray(y_pred)]
    if isinstance(cost_matrix, dict):
        keys = set(cost_matrix) | {p for row in cost_matrix.values()
                                   if isinstance(row, dict) for p in row}
        found.append(np.asarray(sorted(keys)))
    found = [f for f in found if len(f)]
    labels = unique_labels(*found)
    matrix = None if isinstance(cost_matrix, dict) else np.asarray(cost_matrix)
    if matrix is not None and matrix.ndim == 2 and matrix.shape[0] != len(labels):
        raise ValueError(
            f"cost_matrix has shape {matrix.shape} but y_true and y_pred contain "
            f"{len(labels)} labels {labels.tolist()!r}; pass labels=... to say which "
            "label each row and column of cost_matrix stands for."
        )
    return labels
