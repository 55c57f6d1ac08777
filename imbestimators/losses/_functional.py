"""Pieces shared by the loss families: parameter checks, log-space probabilities,
per-class vectors and soft confusion counts."""

import functools
import numbers

import numpy as np
import torch
import torch.nn.functional as F


def check_number(name, value, low=None, high=None, *, low_open=False, high_open=False):
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a finite real in range."""
    ok = (
        isinstance(value, numbers.Real) and not isinstance(value, bool)
        and np.isfinite(value)
        and (low is None or value > low or (value == low and not low_open))
        and (high is None or value < high or (value == high and not high_open))
    )
    if not ok:
        interval = (
            f"{'(' if low_open or low is None else '['}"
            f"{'-inf' if low is None else low}, {'inf' if high is None else high}"
            f"{')' if high_open or high is None else ']'}"
        )
        raise ValueError(
            f"{name} must be a finite real number in {interval}; got {value!r}."
        )


def check_per_class(name, value, *, positive=False):
    """``value`` as a 1-d float64 array of finite non-negative (or positive) numbers.

    ``None`` passes through. Raises ``ValueError`` naming ``name`` otherwise.
    """
    if value is None:
        return None
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if (
        array is None or array.ndim != 1 or array.size < 2
        or not np.all(np.isfinite(array))
        or np.any(array <= 0 if positive else array < 0)
    ):
        kind = "positive" if positive else "non-negative"
        raise ValueError(
            f"{name} must be a 1-d array of finite {kind} numbers, one per class; "
            f"got {value!r}."
        )
    return array


def check_n_classes(name, value, n_classes):
    """Raise ``ValueError`` unless the per-class ``value`` has ``n_classes`` entries."""
    if value is not None and len(value) != n_classes:
        raise ValueError(
            f"{name} has {len(value)} entries but the logits describe {n_classes} "
            "classes."
        )


def check_targets(target, n_classes):
    """Raise ``ValueError`` unless every target lies in [0, n_classes - 1]."""
    if target.numel() == 0:
        return
    low, high = float(target.min()), float(target.max())
    if low < 0 or high > n_classes - 1:
        raise ValueError(
            f"target must hold class indices 0 to {n_classes - 1} for the "
            f"{n_classes} classes of the logits; got values from {low:g} to {high:g}."
        )


def require(loss, name, how):
    """Raise ``ValueError`` when the fitted parameter ``name`` of ``loss`` is missing."""
    if getattr(loss, name) is None:
        raise ValueError(
            f"{type(loss).__name__} needs {name}: pass {name}=... ({how}) when using "
            "it on its own; NeuralClassifier fills it in from the training labels."
        )


def n_classes_of(logits, binary):
    """Number of classes described by logits laid out by ``split_logits``."""
    return 2 if binary else logits.shape[1]


def per_class_tensor(values, like):
    """A per-class array as a tensor of ``like``'s dtype and device.

    The tensors are kept by value: copying host memory to a GPU every batch
    would make the host wait for the device every batch. They are shared, so
    no caller may modify them in place.
    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    return _device_constant(values.tobytes(), values.shape, like.dtype, like.device)


@functools.lru_cache(maxsize=256)
def _device_constant(data, shape, dtype, device):
    # Built outside inference mode, so a tensor first asked for during a
    # prediction can still take part in a later backward pass.
    with torch.inference_mode(False):
        values = np.frombuffer(data, dtype=np.float64).reshape(shape)
        return torch.tensor(values, dtype=dtype, device=device)


def along_classes(vector, logits):
    """Reshape a (C,) tensor to broadcast along the class axis 1 of ``logits``."""
    return vector.reshape((1, -1) + (1,) * (logits.dim() - 2))


def target_log_probs(logits, target, binary):
    """``log p_t`` and ``log(1 - p_t)`` of the true class, both of ``target``'s shape.

    Both are computed from the logits without forming ``p_t``, so they stay
    exact where ``p_t`` rounds to 0 or 1 (logits of ±1e4).
    """
    if binary:
        signed = logits * (2.0 * target.to(logits.dtype) - 1.0)
        return F.logsigmoid(signed), F.logsigmoid(-signed)
    index = target.long().unsqueeze(1)
    lse = torch.logsumexp(logits, dim=1, keepdim=True)
    log_pt = logits.gather(1, index) - lse
    # log(1 - p_t) is the log-sum-exp of the other classes' logits.
    others = logits.scatter(1, index, float("-inf"))
    log_not_pt = torch.logsumexp(others, dim=1, keepdim=True) - lse
    return log_pt.squeeze(1), log_not_pt.squeeze(1)


def one_hot_like(target, logits):
    """One-hot target with the class axis at position 1, in ``logits``' dtype."""
    return F.one_hot(target.long(), logits.shape[1]).movedim(-1, 1).to(logits.dtype)


def class_probabilities(logits, target, binary):
    """Probabilities and targets as (K, M) matrices: one row per scored class.

    Binary problems score the positive class only (K = 1, sigmoid);
    multiclass problems score every class one-vs-rest (K = C, softmax). M runs
    over the samples and, for dense inputs, over every position.
    """
    if binary:
        return torch.sigmoid(logits).reshape(1, -1), target.to(logits.dtype).reshape(1, -1)
    n_classes = logits.shape[1]
    proba = torch.softmax(logits, dim=1).movedim(1, 0).reshape(n_classes, -1)
    truth = one_hot_like(target, logits).movedim(1, 0).reshape(n_classes, -1)
    return proba, truth


def soft_counts(proba, truth, weight):
    """Weighted soft TP, FP, FN, TN per row of (K, M) ``proba``/``truth``."""
    if weight is not None:
        weight = weight.reshape(1, -1)
        proba_w, not_proba_w = proba * weight, (1.0 - proba) * weight
    else:
        proba_w, not_proba_w = proba, 1.0 - proba
    tp = (proba_w * truth).sum(1)
    fp = (proba_w * (1.0 - truth)).sum(1)
    fn = (not_proba_w * truth).sum(1)
    tn = (not_proba_w * (1.0 - truth)).sum(1)
    return tp, fp, fn, tn


def safe_ratio(numerator, denominator):
    """``numerator / denominator`` that is 0 (with zero gradient) where both are 0."""
    return numerator / denominator.clamp_min(torch.finfo(denominator.dtype).tiny)
