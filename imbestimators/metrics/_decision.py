"""Decision rules: from class probabilities to one class per sample."""

import numpy as np


def min_expected_cost_decision(proba, cost_matrix):
    """Bayes minimum expected cost decision (Elkan 2001).

    For each row, pick the class ``j`` that minimises
    ``sum_i proba[i] * cost_matrix[i, j]``.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Class probabilities, columns in the order of ``classes_``.
    cost_matrix : ndarray of shape (n_classes, n_classes)
        ``C[i, j]`` is the cost of predicting ``j`` when the truth is ``i``.

    Returns
    -------
    indices : ndarray of shape (n_samples,)
        Column indices of the chosen classes.

    Examples
    --------
    >>> import numpy as np
    >>> from imbestimators.metrics import min_expected_cost_decision
    >>> C = np.array([[0.0, 1.0], [3.0, 0.0]])  # a missed positive costs 3
    >>> min_expected_cost_decision(np.array([[0.7, 0.3], [0.8, 0.2]]), C)
    array([1, 0])
    """
    proba = np.asarray(proba, dtype=np.float64)
    cost_matrix = np.asarray(cost_matrix, dtype=np.float64)
    return np.argmin(proba @ cost_matrix, axis=1)


def decide(proba, classes, cost_matrix=None, offsets=None):
    """The decision rule of every estimator here: most probable class, or the
    class of minimum expected cost when a cost matrix is given.

    With ``offsets``, the rule decides on the adjusted probabilities
    ``softmax(log(proba) + offsets)`` (a class's offset moves its prior):
    :class:`FixedOffsetsClassifier` saves offsets tuned on out-of-fold
    probabilities.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Class probabilities, columns in the order of ``classes``.
    classes : array-like of shape (n_classes,)
        The labels the columns stand for.
    cost_matrix : ndarray of shape (n_classes, n_classes) or None, default=None
        ``C[i, j]`` is the cost of predicting ``classes[j]`` when the truth is
        ``classes[i]``; see :func:`min_expected_cost_decision`.
    offsets : array-like of shape (n_classes,) or None, default=None
        Added to the log-probabilities of the classes, in the order of the
        columns; None decides on ``proba`` as it is.

    Returns
    -------
    labels : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from imbestimators.metrics import decide
    >>> proba = np.array([[0.7, 0.3], [0.9, 0.1]])
    >>> decide(proba, ["no", "yes"])
    array(['no', 'no'], dtype='<U3')
    >>> decide(proba, ["no", "yes"], cost_matrix=[[0, 1], [3, 0]])
    array(['yes', 'no'], dtype='<U3')
    >>> decide(proba, ["no", "yes"], offsets=[0.0, np.log(3)])  # "yes" 3 times likelier
    array(['yes', 'no'], dtype='<U3')
    """
    return np.asarray(classes)[decision_indices(proba, cost_matrix, offsets)]


def decision_indices(proba, cost_matrix=None, offsets=None):
    """:func:`decide`'s decisions as column indices of ``proba``."""
    if offsets is not None:
        # softmax(log p + b) is p * exp(b) divided by its row sum; neither rule
        # depends on a row's scale, so the division is left out (and exp is
        # taken of b - max(b), which cannot overflow).
        offsets = np.asarray(offsets, dtype=np.float64)
        proba = np.asarray(proba, dtype=np.float64) * np.exp(offsets - offsets.max())
    if cost_matrix is None:
        return np.argmax(proba, axis=1)
    return min_expected_cost_decision(proba, cost_matrix)
