"""The catalogue as a whole: names, parameters, NeuralClassifier, prior corrections, DRW."""

from contextlib import nullcontext

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

from imbestimators import NeuralClassifier
from imbestimators.losses import (
    BaseLoss,
    ClassBalancedLoss,
    CrossEntropyLoss,
    FocalLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    WeightedBCELoss,
    available_losses,
    get_loss,
)
from imbestimators.losses._registry import _LOSSES
from imbestimators.neural import DeferredReweighting

BINARY_ONLY = {"weighted_bce", "lovasz_hinge"}
BATCH_LEVEL = {"fbeta", "dice", "tversky", "jaccard", "lovasz_hinge", "mcc", "auc"}
TINY = dict(hidden_layer_sizes=(8,), max_epochs=3, batch_size=32, random_state=0)


def _data(n_classes):
    weights = [0.8, 0.2] if n_classes == 2 else [0.6, 0.3, 0.1]
    return make_classification(
        n_samples=90, n_features=5, n_informative=3, n_classes=n_classes, weights=weights,
        random_state=0,
    )


def test_every_loss_of_the_issue_is_registered():
    assert set(available_losses()) == {
        "cross_entropy", "weighted_bce", "focal", "class_balanced", "ldam",
        "logit_adjusted", "balanced_softmax", "asymmetric", "poly", "fbeta", "dice",
        "tversky", "jaccard",
        "lovasz_hinge", "mcc", "auc", "expected_cost",
    }
    for name in available_losses():
        loss = get_loss(name)
        assert isinstance(loss, BaseLoss)
        assert loss._batch_level == (name in BATCH_LEVEL), name
    assert get_loss("balanced_softmax").tau == 1.0


@pytest.mark.parametrize("name", sorted(_LOSSES))
def test_params_round_trip_and_clone(name):
    loss = get_loss(name)
    params = loss.get_params()
    assert params == {k: getattr(loss, k) for k in params}
    copy = clone(loss)
    assert type(copy) is type(loss) and copy is not loss
    assert copy.get_params() == params
    with pytest.raises(ValueError, match="Invalid parameter"):
        loss.set_params(not_a_parameter=1)


@pytest.mark.parametrize("name", sorted(_LOSSES))
@pytest.mark.parametrize("n_classes", [2, 3])
def test_every_name_fits_a_neural_classifier(name, n_classes):
    X, y = _data(n_classes)
    cost = (None if name != "expected_cost"
            else np.where(np.eye(n_classes) > 0, 0.0, 1.0) + np.eye(n_classes)[::-1] * 4)
    clf = NeuralClassifier(loss=name, cost_matrix=cost, **TINY)
    if n_classes > 2 and name in BINARY_ONLY:
        with pytest.raises(ValueError, match="binary"):
            clf.fit(X, y)
        return
    # loss='expected_cost' takes the estimator's cost_matrix, which predict
    # then uses too: the documented double-counting warning.
    with pytest.warns(UserWarning, match="twice") if cost is not None else nullcontext():
        clf.fit(X, y)
    assert clf.n_outputs_ == (1 if n_classes == 2 else n_classes)
    assert np.all(np.isfinite(clf.history_[:, "train_loss"]))
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), n_classes)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert set(clf.predict(X)) <= set(clf.classes_)


def test_fit_never_modifies_the_users_loss():
    X, y = _data(3)
    loss = LDAMLoss(scale=5.0)
    before = loss.get_params()
    clf = NeuralClassifier(loss=loss, class_weight="balanced", **TINY).fit(X, y)
    assert loss.get_params() == before and loss.class_counts is None
    np.testing.assert_array_equal(clf.loss_.class_counts, np.bincount(y))
    assert clf.loss_ is not loss and clf.loss_.class_weight is not None


