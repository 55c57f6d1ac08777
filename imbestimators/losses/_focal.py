"""Focal family: losses that down-weight the easy, well-classified samples."""

from numbers import Real

import numpy as np
import torch
import torch.nn.functional as F

from ._base import BaseLoss
from ._functional import (
    check_n_classes,
    check_number,
    check_per_class,
    n_classes_of,
    one_hot_like,
    per_class_tensor,
    require,
    target_log_probs,
)


def _focal_term(log_pt, log_not_pt, gamma):
    """-(1 - p_t)^gamma log p_t, with the power taken in log space.

    ``exp(gamma * log(1 - p_t))`` has a finite gradient where ``p_t`` rounds
    to 1, also for gamma < 1, where ``(1 - p_t) ** gamma`` would give NaN.
    """
    if gamma == 0:
        return -log_pt
    return -torch.exp(gamma * log_not_pt) * log_pt


class FocalLoss(BaseLoss):
    r"""Focal loss of Lin et al. (2017).

    .. math::

        l = -\alpha_t\,(1 - p_t)^\gamma \log p_t

    where :math:`p_t` is the probability of the true class (sigmoid of one
    logit for binary problems, softmax for multiclass). :math:`\gamma > 0`
    shrinks the loss of well-classified samples so that training concentrates
    on the hard ones; :math:`\gamma = 0` and no ``alpha`` is the cross-entropy.

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing parameter :math:`\gamma \ge 0`.
    alpha : float, array-like of shape (n_classes,) or None, default=None
        Factor :math:`\alpha_t` inside the loss. Binary: a float weighs the
        positive class (``classes_[1]``) by ``alpha`` and the negative by
        ``1 - alpha``; an array gives one factor per class. ``None`` is 1.
    {{class_weight}}
    {{reduction}}

    Notes
    -----
    Use it when many easy negatives swamp the gradient (dense detection,
    rare-pixel segmentation). The power is computed as
    :math:`\exp(\gamma \log(1 - p_t))` from log-probabilities, so loss and
    gradients stay finite for logits of ±1e4 and for :math:`\gamma < 1`.
    The focusing term has no analytic prior correction
    (:meth:`logit_correction` is None).

    References
    ----------
    T.-Y. Lin, P. Goyal, R. Girshick, K. He, P. Dollár, "Focal Loss for Dense
    Object Detection", ICCV 2017.

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import FocalLoss
    >>> loss = FocalLoss(gamma=2.0, alpha=0.25)
    >>> logits, target = torch.tensor([3.0, -1.0, 0.0]), torch.tensor([1, 0, 1])
    >>> round(float(loss(logits, target)), 4)
    0.0201
    >>> float(FocalLoss(gamma=0.0)(logits, target)) == float(
    ...     torch.nn.functional.binary_cross_entropy_with_logits(logits, target.float()))
    True
    """

    def __init__(self, *, gamma=2.0, alpha=None, class_weight=None, reduction="mean"):
        super().__init__()
        self.gamma = gamma
        self.alpha = alpha
        self.class_weight = class_weight
        self.reduction = reduction

    def _check_params(self):
        super()._check_params()
        check_number("gamma", self.gamma, 0)
        if isinstance(self.alpha, Real) and not isinstance(self.alpha, bool):
            check_number("alpha", self.alpha, 0, 1)
        else:
            check_per_class("alpha", self.alpha)
        check_per_class("class_weight", self.class_weight)

    def _per_sample_loss(self, logits, target, binary):
        log_pt, log_not_pt = target_log_probs(logits, target, binary)
        per_sample = _focal_term(log_pt, log_not_pt, self.gamma)
        if self.alpha is not None:
            n_classes = n_classes_of(logits, binary)
            alpha_t = _alpha_t(self.alpha, target, binary, n_classes, logits)
            per_sample = per_sample * alpha_t
        return per_sample


def _alpha_t(alpha, target, binary, n_classes, like):
    if isinstance(alpha, Real):
        if not binary:
            raise ValueError(
                "alpha must be one factor per class for multiclass logits; got the "
                f"float {alpha!r} for {n_classes} classes."
            )
        positive = target.to(like.dtype)
        return alpha * positive + (1.0 - alpha) * (1.0 - positive)
    check_n_classes("alpha", alpha, n_classes)
    return per_class_tensor(alpha, like)[target.long()]


def class_balanced_weights(class_counts, beta):
    r"""Class weights from the effective number of samples (Cui et al. 2019).

    :math:`w_c \propto (1 - \beta) / (1 - \beta^{n_c})`, normalised so that
    the weights sum to the number of classes.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Training samples per class; a class with no sample counts as one.
    beta : float
        In [0, 1): 0 gives equal weights, values close to 1 approach inverse
        class frequencies.

    Returns
    -------
    weights : ndarray of shape (n_classes,)

    Examples
    --------
    >>> from imbestimators.losses import class_balanced_weights
    >>> class_balanced_weights([900, 100], beta=0.999).round(3)
    array([0.276, 1.724])
    """
    counts = check_per_class("class_counts", class_counts)
    check_number("beta", beta, 0, 1, high_open=True)
    if beta == 0:
        return np.ones(len(counts))
    counts = np.maximum(counts, 1.0)
    # 1 - beta**n computed without cancellation for beta close to 1.
    weights = (1.0 - beta) / -np.expm1(counts * np.log(beta))
    return weights * len(weights) / weights.sum()


