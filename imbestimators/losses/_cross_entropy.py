"""Cross-entropy family: the reference loss and the weighted binary cross-entropy."""

import numpy as np
import torch.nn.functional as F

from ._base import BaseLoss
from ._functional import check_number, check_per_class, per_class_tensor, require


class CrossEntropyLoss(BaseLoss):
    r"""Cross-entropy on logits, with class weights and label smoothing.

    Binary problems take one logit :math:`z` per sample and use
    :math:`l = -[t' \log\sigma(z) + (1 - t')\log(1 - \sigma(z))]`;
    multiclass problems take ``C`` logits and use
    :math:`l = -\sum_c t'_c \log \mathrm{softmax}(z)_c`, where :math:`t'` is the
    one-hot target smoothed towards the uniform distribution,
    :math:`t' = (1 - \varepsilon)\,t + \varepsilon / C` (``C = 2`` for binary).

    Parameters
    ----------
    {{class_weight}}
    label_smoothing : float, default=0.0
        :math:`\varepsilon` in [0, 1).
    {{reduction}}

    Notes
    -----
    Use it when the classes are roughly balanced or as the baseline; with
    ``class_weight='balanced'`` on the estimator it is the weighted
    cross-entropy that ``sklearn`` linear models use. With both
    ``class_weight`` and ``label_smoothing``, sample ``i``'s whole smoothed
    loss is weighted by ``class_weight[y_i]`` (``torch.nn.CrossEntropyLoss``
    instead weighs the smoothing term of each class ``c`` by ``weight[c]``);
    each alone gives the same values as PyTorch. :meth:`logit_correction`
    is :math:`-\log w` without label smoothing, None with it.

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import CrossEntropyLoss
    >>> logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    >>> target = torch.tensor([0, 2])
    >>> loss = CrossEntropyLoss(class_weight=[1.0, 1.0, 3.0])
    >>> round(float(loss(logits, target)), 4)
    1.206
    """

    def __init__(self, *, class_weight=None, label_smoothing=0.0, reduction="mean"):
        super().__init__()
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing
        self.reduction = reduction

    def _check_params(self):
        super()._check_params()
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(
                f"label_smoothing must be in [0, 1); got {self.label_smoothing!r}."
            )

    def logit_correction(self, n_classes):
        if self.label_smoothing > 0:
            return None
        if self.class_weight is None:
            return np.zeros(n_classes)
        weight = np.asarray(self.class_weight, dtype=np.float64)
        if np.any(weight <= 0):
            return None
        return -np.log(weight)

    def _per_sample_loss(self, logits, target, binary):
        eps = self.label_smoothing
        if binary:
            soft_target = target.to(logits.dtype)
            if eps:
                soft_target = soft_target * (1.0 - eps) + eps / 2.0
            return F.binary_cross_entropy_with_logits(logits, soft_target, reduction="none")
        return F.cross_entropy(logits, target.long(), reduction="none", label_smoothing=eps)


class WeightedBCELoss(BaseLoss):
    r"""Binary cross-entropy with the positive class weighted inside the loss.

    .. math::

        l = -\left[w_+\, t \log\sigma(z) + (1 - t)\log(1 - \sigma(z))\right]

    for one logit :math:`z` and a target :math:`t \in \{0, 1\}`, the same as
    ``torch.nn.BCEWithLogitsLoss(pos_weight=...)`` and TensorFlow's
    ``weighted_cross_entropy_with_logits``. The positive class is
    ``classes_[1]`` of the estimator.

    Parameters
    ----------
    pos_weight : float, default=None
        :math:`w_+ > 0`. ``None`` uses ``n_negative / n_positive`` from
        ``class_counts`` (the usual choice that balances the two classes).
    class_counts : array-like of shape (2,), default=None
        Training samples per class; needed only when ``pos_weight`` is None.
        Filled in by ``NeuralClassifier``.
    class_weight : array-like of shape (2,), default=None
        Per-class weights of the weighted mean (on top of ``pos_weight``).
    {{reduction}}

    Notes
    -----
    Binary only: one logit per sample, shapes (N,), (N, 1) or dense
    (N, 1, d1, ...). Use it when a missed positive costs more than a false
    alarm. ``pos_weight`` acts as a class weight on class 1, so
    :meth:`logit_correction` is :math:`-\log(w_c)` with
    :math:`w = (1, w_+)` (times ``class_weight``).

    Examples
    --------
    >>> import torch
    >>> from imbestimators.losses import WeightedBCELoss
    >>> logits, target = torch.tensor([0.5, -1.0, 2.0]), torch.tensor([1, 0, 0])
    >>> loss = WeightedBCELoss(pos_weight=3.0)
    >>> reference = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(3.0))
    >>> bool(torch.isclose(loss(logits, target), reference(logits, target.float())))
    True
    """

    _fitted_params = ("class_weight", "class_counts")
    _binary_only = True

    def __init__(self, *, pos_weight=None, class_counts=None, class_weight=None,
                 reduction="mean"):
        super().__init__()
        self.pos_weight = pos_weight
        self.class_counts = class_counts
        self.class_weight = class_weight
        self.reduction = reduction

    def _check_params(self):
        super()._check_params()
        if self.pos_weight is not None:
            check_number("pos_weight", self.pos_weight, 0, low_open=True)
        counts = check_per_class("class_counts", self.class_counts)
        weight = check_per_class("class_weight", self.class_weight)
        for per_class in (counts, weight):
            if per_class is not None:
                self.n_outputs(len(per_class))
        if self.pos_weight is None and counts is not None and np.any(counts == 0):
            raise ValueError(
                "WeightedBCELoss needs samples of both classes in class_counts to "
                f"derive pos_weight; got class_counts={self.class_counts!r}."
            )

    def n_outputs(self, n_classes):
        if n_classes != 2:
            raise ValueError(
                f"WeightedBCELoss is binary; got {n_classes} classes. Use "
                "CrossEntropyLoss(class_weight=...) or FocalLoss for multiclass."
            )
        return 1

    def _pos_weight(self):
        if self.pos_weight is not None:
            return float(self.pos_weight)
        require(self, "class_counts", "or pos_weight=")
        counts = np.asarray(self.class_counts, dtype=np.float64)
        return counts[0] / counts[1]

    def logit_correction(self, n_classes):
        weight = np.array([1.0, self._pos_weight()])
        if self.class_weight is not None:
            weight = weight * np.asarray(self.class_weight, dtype=np.float64)
        if np.any(weight <= 0):
            return None
        return -np.log(weight)

    def _per_sample_loss(self, logits, target, binary):
        pos_weight = per_class_tensor([self._pos_weight()], logits)
        return F.binary_cross_entropy_with_logits(
            logits, target.to(logits.dtype), reduction="none", pos_weight=pos_weight
        )
