"""How the common checks instantiate each estimator, and which checks are
expected to fail, with the reason (the structure of scikit-learn's
``sklearn/utils/_test_common/instance_generator.py``)."""

from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

# Small, fast, and still accurate enough for the checks that assert accuracy.
# (At learning_rate=1e-2 Adam's normalised steps let the binned inputs fit the
# 50 noisy rows of check_class_weight_classifiers, whose class weights of 1e-4
# then no longer keep the network from predicting the down-weighted classes.)
INIT_PARAMS = {
    "FixedOffsetsClassifier": dict(estimator=LogisticRegression()),
    "NeuralClassifier": dict(max_epochs=40, hidden_layer_sizes=(32,), learning_rate=3e-3),
    "WeightedStackingClassifier": dict(
        estimators=[("lr", LogisticRegression()), ("nb", GaussianNB())], cv=2
    ),
}

_MINI_BATCH_REASON = (
    "mini-batch training visits a repeated sample once per copy in different "
    "batches, which is not the same optimisation path as one sample of weight 2 "
    "(scikit-learn's MLPClassifier passes only with the full-batch lbfgs solver)."
)

# A second constructor set per estimator, through the same checks: the
# options that change the network, the loss or the blend.
SECOND_PARAMS = {
    "NeuralClassifier": dict(
        max_epochs=40, hidden_layer_sizes=(32,), learning_rate=3e-3, loss="focal",
        ensemble_size=2, piecewise_bins=None, learning_rate_schedule="cosine",
        weight_decay=0.0,
    ),
    "WeightedStackingClassifier": dict(
        estimators=[("lr", LogisticRegression()), ("nb", GaussianNB())], cv=2,
        blend="fitted", recalibrate=False, scoring="average_precision",
    ),
}

EXPECTED_FAILED_CHECKS = {
    "NeuralClassifier": {
        "check_sample_weight_equivalence_on_dense_data": _MINI_BATCH_REASON,
        "check_sample_weight_equivalence_on_sparse_data": _MINI_BATCH_REASON,
    },
}


def estimator_instance(Estimator, params=INIT_PARAMS):
    """An instance of ``Estimator`` set up for the common checks (with
    ``params=SECOND_PARAMS``, the second constructor set)."""
    return clone(Estimator(**params.get(Estimator.__name__, {})))


def expected_failed_checks(estimator):
    """``{check_name: reason}`` of the checks ``estimator`` is known to fail."""
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})
