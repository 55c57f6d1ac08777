"""Validation of the parameters shared by several estimators.

Each helper turns a user-facing parameter into the array the estimators use,
or raises a ``ValueError``/``TypeError`` that names the parameter.
"""

from numbers import Real

import numpy as np
from sklearn.utils.class_weight import compute_class_weight


def check_class_weight(class_weight, classes, y_encoded):
    """Per-class weights in the order of ``classes``.

    Parameters
    ----------
    class_weight : None, 'balanced' or dict
        ``None`` gives ones; ``'balanced'`` gives scikit-learn's
        ``n_samples / (n_classes * np.bincount(y))``; a dict maps labels to
        weights (labels missing from the dict get weight 1).
    classes : ndarray of shape (n_classes,)
        The labels, as in ``classes_``.
    y_encoded : ndarray of shape (n_samples,)
        The training labels encoded as indices into ``classes``.

    Returns
    -------
    weights : ndarray of shape (n_classes,), dtype float64

    Examples
    --------
    >>> import numpy as np
    >>> from imbestimators.utils import check_class_weight
    >>> check_class_weight("balanced", np.array(["a", "b"]), np.array([0, 0, 0, 1]))
    array([0.66666667, 2.        ])
    """
    n_classes = len(classes)
    if class_weight is None:
        return np.ones(n_classes)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(
                "class_weight must be None, 'balanced' or a dict mapping labels "
                f"to weights; got the string {class_weight!r}."
            )
        return compute_class_weight(
            "balanced", classes=np.arange(n_classes), y=y_encoded
        )
    if not isinstance(class_weight, dict):
        raise TypeError(
            "class_weight must be None, 'balanced' or a dict mapping labels to "
            f"weights; got {type(class_weight).__name__}."
        )
    known = {_as_python(c): i for i, c in enumerate(classes)}
    unknown = [k for k in class_weight if _as_python(k) not in known]
    if unknown:
        raise ValueError(
            f"class_weight has keys {unknown!r} that are not labels of y; "
            f"the labels are {list(known)!r}."
        )
    weights = np.ones(n_classes)
    for key, value in class_weight.items():
        if not isinstance(value, Real) or not np.isfinite(value) or value < 0:
            raise ValueError(
                f"class_weight[{key!r}] must be a finite non-negative number; "
                f"got {value!r}."
            )
        weights[known[_as_python(key)]] = float(value)
    return weights


def check_cost_matrix(cost_matrix, classes):
    """Validate a cost matrix against the classes of a fitted estimator.

    Parameters
    ----------
    cost_matrix : array-like of shape (n_classes, n_classes) or dict
        ``C[i, j]`` is the cost of predicting ``classes[j]`` when the true
        class is ``classes[i]``. A dict of dicts ``{true: {predicted: cost}}``
        keyed by labels is accepted too; missing entries cost 0.
    classes : ndarray of shape (n_classes,)
        The labels, as in ``classes_``.

    Returns
    -------
    cost_matrix : ndarray of shape (n_classes, n_classes), dtype float64

    Examples
    --------
    >>> from imbestimators.utils import check_cost_matrix
    >>> check_cost_matrix([[0, 3], [1, 0]], classes=[0, 1])
    array([[0., 3.],
           [1., 0.]])
    """
    n_classes = len(classes)
    if isinstance(cost_matrix, dict):
        cost_matrix = _cost_matrix_from_dict(cost_matrix, classes)
    try:
        matrix = np.asarray(cost_matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            "cost_matrix must be a numeric array of shape (n_classes, n_classes) "
            f"or a dict of dicts keyed by labels; got {type(cost_matrix).__name__}."
        ) from exc
    if matrix.shape != (n_classes, n_classes):
        raise ValueError(
            f"cost_matrix must have shape ({n_classes}, {n_classes}) (rows: true "
            f"class, columns: predicted class, in the order of classes_ "
            f"{list(classes)!r}); got shape {matrix.shape}."
        )
    if not np.all(np.isfinite(matrix)):
        raise ValueError("cost_matrix must contain only finite values (no NaN or inf).")
    if np.any(matrix < 0):
        raise ValueError("cost_matrix must be non-negative.")
    return matrix


def _cost_matrix_from_dict(cost_matrix, classes):
    index = {_as_python(c): i for i, c in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)))
    for true, row in cost_matrix.items():
        if _as_python(true) not in index:
            raise ValueError(
                f"cost_matrix has a row for {true!r}, which is not a label of y; "
                f"the labels are {list(index)!r}."
            )
        if not isinstance(row, dict):
            raise TypeError(
                "cost_matrix given as a dict must map each true label to a dict "
                f"{{predicted label: cost}}; got {type(row).__name__} for {true!r}."
            )
        for pred, cost in row.items():
            if _as_python(pred) not in index:
                raise ValueError(
                    f"cost_matrix has a column for {pred!r}, which is not a label "
                    f"of y; the labels are {list(index)!r}."
                )
            matrix[index[_as_python(true)], index[_as_python(pred)]] = cost
    return matrix


def _as_python(label):
    """Compare NumPy scalars and Python scalars as equal dictionary keys."""
    return label.item() if isinstance(label, np.generic) else label
