"""Ranking family: a pairwise surrogate of the area under the ROC curve."""

import torch
import torch.nn.functional as F

from ._base import BaseLoss
from ._functional import (
    check_number,
    check_per_class,
    safe_ratio,
)

_SURROGATES = ("logistic", "squared_hinge")


class PairwiseAUCLoss(BaseLoss):
    r"""Pairwise surrogate of one minus the ROC AUC.

    The mean, over every (positive :math:`i`, negative :math:`j`) pair of the
    batch, of a smooth upper bound of :math:`[z_i \le z_j]`:

    .. math::

        l = \frac{\sum_{i \in P} \sum_{j \in N} w_i w_j\,
            \phi(z_i - z_j)}{\sum_{i \in P} \sum_{j \in N} w_i w_j},
        \qquad \phi(d) = \log(1 + e^{-d}) \ \text{or}\ \max(0, m - d)^2.

    Multiclass inputs are scored one-vs-rest on the log-softmax of each class
    (invariant to a shift of a sample's logits) and averaged over the classes
    present in the batch together with some other class.

    Parameters
    ----------
    surrogate : {'logistic', 'squared_hinge'}, default='logistic'
        :math:`\phi`: the logistic (RankNet) or the squared hinge.
    margin : float, default=1.0
        :math:`m \ge 0` of the squared hinge (ignored by the logistic).
    class_weight : array-like of shape (n_classes,), default=None
        Weight of the samples of each class in the pair weights.

    Notes
    -----
    Use it when only the ranking matters (screening, retrieval, AUC as the
    metric), with stratified batches. It uses O(P·N) memory per batch on the
    CPU, and O(n²) for multiclass and on GPUs (where selecting the positives
    would make the host wait for the device every batch), so keep batches
    moderate; dense inputs are flattened. A batch without positives or
    negatives gives 0 with a zero gradient. No analytic prior correction
    exists (the loss ignores calibration).

    References
    ----------
    L. Yan, R. Dodier, M. C. Mozer, R. Wolniewicz, "Optimizing Classifier
    Performance via an Approximation to the Wilcoxon-Mann-Whitney
    Statistic", ICML 2003.

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import PairwiseAUCLoss
    >>> logits, target = torch.tensor([2.0, 0.0, -1.0]), torch.tensor([1, 0, 0])
    >>> loss = PairwiseAUCLoss(surrogate="squared_hinge", margin=1.0)
    >>> float(loss(logits, target))  # both pairs are ranked by a margin >= 1
    0.0
    """

    _batch_level = True

    def __init__(self, *, surrogate="logistic", margin=1.0, class_weight=None):
        super().__init__()
        self.surrogate = surrogate
        self.margin = margin
        self.class_weight = class_weight

    def _check_params(self):
        if self.surrogate not in _SURROGATES:
            raise ValueError(
                f"surrogate must be one of {_SURROGATES}; got {self.surrogate!r}."
            )
        check_number("margin", self.margin, 0)
        check_per_class("class_weight", self.class_weight)

    def _phi(self, difference):
        if self.surrogate == "logistic":
            return F.softplus(-difference)
        return F.relu(self.margin - difference) ** 2

    def _binary(self, z, positive, w):
        if z.device.type != "cpu":
            return self._binary_masked(z, positive, w)
        pair_loss = self._phi(z[positive][:, None] - z[~positive][None, :])
        w_pos, w_neg = w[positive], w[~positive]
        return safe_ratio(w_pos @ pair_loss @ w_neg, w_pos.sum() * w_neg.sum())

    def _binary_masked(self, z, positive, w):
        # Selecting the positives has a data-dependent size, which makes the
        # host wait for an accelerator every batch. Weighing all n x n pairs,
        # with weight 0 unless the first is positive and the second negative,
        # keeps the batch on the device.
        w_pos = w * positive
        w_neg = w - w_pos
        pair_loss = self._phi(z[:, None] - z[None, :])
        return safe_ratio(w_pos @ pair_loss @ w_neg, w_pos.sum() * w_neg.sum())

    def _loss(self, logits, target, binary, weight):
        if binary:
            z, t = logits.reshape(-1), target.reshape(-1)
            w = torch.ones_like(z) if weight is None else weight.reshape(-1)
            return self._binary(z, t > 0.5, w)
        n_classes = logits.shape[1]
        scores = torch.log_softmax(logits, dim=1).movedim(1, -1).reshape(-1, n_classes)
        y = target.reshape(-1).long()
        w = torch.ones_like(scores[:, 0]) if weight is None else weight.reshape(-1)
        # difference[i, j] = score of class y_i for sample i minus for sample j.
        difference = scores.gather(1, y[:, None]) - scores[:, y].T
        pair_loss = self._phi(difference) * (y[:, None] != y[None, :])
        row_loss = w * (pair_loss @ w)
        class_loss = torch.zeros(n_classes, dtype=w.dtype, device=w.device).index_add(
            0, y, row_loss
        )
        class_weight = torch.zeros_like(class_loss).index_add(0, y, w)
        pairs = class_weight * (class_weight.sum() - class_weight)
        present = (pairs > 0).to(w.dtype)
        per_class = safe_ratio(class_loss, pairs) * present
        return per_class.sum() / present.sum().clamp_min(1.0)
