"""Validation helpers shared by the estimators, the losses and the CLI."""

from ._device import check_device
from ._validation import check_class_weight, check_cost_matrix

__all__ = ["check_class_weight", "check_cost_matrix", "check_device"]
