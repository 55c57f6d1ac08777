"""Margin family: cross-entropies of logits shifted by class-dependent amounts.

The shifts act in training only: ``NeuralClassifier.predict_proba`` applies
the sigmoid/softmax to the raw logits.
"""

import numpy as np

from ._base import BaseLoss
from ._functional import (
    along_classes,
    check_number,
    check_per_class,
    one_hot_like,
    per_class_tensor,
    require,
    target_log_probs,
)


class LDAMLoss(BaseLoss):
    r"""Label-distribution-aware margin (LDAM) loss of Cao et al. (2019).

    The cross-entropy of the scaled logits with the true class's logit
    lowered by a margin that is larger for rarer classes:

    .. math::

        l = -\log \mathrm{softmax}\big(s\,(z - \Delta_y e_y)\big)_y,
        \qquad \Delta_c = m_{\max}\,\frac{n_c^{-1/4}}{\max_k n_k^{-1/4}}.

    With one binary logit :math:`z` (the difference of the two class logits)
    this is the binary cross-entropy of :math:`s\,(z - \Delta_1)` for
    positives and of :math:`s\,(z + \Delta_0)` for negatives.

    Parameters
    ----------
    max_margin : float, default=0.5
        :math:`m_{\max} > 0`, the margin of the rarest class.
    scale : float, default=30.0
        :math:`s > 0`, multiplies the (margin-shifted) logits.
    class_counts : array-like of shape (n_classes,), default=None
        Training samples per class; filled in by ``NeuralClassifier``,
        required on its own.
    class_weight : array-like of shape (n_classes,), default=None
        Per-class weights of the weighted mean. The deferred re-weighting
        (DRW) schedule sets them during training:
        :class:`imbestimators.neural.DeferredReweighting`.
    {{reduction}}

    Notes
    -----
    Use it for long-tailed multiclass problems, ideally with the DRW
    schedule (``NeuralClassifier(loss='ldam',
    callbacks=[DeferredReweighting(start_epoch=...)])``). Cao et al. use
    ``scale`` on cosine logits in [-1, 1]; on the unnormalised logits of an
    MLP it also sets the temperature, and ``predict_proba`` (raw logits,
    without ``scale``) is then under-confident: calibrate if probabilities
    matter. Margins have no analytic prior correction
    (:meth:`logit_correction` is None).

    References
    ----------
    K. Cao, C. Wei, A. Gaidon, N. Arechiga, T. Ma, "Learning Imbalanced
    Datasets with Label-Distribution-Aware Margin Loss", NeurIPS 2019.

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import LDAMLoss
    >>> loss = LDAMLoss(class_counts=[100, 10, 1], scale=1.0)
    >>> loss.margins().round(3)
    array([0.158, 0.281, 0.5  ])
    >>> logits, target = torch.zeros(1, 3), torch.tensor([2])
    >>> round(float(loss(logits, target)), 4)  # -log(e^-0.5 / (e^-0.5 + 2))
    1.458
    """

    _fitted_params = ("class_weight", "class_counts")

    def __init__(self, *, max_margin=0.5, scale=30.0, class_counts=None, class_weight=None,
                 reduction="mean"):
        super().__init__()
        self.max_margin = max_margin
        self.scale = scale
        self.class_counts = class_counts
        self.class_weight = class_weight
        self.reduction = reduction

    def _check_params(self):
        super()._check_params()
        check_number("max_margin", self.max_margin, 0, low_open=True)
        check_number("scale", self.scale, 0, low_open=True)
        check_per_class("class_counts", self.class_counts)
        check_per_class("class_weight", self.class_weight)

    def margins(self):
        """The per-class margins :math:`\\Delta_c`.

        Returns
        -------
        margins : ndarray of shape (n_classes,)
        """
        require(self, "class_counts", "one count per class")
        # A class without samples gets the largest margin, as if it had one.
        counts = np.maximum(np.asarray(self.class_counts, dtype=np.float64), 1.0)
        quarter = counts ** -0.25
        return self.max_margin * quarter / quarter.max()

    def _per_sample_loss(self, logits, target, binary):
        delta = per_class_tensor(self.margins(), logits)
        if binary:
            positive = target.to(logits.dtype)
            shifted = logits - positive * delta[1] + (1.0 - positive) * delta[0]
        else:
            shifted = logits - one_hot_like(target, logits) * along_classes(delta, logits)
        log_pt, _ = target_log_probs(self.scale * shifted, target, binary)
        return -log_pt