def test_grid_search_over_a_loss_parameter():
    X, y = _data(2)
    loss = FocalLoss()
    search = GridSearchCV(
        NeuralClassifier(loss=loss, **TINY), {"loss__gamma": [0.5, 1.0, 5.0]}, cv=2,
        scoring="average_precision",
    ).fit(X, y)
    assert search.best_params_["loss__gamma"] in (0.5, 1.0, 5.0)
    assert search.best_estimator_.loss_.gamma == search.best_params_["loss__gamma"]
    assert loss.gamma == 2.0  # the user's object is cloned, never set


def test_grid_search_over_a_parameter_of_a_loss_given_by_name():
    X, y = _data(2)
    search = GridSearchCV(
        NeuralClassifier(loss="focal", **TINY), {"loss__gamma": [0.5, 5.0]}, cv=2,
        scoring="average_precision",
    ).fit(X, y)
    best = search.best_estimator_
    assert isinstance(best.loss, FocalLoss)
    assert best.loss.gamma == search.best_params_["loss__gamma"] == best.loss_.gamma
    clf = NeuralClassifier(loss="focal").set_params(loss__gamma=3.0)
    assert isinstance(clf.loss, FocalLoss) and clf.loss.gamma == 3.0
    with pytest.raises(ValueError, match="no_such"):
        NeuralClassifier(loss="focal").set_params(loss__no_such=1)


def test_expected_cost_by_name_without_cost_matrix_raises():
    X, y = _data(2)
    with pytest.raises(ValueError, match="cost_matrix"):
        NeuralClassifier(loss="expected_cost", **TINY).fit(X, y)


# --------------------------------------------------------- prior corrections

def _fit_bias(loss, y, n_outputs):
    """The best constant logits for labels ``y`` under ``loss`` (no features)."""
    bias = torch.zeros(n_outputs, dtype=torch.float64, requires_grad=True)
    target = torch.tensor(y)
    optimizer = torch.optim.LBFGS([bias], max_iter=200, tolerance_grad=1e-12,
                                  tolerance_change=1e-15)

    def closure():
        optimizer.zero_grad()
        logits = bias.expand(len(y), n_outputs)
        value = loss(logits[:, 0] if n_outputs == 1 else logits, target)
        value.backward()
        return value

    optimizer.step(closure)
    return bias.detach().numpy()


@pytest.mark.parametrize(
    "loss, n_classes",
    [
        (CrossEntropyLoss(class_weight=[0.2, 1.0, 3.0]), 3),
        (WeightedBCELoss(pos_weight=4.0, class_weight=[1.0, 0.5]), 2),
        (ClassBalancedLoss(beta=0.99, class_counts=[60, 30, 10]), 3),
        (LogitAdjustedLoss(tau=1.0, class_priors=[0.6, 0.3, 0.1]), 3),
        (LogitAdjustedLoss(tau=0.5, class_priors=[0.8, 0.2], class_weight=[1.0, 2.0]), 2),
    ],
    ids=["cross_entropy", "weighted_bce", "class_balanced", "logit_adjusted", "la_binary"],
)
def test_logit_correction_recovers_the_training_priors(loss, n_classes):
    # A constant model trained with the loss estimates a distorted prior; the
    # correction must bring its probabilities back to the label frequencies.
    priors = np.array([0.6, 0.3, 0.1]) if n_classes == 3 else np.array([0.8, 0.2])
    y = np.repeat(np.arange(n_classes), (priors * 100).astype(int))
    n_outputs = loss.n_outputs(n_classes)
    bias = _fit_bias(loss, y, n_outputs)
    correction = loss.logit_correction(n_classes)
    if n_outputs == 1:
        corrected = bias[0] + correction[1] - correction[0]
        proba = np.array([1 - 1 / (1 + np.exp(-corrected)), 1 / (1 + np.exp(-corrected))])
    else:
        corrected = bias + correction
        proba = np.exp(corrected) / np.exp(corrected).sum()
    np.testing.assert_allclose(proba, priors, atol=1e-6)


