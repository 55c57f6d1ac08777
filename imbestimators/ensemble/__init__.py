"""Ensembles of classifiers with blend weights fitted on out-of-fold predictions."""

from ._stacking import WeightedStackingClassifier

__all__ = ["WeightedStackingClassifier"]
