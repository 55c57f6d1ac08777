"""Guards that turn silent failures of training into clear outcomes.

* :class:`DivergenceGuard`: a non-finite loss or weight never ends up in a
  fitted model; the last finite weights are restored.
* :class:`InterruptedTrainingWarning`: a ``KeyboardInterrupt`` during ``fit``
  keeps the model and says so (raised by the net, see ``_net.py``).
* :func:`out_of_memory_hint`: an allocation failure becomes a ``MemoryError``
  that says what to lower.
* :func:`check_magnitude`: inputs that float32 arithmetic would overflow are
  refused before training.
"""

import contextlib
import copy
import re
import warnings

import numpy as np
import scipy.sparse as sp
import torch
from skorch.callbacks import Callback


class DivergenceWarning(UserWarning):
    """Training diverged and the weights of the last finite epoch were kept.

    Examples
    --------
    >>> import warnings
    >>> from imbestimators.neural import DivergenceWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", DivergenceWarning)  # make it an error
    ...     issubclass(DivergenceWarning, UserWarning)
    True
    """


class InterruptedTrainingWarning(UserWarning):
    """``fit`` was interrupted by ``KeyboardInterrupt``; the model is kept.

    Examples
    --------
    >>> from imbestimators.neural import InterruptedTrainingWarning
    >>> issubclass(InterruptedTrainingWarning, UserWarning)
    True
    """


class StopTraining(KeyboardInterrupt):
    """Ends skorch's training loop on purpose (not a user's interrupt).

    skorch stops training on ``KeyboardInterrupt`` and still runs the
    ``on_train_end`` callbacks, so this subclass stops cleanly, and the net can
    tell it apart from a user pressing Ctrl-C.
    """


class DivergenceGuard(Callback):
    """Stop training when the loss or the weights are no longer finite.

    Checks, at no per-batch cost:

    * the gradients of the first optimisation step of each fit, before the
      step is taken (one host synchronisation per fit);
    * at every epoch end, the epoch losses named in ``monitor`` (already read
      to the host by the net) and the weights (one synchronisation);
    * at the end of training, the weights again (an interrupt or another
      callback may have ended the last epoch early).

    After every finite epoch it keeps a copy of the network, optimizer and
    loss state. When a check fails, that copy is restored, then:

    * if the restored state was trained (an earlier epoch of this fit or a
      previous fit, with ``warm_start`` or ``partial_fit``), a
      :class:`DivergenceWarning` is issued and training stops: the model is
      usable and predicts finite probabilities;
    * otherwise nothing usable was learned and a ``ValueError`` naming
      ``learning_rate`` and the inputs is raised.

    ``NeuralClassifier`` adds one to its callbacks unless ``callbacks``
    already holds a ``DivergenceGuard``.

    Parameters
    ----------
    monitor : tuple of str, default=('train_loss', 'valid_loss')
        History keys checked at each epoch end (missing keys are skipped).

    Examples
    --------
    >>> import numpy as np
    >>> from imbestimators import NeuralClassifier
    >>> X = np.random.RandomState(0).randn(60, 3)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = NeuralClassifier(optimizer="sgd", learning_rate=1e20, max_epochs=3,
    ...                        random_state=0)
    >>> try:
    ...     clf.fit(X, y)
    ... except ValueError as exc:
    ...     print(str(exc)[:54])
    Training diverged: the loss or weights became non-fini
    """

    def __init__(self, monitor=("train_loss", "valid_loss")):
        self.monitor = monitor

    def on_train_begin(self, net, **kwargs):
        # History rows left by an earlier fit were checked then: trained state.
        self.trained_ = len(net.history) > 0
        self.first_step_ = True
        self.snapshot_ = _snapshot(net)
        self.epoch_ = len(net.history)

    def on_grad_computed(self, net, named_parameters, training=None, **kwargs):
        if not self.first_step_:
            return
        self.first_step_ = False
        grads = [p.grad for _, p in named_parameters if p.grad is not None]
        if grads and not _all_finite(grads):
            self._diverged(net, "at the first step, before any update")

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        losses = [row[key] for key in self.monitor if key in row]
        if np.all(np.isfinite(losses)) and _all_finite(_state_tensors(net)):
            self.snapshot_ = _snapshot(net)
            self.trained_ = True
            self.epoch_ = len(net.history)
            return
        self._diverged(net, f"in epoch {len(net.history)}")

    def on_train_end(self, net, **kwargs):
        if not _all_finite(_state_tensors(net)):
            self._diverged(net, "at the end of training", stop=False)

    def _diverged(self, net, when, stop=True):
        _restore(net, self.snapshot_)
        lr = _learning_rate(net)
        if not self.trained_:
            raise ValueError(
                f"Training diverged: the loss or weights became non-finite {when}, "
                "before any epoch ended with finite values, so no usable weights "
                f"exist. Lower learning_rate (now {lr:g}), check X for values of "
                "extreme magnitude (standardize=True rescales each feature), or use "
                "a more stable loss or optimizer."
            )
        kept = f"epoch {self.epoch_}" if self.epoch_ else "the start of this fit"
        warnings.warn(
            f"Training diverged: the loss or weights became non-finite {when}. "
            f"The weights of {kept} were restored and training stopped; lower "
            f"learning_rate (now {lr:g}) to train further.",
            DivergenceWarning,
            stacklevel=2,
        )
        if stop:
            raise StopTraining


