"""Imbalance-aware losses for PyTorch, usable alone or through ``NeuralClassifier``.

Every loss takes logits, ``forward(logits, target, sample_weight=None)``, and
exposes its hyper-parameters through ``get_params``/``set_params``.
"""

from ._base import BaseLoss
from ._cross_entropy import CrossEntropyLoss
from ._registry import available_losses, check_loss, get_loss
from ._torch_criterion import TorchCriterionLoss

__all__ = [
    "BaseLoss",
    "CrossEntropyLoss",
    "TorchCriterionLoss",
    "available_losses",
    "check_loss",
    "get_loss",
]
