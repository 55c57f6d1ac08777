"""Deciding with costs: the Bayes decision, its threshold, tuning, warnings."""

import warnings

import numpy as np
import pytest
from sklearn.model_selection import TunedThresholdClassifierCV

from imbestimators import NeuralClassifier
from imbestimators.losses import CrossEntropyLoss, ExpectedCostLoss, FocalLoss
from imbestimators.metrics import make_cost_scorer
from imbestimators.neural._classifier import _prior_shift

SMALL = dict(hidden_layer_sizes=(8,), max_epochs=15, learning_rate=0.02, random_state=0)


def _logistic_data(n, seed):
    """Labels drawn from a logistic model, so a linear network is calibrated."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    p = 1.0 / (1.0 + np.exp(-(2.0 * X[:, 0] - X[:, 1] - 1.0)))
    return X, (rng.uniform(size=n) < p).astype(int)


@pytest.mark.parametrize("c_fp, c_fn", [(1.0, 3.0), (3.0, 1.0), (1.0, 19.0), (0.5, 0.5)])
def test_binary_cost_decision_is_a_threshold(c_fp, c_fn):
    X, y = _logistic_data(300, 0)
    C = [[0.0, c_fp], [c_fn, 0.0]]
    clf = NeuralClassifier(cost_matrix=C, **SMALL).fit(X, y)
    p1 = clf.predict_proba(X)[:, 1]
    threshold = c_fp / (c_fp + c_fn)
    np.testing.assert_array_equal(clf.predict(X), (p1 > threshold).astype(int))
    # the costs did change the decision from argmax where the threshold is not 1/2
    if threshold != 0.5:
        assert np.any(clf.predict(X) != (p1 > 0.5))


def test_multiclass_cost_decision_with_string_labels():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(240, 3))
    y = np.array(["cat", "dog", "eel"])[np.argmax(X + rng.normal(size=X.shape), axis=1)]
    C = np.array([[0.0, 1.0, 4.0], [2.0, 0.0, 1.0], [6.0, 3.0, 0.5]])
    clf = NeuralClassifier(cost_matrix=C, **SMALL).fit(X, y)
    proba = clf.predict_proba(X)
    expected = []
    for row in proba:  # Σᵢ pᵢ C[i, j] for each j, written out
        costs = [sum(row[i] * C[i, j] for i in range(3)) for j in range(3)]
        expected.append(clf.classes_[int(np.argmin(costs))])
    np.testing.assert_array_equal(clf.predict(X), expected)
    assert np.any(clf.predict(X) != clf.classes_[np.argmax(proba, axis=1)])


def test_cost_matrix_given_as_dict_follows_the_labels():
    X, y = _logistic_data(200, 2)
    labels = np.where(y == 1, "pos", "neg")
    as_dict = {"neg": {"pos": 1.0}, "pos": {"neg": 4.0}}
    by_dict = NeuralClassifier(cost_matrix=as_dict, **SMALL).fit(X, labels)
    by_array = NeuralClassifier(cost_matrix=[[0, 1], [4, 0]], **SMALL).fit(X, labels)
    np.testing.assert_array_equal(by_dict.cost_matrix_, [[0, 1], [4, 0]])
    np.testing.assert_array_equal(by_dict.predict(X), by_array.predict(X))


def test_tuned_threshold_finds_the_cost_threshold():
    # C_FP = 1, C_FN = 3: the Bayes threshold on a calibrated probability is
    # 1 / (1 + 3) = 0.25. The tuned threshold is an estimate from 3 folds of
    # 1500 samples; over 12 data seeds it ranged over 0.18–0.30 (mean 0.23,
    # sd 0.03), hence the tolerance of 0.1.
    X, y = _logistic_data(1500, 0)
    C = [[0.0, 1.0], [3.0, 0.0]]
    linear = NeuralClassifier(hidden_layer_sizes=(), max_epochs=30, learning_rate=0.05,
                              batch_size=128, random_state=0)
    tuned = TunedThresholdClassifierCV(
        linear, scoring=make_cost_scorer(C), cv=3, random_state=0
    ).fit(X, y)
    assert tuned.best_threshold_ == pytest.approx(0.25, abs=0.1)


def _double_counting_warnings(**params):
    X, y = _logistic_data(100, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        NeuralClassifier(hidden_layer_sizes=(4,), max_epochs=1, **params).fit(X, y)
    return [str(w.message) for w in caught if "twice" in str(w.message)]


def test_double_counting_warnings():
    C = [[0, 1], [3, 0]]
    [message] = _double_counting_warnings(cost_matrix=C, class_weight="balanced")
    assert "class_weight" in message and "cost_matrix" in message
    [message] = _double_counting_warnings(cost_matrix=C, loss=ExpectedCostLoss())
    assert "expected_cost" in message
    [_] = _double_counting_warnings(cost_matrix=C, loss=ExpectedCostLoss)
    [_] = _double_counting_warnings(
        cost_matrix=C, loss=CrossEntropyLoss(class_weight=[1.0, 3.0]))
    # one of them alone, or class weights undone by the prior correction: silent
    assert _double_counting_warnings(cost_matrix=C) == []
    assert _double_counting_warnings(class_weight="balanced") == []
    assert _double_counting_warnings(loss=ExpectedCostLoss(cost_matrix=C)) == []
    assert _double_counting_warnings(
        cost_matrix=C, class_weight="balanced", prior_correction=True) == []


def test_double_counting_detects_the_loss_name():
    # The name is what users write; the loss itself lives in losses/.
    [message] = _double_counting_warnings(cost_matrix=[[0, 1], [3, 0]],
                                          loss="expected_cost")
    assert "counts the costs" in message


@pytest.mark.parametrize("params, named", [
    (dict(loss="weighted_bce"), "WeightedBCELoss"),
    (dict(loss="class_balanced"), "ClassBalancedLoss"),
    (dict(loss="logit_adjusted"), "LogitAdjustedLoss"),
    (dict(loss=FocalLoss(alpha=0.75)), "alpha"),
    (dict(batch_sampling="balanced"), "batch_sampling='balanced'"),
])
def test_double_counting_by_losses_and_sampling_that_shift_the_priors(params, named):
    C = [[0, 1], [3, 0]]
    [message] = _double_counting_warnings(cost_matrix=C, **params)
    assert named in message and "twice" in message
    # the same training without the cost decision is silent
    assert _double_counting_warnings(**params) == []


def test_prior_correction_silences_the_loss_shift_but_not_balanced_batches():
    C = [[0, 1], [3, 0]]
    assert _double_counting_warnings(cost_matrix=C, loss="logit_adjusted",
                                     prior_correction=True) == []
    [message] = _double_counting_warnings(cost_matrix=C, batch_sampling="balanced",
                                          prior_correction=True)
    assert "batch_sampling" in message


def test_plain_losses_do_not_count_as_a_shift():
    assert _prior_shift(CrossEntropyLoss(), None, 2) is None
    assert _prior_shift(FocalLoss(), None, 2) is None
