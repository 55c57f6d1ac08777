"""The one home of scikit-learn's private APIs that the package uses.

Each is imported here and nowhere else, so that a scikit-learn release that
moves one breaks one module, whose tests say which. (skorch's internals are
used by one module too: ``neural/_net.py``, the subclass of its ``NeuralNet``
that owns the epoch loop.)
"""

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import _check_sample_weight

__all__ = [
    "BaseComposition",
    "HasMethods",
    "Interval",
    "StrOptions",
    "check_sample_weight",
    "safe_indexing",
    "scorer_function",
    "scorer_parts",
    "validate_params",
]

BaseComposition = _BaseComposition


def check_sample_weight(sample_weight, X, **kwargs):
    """scikit-learn's ``_check_sample_weight``, rejecting all-zero weights on
    every supported version (as scikit-learn 1.9 does, and 1.6-1.7 do not)."""
    weights = _check_sample_weight(sample_weight, X, **kwargs)
    if weights.size and not np.any(weights):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return weights


safe_indexing = _safe_indexing


def scorer_function(scorer):
    """The metric function behind a scikit-learn scorer, or None."""
    return getattr(scorer, "_score_func", None)


def scorer_parts(scorer):
    """``(function, sign, response_method, kwargs)`` of a scikit-learn scorer
    made by ``make_scorer``, or None for any other callable."""
    try:
        return (scorer._score_func, scorer._sign, scorer._response_method,
                dict(scorer._kwargs))
    except AttributeError:
        return None
