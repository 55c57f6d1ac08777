"""Neural estimators and the pieces they train with (networks, callbacks)."""

from ._callbacks import ValidationScoring
from ._classifier import NeuralClassifier
from ._modules import MLP

__all__ = ["MLP", "NeuralClassifier", "ValidationScoring"]
