"""decide() with class offsets and FixedOffsetsClassifier, against the rule
written out row by row: argmin_j sum_i C[i, j] q_i, q = softmax(log p + b)."""

import pickle

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from imbestimators.metrics import FixedOffsetsClassifier, decide

COSTS = np.array([[0.0, 1.0, 4.0], [6.0, 0.0, 2.0], [8.0, 3.0, 0.0]])


def by_hand(proba, cost_matrix, offsets):
    decided = []
    for p in proba:
        z = np.log(p) + offsets
        q = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        risks = [sum(cost_matrix[i][j] * q[i] for i in range(len(q)))
                 for j in range(len(q))]
        decided.append(int(np.argmin(risks)))
    return np.array(decided)


def data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = np.array(["a", "b", "c"])[np.digitize(X[:, 0] + 0.5 * rng.normal(size=n),
                                              [0.3, 1.2])]
    return X, y


@pytest.mark.parametrize("cost_matrix", [None, COSTS])
def test_decide_with_offsets_is_the_rule_on_softmax_of_shifted_logs(cost_matrix):
    rng = np.random.default_rng(1)
    proba = rng.dirichlet([1.0, 1.0, 1.0], 200)
    offsets = np.array([0.0, 0.8, -1.3])
    costs = 1.0 - np.eye(3) if cost_matrix is None else cost_matrix  # 0-1: argmax
    expected = np.array(["x", "y", "z"])[by_hand(proba, costs, offsets)]
    np.testing.assert_array_equal(decide(proba, ["x", "y", "z"], cost_matrix, offsets),
                                  expected)
    assert (expected != decide(proba, ["x", "y", "z"], cost_matrix)).any()  # it matters


def test_large_offsets_do_not_overflow():
    proba = np.array([[0.5, 0.3, 0.2]])
    assert decide(proba, [0, 1, 2], COSTS, [0.0, 800.0, 0.0]).tolist() == [1]
    assert decide(proba, [0, 1, 2], None, [0.0, -800.0, 900.0]).tolist() == [2]


def test_classifier_decides_on_adjusted_probabilities_and_returns_its_own():
    X, y = data()
    offsets = np.array([0.0, 1.2, -0.4])
    model = FixedOffsetsClassifier(LogisticRegression(), cost_matrix=COSTS,
                                   offsets=offsets).fit(X, y)
    raw = LogisticRegression().fit(X, y).predict_proba(X)
    np.testing.assert_allclose(model.predict_proba(X), raw)  # unadjusted
    assert model.classes_.tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(model.predict(X),
                                  model.classes_[by_hand(raw, COSTS, offsets)])
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    # Without offsets nor costs it is the estimator itself.
    plain = FixedOffsetsClassifier(LogisticRegression()).fit(X, y)
    np.testing.assert_array_equal(plain.predict(X),
                                  LogisticRegression().fit(X, y).predict(X))


@pytest.mark.parametrize("params, error, message", [
    (dict(offsets=[0.0, 1.0]), ValueError, r"offsets must have shape \(3,\)"),
    (dict(offsets=[0.0, np.nan, 1.0]), ValueError, "offsets must be finite"),
    (dict(offsets=["a", "b", "c"]), TypeError, "offsets must be numbers"),
    (dict(cost_matrix=np.ones((2, 2))), ValueError,
     r"cost_matrix must have shape \(3, 3\)"),
])
def test_bad_offsets_and_costs_are_refused_at_fit(params, error, message):
    X, y = data(90)
    with pytest.raises(error, match=message):
        FixedOffsetsClassifier(LogisticRegression(), **params).fit(X, y)
