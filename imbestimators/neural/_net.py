"""The skorch net that ``NeuralClassifier`` builds in ``fit``.

It keeps skorch's training loop, callbacks, history and persistence, and
replaces its data path: the datasets are :class:`TensorData` parts prepared
by the estimator, batches carry per-sample weights, and the epoch loss is
accumulated on the device and read once per epoch instead of once per batch.
A user's ``KeyboardInterrupt`` ends training with a warning (skorch ends it
silently).
"""

import warnings

import torch
from skorch import NeuralNet
from skorch.callbacks import EpochTimer, PrintLog

from ._batching import Batches
from ._guards import InterruptedTrainingWarning, StopTraining, stopped_early


class TensorNet(NeuralNet):
    """``skorch.NeuralNet`` fed by :class:`~imbestimators.neural._batching.Batches`.

    ``fit``/``partial_fit`` take ``X=(train, valid)``, two ``TensorData`` parts
    (``valid`` may be ``None``); ``iterator_train`` is the callable that turns
    a part into its training batches.
    """

    @property
    def _default_callbacks(self):
        return [("epoch_timer", EpochTimer()), ("print_log", PrintLog())]

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # skorch swallows KeyboardInterrupt, which is also how EarlyStopping
        # and DivergenceGuard stop training: only a user's interrupt warns.
        try:
            return super().fit_loop(X, y, epochs, **fit_params)
        except KeyboardInterrupt as exc:
            if not isinstance(exc, StopTraining) and not stopped_early(self):
                epoch = len(self.history)
                # An epoch cut short has no losses: history keeps whole epochs
                # only (EpochTimer records "dur" once the epoch's passes ran).
                if self.history and "dur" not in self.history[-1]:
                    self.history.pop()
                warnings.warn(
                    f"fit was interrupted (KeyboardInterrupt) in epoch {epoch}; "
                    "the model keeps the weights it had then (the best epoch's "
                    "with early_stopping) and history_ its completed epochs. "
                    "Continue training with partial_fit or warm_start=True.",
                    InterruptedTrainingWarning,
                    stacklevel=2,
                )
            raise

    def check_data(self, X, y=None):
        """The estimator has validated the data already."""

    def get_split_datasets(self, X, y=None, **fit_params):
        return X

    def get_iterator(self, dataset, training=False):
        if training:
            return self.iterator_train(dataset)
        return Batches(dataset, self.batch_size)

    def infer(self, x, **fit_params):
        return self.module_(x, **fit_params)

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi, wi = batch
        y_pred = self.infer(Xi, **fit_params)
        loss = self.criterion_(y_pred, yi, sample_weight=wi)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        Xi, yi, wi = batch
        with torch.no_grad():
            y_pred = self.infer(Xi, **fit_params)
            loss = self.criterion_(y_pred, yi, sample_weight=wi)
        return {"loss": loss, "y_pred": y_pred}

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        total, n_rows, n_batches = 0.0, 0, 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            size = batch[0].shape[0]
            # Summed on the device; one host synchronisation per epoch.
            total = total + step["loss"].detach() * size
            n_rows += size
            n_batches += 1
            self.notify("on_batch_end", batch=batch, training=training, **step)
        if n_rows:
            self.history.record(prefix + "_loss", float(total / n_rows))
        self.history.record(prefix + "_batch_count", n_batches)
