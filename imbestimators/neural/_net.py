"""The skorch net that ``NeuralClassifier`` builds in ``fit``.

The one module that uses skorch's internals (its ``NeuralNet``'s private
methods, ``EarlyStopping.misses_``); scikit-learn's private APIs are in
``utils/_compat.py``.

It keeps skorch's training loop, callbacks, history and persistence, and
replaces its data path: the datasets are :class:`TensorData` parts prepared
by the estimator, batches carry per-sample weights, and the epoch loss is
accumulated on the device and read once per epoch instead of once per batch.
A user's ``KeyboardInterrupt`` ends training with a warning (skorch ends it
silently).

Per-batch host work is kept to what a hand-written loop does: the per-batch
callback hooks are only called on the callbacks that implement them, the
modules' train/eval mode is switched only when it changes, and the gradients
are handed to ``on_grad_computed`` only when some callback listens. Per
epoch, the log table is only built when it is printed.
"""

import contextlib
import warnings

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, EpochTimer, PrintLog
from skorch.utils import TeeGenerator

from ._batching import Batches, TensorData, csr_tensor
from ._guards import InterruptedTrainingWarning, StopTraining

# torch dtypes of the ``precision`` values; float32 runs without autocast.
PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}

_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_grad_computed")


# Rows per forward pass at predict time. Every pass has exactly this many
# rows (the last one is padded) because CPU and GPU matrix kernels
# are chosen by shape, and a different kernel rounds differently: with a fixed
# shape a row's probabilities do not depend on which other rows are predicted
# with it.
PREDICT_BLOCK = {"cpu": 1024, "cuda": 16384}