class ClassBalancedLoss(BaseLoss):
    r"""Class-balanced loss of Cui et al. (2019).

    A cross-entropy or focal loss whose class weights come from the
    *effective number of samples* :math:`E_c = (1 - \beta^{n_c})/(1 - \beta)`:

    .. math::

        w_c = \frac{C}{\sum_k 1/E_k}\,\frac{1}{E_c}
            = \frac{C}{\sum_k 1/E_k}\,\frac{1 - \beta}{1 - \beta^{n_c}

    (normalised to sum to :math:`C`), and :math:`l_i` is the cross-entropy or
    focal loss of sample :math:`i`, averaged with weights :math:`w_{y_i}`.

    Parameters
    ----------
    beta : float, default=0.999
        In [0, 1). 0 is the unweighted loss; close to 1, inverse frequencies.
    base : {'cross_entropy', 'focal'}, default='cross_entropy'
    gamma : float, default=2.0
        Focusing parameter of the focal base (ignored by cross-entropy).
    class_counts : array-like of shape (n_classes,), default=None
        Training samples per class; filled in by ``NeuralClassifier``,
        required on its own.
    class_weight : array-like of shape (n_classes,), default=None
        One weight per class in the weighted mean
        :math:`\sum_i w_i l_i / \sum_i w_i`; filled in by
        ``NeuralClassifier(class_weight=...)``; it multiplies the
        class-balanced weights.
    {{reduction}}

    Notes
    -----
    Use it for long-tailed class distributions where inverse-frequency
    weights over-correct. With the cross-entropy base the model estimates
    :math:`p(y|x)\,w_y` up to normalisation, so :meth:`logit_correction` is
    :math:`-\log w`; with the focal base it is None.

    References
    ----------
    Y. Cui, M. Jia, T.-Y. Lin, Y. Song, S. Belongie, "Class-Balanced Loss
    Based on Effective Number of Samples", CVPR 2019.

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import ClassBalancedLoss
    >>> loss = ClassBalancedLoss(beta=0.99, class_counts=[90, 10])
    >>> loss.class_weights().round(3)
    array([0.277, 1.723])
    >>> float(loss(torch.zeros(2), torch.tensor([0, 1])))  # log 2
    0.693...
    """

    _fitted_params = ("class_weight", "class_counts")

    def __init__(self, *, beta=0.999, base="cross_entropy", gamma=2.0, class_counts=None,
                 class_weight=None, reduction="mean"):
        super().__init__()
        self.beta = beta
        self.base = base
        self.gamma = gamma
        self.class_counts = class_counts
        self.class_weight = class_weight
        self.reduction = reduction

    def _check_params(self):
        super()._check_params()
        check_number("beta", self.beta, 0, 1, high_open=True)
        if self.base not in ("cross_entropy", "focal"):
            raise ValueError(
                f"base must be 'cross_entropy' or 'focal'; got {self.base!r}."
            )
        check_number("gamma", self.gamma, 0)
        counts = check_per_class("class_counts", self.class_counts)
        weight = check_per_class("class_weight", self.class_weight)
        if counts is not None:
            check_n_classes("class_weight", weight, len(counts))

    def class_weights(self):
        """The per-class weights used: class-balanced times ``class_weight``.

        Returns
        -------
        weights : ndarray of shape (n_classes,)
        """
        require(self, "class_counts", "one count per class")
        weights = class_balanced_weights(self.class_counts, self.beta)
        if self.class_weight is not None:
            weights = weights * np.asarray(self.class_weight, dtype=np.float64)
        return weights

    def logit_correction(self, n_classes):
        if self.base != "cross_entropy":
            return None
        weights = self.class_weights()
        return None if np.any(weights <= 0) else -np.log(weights)

    def _class_weights(self):
        return self.class_weights()

    def _per_sample_loss(self, logits, target, binary):
        log_pt, log_not_pt = target_log_probs(logits, target, binary)
        return _focal_term(log_pt, log_not_pt, self.gamma if self.base == "focal" else 0.0)