def test_logit_adjusted_raw_probabilities_are_balanced():
    # tau = 1: the raw logits (what predict_proba uses) give the balanced posterior.
    y = np.repeat([0, 1, 2], [60, 30, 10])
    bias = _fit_bias(LogitAdjustedLoss(class_priors=[0.6, 0.3, 0.1]), y, 3)
    np.testing.assert_allclose(np.exp(bias) / np.exp(bias).sum(), 1 / 3, atol=1e-6)


@pytest.mark.parametrize("name", ["focal", "asymmetric", "poly", "ldam", "dice", "auc",
                                  "expected_cost", "mcc"])
def test_losses_without_analytic_correction_return_none(name):
    loss = get_loss(name).with_training_info(
        class_counts=np.array([8.0, 2.0]), class_priors=np.array([0.8, 0.2]),
        cost_matrix=np.array([[0.0, 1.0], [5.0, 0.0]]),
    )
    assert loss.logit_correction(2) is None


# ------------------------------------------------------------------------ DRW

class _RecordClassWeight(Callback):
    def on_train_begin(self, net, **kwargs):
        self.seen = []

    def on_epoch_end(self, net, **kwargs):
        weight = net.criterion_.class_weight
        self.seen.append(None if weight is None else np.array(weight))


def test_deferred_reweighting_switches_weights_at_start_epoch():
    X, y = _data(3)
    clf = NeuralClassifier(
        loss=LDAMLoss(), callbacks=[DeferredReweighting(start_epoch=2, beta=0.999),
                                    ("record", _RecordClassWeight())],
        **dict(TINY, max_epochs=4),
    ).fit(X, y)
    seen = dict(clf.net_.callbacks_)["record"].seen
    counts = np.bincount(y).astype(float)
    expected = (1 - 0.999) / (1 - 0.999 ** counts)
    expected *= 3 / expected.sum()
    assert seen[0] is None and seen[1] is None
    np.testing.assert_allclose(seen[2], expected, rtol=1e-12)
    np.testing.assert_allclose(seen[3], expected, rtol=1e-12)


def test_deferred_reweighting_needs_class_counts():
    X, y = _data(2)
    drw = DeferredReweighting(start_epoch=1)
    clf = NeuralClassifier(loss="focal", callbacks=[drw], **TINY)
    with pytest.raises(ValueError, match="class_counts"):
        clf.fit(X, y)


# ------------------------------------------------------- defaults of the issue

# The defaults the catalogue promises (issue 3), by loss name.
DEFAULTS = {
    "cross_entropy": dict(class_weight=None, label_smoothing=0.0, reduction="mean"),
    "weighted_bce": dict(pos_weight=None, reduction="mean"),
    "focal": dict(gamma=2.0, alpha=None, reduction="mean"),
    "class_balanced": dict(beta=0.999, base="cross_entropy"),
    "ldam": dict(max_margin=0.5, scale=30.0),
    "logit_adjusted": dict(tau=1.0),
    "balanced_softmax": dict(tau=1.0),
    "asymmetric": dict(gamma_pos=0.0, gamma_neg=4.0, clip=0.05),
    "poly": dict(epsilon=1.0),
    "fbeta": dict(beta=1.0),
    "dice": dict(smooth=0.0),
    "tversky": dict(alpha=0.5, beta=0.5, gamma=1.0),
    "jaccard": dict(smooth=0.0),
    "lovasz_hinge": dict(class_weight=None),
    "mcc": dict(class_weight=None),
    "auc": dict(surrogate="logistic", margin=1.0),
    "expected_cost": dict(cost_matrix=None, ce_weight=1.0),
}


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_defaults_are_those_of_the_catalogue(name):
    params = get_loss(name).get_params()
    assert {k: params[k] for k in DEFAULTS[name]} == DEFAULTS[name]


def test_defaults_cover_every_registered_name():
    assert set(DEFAULTS) == set(available_losses())


# ------------------------------------- training shifts stay out of prediction

