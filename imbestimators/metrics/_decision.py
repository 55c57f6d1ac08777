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
