"""Item 2: divergence never ends in a fitted model that predicts NaN."""

import copy
import warnings

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from torch import nn

from imbestimators import NeuralClassifier
from imbestimators.losses import TorchCriterionLoss
from imbestimators.neural import DivergenceGuard, DivergenceWarning

SMALL = dict(hidden_layer_sizes=(8,), random_state=0)


def _assert_usable(clf, X):
    proba = clf.predict_proba(X)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
@pytest.mark.parametrize("learning_rate", [1e3, 1e8])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_huge_learning_rate_raises_or_predicts_finite(
    binary_data, optimizer, learning_rate, early_stopping
):
    X, y = binary_data
    clf = NeuralClassifier(optimizer=optimizer, learning_rate=learning_rate,
                           max_epochs=4, early_stopping=early_stopping, **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        try:
            clf.fit(X, y)
        except ValueError as exc:
            assert "learning_rate" in str(exc)
            return
    _assert_usable(clf, X)


@pytest.mark.parametrize("loss", [
    "cross_entropy",
    # Registers a submodule at its first forward: restoring must cope.
    TorchCriterionLoss(nn.BCEWithLogitsLoss(pos_weight=torch.tensor(2.0))),
], ids=["cross_entropy", "torch_criterion"])
def test_divergence_in_first_epoch_raises_naming_learning_rate(binary_data, loss):
    X, y = binary_data
    clf = NeuralClassifier(optimizer="sgd", learning_rate=1e8, max_epochs=3, loss=loss,
                           **SMALL)
    with pytest.raises(ValueError, match=r"learning_rate \(now 1e\+08\)"):
        clf.fit(X, y)


class _RaiseLearningRate(Callback):
    """After epoch ``at``, record the weights, then set a diverging learning rate."""

    def __init__(self, at):
        self.at = at

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.at:
            _RaiseLearningRate.saved = copy.deepcopy(net.module_.state_dict())
            for group in net.optimizer_.param_groups:
                group["lr"] = 1e8


def test_divergence_after_finite_epochs_restores_them_and_warns(binary_data):
    X, y = binary_data
    clf = NeuralClassifier(optimizer="sgd", learning_rate=0.05, max_epochs=10,
                           callbacks=[_RaiseLearningRate(at=2)], **SMALL)
    with pytest.warns(DivergenceWarning, match="weights of epoch 2 were restored"):
        clf.fit(X, y)
    # Epoch 3 diverged (its loss is recorded) and training stopped there.
    assert clf.n_iter_ == 3
    assert np.isfinite(clf.history_[1, "train_loss"])
    assert not np.isfinite(clf.history_[2, "train_loss"])
    restored = clf.net_.module_.state_dict()
    for name, value in _RaiseLearningRate.saved.items():
        torch.testing.assert_close(restored[name], value, rtol=0, atol=0)
    _assert_usable(clf, X)
    # The optimizer state was restored too: training can go on.
    clf.set_params(callbacks=None, warm_start=True, max_epochs=2)
    for group in clf.net_.optimizer_.param_groups:
        group["lr"] = 0.05
    clf.fit(X, y)
    assert clf.n_iter_ == 5
    assert np.all(np.isfinite(clf.history_[:, "train_loss"][3:]))


def test_divergence_while_averaging_keeps_the_restored_weights(binary_data):
    X, y = binary_data
    # Epochs 6-10 are averaged; epoch 8 diverges after two averaged epochs.
    clf = NeuralClassifier(optimizer="sgd", learning_rate=0.05, max_epochs=10,
                           weight_averaging=0.5, callbacks=[_RaiseLearningRate(at=7)],
                           **SMALL)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    diverged = [w for w in caught if issubclass(w.category, DivergenceWarning)]
    assert len(diverged) == 1
    assert "weights of epoch 7 were restored" in str(diverged[0].message)
    restored = clf.net_.module_.state_dict()
    for name, value in _RaiseLearningRate.saved.items():
        torch.testing.assert_close(restored[name], value, rtol=0, atol=0)
    _assert_usable(clf, X)


class _NaNOutput(nn.Module):
    def __init__(self, n_features, n_outputs):
        super().__init__()
        self.linear = nn.Linear(n_features, n_outputs)

    def forward(self, X):
        return self.linear(X) * float("nan")


class _RecordInitial(Callback):
    def on_train_begin(self, net, **kwargs):
        _RecordInitial.saved = copy.deepcopy(net.module_.state_dict())


def test_non_finite_first_step_stops_before_updating(binary_data):
    X, y = binary_data
    clf = NeuralClassifier(_NaNOutput, max_epochs=2, callbacks=[_RecordInitial()],
                           random_state=0)
    with pytest.raises(ValueError, match="at the first step, before any update"):
        clf.fit(X, y)
    for name, value in clf.net_.module_.state_dict().items():
        torch.testing.assert_close(value, _RecordInitial.saved[name], rtol=0, atol=0)


def test_user_guard_replaces_the_default_one(binary_data):
    X, y = binary_data
    guard = DivergenceGuard(monitor=("train_loss",))
    clf = NeuralClassifier(max_epochs=1, callbacks=[("mine", guard)], **SMALL).fit(X, y)
    guards = [cb for _, cb in clf.net_.callbacks_ if isinstance(cb, DivergenceGuard)]
    assert len(guards) == 1 and guards[0].monitor == ("train_loss",)


def test_features_of_1e30_are_standardised_away(binary_data):
    X, y = binary_data
    reference = NeuralClassifier(max_epochs=3, **SMALL).fit(X, y).predict_proba(X)
    huge = NeuralClassifier(max_epochs=3, **SMALL).fit(X * 1e30, y)
    proba = huge.predict_proba(X * 1e30)
    assert np.all(np.isfinite(proba))
    # Standardisation makes the problem scale-free: same model up to rounding.
    np.testing.assert_allclose(proba, reference, atol=1e-3)


def test_raw_features_that_overflow_float32_are_refused(binary_data):
    X, y = binary_data
    with pytest.raises(ValueError, match="standardize=False"):
        NeuralClassifier(standardize=False, piecewise_bins=None, max_epochs=1,
                         **SMALL).fit(X * 1e30, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_beyond_float32_range_are_refused(binary_data, dtype):
    X, y = binary_data
    X_big = (X * 3e38).astype(dtype) if dtype == np.float64 else np.full_like(
        X, np.finfo(np.float32).max, dtype=np.float32)
    with pytest.raises(ValueError, match="X has values of magnitude"):
        NeuralClassifier(max_epochs=1, **SMALL).fit(X_big, y)
    clf = NeuralClassifier(max_epochs=1, **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="X has values of magnitude"):
        clf.predict_proba(X_big)
