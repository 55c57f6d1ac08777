"""skorch callbacks used by ``NeuralClassifier`` (and usable on their own)."""

import numpy as np
import torch
from skorch.callbacks import Callback

from ..metrics._precomputed import PrecomputedClassifier


class ValidationScoring(Callback):
    """Score the validation part every epoch with a scikit-learn scorer.

    The logits of the validation batches that skorch computes for
    ``valid_loss`` are kept, so scoring costs no second forward pass. The
    score is recorded in the history under ``name`` (higher is better, as for
    every scikit-learn scorer).

    Parameters
    ----------
    scorer : callable
        ``scorer(estimator, X, y, sample_weight=None)``, e.g. from
        ``sklearn.metrics.get_scorer``.
    estimator : NeuralClassifier
        Turns logits into probabilities and decisions.
    name : str, default='valid_score'

    Examples
    --------
    :class:`~imbestimators.NeuralClassifier` adds it with ``early_stopping=True``
    and a ``scoring``; the scores are in ``history_``:

    >>> import numpy as np
    >>> from imbestimators import NeuralClassifier
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> y = (X[:, 0] > 1).astype(int)
    >>> clf = NeuralClassifier(early_stopping=True, scoring="average_precision",
    ...                        max_epochs=3, random_state=0).fit(X, y)
    >>> len(clf.history_[:, "valid_score"])
    3
    """

    def __init__(self, scorer, estimator, name="valid_score"):
        self.scorer = scorer
        self.estimator = estimator
        self.name = name

    def on_epoch_begin(self, net, **kwargs):
        self.logits_ = []

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if not training:
            self.logits_.append(y_pred.detach())

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        if dataset_valid is None or not self.logits_:
            return
        logits = torch.cat(self.logits_).float().cpu().numpy()
        y_index = dataset_valid.labels().cpu().numpy()
        kwargs = {}
        if dataset_valid.weight is not None:
            rows = dataset_valid.rows
            kwargs["sample_weight"] = dataset_valid.weight[rows].cpu().numpy()
        est = self.estimator
        view = PrecomputedClassifier(est.classes_, est._proba_from_logits(logits),
                                     est.cost_matrix_, est._decision_from_logits(logits))
        y_true = self.estimator.classes_[y_index]
        try:
            score = self.scorer(view, np.empty((len(y_true), 0)), y_true, **kwargs)
        except (ValueError, TypeError) as exc:
            present = np.unique(y_true).tolist()
            raise ValueError(
                f"scoring={getattr(self.estimator, 'scoring', self.scorer)!r} failed "
                f"on the validation part ({len(y_true)} samples, classes "
                f"{present!r}): {exc} Use a larger validation_fraction, more "
                "data, or another scoring."
            ) from exc
        net.history.record(self.name, float(score))
        self.logits_ = []
