"""expected_cost and make_cost_scorer against hand-computed references."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score

from imbestimators.metrics import expected_cost, make_cost_scorer


def _reference(y_true, y_pred, C, labels, w=None):
    """Σᵢ wᵢ C[pos(tᵢ), pos(pᵢ)] / Σᵢ wᵢ, one sample at a time."""
    where = {label: k for k, label in enumerate(labels)}
    w = np.ones(len(y_true)) if w is None else np.asarray(w, dtype=np.float64)
    total = sum(wi * C[where[t]][where[p]] for t, p, wi in zip(y_true, y_pred, w))
    return total / w.sum()


def test_binary_by_hand():
    # 2 true negatives (0), 1 false positive (cost 1), 1 false negative (cost 5)
    assert expected_cost([0, 0, 0, 1], [0, 0, 1, 0], [[0, 1], [5, 0]]) == 1.5


def test_multiclass_with_diagonal_and_weights():
    rng = np.random.default_rng(0)
    C = rng.uniform(0, 4, size=(3, 3))
    y_true = rng.choice(["a", "b", "c"], size=50)
    y_pred = rng.choice(["a", "b", "c"], size=50)
    w = rng.uniform(0, 2, size=50)
    assert expected_cost(y_true, y_pred, C) == pytest.approx(
        _reference(y_true, y_pred, C, ["a", "b", "c"]), rel=1e-12)
    assert expected_cost(y_true, y_pred, C, sample_weight=w) == pytest.approx(
        _reference(y_true, y_pred, C, ["a", "b", "c"], w), rel=1e-12)


def test_labels_give_the_order_of_rows_and_columns():
    C = [[0, 7], [2, 0]]  # rows/cols in the order ['yes', 'no']
    y_true, y_pred = ["yes", "no", "no"], ["no", "no", "yes"]
    # yes→no costs 7, no→yes costs 2
    assert expected_cost(y_true, y_pred, C, labels=["yes", "no"]) == pytest.approx(3.0)
    # default order is sorted: ['no', 'yes'], so no→yes costs 7
    assert expected_cost(y_true, y_pred, C) == pytest.approx(3.0)
    assert expected_cost(["yes"], ["no"], C, labels=["yes", "no"]) == 7
    assert expected_cost(["yes"], ["no"], C) == 2


def test_labels_cover_classes_absent_from_the_fold():
    C = [[0, 1, 2], [3, 0, 4], [5, 6, 0]]
    assert expected_cost([2, 2], [0, 2], C, labels=[0, 1, 2]) == pytest.approx(2.5)


def test_dict_cost_matrix():
    C = {"neg": {"pos": 1.0}, "pos": {"neg": 4.0}}
    assert expected_cost(["neg", "pos", "pos"], ["pos", "neg", "pos"], C) == (
        pytest.approx(5 / 3))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(cost_matrix=[[0, 1], [1, np.nan]]), ValueError, "finite"),
        (dict(cost_matrix=[[0, -1], [1, 0]]), ValueError, "non-negative"),
        (dict(cost_matrix=[[0, 1, 1], [1, 0, 1], [1, 1, 0]]), ValueError, "labels="),
        (dict(cost_matrix=[[0, 1], [1, 0]], labels=[0, 2]), ValueError, "not in labels"),
        (dict(cost_matrix=[[0, 1], [1, 0]], labels=[0, 0]), ValueError, "duplicates"),
        (dict(cost_matrix={5: {0: 1}}, labels=[0, 1]), ValueError, "not a label"),
    ],
)
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        expected_cost([0, 1, 1], [1, 1, 0], **kwargs)


def test_bad_sample_weight_and_lengths():
    with pytest.raises(ValueError, match="non-negative"):
        expected_cost([0, 1], [1, 1], [[0, 1], [1, 0]], sample_weight=[-1, 1])
    with pytest.raises(ValueError, match="inconsistent"):
        expected_cost([0, 1], [1], [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="empty"):
        expected_cost([], [], [[0, 1], [1, 0]])


def test_scorer_is_the_negative_cost_of_predict():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] + rng.normal(size=80) > 0.5).astype(int)
    C = [[0, 1], [4, 0]]
    model = LogisticRegression().fit(X, y)
    scorer = make_cost_scorer(C)
    assert scorer(model, X, y) == pytest.approx(
        -_reference(y, model.predict(X), C, [0, 1]), rel=1e-12)
    scores = cross_val_score(LogisticRegression(), X, y, scoring=scorer, cv=3)
    assert np.all(scores <= 0)


def test_scorer_selects_the_cheaper_model_in_grid_search():
    # With a missed positive 20× as costly, the cheaper of two class weights
    # is the one that favours positives; the scorer must pick it.
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] + rng.normal(size=300) > 1.0).astype(int)
    C = [[0, 1], [20, 0]]
    grid = GridSearchCV(
        LogisticRegression(),
        {"class_weight": [{0: 1, 1: 1}, {0: 1, 1: 20}]},
        scoring=make_cost_scorer(C), cv=3,
    ).fit(X, y)
    assert grid.best_params_["class_weight"] == {0: 1, 1: 20}
    assert grid.best_score_ == pytest.approx(
        grid.cv_results_["mean_test_score"].max())


def test_scorer_validates_the_matrix_at_once():
    with pytest.raises(ValueError, match="non-negative"):
        make_cost_scorer([[0, -2], [1, 0]])
    with pytest.raises(ValueError, match="shape"):
        make_cost_scorer([[0, 1, 2], [1, 0, 2]])
    with pytest.raises(TypeError, match="cost_matrix"):
        make_cost_scorer(3.0)
