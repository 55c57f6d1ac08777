"""Cost family: the expected misclassification cost under the predicted probabilities."""

import numpy as np
import torch
import torch.nn.functional as F

from ._base import BaseLoss
from ._functional import (
    check_number,
    check_per_class,
    per_class_tensor,
    require,
    target_log_probs,
)


class ExpectedCostLoss(BaseLoss):
    r"""Cross-entropy plus the expected misclassification cost.

    .. math::

        l = \lambda\,(-\log p_y) + \sum_j C_{y j}\, p_j

    where :math:`C_{ij}` is the cost of predicting class :math:`j` when the
    truth is :math:`i` (rows: true class, columns: predicted, in the order of
    ``classes_``) and :math:`p` the softmax (or sigmoid) probabilities.

    Parameters
    ----------
    cost_matrix : array-like of shape (n_classes, n_classes), default=None
        Finite, non-negative costs (as ``NeuralClassifier(cost_matrix=...)``
        requires). Filled in from ``NeuralClassifier(cost_matrix=...)``;
        required on its own.
    ce_weight : float, default=1.0
        :math:`\lambda \ge 0`, the weight of the cross-entropy term; 0 leaves
        the expected cost alone (which, being bounded, trains slowly from a
        bad start).
    {{class_weight}}
    {{reduction}}

    Notes
    -----
    Use it when errors have different, known costs (ordinal grades, Type I
    versus Type II errors): the network learns to move probability away
    from the expensive mistakes. Training with costs already moves the
    decision, so deciding with the same costs as well counts them twice:
    ``NeuralClassifier(loss='expected_cost', cost_matrix=C)`` does both and
    warns. To train with costs and predict the most probable class, give the
    matrix to the loss, ``NeuralClassifier(loss=ExpectedCostLoss(cost_matrix=C))``;
    to decide with costs only, keep cross-entropy and pass ``cost_matrix=C``
    to the estimator. The cost term shifts probabilities in a way that has no
    analytic prior correction (:meth:`logit_correction` is None).

    References
    ----------
    A. Galdran, J. Dolz, H. Chakor, H. Lombaert, I. Ben Ayed, "Cost-Sensitive
    Regularization for Diabetic Retinopathy Grading from Eye Fundus Images",
    MICCAI 2020.

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import ExpectedCostLoss
    >>> loss = ExpectedCostLoss(cost_matrix=[[0.0, 1.0], [5.0, 0.0]], ce_weight=0.0)
    >>> float(loss(torch.zeros(2), torch.tensor([0, 1])))  # (0.5 * 1 + 0.5 * 5) / 2
    1.5
    """

    _fitted_params = ("class_weight", "cost_matrix")

    def __init__(self, *, cost_matrix=None, ce_weight=1.0, class_weight=None,
                 reduction="mean"):
        super().__init__()
        self.cost_matrix = cost_matrix
        self.ce_weight = ce_weight
        self.class_weight = class_weight
        self.reduction = reduction

    def _check_params(self):
        super()._check_params()
        check_number("ce_weight", self.ce_weight, 0)
        check_per_class("class_weight", self.class_weight)
        if self.cost_matrix is not None:
            cost = np.asarray(self.cost_matrix, dtype=np.float64)
            square = cost.ndim == 2 and cost.shape[0] == cost.shape[1]
            if not square or not np.all(np.isfinite(cost)) or np.any(cost < 0):
                raise ValueError(
                    "cost_matrix must be a square (n_classes, n_classes) array of "
                    f"finite, non-negative costs; got {self.cost_matrix!r}."
                )

    def _per_sample_loss(self, logits, target, binary):
        require(self, "cost_matrix", "C[i, j]: cost of predicting j for true class i")
        cost_rows = per_class_tensor(self.cost_matrix, logits)[target.long()]
        if binary:
            expected = (cost_rows[..., 0] * torch.exp(F.logsigmoid(-logits))
                        + cost_rows[..., 1] * torch.exp(F.logsigmoid(logits)))
        else:
            expected = (cost_rows.movedim(-1, 1) * torch.softmax(logits, dim=1)).sum(1)
        log_pt, _ = target_log_probs(logits, target, binary)
        return expected - self.ce_weight * log_pt
