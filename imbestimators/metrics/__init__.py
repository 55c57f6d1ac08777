"""Costs, cost scorers, decision rules and the positive class (NumPy and
scikit-learn only)."""

from ._cost import expected_cost, make_cost_scorer
from ._decision import decide, min_expected_cost_decision
from ._fixed_offsets import FixedOffsetsClassifier
from ._scoring import check_scoring_positive, positive_class

__all__ = ["FixedOffsetsClassifier", "check_scoring_positive", "decide", "expected_cost",
           "make_cost_scorer", "min_expected_cost_decision", "positive_class"]
