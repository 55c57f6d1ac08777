"""Early stopping on an imbalance-aware score restores the best epoch."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from sklearn.metrics import check_scoring

from imbestimators import NeuralClassifier
from imbestimators.metrics import make_cost_scorer

COSTS = [[0.0, 1.0], [4.0, 0.0]]


class _Snapshots(Callback):
    """Keep every epoch's weights and the validation rows."""

    def initialize(self):
        self.states = []
        self.valid_rows = None
        return self

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        self.states.append({k: v.clone() for k, v in net.module_.state_dict().items()})
        self.valid_rows = dataset_valid.rows.cpu().numpy()


def _noisy_data():
    # Few informative features among many noisy ones: a wide network overfits
    # within a few epochs, so the validation score peaks before the end.
    rng = np.random.default_rng(0)
    y = (rng.uniform(size=400) < 0.2).astype(int)
    X = rng.normal(size=(400, 30))
    X[:, :2] += 0.9 * y[:, None]
    return X, y


@pytest.mark.parametrize(
    "scoring", ["average_precision", "balanced_accuracy", "f1", make_cost_scorer(COSTS)],
    ids=["average_precision", "balanced_accuracy", "f1", "cost"],
)
def test_best_epoch_is_restored(scoring):
    X, y = _noisy_data()
    clf = NeuralClassifier(
        hidden_layer_sizes=(64,), learning_rate=0.01, batch_size=32, max_epochs=40,
        early_stopping=True, validation_fraction=0.25, n_iter_no_change=4, tol=0.0,
        scoring=scoring, callbacks=[("snapshots", _Snapshots())], random_state=0,
    ).fit(X, y)
    snapshots = dict(clf.net_.callbacks_)["snapshots"]
    scores = np.array(clf.history_[:, "valid_score"])
    assert len(scores) == clf.n_iter_ == len(snapshots.states)
    best = int(np.argmax(scores))  # tol=0: the first epoch with the top score
    assert best < len(scores) - 1, "the test needs a run that stopped after its best"

    restored = clf.net_.module_.state_dict()
    for name, value in restored.items():
        assert torch.equal(value, snapshots.states[best][name]), name
    assert any(not torch.equal(value, snapshots.states[-1][name])
               for name, value in restored.items())

    # the recorded score is the scorer's value on the validation rows
    rows = snapshots.valid_rows
    assert len(rows) == 100 and y[rows].sum() > 10  # stratified split
    scorer = check_scoring(clf, scoring=scoring)
    assert scorer(clf, X[rows], y[rows]) == pytest.approx(scores[best], abs=1e-9)


def test_cost_scorer_scores_the_cost_decision():
    # With cost_matrix, predict decides with the costs, and so does the scorer
    X, y = _noisy_data()
    clf = NeuralClassifier(
        hidden_layer_sizes=(8,), max_epochs=5, early_stopping=True,
        validation_fraction=0.25, cost_matrix=COSTS, scoring=make_cost_scorer(COSTS),
        callbacks=[("snapshots", _Snapshots())], random_state=0,
    ).fit(X, y)
    rows = dict(clf.net_.callbacks_)["snapshots"].valid_rows
    p1 = clf.predict_proba(X[rows])[:, 1]
    pred = (p1 > 1.0 / 5.0).astype(int)
    cost = np.mean([COSTS[t][p] for t, p in zip(y[rows], pred)])
    assert max(clf.history_[:, "valid_score"]) == pytest.approx(-cost, abs=1e-9)


@pytest.mark.parametrize("early_stopping", [True, False])
def test_unknown_scorer_name_raises_before_training(early_stopping):
    X, y = _noisy_data()
    clf = NeuralClassifier(early_stopping=early_stopping, scoring="no_such_metric")
    with pytest.raises(ValueError, match="scoring='no_such_metric'"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


def test_scoring_of_the_wrong_type_raises():
    X, y = _noisy_data()
    with pytest.raises(ValueError, match="scoring"):
        NeuralClassifier(early_stopping=True, scoring=3).fit(X, y)