def _state_tensors(net):
    tensors = [t for t in net.module_.state_dict().values() if t.is_floating_point()]
    return tensors + [p for p in net.criterion_.parameters()]


def _all_finite(tensors):
    """Whether every tensor is finite, with a single host synchronisation."""
    tensors = [t for t in tensors if t.numel()]
    if not tensors:
        return True
    return bool(torch.stack([torch.isfinite(t.detach()).all() for t in tensors]).all())


def _snapshot(net):
    state = {"module": copy.deepcopy(net.module_.state_dict()),
             "criterion": copy.deepcopy(net.criterion_.state_dict())}
    optimizer = getattr(net, "optimizer_", None)
    if optimizer is not None:
        state["optimizer"] = copy.deepcopy(optimizer.state_dict())
    return state


def _restore(net, state):
    # Copies, so that the snapshot is never aliased by the restored objects.
    net.module_.load_state_dict(copy.deepcopy(state["module"]))
    # Not strict: a loss may register submodules lazily, at its first forward
    # (TorchCriterionLoss caches its per-sample criterion).
    net.criterion_.load_state_dict(copy.deepcopy(state["criterion"]), strict=False)
    if "optimizer" in state:
        net.optimizer_.load_state_dict(copy.deepcopy(state["optimizer"]))


def _learning_rate(net):
    optimizer = getattr(net, "optimizer_", None)
    if optimizer is not None and optimizer.param_groups:
        return float(optimizer.param_groups[0]["lr"])
    return float(net.lr)


# Values above this in magnitude make ``X - mean`` overflow float32.
_STANDARDIZED_LIMIT = float(np.finfo(np.float32).max) / 2
# Raw values above this overflow float32 once squared (in gradients, Adam's
# second moments, squared-error losses).
_RAW_LIMIT = float(np.sqrt(np.finfo(np.float32).max))


def check_magnitude(X, standardize):
    """Refuse values whose float32 arithmetic would overflow to infinity.

    Parameters
    ----------
    X : ndarray or sparse matrix
        Validated, finite data.
    standardize : bool
        Whether the network standardises its inputs.
    """
    values = X.data if sp.issparse(X) else X
    if values.size == 0:
        return
    # max and min rather than abs: no temporary copy of X.
    largest = max(abs(float(values.max())), abs(float(values.min())))
    limit = _STANDARDIZED_LIMIT if standardize else _RAW_LIMIT
    if largest <= limit:
        return
    if standardize:
        raise ValueError(
            f"X has values of magnitude up to {largest:.3g}; NeuralClassifier "
            f"computes in float32, which overflows above {limit:.3g}. Rescale X "
            "(e.g. divide the large features by a power of 10)."
        )
    raise ValueError(
        f"X has values of magnitude up to {largest:.3g} and standardize=False: the "
        f"network would see them raw, and float32 overflows for values above "
        f"{limit:.3g} once squared. Set standardize=True or rescale X."
    )


_OOM_PATTERN = re.compile(r"out of memory|can't allocate memory|not enough memory", re.I)


@contextlib.contextmanager
def out_of_memory_hint(estimator, X, stage):
    """Re-raise allocation failures as a ``MemoryError`` saying what to lower.

    Catches ``MemoryError`` (NumPy), ``torch.cuda.OutOfMemoryError`` and the
    ``RuntimeError`` of torch's allocators ("out of memory", "can't allocate
    memory").
    """
    try:
        yield
    except (MemoryError, RuntimeError) as exc:
        if isinstance(exc, RuntimeError) and not (
            isinstance(exc, torch.cuda.OutOfMemoryError) or _OOM_PATTERN.search(str(exc))
        ):
            raise
        raise MemoryError(_memory_message(estimator, X, stage, exc)) from exc


def _memory_message(estimator, X, stage, exc):
    shape = getattr(X, "shape", None)
    size = ""
    if shape is not None and len(shape) == 2:
        gib = shape[0] * shape[1] * 4 / 2**30
        size = f" X has {shape[0]} × {shape[1]} values ({gib:.2f} GiB as float32)."
    dtype = getattr(X, "dtype", None)
    copy_hint = (
        "; pass X as float32 (other dtypes are copied to float32)"
        if dtype is not None and dtype != np.float32 else ""
    )
    return (
        f"Not enough memory {stage} on device={estimator.device!r}.{size} Lower "
        f"batch_size (now {estimator.batch_size!r}), use device='cpu' (host memory "
        "is usually larger than GPU memory), or use a smaller network "
        f"(hidden_layer_sizes){copy_hint}. Original error: {exc}"
    )


@contextlib.contextmanager
def named_input_errors():
    """Make the errors of input validation name ``X``/``y``.

    scikit-learn's validation lets some NumPy conversion errors through as
    they are ("could not convert string to float: 'a'"); those are re-raised
    with the parameter named and, for text, what to do about it.
    """
    try:
        yield
    except (TypeError, ValueError) as exc:
        message = str(exc)
        if re.search(r"\b(X|y)\b|sample|feature|label", message):
            raise
        hint = ""
        if "convert" in message or "real number" in message:
            hint = (
                " X must be numeric: encode string or categorical columns first "
                "(e.g. with sklearn.preprocessing.OneHotEncoder in a Pipeline)."
            )
        raise type(exc)(f"Invalid X or y: {message.rstrip('.')}.{hint}") from exc
