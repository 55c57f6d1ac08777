"""The leaderboard's metrics, computed from out-of-fold probabilities.

Every candidate is scored from its probabilities with one decision rule (most
probable class, or minimum expected cost with ``--cost-matrix``), so no
candidate's own ``predict`` gets a different decision rule.
Labels are encoded as column indices of the probabilities; ``positive`` is
the column of the minority class (used by binary metrics).
"""

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    roc_auc_score,
)
from sklearn.preprocessing import label_binarize

from ..metrics import decide as _decide_labels
from ..metrics import expected_cost
from ..utils._labels import label_positions

METRICS = ("average_precision", "balanced_accuracy", "f1", "roc_auc")
COST = "expected_cost"


def decide(proba, cost_matrix):
    """Column indices of the decisions taken from ``proba`` (the shared rule,
    :func:`imbestimators.metrics.decide`, on the column positions)."""
    return _decide_labels(proba, np.arange(proba.shape[1]), cost_matrix)


def _average_precision(y, proba, pred, positive, cost_matrix):
    if proba.shape[1] == 2:
        return average_precision_score(y == positive, proba[:, positive])
    onehot = label_binarize(y, classes=np.arange(proba.shape[1]))
    return average_precision_score(onehot, proba, average="macro")


def _roc_auc(y, proba, pred, positive, cost_matrix):
    if proba.shape[1] == 2:
        return roc_auc_score(y == positive, proba[:, positive])
    return roc_auc_score(y, proba, multi_class="ovr", labels=np.arange(proba.shape[1]))


def _f1(y, proba, pred, positive, cost_matrix):
    if proba.shape[1] == 2:
        return f1_score(y == positive, pred == positive)
    return f1_score(y, pred, average="macro")


def _balanced_accuracy(y, proba, pred, positive, cost_matrix):
    return balanced_accuracy_score(y, pred)


def _expected_cost(y, proba, pred, positive, cost_matrix):
    return expected_cost(y, pred, cost_matrix, labels=np.arange(len(cost_matrix)))


_FUNCTIONS = {
    "average_precision": _average_precision,
    "balanced_accuracy": _balanced_accuracy,
    "f1": _f1,
    "roc_auc": _roc_auc,
    COST: _expected_cost,
}


def scores(y_index, proba, positive, cost_matrix, metrics):
    """``{metric: value}`` for one set of probabilities."""
    pred = decide(proba, cost_matrix)
    return {
        name: float(_FUNCTIONS[name](y_index, proba, pred, positive, cost_matrix))
        for name in metrics
    }


class Scorer:
    """A scikit-learn scorer ``scorer(estimator, X, y)`` for one leaderboard metric.

    The networks early-stop on it, so they optimise what the leaderboard
    ranks. Greater is better: expected cost is negated, as in scikit-learn's
    ``neg_*`` scorers.
    """

    def __init__(self, metric, classes, positive, cost_matrix):
        self.metric = metric
        self.classes = classes
        self.positive = positive
        self.cost_matrix = cost_matrix

    def __repr__(self):  # valid Python: model.py rebuilds an estimator holding it
        def array(a):
            return "None" if a is None else f"np.array({np.asarray(a).tolist()!r})"
        return (f"Scorer({self.metric!r}, {array(self.classes)}, {self.positive!r}, "
                f"{array(self.cost_matrix)})")

    def __call__(self, estimator, X, y):
        y_index = label_positions(y, self.classes)
        proba = estimator.predict_proba(X)
        value = scores(y_index, proba, self.positive, self.cost_matrix, [self.metric])
        return -value[self.metric] if self.metric == COST else value[self.metric]
