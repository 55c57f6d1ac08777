"""Cross-entropy: the reference loss of the catalogue."""

import numpy as np
import torch.nn.functional as F

from ._base import BaseLoss, sample_weights, split_logits


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
    class_weight : array-like of shape (n_classes,), default=None
        One weight per class; sample ``i`` weighs ``class_weight[y_i]`` in the
        weighted mean. Filled in by ``NeuralClassifier(class_weight=...)``.
    label_smoothing : float, default=0.0
        :math:`\varepsilon` in [0, 1).
    reduction : {'mean', 'sum', 'none'}, default='mean'
        ``'mean'`` is the weighted mean :math:`\sum_i w_i l_i / \sum_i w_i`.

    Notes
    -----
    Use it when the classes are roughly balanced or as the baseline; with
    ``class_weight='balanced'`` on the estimator it is the weighted
    cross-entropy that ``sklearn`` linear models use.

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

    def forward(self, logits, target, sample_weight=None):
        logits, target, binary = split_logits(logits, target)
        eps = self.label_smoothing
        if binary:
            smoothed = target.to(logits.dtype) * (1.0 - eps) + eps / 2.0
            per_sample = F.binary_cross_entropy_with_logits(
                logits, smoothed, reduction="none"
            )
        else:
            per_sample = F.cross_entropy(
                logits, target.long(), reduction="none", label_smoothing=eps
            )
        weight = sample_weights(target, sample_weight, self.class_weight, logits)
        return self._reduce(per_sample, weight)
