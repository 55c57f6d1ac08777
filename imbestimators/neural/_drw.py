"""Deferred re-weighting (DRW): class-balanced weights switched on late in training."""

import numpy as np
from skorch.callbacks import Callback

from ..losses import class_balanced_weights


class DeferredReweighting(Callback):
    """Switch the loss to class-balanced weights after ``start_epoch`` epochs.

    The deferred re-weighting schedule of Cao et al. (2019): the first
    ``start_epoch`` epochs train with the loss's own ``class_weight`` (usually
    none), so the features are learned on the natural distribution; from
    then on ``net.criterion_.class_weight`` is set to
    :func:`~imbestimators.losses.class_balanced_weights` of
    ``net.criterion_.class_counts``. Meant for
    :class:`~imbestimators.losses.LDAMLoss`; works with any loss that has
    ``class_weight`` and ``class_counts`` parameters.

    Parameters
    ----------
    start_epoch : int, default=160
        Epochs trained before the re-weighting starts (Cao et al. use 160 of
        200). Counted over the whole training history, so with
        ``warm_start`` the schedule continues where it stopped.
    beta : float, default=0.9999
        :math:`\\beta` of the effective number of samples, in [0, 1).

    Examples
    --------
    >>> from imbestimators import NeuralClassifier
    >>> from imbestimators.datasets import load_ecoli
    >>> from imbestimators.neural import DeferredReweighting
    >>> X, y = load_ecoli(return_X_y=True)
    >>> clf = NeuralClassifier(loss="ldam", max_epochs=4, random_state=0,
    ...                        callbacks=[DeferredReweighting(start_epoch=2)]).fit(X, y)
    >>> clf.net_.criterion_.class_weight.round(2)
    array([0.21, 1.79])
    """

    def __init__(self, start_epoch=160, beta=0.9999):
        self.start_epoch = start_epoch
        self.beta = beta

    def on_train_begin(self, net, **kwargs):
        criterion = net.criterion_
        if not hasattr(criterion, "class_weight") or getattr(
            criterion, "class_counts", None
        ) is None:
            raise ValueError(
                "DeferredReweighting needs a loss with class_weight and class_counts "
                f"parameters (e.g. LDAMLoss); got {type(criterion).__name__}."
            )
        if isinstance(self.start_epoch, bool) or not isinstance(
            self.start_epoch, (int, np.integer)
        ) or self.start_epoch < 0:
            raise ValueError(
                f"start_epoch must be a non-negative integer; got {self.start_epoch!r}."
            )
        self.balanced_weight_ = class_balanced_weights(criterion.class_counts, self.beta)
        self.initial_weight_ = criterion.class_weight

    def on_epoch_begin(self, net, **kwargs):
        # skorch has already appended this epoch's row to the history.
        epochs_done = len(net.history) - 1
        deferred = epochs_done >= self.start_epoch
        net.criterion_.class_weight = (
            self.balanced_weight_ if deferred else self.initial_weight_
        )
