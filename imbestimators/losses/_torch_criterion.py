"""Use a plain PyTorch criterion (``torch.nn.BCEWithLogitsLoss()`` …) as a loss."""

import copy

import torch
from torch import nn

from ._base import BaseLoss, sample_weights

# Criteria that take one logit per sample and a float target of the same shape.
_ONE_LOGIT = (nn.BCEWithLogitsLoss, nn.SoftMarginLoss)


class TorchCriterionLoss(BaseLoss):
    """Wrap a ``torch.nn`` criterion so it takes sample and class weights.

    The criterion is evaluated with ``reduction='none'`` and the per-sample
    losses are combined with the weighted mean Σ wᵢ lᵢ / Σ wᵢ, as for every
    loss of the catalogue. ``BCEWithLogitsLoss`` and ``SoftMarginLoss`` get one
    logit and a float target; every other criterion gets one logit per class
    and integer targets, like ``CrossEntropyLoss``.

    Parameters
    ----------
    criterion : torch.nn.Module
        The criterion, e.g. ``torch.nn.BCEWithLogitsLoss(pos_weight=...)``.
    {{class_weight}}
    {{reduction}}

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import TorchCriterionLoss
    >>> loss = TorchCriterionLoss(torch.nn.BCEWithLogitsLoss())
    >>> loss.n_outputs(n_classes=2)
    1
    >>> weights = torch.tensor([1.0, 3.0])
    >>> float(loss(torch.zeros(2), torch.tensor([0, 1]), sample_weight=weights))
    0.693...
    """

    def __init__(self, criterion, *, class_weight=None, reduction="mean"):
        super().__init__()
        self.criterion = criterion
        self.class_weight = class_weight
        self.reduction = reduction

    def _check_params(self):
        super()._check_params()
        if not isinstance(self.criterion, nn.Module):
            raise TypeError(
                "loss must be a loss name, an imbestimators loss or a torch.nn "
                f"criterion instance; got {type(self.criterion).__name__}."
            )

    def n_outputs(self, n_classes):
        if not isinstance(self.criterion, _ONE_LOGIT):
            return n_classes
        if n_classes != 2:
            # One logit cannot tell three classes apart: refuse rather than
            # train a network whose probabilities have the wrong columns.
            raise ValueError(
                f"loss={type(self.criterion).__name__}() takes one logit per sample "
                f"and is binary; got {n_classes} classes. Use "
                "torch.nn.CrossEntropyLoss() or loss='cross_entropy' for more classes."
            )
        return 1

    def _per_sample_criterion(self):
        """A copy of ``criterion`` with ``reduction='none'``, made once."""
        if getattr(self, "_copied_from", None) != id(self.criterion):
            criterion = copy.deepcopy(self.criterion)
            if hasattr(criterion, "reduction"):
                criterion.reduction = "none"
            self._per_sample = criterion
            self._copied_from = id(self.criterion)
        return self._per_sample

    def forward(self, logits, target, sample_weight=None):
        criterion = self._per_sample_criterion()
        if isinstance(self.criterion, _ONE_LOGIT):
            if logits.dim() == target.dim() + 1 and logits.shape[1] == 1:
                logits = logits.squeeze(1)
            per_sample = criterion(logits, target.to(logits.dtype))
        else:
            per_sample = criterion(logits, target.long())
        weight = sample_weights(target, sample_weight, self.class_weight, logits)
        if per_sample.dim() == 0:
            if weight is not None and not torch.all(weight == weight.flatten()[0]):
                raise ValueError(
                    f"{type(self.criterion).__name__} returns one number per batch "
                    "(its reduction cannot be set to 'none'), so sample_weight and "
                    "class_weight cannot be applied to it."
                )
            return per_sample
        return self._reduce(per_sample, weight)