@pytest.mark.parametrize("name, n_classes", [("ldam", 3), ("ldam", 2),
                                             ("logit_adjusted", 3), ("logit_adjusted", 2)])
def test_predict_proba_is_the_softmax_of_the_raw_logits(name, n_classes):
    # LDAM's margins and scale and logit adjustment's tau * log(prior) shape
    # the training loss only: predict_proba is sigmoid/softmax of the
    # network's own output.
    X, y = _data(n_classes)
    clf = NeuralClassifier(loss=name, **TINY).fit(X, y)
    module = clf.net_.module_.eval()
    with torch.no_grad():
        raw = module(torch.as_tensor(X, dtype=torch.float32)).double().numpy()
    if n_classes == 2:
        p1 = 1.0 / (1.0 + np.exp(-raw[:, 0]))
        expected = np.column_stack([1.0 - p1, p1])
    else:
        e = np.exp(raw - raw.max(axis=1, keepdims=True))
        expected = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-5, atol=1e-7)


def test_expected_cost_loss_takes_the_estimators_cost_matrix_in_class_order():
    X, y = _data(3)
    labels = np.array(["c", "a", "b"])[y]  # classes_ is sorted: a, b, c
    costs = {"a": {"b": 1.0, "c": 2.0}, "b": {"a": 3.0}, "c": {"a": 9.0, "b": 4.0}}
    with pytest.warns(UserWarning, match="twice"):
        clf = NeuralClassifier(loss="expected_cost", cost_matrix=costs, **TINY)
        clf.fit(X, labels)
    expected = [[0.0, 1.0, 2.0], [3.0, 0.0, 0.0], [9.0, 4.0, 0.0]]
    np.testing.assert_array_equal(clf.loss_.cost_matrix, expected)
    # A matrix given to the loss itself wins over the estimator's.
    own = np.ones((3, 3)) - np.eye(3)
    with pytest.warns(UserWarning, match="twice"):
        clf = NeuralClassifier(loss=get_loss("expected_cost", cost_matrix=own),
                               cost_matrix=costs, **TINY).fit(X, labels)
    np.testing.assert_array_equal(clf.loss_.cost_matrix, own)


TRAINING_INFO = dict(class_weight=None, class_counts=[30, 10], class_priors=[0.75, 0.25],
                     cost_matrix=[[0.0, 1.0], [5.0, 0.0]])


@pytest.mark.parametrize("name", sorted(_LOSSES))
def test_every_loss_rejects_a_target_that_is_not_a_class(name):
    loss = get_loss(name).with_training_info(**TRAINING_INFO)
    logits = torch.zeros(4)
    # A binary loss given the label 2, or -1: no class of one logit.
    for target in ([0, 1, 2, 1], [0, -1, 1, 1]):
        with pytest.raises(ValueError, match="target must hold class indices 0 to 1"):
            loss(logits, torch.tensor(target))
    if name in BINARY_ONLY:
        return
    three = get_loss(name).with_training_info(
        class_counts=[30, 10, 5], class_priors=[0.6, 0.3, 0.1],
        cost_matrix=np.ones((3, 3)) - np.eye(3))
    with pytest.raises(ValueError, match="0 to 2 for the 3 classes"):
        three(torch.zeros(4, 3), torch.tensor([0, 1, 3, 2]))


@pytest.mark.parametrize("name, param, bad", [
    ("focal", "gamma", -1.0), ("cross_entropy", "label_smoothing", 1.0),
    ("tversky", "alpha", -0.5), ("auc", "surrogate", "hinge"),
    ("asymmetric", "clip", 1.5), ("ldam", "max_margin", 0.0),
    ("expected_cost", "cost_matrix", [[0.0, -1.0], [1.0, 0.0]]),
])
def test_parameters_are_checked_when_set_not_per_batch(name, param, bad):
    with pytest.raises(ValueError, match=param):
        get_loss(name, **{param: bad})
    loss = get_loss(name)
    with pytest.raises(ValueError, match=param):
        loss.set_params(**{param: bad})
