"""Costs, cost scorers and decision rules (pure NumPy)."""

from ._decision import min_expected_cost_decision

__all__ = ["min_expected_cost_decision"]
