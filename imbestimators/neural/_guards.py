"""Guards that turn silent failures of training into clear outcomes.

(The divergence guard is a callback: ``_callbacks.py``.)

* :class:`InterruptedTrainingWarning`: a ``KeyboardInterrupt`` during ``fit``
  keeps the model and says so (raised by the net, see ``_net.py``).
* :func:`out_of_memory_hint`: an allocation failure becomes a ``MemoryError``
  that says what to lower.
* :func:`check_magnitude`: inputs that float32 arithmetic would overflow are
  refused before training.
"""

import contextlib
import re

import numpy as np
import scipy.sparse as sp
import torch


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