class TensorNet(NeuralNet):
    """``skorch.NeuralNet`` fed by :class:`~imbestimators.neural._batching.Batches`.

    ``fit``/``partial_fit`` take ``X=(train, valid)``, two ``TensorData`` parts
    (``valid`` may be ``None``); ``iterator_train`` is the callable that turns
    a part into its training batches.

    Parameters
    ----------
    precision : {'float32', 'bfloat16', 'float16'}, default='float32'
        Forward passes run under ``torch.autocast`` with this dtype (the
        weights and the loss stay float32); ``'float16'`` scales the loss
        with a ``torch.amp.GradScaler``.
    **kwargs
        Parameters of ``skorch.NeuralNet``.
    """

    def __init__(self, *args, precision="float32", **kwargs):
        super().__init__(*args, **kwargs)
        self.precision = precision

    @property
    def _default_callbacks(self):
        return [("epoch_timer", EpochTimer()), ("print_log", QuietPrintLog())]

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
                    "with early_stopping, the mean of the averaged epochs that "
                    "ended with weight_averaging) and history_ its completed "
                    "epochs. "
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

    # ------------------------------------------------------------ precision

    def autocast(self):
        """The autocast context of the forward passes (a no-op for float32)."""
        dtype = PRECISIONS[self.precision]
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(torch.device(self.device).type, dtype=dtype)

    # ----------------------------------------------------------- prediction

    def predict_logits(self, X, sparse_batches=False):
        """The network's logits for every row of ``X``, in float64.

        Parameters
        ----------
        X : torch.Tensor or scipy.sparse.csr_matrix
            The rows, as :func:`as_tensor` makes them for this net's device.
        sparse_batches : bool, default=False
            Serve blocks of a sparse ``X`` as sparse tensors (the library's MLP).

        Returns
        -------
        logits : ndarray of shape (n_samples, n_outputs)
        """
        device = torch.device(self.device)
        module = self.module_
        module.eval()
        block = PREDICT_BLOCK.get(device.type, 1024)
        # From CUDA, each block is copied asynchronously into page-locked host
        # memory, so the device never waits for the host between blocks.
        asynchronous = device.type == "cuda"
        data = TensorData(X, device=device, sparse_batches=sparse_batches)
        logits = None
        with torch.inference_mode(), self.autocast():
            for start, (Xb, _, _) in zip(range(0, len(data), block), Batches(data, block)):
                out = _padded_forward(module, Xb, block).reshape(Xb.shape[0], -1)
                if logits is None:
                    # Written in place: a list of small outputs interleaved with
                    # the blocks' large activations fragments the heap, which
                    # then keeps about one activation block per block of rows.
                    logits = torch.empty((len(data), out.shape[1]), dtype=torch.float32,
                                         pin_memory=asynchronous)
                logits[start:start + out.shape[0]].copy_(out, non_blocking=asynchronous)
            if asynchronous:
                torch.cuda.synchronize(device)
        return logits.numpy().astype(np.float64)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        if self.precision != "float16":
            self.grad_scaler_ = None
        elif getattr(self, "grad_scaler_", None) is None:
            # Kept across partial_fit calls so the loss scale keeps adapting.
            self.grad_scaler_ = torch.amp.GradScaler(torch.device(self.device).type)

    # ------------------------------------------------------------ the steps

    def infer(self, x, **fit_params):
        with self.autocast():
            return self.module_(x, **fit_params)

    def _loss(self, y_pred, yi, wi):
        if y_pred.dim() == 3:
            # An ensemble in training, (n, members, logits): the members' mean
            # loss is the loss of the rows repeated once per member.
            members = y_pred.shape[1]
            y_pred = y_pred.reshape(-1, y_pred.shape[2])
            yi = yi.repeat_interleave(members)
            wi = None if wi is None else wi.repeat_interleave(members)
        # The loss is computed in float32 even when the forward pass is not.
        return self.criterion_(y_pred.float(), yi, sample_weight=wi)

    def train_step_single(self, batch, **fit_params):
        self._set_mode(True)
        Xi, yi, wi = batch
        y_pred = self.infer(Xi, **fit_params)
        loss = self._loss(y_pred, yi, wi)
        # An ensemble's members each descend their own loss, as k separate
        # networks would: the gradient is that of the sum of the members'
        # losses. (Of their mean, each member's gradient would be k times
        # smaller, which the optimizer's weight decay, and plain SGD's step,
        # do not scale with.) The recorded loss stays the members' mean.
        objective = loss * y_pred.shape[1] if y_pred.dim() == 3 else loss
        scaler = getattr(self, "grad_scaler_", None)
        (objective if scaler is None else scaler.scale(objective)).backward()
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        """One optimisation step, with skorch's closure protocol (LBFGS works).

        Unlike skorch's, it builds no step accumulator and no parameter
        generator unless a callback implements ``on_grad_computed``.
        """
        if getattr(self, "grad_scaler_", None) is not None:
            return self._scaled_train_step(batch, **fit_params)
        listeners = self._hooks()["on_grad_computed"]
        first = []

        def closure():
            self._zero_grad_optimizer(set_to_none=True)
            step = self.train_step_single(batch, **fit_params)
            if not first:
                first.append(step)
            if listeners:
                self._notify_grad(listeners, batch)
            return step["loss"]

        self._step_optimizer(closure)
        return first[0]

    def _scaled_train_step(self, batch, **fit_params):
        # GradScaler takes no closure: one forward/backward, unscale so that
        # callbacks (e.g. gradient clipping) see the true gradients, step.
        scaler = self.grad_scaler_
        self._zero_grad_optimizer(set_to_none=True)
        step = self.train_step_single(batch, **fit_params)
        optimizers = [getattr(self, name + "_") for name in self._optimizers]
        listeners = self._hooks()["on_grad_computed"]
        if listeners:
            for optimizer in optimizers:
                scaler.unscale_(optimizer)
            self._notify_grad(listeners, batch)
        for optimizer in optimizers:
            scaler.step(optimizer)
        scaler.update()
        return step

    def _notify_grad(self, listeners, batch):
        params = TeeGenerator(self.get_all_learnable_params())
        for hook in listeners:
            hook(self, named_parameters=params, batch=batch, training=True)

    def validation_step(self, batch, **fit_params):
        self._set_mode(False)
        Xi, yi, wi = batch
        with torch.no_grad():
            y_pred = self.infer(Xi, **fit_params)
            loss = self._loss(y_pred, yi, wi)
        return {"loss": loss, "y_pred": y_pred}

    def _set_mode(self, training):
        # Walking every submodule costs more than a small network's step, so
        # the modes are only switched when they change.
        if self.module_.training != training or self.criterion_.training != training:
            self._set_training(training)

    # ------------------------------------------------------------ the epoch

    def _hooks(self):
        """The batch hooks of the running epoch (computed when called alone)."""
        hooks = getattr(self, "batch_hooks_", None)
        return self._batch_hooks() if hooks is None else hooks

    def _batch_hooks(self):
        """Per-batch hooks of the net and its callbacks that do something.

        ``Callback``'s and ``NeuralNet``'s own batch hooks are no-ops, except
        the net's ``on_batch_begin`` (a new batch row in the history).
        """
        listeners = {}
        for name in _BATCH_HOOKS:
            hooks = []
            if name == "on_batch_begin" or getattr(type(self), name) is not getattr(
                NeuralNet, name
            ):
                hooks.append(getattr(self, name))
            for _, cb in self.callbacks_:
                if getattr(type(cb), name, None) is not getattr(Callback, name):
                    hooks.append(getattr(cb, name))
            listeners[name] = hooks
        return listeners

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        # Looked up per epoch (callbacks may change between fits), and not
        # kept after it (they are bound methods; the net must stay picklable).
        self.batch_hooks_ = hooks = self._batch_hooks()
        losses, sizes = [], []
        try:
            for batch in iterator:
                for hook in hooks["on_batch_begin"]:
                    hook(self, batch=batch, training=training)
                step = step_fn(batch, **fit_params)
                # Kept on the device; one host synchronisation per epoch.
                losses.append(step["loss"].detach())
                sizes.append(batch[0].shape[0])
                for hook in hooks["on_batch_end"]:
                    hook(self, batch=batch, training=training, **step)
        finally:
            del self.batch_hooks_
        if sizes:
            weights = torch.tensor(sizes, dtype=losses[0].dtype, device=losses[0].device)
            total = torch.dot(torch.stack(losses), weights)
            self.history.record(prefix + "_loss", float(total / sum(sizes)))
        self.history.record(prefix + "_batch_count", len(sizes))


