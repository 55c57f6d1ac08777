"""imbestimators: scikit-learn-compatible PyTorch classifiers for imbalanced
and cost-sensitive problems."""

from . import losses, metrics
from ._version import __version__
from .neural import NeuralClassifier

__all__ = ["NeuralClassifier", "__version__", "losses", "metrics"]
