"""The weight optimisers against brute force and against Caruana's algorithm."""

import itertools

import numpy as np
import pytest
from sklearn.metrics import get_scorer, log_loss, make_scorer

from imbestimators.ensemble._weights import optimize_weights, resolve_optimizer


def _problem(n_estimators, n=300, seed=0):
    """Binary labels and estimators of different quality and calibration."""
    rng = np.random.RandomState(seed)
    y = rng.randint(2, size=n)
    signal = 2.0 * y - 1.0
    logits = np.stack([
        (0.5 + j) * signal + rng.normal(scale=1.5 + j, size=n)
        for j in range(n_estimators)
    ])
    return 1.0 / (1.0 + np.exp(-logits)), y  # (n_estimators, n) P(y=1)


def _neg_log_loss(p1, y):
    p = np.where(y == 1, p1, 1.0 - p1)
    return float(np.mean(np.log(p)))


def _neg_brier(p1, y):
    return float(-np.mean((p1 - y) ** 2))


def _simplex_grid(n_estimators, step):
    ticks = np.arange(0, 1 + step / 2, step)
    for w in itertools.product(ticks, repeat=n_estimators - 1):
        if sum(w) <= 1 + 1e-12:
            yield np.array([*w, max(0.0, 1 - sum(w))])


def _brute_force(score, n_estimators, step):
    return max(score(w) for w in _simplex_grid(n_estimators, step))


@pytest.mark.parametrize("n_estimators", [2, 3])
@pytest.mark.parametrize("score_fn", [_neg_log_loss, _neg_brier])
def test_slsqp_at_least_as_good_as_a_simplex_grid(n_estimators, score_fn):
    P, y = _problem(n_estimators)

    def score(w):
        return score_fn(w @ P, y)

    w = optimize_weights(score, n_estimators, "slsqp")
    assert np.all(w >= 0) and np.isclose(w.sum(), 1.0)
    assert score(w) >= _brute_force(score, n_estimators, 0.01) - 1e-9


def test_differential_evolution_close_to_brute_force_and_reproducible():
    P, y = _problem(3, seed=1)

    def score(w):
        return _neg_brier(w @ P, y)

    w1 = optimize_weights(score, 3, "differential_evolution", random_state=3)
    w2 = optimize_weights(score, 3, "differential_evolution", random_state=3)
    np.testing.assert_array_equal(w1, w2)
    assert np.all(w1 >= 0) and np.isclose(w1.sum(), 1.0)
    assert score(w1) >= _brute_force(score, 3, 0.01) - 1e-6


def _caruana_reference(P, y, score_fn, n_iter):
    """Ensemble selection with replacement, as a list of picked models."""
    picks, history = [], []
    for _ in range(n_iter):
        trial = [score_fn(np.mean(P[picks + [j]], axis=0), y) for j in range(len(P))]
        picks.append(int(np.argmax(trial)))
        history.append(max(trial))
    best_len = int(np.argmax(history)) + 1  # the first best prefix
    return np.bincount(picks[:best_len], minlength=len(P)) / best_len


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_is_caruana_ensemble_selection(seed):
    P, y = _problem(4, n=150, seed=seed)

    def score(w):
        return _neg_log_loss(w @ P, y)

    expected = _caruana_reference(P, y, _neg_log_loss, n_iter=20)
    w = optimize_weights(score, 4, "greedy", {"n_iter": 20})
    np.testing.assert_allclose(w, expected)


def test_greedy_keeps_the_best_prefix_not_the_last_round():
    # One perfect estimator: the first pick is optimal and every later round
    # can only add noise, so the best prefix is the first pick alone.
    y = np.array([0, 1] * 20)
    P = np.stack([np.where(y == 1, 0.99, 0.01), np.full(40, 0.5), np.full(40, 0.3)])

    def score(w):
        return _neg_log_loss(w @ P, y)

    np.testing.assert_array_equal(optimize_weights(score, 3, "greedy"), [1, 0, 0])


@pytest.mark.parametrize("optimizer", ["slsqp", "differential_evolution", "greedy"])
def test_weights_on_the_simplex(optimizer):
    P, y = _problem(5, seed=4)
    w = optimize_weights(lambda w: _neg_log_loss(w @ P, y), 5, optimizer,
                         {"maxiter": 20} if optimizer != "greedy" else None, 0)
    assert w.shape == (5,) and np.all(w >= 0) and np.isclose(w.sum(), 1.0)


def test_auto_picks_slsqp_for_smooth_scores_only():
    assert resolve_optimizer("auto", "neg_log_loss", get_scorer("neg_log_loss")) == "slsqp"
    scorer = make_scorer(log_loss, greater_is_better=False, response_method="predict_proba")
    assert resolve_optimizer("auto", scorer, scorer) == "slsqp"
    assert resolve_optimizer("auto", "average_precision",
                             get_scorer("average_precision")) == "greedy"
    assert resolve_optimizer("differential_evolution", "neg_log_loss", None) == (
        "differential_evolution"
    )
