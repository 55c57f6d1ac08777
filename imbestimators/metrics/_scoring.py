"""Which class is positive in a binary problem, and scorers that use it."""

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    get_scorer,
    jaccard_score,
    make_scorer,
    precision_score,
    recall_score,
)

# Scorer names whose metric depends on the positive label: name -> (metric,
# response method, greater is better), as scikit-learn's scorers of that name.
_POSITIVE_LABEL_SCORERS = {
    "average_precision": (average_precision_score,
                          ("decision_function", "predict_proba"), True),
    "f1": (f1_score, "predict", True),
    "precision": (precision_score, "predict", True),
    "recall": (recall_score, "predict", True),
    "jaccard": (jaccard_score, "predict", True),
    "neg_brier_score": (brier_score_loss, "predict_proba", False),
}


def positive_class(classes, counts):
    """The positive class of a binary problem: the minority class.

    On a tie, ``classes[1]``, scikit-learn's convention (with more classes,
    the least frequent, the first on a tie). Every part of the
    package (early stopping, stacking weights, ``compare``) takes the
    positive class from here, unless the user passes a scorer with an
    explicit ``pos_label``.

    Parameters
    ----------
    classes : array-like of shape (n_classes,)
        The sorted labels.
    counts : array-like of shape (n_classes,)
        Samples (or summed weights) per class.

    Returns
    -------
    label : the positive class, an element of ``classes``

    Examples
    --------
    >>> positive_class(["fraud", "ok"], [30, 970])
    'fraud'
    >>> positive_class([0, 1], [50, 50])
    1
    """
    counts = np.asarray(counts)
    index = int(np.argmin(counts))
    if len(counts) == 2 and counts[0] == counts[1]:
        index = 1
    return classes[index]


def check_scoring_positive(scoring, classes, counts):
    """A scorer for ``scoring`` whose positive class follows :func:`positive_class`.

    A scorer *name* of a metric that depends on the positive label
    ('average_precision', 'f1', 'precision', 'recall', 'jaccard',
    'neg_brier_score') on a binary problem becomes the same scorer with
    ``pos_label`` the minority class, whatever the labels' type (scikit-learn's
    name means ``pos_label=1``, which fails on string labels and is the
    majority class when 0 is rare). Other names go through ``get_scorer``;
    callables (including scorers made with an explicit ``pos_label``) are
    returned unchanged.

    Parameters
    ----------
    scoring : str or callable
        A scorer name, or a scorer.
    classes : array-like of shape (n_classes,)
        The sorted labels.
    counts : array-like of shape (n_classes,)
        Samples per class (the minority is positive).

    Returns
    -------
    scorer : callable
    pos_label : label or None
        The positive class given to the scorer, or None when untouched.

    Examples
    --------
    >>> import numpy as np
    >>> scorer, pos_label = check_scoring_positive(
    ...     "average_precision", np.array(["fraud", "ok"]), [30, 970])
    >>> print(pos_label)
    fraud
    """
    if not isinstance(scoring, str):
        return scoring, None
    if scoring in _POSITIVE_LABEL_SCORERS and len(classes) == 2:
        metric, response_method, greater = _POSITIVE_LABEL_SCORERS[scoring]
        pos_label = positive_class(classes, counts)
        scorer = make_scorer(metric, response_method=response_method,
                             greater_is_better=greater, pos_label=pos_label)
        return scorer, pos_label
    return get_scorer(scoring), None
