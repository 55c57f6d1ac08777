"""imbestimators: scikit-learn-compatible PyTorch classifiers for imbalanced
and cost-sensitive problems."""

from . import losses, metrics
from ._version import __version__
from .ensemble import WeightedStackingClassifier
from .neural import NeuralClassifier

__all__ = [
    "NeuralClassifier",
    "WeightedStackingClassifier",
    "__version__",
    "losses",
    "metrics",
]
