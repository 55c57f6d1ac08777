"""A fitted-classifier view of precomputed predictions, for scikit-learn scorers."""

from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.metaestimators import available_if

from ._decision import decide


class PrecomputedClassifier(ClassifierMixin, BaseEstimator):
    """Answers a scorer's ``predict_proba``, ``predict`` (with the shared
    decision rule, :func:`imbestimators.metrics.decide`) and, when given,
    ``decision_function`` from arrays computed beforehand; ``X`` is ignored.

    Scorers call these methods on a fitted estimator; this lets the weight fit
    of the stacking classifier and the validation scoring of the network score
    predictions they already hold, without predicting again.
    """

    def __init__(self, classes, proba, cost_matrix=None, decision=None):
        self.classes = classes
        self.proba = proba
        self.cost_matrix = cost_matrix
        self.decision = decision

    @property
    def classes_(self):
        return self.classes

    def predict_proba(self, X):
        return self.proba

    @available_if(lambda self: self.decision is not None)
    def decision_function(self, X):
        return self.decision

    def predict(self, X):
        return decide(self.proba, self.classes, self.cost_matrix)
