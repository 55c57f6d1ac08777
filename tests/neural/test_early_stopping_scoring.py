"""Early stopping on an imbalance-aware score restores the best epoch."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from sklearn.metrics import average_precision_score, check_scoring, make_scorer

from imbestimators import NeuralClassifier
from imbestimators.metrics import make_cost_scorer, positive_class

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


@pytest.mark.parametrize("labels", [np.array([0, 1]), np.array(["fraud", "ok"]),
                                    np.array([-1, 1])])
def test_named_scorers_score_the_minority_class_whatever_the_labels(labels):
    # The rare class comes first in sorted order for two of the labelings: a
    # plain 'average_precision' scorer would fail on strings (pos_label=1) or
    # score the majority class.
    X, y01 = _noisy_data()
    y = labels[1 - y01] if labels[0] in ("fraud", 0) else labels[y01]
    rare = labels[0] if labels[0] in ("fraud", 0) else labels[1]
    assert (y == rare).mean() < 0.3
    clf = NeuralClassifier(early_stopping=True, scoring="average_precision",
                           max_epochs=6, hidden_layer_sizes=(16,), random_state=0,
                           callbacks=[("snapshots", _Snapshots())]).fit(X, y)
    snapshots = dict(clf.net_.callbacks_)["snapshots"]
    rows = snapshots.valid_rows
    clf.net_.module_.load_state_dict(snapshots.states[0])
    column = list(clf.classes_).index(rare)
    proba = clf.predict_proba(X[rows])[:, column]
    expected = average_precision_score(y[rows] == rare, proba)
    assert clf.history_[0, "valid_score"] == pytest.approx(expected, rel=1e-5)


def test_an_explicit_pos_label_is_kept():
    X, y01 = _noisy_data()
    majority_ap = make_scorer(average_precision_score, response_method="predict_proba",
                              pos_label=0)
    clf = NeuralClassifier(early_stopping=True, scoring=majority_ap, max_epochs=2,
                           hidden_layer_sizes=(8,), random_state=0).fit(X, y01)
    # The majority class's AP is high (80% of the rows are positives for it).
    assert clf.history_[0, "valid_score"] > 0.7


def test_positive_class_is_the_minority():
    assert positive_class(np.array(["a", "b"]), [5, 2]) == "b"
    assert positive_class(np.array(["a", "b"]), [2, 5]) == "a"
    assert positive_class(np.array([3, 7]), [4, 4]) == 7  # a tie: classes[1]
