"""Overlap family: batch-level losses built on weighted soft confusion counts.

For probabilities :math:`p_i` (sigmoid of one binary logit, or the softmax
column of a class) and targets :math:`t_i`, with weights
:math:`w_i` = sample weight × class weight,
:math:`TP = \\sum_i w_i p_i t_i`, :math:`FP = \\sum_i w_i p_i (1 - t_i)`,
:math:`FN = \\sum_i w_i (1 - p_i) t_i`, :math:`TN = \\sum_i w_i (1 - p_i)(1 - t_i)`,
summed over the batch and, for dense inputs, every position. Binary problems
score the positive class; multiclass problems score every class one-vs-rest
and average the per-class losses (macro).
"""

import torch
import torch.nn.functional as F

from ._base import BaseLoss
from ._functional import (
    check_n_classes,
    check_number,
    check_per_class,
    class_probabilities,
    safe_ratio,
    soft_counts,
)


class _SoftCountLoss(BaseLoss):
    """A loss computed per class from the weighted soft counts of the batch."""

    _batch_level = True

    def _check_params(self):
        # One value per batch: there is no per-sample reduction to check.
        check_per_class("class_weight", self.class_weight)

    def _loss(self, logits, target, binary, weight):
        proba, truth = class_probabilities(logits, target, binary)
        counts = soft_counts(proba, truth, None if weight is None else weight.reshape(-1))
        return self._per_class(*counts).mean()


