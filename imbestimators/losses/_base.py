"""What every loss of the catalogue shares: parameters, shapes, weighting."""

import copy
import functools
import inspect

import torch
from torch import nn

from ._docstrings import fill as fill_docstring
from ._functional import check_n_classes, check_targets, n_classes_of, per_class_tensor

_REDUCTIONS = ("mean", "sum", "none")


class BaseLoss(nn.Module):
    """Base class of the imbestimators losses.

    A loss is a ``torch.nn.Module`` whose hyper-parameters are its constructor
    arguments, exposed through :meth:`get_params` and :meth:`set_params` as in
    scikit-learn, so that ``clone`` and ``GridSearchCV(..., {'loss__gamma': ...})``
    work on an estimator holding it. ``forward(logits, target, sample_weight=None)``
    takes raw scores, never probabilities.

    Parameters are validated when the loss is built, by :meth:`set_params`
    and by :meth:`with_training_info`, never per batch. ``forward`` brings
    logits and targets to one of two layouts, checks that every per-class
    parameter has one entry per class of the logits and that every target is
    one of those classes, forms the per-sample weights, and hands over to the
    loss's formula: ``_per_sample_loss`` (then the weighted mean), or
    ``_loss`` for a loss of the whole batch.

    Subclasses list in ``_fitted_params`` the constructor arguments that
    :class:`~imbestimators.NeuralClassifier` fills in from the training labels
    (``class_weight``, ``class_counts``, ``class_priors``, ``cost_matrix``):
    each has one entry (or row) per class.

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import CrossEntropyLoss
    >>> loss = CrossEntropyLoss(label_smoothing=0.1)
    >>> loss.get_params()
    {'class_weight': None, 'label_smoothing': 0.1, 'reduction': 'mean'}
    >>> float(loss(torch.zeros(4), torch.tensor([0, 1, 0, 1])))  # log(2)
    0.693...
    """

    _fitted_params = ("class_weight",)

    # Batch-level losses (Dice, F-beta, AUC …) need both classes in a batch;
    # NeuralClassifier then defaults to stratified mini-batches.
    _batch_level = False

    # Losses defined for one logit per sample only.
    _binary_only = False

    # Whether forward checks that every target is a class (one host read per
    # batch); NeuralClassifier, whose targets are its own encoding, turns it off.
    _validate_targets = True

    def __init__(self):  # the hyper-parameters are the subclasses' arguments
        super().__init__()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.__doc__ = fill_docstring(cls.__doc__)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        @functools.wraps(init)
        def validated_init(self, *args, **params):
            init(self, *args, **params)
            # Once, after the outermost constructor has set every parameter.
            if type(self).__init__ is validated_init:
                self._check_params()

        cls.__init__ = validated_init

    @classmethod
    def _get_param_names(cls):
        signature = inspect.signature(cls.__init__)
        return sorted(
            name
            for name, p in signature.parameters.items()
            if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        )

    def get_params(self, deep=True):
        """Constructor arguments of this loss, as a dict.

        Parameters
        ----------
        deep : bool, default=True
            Ignored; present for scikit-learn compatibility.

        Returns
        -------
        params : dict
        """
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set constructor arguments; unknown names raise ``ValueError``.

        Parameters
        ----------
        **params : dict
            New values of constructor arguments.

        Returns
        -------
        self : BaseLoss
        """
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for {type(self).__name__}; "
                    f"valid parameters are {valid}."
                )
            setattr(self, name, value)
        self._check_params()
        return self

    def __repr__(self):
        defaults = {
            name: p.default
            for name, p in inspect.signature(type(self).__init__).parameters.items()
        }
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if not _same(value, defaults.get(name, inspect.Parameter.empty))
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def n_outputs(self, n_classes):
        """Number of logits the network must output for ``n_classes`` classes.

        Binary problems use a single logit; override to change that.
        """
        return 1 if n_classes == 2 else n_classes

    def logit_correction(self, n_classes):
        """Per-class shift of the logits that undoes this loss's prior shift.

        A model trained with per-class weights ``w`` (or a logit adjustment)
        estimates p_w(y|x) ∝ p(y|x)·w_y rather than p(y|x). Adding the returned
        vector ``c`` (one entry per class) to the logits before the softmax
        gives back the probabilities of the training class distribution; for a
        single binary logit, add ``c[1] - c[0]``. ``None`` means that no
        analytic correction exists for this loss (use
        ``sklearn.calibration.CalibratedClassifierCV`` instead).

        Parameters
        ----------
        n_classes : int

        Returns
        -------
        correction : ndarray of shape (n_classes,) or None
        """
        return None

    def with_training_info(self, **info):
        """A copy of this loss completed with quantities learned from the labels.

        Only the constructor arguments named in ``_fitted_params`` that are
        still ``None`` are filled in, so a value the user set wins; this loss
        itself is never modified.

        Parameters
        ----------
        **info : dict
            Any of ``class_weight``, ``class_counts``, ``class_priors``,
            ``cost_matrix`` (arrays in the order of ``classes_``).

        Returns
        -------
        loss : BaseLoss
            The completed copy.
        """
        fitted = copy.deepcopy(self)
        for name, value in info.items():
            if name in self._fitted_params and getattr(fitted, name) is None:
                setattr(fitted, name, value)
        fitted._check_params()
        return fitted

    def forward(self, logits, target, sample_weight=None):
        """The loss of ``logits`` for ``target``.

        Parameters
        ----------
        logits : torch.Tensor
            Raw scores: shape (N,), (N, 1) or (N, 1, d1, ...) for one logit
            per sample (binary), (N, C) or (N, C, d1, ...) for C classes.
        target : torch.Tensor
            Class indices, of shape (N,) or (N, d1, ...).
        sample_weight : torch.Tensor of shape (N,), default=None
            Weight of each sample in the weighted mean (times ``class_weight``
            of its class).

        Returns
        -------
        loss : torch.Tensor
            A scalar, or the per-sample losses with ``reduction='none'``.
        """
        logits, target, binary = split_logits(logits, target)
        if self._binary_only and not binary:
            raise ValueError(
                f"{type(self).__name__} takes one logit per sample, of shape (N,), "
                f"(N, 1) or (N, 1, d1, ...); got logits {tuple(logits.shape)} for target "
                f"{tuple(target.shape)}."
            )
        n_classes = n_classes_of(logits, binary)
        for name in self._fitted_params:
            check_n_classes(name, getattr(self, name), n_classes)
        if self._validate_targets:
            check_targets(target, n_classes)
        weight = sample_weights(target, sample_weight, self._class_weights(), logits)
        return self._loss(logits, target, binary, weight)

    def _class_weights(self):
        """Per-class weights of the weighted mean, or ``None`` (all 1)."""
        return self.class_weight

    def _loss(self, logits, target, binary, weight):
        """The loss of the batch, from the checked inputs and per-sample weights."""
        return self._reduce(self._per_sample_loss(logits, target, binary), weight)

    def _per_sample_loss(self, logits, target, binary):
        """One loss per element of ``target``; the formula of the loss."""
        raise NotImplementedError

    def _check_params(self):
        """Validate constructor arguments; subclasses extend this."""
        if self.reduction not in _REDUCTIONS:
            raise ValueError(
                f"reduction must be one of {_REDUCTIONS}; got {self.reduction!r}."
            )

    def _reduce(self, per_sample, weight):
        """Reduce per-sample losses with the weighted mean Σ wᵢ lᵢ / Σ wᵢ."""
        if self.reduction == "none":
            return per_sample
        if weight is None:
            return per_sample.sum() if self.reduction == "sum" else per_sample.mean()
        weighted = (per_sample * weight).sum()
        if self.reduction == "sum":
            return weighted
        # A batch whose weights are all zero contributes 0, not NaN.
        return weighted / weight.sum().clamp_min(torch.finfo(weight.dtype).tiny)


def _same(a, b):
    try:
        return bool(a == b) if not isinstance(a, (list, tuple)) else a == b
    except (TypeError, ValueError, RuntimeError):
        return a is b


def split_logits(logits, target):
    """Bring ``logits`` and ``target`` to the catalogue's two layouts.

    Returns ``(logits, target, binary)``: binary logits are squeezed to the
    shape of ``target``; multiclass logits keep the class axis at position 1.
    Raises ``ValueError`` naming the shapes when they do not match.
    """
    if not isinstance(logits, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise TypeError(
            "logits and target must be torch tensors; got "
            f"{type(logits).__name__} and {type(target).__name__}."
        )
    if logits.shape == target.shape:
        return logits, target, True
    if logits.dim() == target.dim() + 1:
        reduced = logits.shape[:1] + logits.shape[2:]
        if reduced == target.shape:
            if logits.shape[1] == 1:
                return logits.squeeze(1), target, True
            return logits, target, False
    raise ValueError(
        "logits and target shapes do not match: expected logits of shape (N,) or "
        "(N, 1, ...) for a binary target of shape (N, ...), or (N, C, ...) for an "
        f"integer target of shape (N, ...); got logits {tuple(logits.shape)} and "
        f"target {tuple(target.shape)}."
    )


def sample_weights(target, sample_weight, class_weight, like):
    """Per-element weights wᵢ = sample_weight[i] × class_weight[target[i]].

    Returns ``None`` when both are ``None``. ``sample_weight`` of shape (N,)
    broadcasts over the extra (dense) dimensions of ``target``.
    """
    weight = None
    if class_weight is not None:
        weight = per_class_tensor(class_weight, like)[target.long()]
    if sample_weight is not None:
        sample_weight = torch.as_tensor(sample_weight, dtype=like.dtype, device=like.device)
        if sample_weight.shape[0] != target.shape[0]:
            raise ValueError(
                f"sample_weight has {sample_weight.shape[0]} entries but the batch "
                f"has {target.shape[0]} samples."
            )
        sample_weight = sample_weight.reshape(
            sample_weight.shape[:1] + (1,) * (target.dim() - 1)
        )
        weight = sample_weight if weight is None else weight * sample_weight
    if weight is not None and weight.shape != target.shape:
        weight = weight.expand(target.shape)
    return weight
