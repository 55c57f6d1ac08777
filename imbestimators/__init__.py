"""imbestimators: scikit-learn-compatible PyTorch classifiers for imbalanced
and cost-sensitive problems."""

import importlib

from ._version import __version__

__all__ = [
    "NeuralClassifier",
    "WeightedStackingClassifier",
    "__version__",
    "losses",
    "metrics",
]

# Imported on first use (PEP 562): ``import imbestimators.metrics`` stays pure
# NumPy/scikit-learn, and torch and skorch load with the first estimator.
_LAZY = {
    "NeuralClassifier": ".neural",
    "WeightedStackingClassifier": ".ensemble",
    "losses": None,
    "metrics": None,
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'imbestimators' has no attribute {name!r}")
    module = _LAZY[name]
    value = (importlib.import_module(f".{name}", __name__) if module is None
             else getattr(importlib.import_module(module, __name__), name))
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
