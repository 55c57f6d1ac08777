"""The weight fit's shortcut scores equal scikit-learn's scorers."""

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    get_scorer,
    make_scorer,
    roc_auc_score,
)

from imbestimators.ensemble._fast_scores import prepared_score
from imbestimators.metrics import expected_cost, make_cost_scorer
from imbestimators.metrics._precomputed import PrecomputedClassifier


def fast_score(scoring, classes, y, proba, sample_weight=None, positive=1,
               cost_matrix=None):
    """The shortcut's score of one blend."""
    return prepared_score(scoring, classes, y, sample_weight, positive, cost_matrix)(proba)


def _sklearn(scoring, classes, y, proba, sample_weight):
    kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
    view = PrecomputedClassifier(classes, proba)
    return get_scorer(scoring)(view, np.empty((len(y), 0)), y, **kwargs)


def _problem(seed, n_classes=2, n=300, ties=False):
    rng = np.random.RandomState(seed)
    y_index = rng.choice(n_classes, size=n, p=np.r_[0.8, [0.2 / (n_classes - 1)]
                                                    * (n_classes - 1)])
    logits = rng.normal(size=(n, n_classes)) + 1.5 * np.eye(n_classes)[y_index]
    if ties:  # few distinct scores: many tied thresholds
        logits = np.round(logits, 0)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y_index, proba, rng.uniform(0.1, 3.0, size=n)


@pytest.mark.parametrize("scoring", ["average_precision", "roc_auc", "neg_log_loss"])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_scores_equal_scikit_learns(scoring, ties, weighted):
    for seed in range(5):
        y_index, proba, sw = _problem(seed, ties=ties)
        sw = sw if weighted else None
        classes = np.array([0, 1])
        expected = _sklearn(scoring, classes, y_index, proba, sw)
        assert fast_score(scoring, classes, y_index, proba, sw) == pytest.approx(
            expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("scoring", ["average_precision", "roc_auc"])
def test_rows_of_zero_weight_are_left_out_as_scikit_learn_does(scoring):
    y_index, proba, sw = _problem(2)
    # Zero weights on the highest-scored rows: no precision at those thresholds.
    sw[np.argsort(-proba[:, 1])[:5]] = 0.0
    sw[::7] = 0.0
    classes = np.array([0, 1])
    expected = _sklearn(scoring, classes, y_index, proba, sw)
    assert np.isfinite(expected)
    assert fast_score(scoring, classes, y_index, proba, sw) == pytest.approx(
        expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_no_weight_at_all_leaves_the_score_to_scikit_learn(n_classes):
    y_index, proba, _ = _problem(4, n_classes=n_classes)
    classes = np.arange(n_classes)
    assert fast_score("average_precision", classes, y_index, proba,
                      np.zeros(len(y_index))) is None


def test_multiclass_log_loss_equals_scikit_learns():
    y_index, proba, sw = _problem(0, n_classes=4)
    classes = np.array(["a", "b", "c", "d"])
    y = classes[y_index]
    assert fast_score("neg_log_loss", classes, y, proba, sw) == pytest.approx(
        _sklearn("neg_log_loss", classes, y, proba, sw), rel=1e-12)


@pytest.mark.parametrize("classes", [np.array([1, 2]), np.array(["no", "yes"])])
@pytest.mark.parametrize("positive", [0, 1])
def test_ranking_scores_of_either_positive_class(classes, positive):
    y_index, proba, sw = _problem(3)
    y = classes[y_index]
    expected = average_precision_score(y == classes[positive], proba[:, positive],
                                       sample_weight=sw)
    assert fast_score("average_precision", classes, y, proba, sw, positive) == \
        pytest.approx(expected, rel=1e-12)
    assert fast_score("roc_auc", classes, y, proba, sw, positive) == pytest.approx(
        roc_auc_score(y_index, proba[:, 1], sample_weight=sw), rel=1e-12)


@pytest.mark.parametrize("classes", [np.array([0, 1, 2, 3]),
                                     np.array(["a", "b", "c", "d"])])
@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_average_precision_is_the_mean_of_one_vs_rest(classes, weighted):
    y_index, proba, sw = _problem(1, n_classes=4)
    sw = sw if weighted else None
    # The definition: each class's one-vs-rest average precision, unweighted mean.
    expected = np.mean([average_precision_score(y_index == k, proba[:, k], sample_weight=sw)
                        for k in range(4)])
    assert fast_score("average_precision", classes, classes[y_index], proba, sw) == \
        pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("scoring, classes", [
    ("average_precision", np.array([0, 1, 2, 3])),  # class 3 absent from y
    ("f1", np.array([0, 1])),
    (get_scorer("roc_auc"), np.array([0, 1])),
])
def test_no_shortcut_where_scikit_learn_would_differ(scoring, classes):
    y = classes[np.arange(12) % min(len(classes), 3)]
    proba = np.full((12, len(classes)), 1.0 / len(classes))
    assert fast_score(scoring, classes, y, proba) is None


@pytest.mark.parametrize("classes", [np.array([0, 1, 2]), np.array(["a", "b", "c"])])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("decide_by_costs", [False, True])
def test_cost_scorer_equals_the_scorer(classes, weighted, decide_by_costs):
    y_index, proba, sw = _problem(1, n_classes=3)
    y = classes[y_index]
    sw = sw if weighted else None
    costs = np.array([[0.0, 1.0, 2.0], [6.0, 0.0, 1.0], [9.0, 3.0, 0.0]])
    decision_costs = costs if decide_by_costs else None
    kwargs = {} if sw is None else {"sample_weight": sw}
    view = PrecomputedClassifier(classes, proba, decision_costs)
    for scorer in (make_cost_scorer(costs), make_cost_scorer(costs, labels=classes),
                   make_scorer(expected_cost, cost_matrix=costs)):  # sign +1
        expected = scorer(view, np.empty((len(y), 0)), y, **kwargs)
        assert fast_score(scorer, classes, y, proba, sw, cost_matrix=decision_costs) == \
            pytest.approx(expected, rel=1e-12)


def test_cost_scorer_shortcut_keeps_the_scorers_label_errors():
    # A fold whose truth and decisions hold 2 of the 3 labels: the scorer without
    # labels cannot tell which rows of the matrix they are, and says so.
    classes = np.array([0, 1, 2])
    y = np.array([0, 1, 0, 1])
    proba = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1]] * 2)
    scorer = make_cost_scorer(np.ones((3, 3)) - np.eye(3))
    with pytest.raises(ValueError, match="pass labels"):
        fast_score(scorer, classes, y, proba)


