"""Neural estimators and the pieces they train with (networks, callbacks)."""

from ._callbacks import ValidationScoring
from ._classifier import NeuralClassifier
from ._drw import DeferredReweighting
from ._modules import MLP

__all__ = ["MLP", "DeferredReweighting", "NeuralClassifier", "ValidationScoring"]