class AsymmetricLoss(BaseLoss):
    r"""Asymmetric loss (ASL) of Ridnik et al. (2021).

    Each logit is scored as an independent sigmoid :math:`p = \sigma(z)`
    (one-vs-rest), with different focusing for positives and negatives and a
    probability margin :math:`m` (``clip``) that discards easy negatives:

    .. math::

        l = -\sum_c \left[t_c (1 - p_c)^{\gamma_+} \log p_c
            + (1 - t_c)\, p_{m,c}^{\gamma_-} \log(1 - p_{m,c})\right],
        \qquad p_m = \max(p - m, 0).

    Binary problems have one logit (one term of the sum); multiclass problems
    sum over the ``C`` one-vs-rest logits.

    Parameters
    ----------
    gamma_pos : float, default=0.0
        Focusing :math:`\gamma_+ \ge 0` on positive terms.
    gamma_neg : float, default=4.0
        Focusing :math:`\gamma_- \ge 0` on negative terms.
    clip : float, default=0.05
        Probability margin :math:`m \in [0, 1)`; negatives with
        :math:`p \le m` give no loss.
    {{class_weight}}
    {{reduction}}

    Notes
    -----
    Use it when negatives vastly outnumber positives and many of them are
    easy (or possibly mislabelled): they are both down-weighted and clipped,
    while positives keep the full cross-entropy gradient. No analytic prior
    correction exists (:meth:`logit_correction` is None).

    References
    ----------
    T. Ridnik, E. Ben-Baruch, N. Zamir, A. Noy, I. Friedman, M. Protter,
    L. Zelnik-Manor, "Asymmetric Loss For Multi-Label Classification",
    ICCV 2021.

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import AsymmetricLoss
    >>> loss = AsymmetricLoss(gamma_neg=4.0, clip=0.05)
    >>> float(loss(torch.tensor([-3.0]), torch.tensor([0])))  # p < clip: no loss
    0.0
    """

    def __init__(self, *, gamma_pos=0.0, gamma_neg=4.0, clip=0.05, class_weight=None,
                 reduction="mean"):
        super().__init__()
        self.gamma_pos = gamma_pos
        self.gamma_neg = gamma_neg
        self.clip = clip
        self.class_weight = class_weight
        self.reduction = reduction

    def _check_params(self):
        super()._check_params()
        check_number("gamma_pos", self.gamma_pos, 0)
        check_number("gamma_neg", self.gamma_neg, 0)
        check_number("clip", self.clip, 0, 1, high_open=True)
        check_per_class("class_weight", self.class_weight)

    def _terms(self, logits, positive):
        log_p, log_not_p = F.logsigmoid(logits), F.logsigmoid(-logits)
        pos = -_focal_term(log_p, log_not_p, self.gamma_pos)
        if self.clip == 0:
            log_pm, log_not_pm = log_p, log_not_p
        else:
            # log(1 - max(p - m, 0)) = min(log(1 - p + m), 0)
            log_not_pm = torch.logaddexp(log_not_p, log_not_p.new_tensor(np.log(self.clip)))
            log_not_pm = log_not_pm.clamp_max(0.0)
            p_m = torch.sigmoid(logits) - self.clip
            # The where keeps the gradient of a clipped negative 0, not NaN.
            log_pm = torch.log(torch.where(p_m > 0, p_m, torch.ones_like(p_m)))
            log_pm = torch.where(p_m > 0, log_pm, torch.full_like(p_m, float("-inf")))
        factor = torch.exp(self.gamma_neg * log_pm) if self.gamma_neg else 1.0
        neg = factor * log_not_pm
        return -(positive * pos + (1.0 - positive) * neg)

    def _per_sample_loss(self, logits, target, binary):
        if binary:
            return self._terms(logits, target.to(logits.dtype))
        return self._terms(logits, one_hot_like(target, logits)).sum(1)


class PolyLoss(BaseLoss):
    r"""Poly-1 loss of Leng et al. (2022).

    .. math::

        l = -\log p_t + \varepsilon\,(1 - p_t)

    the cross-entropy plus the first polynomial term of its Taylor expansion
    in :math:`1 - p_t`, scaled by :math:`\varepsilon`.

    Parameters
    ----------
    epsilon : float, default=1.0
        :math:`\varepsilon \ge -1` (so the loss still decreases in
        :math:`p_t`). Positive values push harder on confident predictions,
        negative values act like a focal loss.
    {{class_weight}}
    {{reduction}}

    Notes
    -----
    A one-parameter tweak of cross-entropy, cheap to tune. No analytic prior
    correction exists (:meth:`logit_correction` is None).

    References
    ----------
    Z. Leng, M. Tan, C. Liu, E. D. Cubuk, X. Shi, S. Cheng, D. Anguelov,
    "PolyLoss: A Polynomial Expansion Perspective of Classification Loss
    Functions", ICLR 2022.

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import PolyLoss
    >>> float(PolyLoss(epsilon=1.0)(torch.zeros(1), torch.tensor([1])))  # log 2 + 0.5
    1.193...
    """

    def __init__(self, *, epsilon=1.0, class_weight=None, reduction="mean"):
        super().__init__()
        self.epsilon = epsilon
        self.class_weight = class_weight
        self.reduction = reduction

    def _check_params(self):
        super()._check_params()
        check_number("epsilon", self.epsilon, -1)
        check_per_class("class_weight", self.class_weight)

    def _per_sample_loss(self, logits, target, binary):
        log_pt, log_not_pt = target_log_probs(logits, target, binary)
        return -log_pt + self.epsilon * torch.exp(log_not_pt)
