"""Imbalance-aware losses for PyTorch, usable alone or through ``NeuralClassifier``.

Every loss takes logits, ``forward(logits, target, sample_weight=None)``, and
exposes its hyper-parameters through ``get_params``/``set_params``.
"""

from ._base import BaseLoss
from ._cost import ExpectedCostLoss
from ._cross_entropy import CrossEntropyLoss, WeightedBCELoss
from ._focal import (
    AsymmetricLoss,
    ClassBalancedLoss,
    FocalLoss,
    PolyLoss,
    class_balanced_weights,
)
from ._margin import LDAMLoss, LogitAdjustedLoss
from ._overlap import (
    DiceLoss,
    JaccardLoss,
    LovaszHingeLoss,
    MCCLoss,
    SoftFBetaLoss,
    TverskyLoss,
)
from ._ranking import PairwiseAUCLoss
from ._registry import available_losses, check_loss, get_loss
from ._torch_criterion import TorchCriterionLoss

__all__ = [
    "AsymmetricLoss",
    "BaseLoss",
    "ClassBalancedLoss",
    "CrossEntropyLoss",
    "DiceLoss",
    "ExpectedCostLoss",
    "FocalLoss",
    "JaccardLoss",
    "LDAMLoss",
    "LogitAdjustedLoss",
    "LovaszHingeLoss",
    "MCCLoss",
    "PairwiseAUCLoss",
    "PolyLoss",
    "SoftFBetaLoss",
    "TorchCriterionLoss",
    "TverskyLoss",
    "WeightedBCELoss",
    "available_losses",
    "check_loss",
    "class_balanced_weights",
    "get_loss",
]
