"""Costs, cost scorers and decision rules (pure NumPy)."""

from ._cost import expected_cost, make_cost_scorer
from ._decision import decide, min_expected_cost_decision

__all__ = ["decide", "expected_cost", "make_cost_scorer", "min_expected_cost_decision"]