class LogitAdjustedLoss(BaseLoss):
    r"""Logit-adjusted cross-entropy of Menon et al. (2021).

    .. math::

        l = -\log \mathrm{softmax}(z + \tau \log \pi)_y

    where :math:`\pi` are the training class priors. The network learns
    logits :math:`z` whose softmax estimates the *balanced* posterior (for
    :math:`\tau = 1`), which is what ``predict_proba`` returns since it uses
    the raw logits. :math:`\tau = 1` is also known as the balanced softmax
    (Ren et al. 2020), registered as ``'balanced_softmax'``. With one binary
    logit the shift is :math:`\tau(\log\pi_1 - \log\pi_0)`.

    Parameters
    ----------
    tau : float, default=1.0
        :math:`\tau \ge 0`; 0 is the plain cross-entropy.
    class_priors : array-like of shape (n_classes,), default=None
        Training class frequencies; filled in by ``NeuralClassifier``,
        required on its own.
    {{class_weight}}
    {{reduction}}

    Notes
    -----
    Use it when the decision should be good for every class (balanced
    error) rather than for the training distribution. The shift is exact to
    undo: :meth:`logit_correction` is :math:`\tau \log \pi - \log w`, which
    turns the balanced probabilities of ``predict_proba`` back into those of
    the training distribution.

    References
    ----------
    A. K. Menon, S. Jayasumana, A. S. Rawat, H. Jain, A. Veit, S. Kumar,
    "Long-tail learning via logit adjustment", ICLR 2021.
    J. Ren, C. Yu, S. Sheng, X. Ma, H. Zhao, S. Yi, H. Li, "Balanced
    Meta-Softmax for Long-Tailed Visual Recognition", NeurIPS 2020.

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import LogitAdjustedLoss
    >>> loss = LogitAdjustedLoss(class_priors=[0.9, 0.1])
    >>> loss.logit_correction(2).round(3)
    array([-0.105, -2.303])
    >>> round(float(loss(torch.zeros(1), torch.tensor([1]))), 4)  # -log 0.1
    2.3026
    """

    _fitted_params = ("class_weight", "class_priors")

    def __init__(self, *, tau=1.0, class_priors=None, class_weight=None, reduction="mean"):
        super().__init__()
        self.tau = tau
        self.class_priors = class_priors
        self.class_weight = class_weight
        self.reduction = reduction

    def _check_params(self):
        super()._check_params()
        check_number("tau", self.tau, 0)
        check_per_class("class_priors", self.class_priors)
        check_per_class("class_weight", self.class_weight)

    def _log_priors(self):
        require(self, "class_priors", "the class frequencies of the training data")
        priors = np.asarray(self.class_priors, dtype=np.float64)
        # A class absent from the training labels gets a very negative shift, not -inf.
        return np.log(np.maximum(priors / priors.sum(), 1e-12))

    def logit_correction(self, n_classes):
        correction = self.tau * self._log_priors()
        if self.class_weight is not None:
            weight = np.asarray(self.class_weight, dtype=np.float64)
            if np.any(weight <= 0):
                return None
            correction = correction - np.log(weight)
        return correction

    def _per_sample_loss(self, logits, target, binary):
        shift = self.tau * self._log_priors()
        if binary:
            adjusted = logits + float(shift[1] - shift[0])
        else:
            adjusted = logits + along_classes(per_class_tensor(shift, logits), logits)
        log_pt, _ = target_log_probs(adjusted, target, binary)
        return -log_pt