class SoftFBetaLoss(_SoftCountLoss):
    r"""One minus the soft F-beta score.

    .. math::

        l = 1 - \frac{(1 + \beta^2)\,TP}{(1 + \beta^2)\,TP + \beta^2 FN + FP}

    Parameters
    ----------
    beta : float, default=1.0
        :math:`\beta > 0`; recall is :math:`\beta` times as important as
        precision (1 is the F1 score).
    {{count_class_weight}}

    Notes
    -----
    Use it to optimise the F-score that will be reported, with large,
    stratified batches. A batch without positives gives the loss 1 with a
    zero gradient. No analytic prior correction exists.

    References
    ----------
    M. Jansche, "Maximum Expected F-Measure Training of Logistic Regression
    Models", HLT/EMNLP 2005 (the F-measure of soft, probability-weighted
    counts as a training objective).

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import SoftFBetaLoss
    >>> logits, target = torch.tensor([10.0, -10.0, 10.0]), torch.tensor([1, 0, 0])
    >>> round(float(SoftFBetaLoss()(logits, target)), 4)  # 1 - 2/(2 + 1)
    0.3333
    """

    def __init__(self, *, beta=1.0, class_weight=None):
        super().__init__()
        self.beta = beta
        self.class_weight = class_weight

    def _check_params(self):
        super()._check_params()
        check_number("beta", self.beta, 0, low_open=True)

    def _per_class(self, tp, fp, fn, tn):
        b2 = self.beta ** 2
        return 1.0 - safe_ratio((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp)


class DiceLoss(_SoftCountLoss):
    r"""Soft Dice loss.

    .. math::

        l = 1 - \frac{2\,TP + s}{2\,TP + FP + FN + s}

    per class over the batch (and every position), then the mean over
    classes for multiclass inputs.

    Parameters
    ----------
    smooth : float, default=0.0
        :math:`s \ge 0`. With :math:`s > 0` a batch without positives still
        pushes the false positives down; with :math:`s = 0` it gives the loss
        1 and a zero gradient.
    {{count_class_weight}}

    Notes
    -----
    Use it for segmentation with rare foreground, where the loss must not be
    dominated by the many easy background pixels. No analytic prior
    correction exists.

    References
    ----------
    F. Milletari, N. Navab, S.-A. Ahmadi, "V-Net: Fully Convolutional Neural
    Networks for Volumetric Medical Image Segmentation", 3DV 2016.

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import DiceLoss
    >>> logits = torch.full((2, 1, 4, 4), -20.0)  # dense binary: (N, 1, H, W)
    >>> logits[:, :, :2, :2] = 20.0
    >>> target = torch.zeros(2, 4, 4, dtype=torch.long)
    >>> target[:, :2, :2] = 1
    >>> float(DiceLoss()(logits, target)) < 1e-6
    True
    """

    def __init__(self, *, smooth=0.0, class_weight=None):
        super().__init__()
        self.smooth = smooth
        self.class_weight = class_weight

    def _check_params(self):
        super()._check_params()
        check_number("smooth", self.smooth, 0)

    def _per_class(self, tp, fp, fn, tn):
        s = self.smooth
        return 1.0 - safe_ratio(2 * tp + s, 2 * tp + fp + fn + s)


class TverskyLoss(_SoftCountLoss):
    r"""Tversky loss of Salehi et al. (2017), focal when :math:`\gamma \ne 1`.

    .. math::

        TI = \frac{TP + s}{TP + \alpha\,FP + \beta\,FN + s}, \qquad
        l = (1 - TI)^\gamma

    per class, then the mean over classes. :math:`\alpha = \beta = 0.5` is
    the Dice loss, :math:`\alpha = \beta = 1` the Jaccard loss.

    Parameters
    ----------
    alpha : float, default=0.5
        Weight :math:`\alpha \ge 0` of false positives.
    beta : float, default=0.5
        Weight :math:`\beta \ge 0` of false negatives; raise it above
        ``alpha`` to favour recall of a rare class.
    gamma : float, default=1.0
        Exponent :math:`\gamma > 0` (the focal Tversky loss of Abraham and
        Khan, 2019, uses values below 1).
    smooth : float, default=0.0
        :math:`s \ge 0`.
    {{count_class_weight}}

    Notes
    -----
    Use it when missed foreground (false negatives) matters more than false
    alarms. No analytic prior correction exists.

    References
    ----------
    S. S. M. Salehi, D. Erdogmus, A. Gholipour, "Tversky loss function for
    image segmentation using 3D fully convolutional deep networks", MLMI 2017.

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import TverskyLoss
    >>> logits, target = torch.tensor([10.0, -10.0, -10.0]), torch.tensor([1, 1, 0])
    >>> round(float(TverskyLoss(alpha=0.3, beta=0.7)(logits, target)), 4)  # 1 - 1/1.7
    0.4118
    """

    def __init__(self, *, alpha=0.5, beta=0.5, gamma=1.0, smooth=0.0, class_weight=None):
        super().__init__()
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        self.smooth = smooth
        self.class_weight = class_weight

    def _check_params(self):
        super()._check_params()
        check_number("alpha", self.alpha, 0)
        check_number("beta", self.beta, 0)
        check_number("gamma", self.gamma, 0, low_open=True)
        check_number("smooth", self.smooth, 0)

    def _per_class(self, tp, fp, fn, tn):
        s = self.smooth
        loss = 1.0 - safe_ratio(tp + s, tp + self.alpha * fp + self.beta * fn + s)
        if self.gamma == 1:
            return loss
        # The clamp keeps the gradient of a perfect class finite for gamma < 1.
        return loss.clamp_min(torch.finfo(loss.dtype).tiny) ** self.gamma


class JaccardLoss(_SoftCountLoss):
    r"""Soft Jaccard (intersection-over-union) loss.

    .. math::

        l = 1 - \frac{TP + s}{TP + FP + FN + s}

    per class, then the mean over classes.

    Parameters
    ----------
    smooth : float, default=0.0
        :math:`s \ge 0`.
    {{count_class_weight}}

    Notes
    -----
    Use it when the reported metric is IoU; see also
    :class:`LovaszHingeLoss`, a tighter surrogate for the binary case. No
    analytic prior correction exists.

    References
    ----------
    M. A. Rahman, Y. Wang, "Optimizing Intersection-Over-Union in Deep
    Neural Networks for Image Segmentation", ISVC 2016.

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import JaccardLoss
    >>> logits, target = torch.tensor([10.0, 10.0, -10.0]), torch.tensor([1, 0, 1])
    >>> round(float(JaccardLoss()(logits, target)), 4)  # 1 - 1/3
    0.6667
    """

    def __init__(self, *, smooth=0.0, class_weight=None):
        super().__init__()
        self.smooth = smooth
        self.class_weight = class_weight

    def _check_params(self):
        super()._check_params()
        check_number("smooth", self.smooth, 0)

    def _per_class(self, tp, fp, fn, tn):
        s = self.smooth
        return 1.0 - safe_ratio(tp + s, tp + fp + fn + s)


class MCCLoss(_SoftCountLoss):
    r"""One minus the soft Matthews correlation coefficient.

    .. math::

        l = 1 - \frac{TP \cdot TN - FP \cdot FN}
            {\sqrt{(TP + FP)(TP + FN)(TN + FP)(TN + FN)}}

    per class (one-vs-rest), then the mean over classes; in [0, 2].

    Parameters
    ----------
    {{count_class_weight}}

    Notes
    -----
    Use it when both classes matter and the metric must not reward the
    majority class; it needs batches with both classes (a batch with only
    one gives the loss 1 and a zero gradient). No analytic prior correction
    exists.

    References
    ----------
    K. Abhishek, G. Hamarneh, "Matthews Correlation Coefficient Loss for
    Deep Convolutional Networks: Application to Skin Lesion Segmentation",
    ISBI 2021.

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import MCCLoss
    >>> logits = torch.tensor([10.0, -10.0, 10.0, -10.0])
    >>> target = torch.tensor([1, 0, 1, 0])
    >>> float(MCCLoss()(logits, target)) < 1e-4
    True
    """

    def __init__(self, *, class_weight=None):
        super().__init__()
        self.class_weight = class_weight

    def _per_class(self, tp, fp, fn, tn):
        # Fractions rather than counts keep the product of four sums in range.
        total = (tp + fp + fn + tn).clamp_min(torch.finfo(tp.dtype).tiny)
        tp, fp, fn, tn = tp / total, fp / total, fn / total, tn / total
        product = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
        denominator = product.clamp_min(torch.finfo(product.dtype).tiny).sqrt()
        return 1.0 - (tp * tn - fp * fn) / denominator


class LovaszHingeLoss(BaseLoss):
    r"""Lovász hinge loss of Berman et al. (2018), a convex surrogate of IoU.

    With hinge errors :math:`e_i = \max(0, 1 - z_i (2 t_i - 1))` sorted in
    decreasing order, the loss is the Lovász extension of the Jaccard loss
    :math:`\Delta_J(M) = 1 - |P \setminus M| / |P \cup M|` (:math:`P` the
    positives, :math:`M` the mispredicted elements):

    .. math::

        l = \sum_k e_{(k)}\,\big(\Delta_J(\{(1), \dots, (k)\}) -
            \Delta_J(\{(1), \dots, (k-1)\})\big)

    over the whole batch (and every position), with set sizes taken as sums
    of the weights :math:`w_i`.

    Parameters
    ----------
    class_weight : array-like of shape (2,), default=None
        Weight of the samples of each class in the set sizes.

    Notes
    -----
    Binary only (one logit). Use it to optimise IoU of a rare foreground
    directly, often after pre-training with a per-pixel loss. A batch
    without positives gives the largest hinge error (the IoU of a non-empty
    prediction of an empty set is 0). No analytic prior correction exists.

    References
    ----------
    M. Berman, A. Rannen Triki, M. B. Blaschko, "The Lovász-Softmax loss: A
    tractable surrogate for the optimization of the intersection-over-union
    measure in neural networks", CVPR 2018.

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import LovaszHingeLoss
    >>> logits, target = torch.tensor([2.0, -1.0, 1.0]), torch.tensor([1, 0, 1])
    >>> float(LovaszHingeLoss()(logits, target))  # every margin is at least 1
    0.0
    """

    _batch_level = True
    _binary_only = True

    def __init__(self, *, class_weight=None):
        super().__init__()
        self.class_weight = class_weight

    def _check_params(self):
        weight = check_per_class("class_weight", self.class_weight)
        check_n_classes("class_weight", weight, 2)

    def n_outputs(self, n_classes):
        if n_classes != 2:
            raise ValueError(
                f"LovaszHingeLoss is binary; got {n_classes} classes. Use JaccardLoss "
                "or DiceLoss for multiclass."
            )
        return 1

    def _loss(self, logits, target, binary, weight):
        z, t = logits.reshape(-1), target.reshape(-1).to(logits.dtype)
        w = torch.ones_like(z) if weight is None else weight.reshape(-1)
        errors = 1.0 - z * (2.0 * t - 1.0)
        errors, order = torch.sort(errors, descending=True)
        t, w = t[order], w[order]
        positives = (w * t).sum()
        intersection = positives - torch.cumsum(w * t, 0)
        union = positives + torch.cumsum(w * (1.0 - t), 0)
        jaccard = 1.0 - safe_ratio(intersection, union)
        increments = torch.cat([jaccard[:1], jaccard[1:] - jaccard[:-1]])
        return torch.dot(F.relu(errors), increments)
