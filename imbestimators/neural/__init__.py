"""Neural estimators and the pieces they train with (networks, callbacks)."""

from ._callbacks import DivergenceGuard, DivergenceWarning, ValidationScoring
from ._classifier import NeuralClassifier
from ._drw import DeferredReweighting
from ._guards import InterruptedTrainingWarning
from ._modules import MLP, PiecewiseLinear

__all__ = [
    "MLP",
    "DeferredReweighting",
    "DivergenceGuard",
    "DivergenceWarning",
    "InterruptedTrainingWarning",
    "NeuralClassifier",
    "PiecewiseLinear",
    "ValidationScoring",
]
