"""Item 3: KeyboardInterrupt keeps a usable model, and training can go on."""

import copy
import warnings

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from imbestimators import NeuralClassifier
from imbestimators.neural import InterruptedTrainingWarning

SMALL = dict(hidden_layer_sizes=(8,), learning_rate=1e-2, random_state=0)


class _Interrupt(Callback):
    """Raise KeyboardInterrupt in epoch ``at``: at its end, first batch or start."""

    def __init__(self, at, where="end"):
        self.at = at
        self.where = where

    def on_epoch_begin(self, net, **kwargs):
        if self.where == "begin" and len(net.history) == self.at:
            raise KeyboardInterrupt

    def on_batch_end(self, net, training=False, **kwargs):
        if self.where == "batch" and training and len(net.history) == self.at:
            raise KeyboardInterrupt

    def on_epoch_end(self, net, **kwargs):
        if self.where == "end" and len(net.history) == self.at:
            raise KeyboardInterrupt


class _RecordStates(Callback):
    """Keep every epoch's weights and validation loss."""

    def on_train_begin(self, net, **kwargs):
        _RecordStates.states = []

    def on_epoch_end(self, net, **kwargs):
        _RecordStates.states.append(
            (net.history[-1, "valid_loss"], copy.deepcopy(net.module_.state_dict()))
        )


def test_interrupt_keeps_model_and_warns(binary_data):
    X, y = binary_data
    clf = NeuralClassifier(max_epochs=10, callbacks=[_Interrupt(at=3)], **SMALL)
    with pytest.warns(InterruptedTrainingWarning, match="interrupted.*epoch 3"):
        clf.fit(X, y)
    assert clf.n_iter_ == 3
    before = clf.predict_proba(X)
    assert np.all(np.isfinite(before))

    clf.partial_fit(X, y)
    assert clf.n_iter_ == 4
    after_partial = clf.predict_proba(X)
    assert not np.allclose(after_partial, before)

    clf.set_params(callbacks=None, warm_start=True, max_epochs=2)
    clf.fit(X, y)
    assert clf.n_iter_ == 6
    assert not np.allclose(clf.predict_proba(X), after_partial)


def test_interrupt_mid_epoch_keeps_completed_epochs(binary_data):
    X, y = binary_data
    clf = NeuralClassifier(max_epochs=10, callbacks=[_Interrupt(at=2, where="batch")],
                           batch_size=16, **SMALL)
    with pytest.warns(InterruptedTrainingWarning):
        clf.fit(X, y)
    # The cut-short epoch 2 is not counted; every recorded epoch has its loss.
    assert clf.n_iter_ == 1
    assert np.all(np.isfinite(clf.history_[:, "train_loss"]))
    assert np.all(np.isfinite(clf.predict_proba(X)))
    clf.set_params(callbacks=None).partial_fit(X, y)
    assert clf.n_iter_ == 2


def test_interrupt_with_early_stopping_restores_best_epoch(binary_data):
    X, y = binary_data
    tol = 1e-4
    # A large learning rate makes the validation loss go up and down.
    clf = NeuralClassifier(max_epochs=30, early_stopping=True, n_iter_no_change=50,
                           tol=tol, callbacks=[_RecordStates(), _Interrupt(7, "begin")],
                           **dict(SMALL, learning_rate=0.1, random_state=1))
    with pytest.warns(InterruptedTrainingWarning):
        clf.fit(X, y)
    assert clf.n_iter_ == 6
    # Best epoch by the rule of early stopping: an improvement must exceed tol.
    best, best_state = np.inf, None
    for loss, state in _RecordStates.states:
        if loss < best - tol:
            best, best_state = loss, state
    assert best_state is not _RecordStates.states[-1][1]  # a real restore
    for name, value in clf.net_.module_.state_dict().items():
        torch.testing.assert_close(value, best_state[name], rtol=0, atol=0)


def test_early_stopping_itself_does_not_warn(binary_data):
    X, y = binary_data
    clf = NeuralClassifier(max_epochs=200, early_stopping=True, n_iter_no_change=2,
                           **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InterruptedTrainingWarning)
        clf.fit(X, y)
    assert clf.n_iter_ < 200