def test_no_shortcut_for_other_scorers_of_the_cost():
    y_index, proba, _ = _problem(2)
    scorer = make_scorer(expected_cost, response_method="predict_proba",
                         cost_matrix=[[0, 1], [5, 0]])
    assert fast_score(scorer, np.array([0, 1]), y_index, proba) is None
    assert fast_score(lambda est, X, y: 0.0, np.array([0, 1]), y_index, proba) is None


@pytest.mark.parametrize("scoring, metric", [("average_precision", average_precision_score),
                                             ("roc_auc", roc_auc_score)])
def test_unweighted_ranking_scores_with_heavy_ties_equal_scikit_learns(scoring, metric):
    # Without sample_weight the scores come from two sorts and a binary search
    # instead of one argsort; eleven distinct scores make almost every row a
    # tie, within and across the classes.
    rng = np.random.RandomState(0)
    y = (rng.uniform(size=5000) < 0.1).astype(int)
    score = np.clip(np.round(rng.normal(size=5000) + y, 0), -5, 5) / 10 + 0.5
    proba = np.c_[1 - score, score]
    assert fast_score(scoring, np.array([0, 1]), y, proba) == pytest.approx(
        metric(y, score), rel=1e-12)


@pytest.mark.parametrize("sample_weight", [np.zeros(4), np.array([1.0, -1.0, 1.0, 1.0])])
def test_cost_scorer_shortcut_keeps_the_weight_errors(sample_weight):
    classes = np.array([0, 1])
    proba = np.array([[0.8, 0.2], [0.3, 0.7]] * 2)
    scorer = make_cost_scorer([[0.0, 1.0], [5.0, 0.0]])
    with pytest.raises(ValueError, match="sample_weight"):
        fast_score(scorer, classes, np.array([0, 1, 1, 0]), proba, sample_weight)


@pytest.mark.parametrize("scoring", ["average_precision", "roc_auc", "neg_log_loss",
                                     "cost", "cost_labels", "cost_labels_reversed"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_prepared_score_equals_the_scorer_on_every_blend_of_the_same_rows(
        scoring, n_classes):
    # The weight fit prepares the score of a set of rows once and calls it on
    # many blends: each call must give what scikit-learn's scorer gives.
    y_index, _, sw = _problem(5, n_classes=n_classes)
    classes = np.arange(n_classes)
    y = classes[y_index]
    costs = np.arange(n_classes ** 2, dtype=float).reshape(n_classes, n_classes) * \
        (1 - np.eye(n_classes))
    scorer = {"cost": make_cost_scorer(costs),
              "cost_labels": make_cost_scorer(costs, labels=classes),
              # the same costs, rows and columns in another order than classes
              "cost_labels_reversed": make_cost_scorer(costs[::-1, ::-1],
                                                       labels=classes[::-1]),
              }.get(scoring, scoring)
    if n_classes == 3 and scoring == "roc_auc":
        pytest.skip("no shortcut: scikit-learn's multiclass ROC AUC")
    score = prepared_score(scorer, classes, y, sw)
    for seed in range(4):
        _, proba, _ = _problem(10 + seed, n_classes=n_classes)
        view = PrecomputedClassifier(classes, proba)
        expected = get_scorer(scorer)(view, np.empty((len(y), 0)), y, sample_weight=sw)
        assert score(proba) == pytest.approx(expected, rel=1e-12)


def test_a_prepared_cost_score_lets_a_decision_bring_in_a_label_y_lacks():
    # Without labels, expected_cost's labels are those of y and of the
    # decisions: a fold where y lacks a class depends on what is decided.
    classes = np.array([0, 1, 2])
    y = np.array([0, 1, 0, 1])
    scorer = make_cost_scorer(np.ones((3, 3)) - np.eye(3))
    score = prepared_score(scorer, classes, y)
    every_class = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1],
                            [0.1, 0.1, 0.8], [0.1, 0.8, 0.1]])
    assert score(every_class) == pytest.approx(-0.25)  # one wrong decision in four
    with pytest.raises(ValueError, match="pass labels"):
        score(every_class[[0, 1, 0, 1]])  # two labels in all, a 3 x 3 matrix