class QuietPrintLog(PrintLog):
    """skorch's ``PrintLog``, which builds no table when it prints nothing.

    skorch's formats every epoch's row and then, with the default ``print``
    sink and ``verbose=0``, discards it: a few per cent of a small network's
    fit (50 epochs of 17 batches). The header comes with the first epoch
    that is printed.
    """

    def on_epoch_end(self, net, **kwargs):
        if self.sink is print and not net.verbose:
            return
        super().on_epoch_end(net, **kwargs)


def stopped_early(net):
    """Whether a skorch ``EarlyStopping`` callback of ``net`` ended training."""
    return any(
        isinstance(cb, EarlyStopping) and getattr(cb, "misses_", 0) >= cb.patience
        for _, cb in getattr(net, "callbacks_", [])
    )


def _padded_forward(module, X, block):
    """``module(X)`` with ``X`` padded to ``block`` rows: zeros, or empty
    sparse rows."""
    rows = X.shape[0]
    if rows < block:
        if X.layout == torch.sparse_csr:
            crow = X.crow_indices()
            X = csr_tensor(torch.cat([crow, crow[-1:].expand(block - rows)]),
                           X.col_indices(), X.values(), (block, X.shape[1]))
        else:
            X = torch.cat([X, X.new_zeros((block - rows,) + X.shape[1:])])
    return module(X)[:rows]
