"""skorch callbacks used by ``NeuralClassifier`` (and usable on their own):
scoring the validation part, and the divergence guard (a non-finite loss or
weight never ends up in a fitted model; the last finite weights are restored);
and the averaging of the weights over the last epochs."""

import copy
import warnings

import numpy as np
import torch
from skorch.callbacks import Callback
from torch.optim.swa_utils import AveragedModel

from ..metrics._precomputed import PrecomputedClassifier
from ._guards import StopTraining


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


class DivergenceWarning(UserWarning):
    """Training diverged and the weights of the last finite epoch were kept.

    Examples
    --------
    >>> import warnings
    >>> from imbestimators.neural import DivergenceWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", DivergenceWarning)  # make it an error
    ...     issubclass(DivergenceWarning, UserWarning)
    True
    """


class DivergenceGuard(Callback):
    """Stop training when the loss or the weights are no longer finite.

    Checks, at no per-batch cost:

    * the gradients of the first optimisation step of each fit, before the
      step is taken (one host synchronisation per fit);
    * at every epoch end, the epoch losses named in ``monitor`` (already read
      to the host by the net) and the weights (one synchronisation);
    * at the end of training, the weights again (an interrupt or another
      callback may have ended the last epoch early).

    After every finite epoch it keeps a copy of the network, optimizer and
    loss state. When a check fails, that copy is restored, then:

    * if the restored state was trained (an earlier epoch of this fit or a
      previous fit, with ``warm_start`` or ``partial_fit``), a
      :class:`DivergenceWarning` is issued and training stops: the model is
      usable and predicts finite probabilities;
    * otherwise nothing usable was learned and a ``ValueError`` naming
      ``learning_rate`` and the inputs is raised.

    ``NeuralClassifier`` adds one to its callbacks unless ``callbacks``
    already holds a ``DivergenceGuard``.

    Parameters
    ----------
    monitor : tuple of str, default=('train_loss', 'valid_loss')
        History keys checked at each epoch end (missing keys are skipped).

    Examples
    --------
    >>> import numpy as np
    >>> from imbestimators import NeuralClassifier
    >>> X = np.random.RandomState(0).randn(60, 3)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = NeuralClassifier(optimizer="sgd", learning_rate=1e20, max_epochs=3,
    ...                        random_state=0)
    >>> try:
    ...     clf.fit(X, y)
    ... except ValueError as exc:
    ...     print(str(exc)[:54])
    Training diverged: the loss or weights became non-fini
    """

    def __init__(self, monitor=("train_loss", "valid_loss")):
        self.monitor = monitor

    def on_train_begin(self, net, **kwargs):
        # History rows left by an earlier fit were checked then: trained state.
        self.trained_ = len(net.history) > 0
        self.first_step_ = True
        self.snapshot_ = _snapshot(net)
        self.epoch_ = len(net.history)

    def on_grad_computed(self, net, named_parameters, training=None, **kwargs):
        if not self.first_step_:
            return
        self.first_step_ = False
        grads = [p.grad for _, p in named_parameters if p.grad is not None]
        if grads and not _all_finite(grads):
            self._diverged(net, "at the first step, before any update")

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        losses = [row[key] for key in self.monitor if key in row]
        if np.all(np.isfinite(losses)) and _all_finite(_state_tensors(net)):
            self.snapshot_ = _snapshot(net)
            self.trained_ = True
            self.epoch_ = len(net.history)
            return
        self._diverged(net, f"in epoch {len(net.history)}")

    def on_train_end(self, net, **kwargs):
        if not _all_finite(_state_tensors(net)):
            self._diverged(net, "at the end of training", stop=False)

    def _diverged(self, net, when, stop=True):
        _restore(net, self.snapshot_)
        lr = _learning_rate(net)
        if not self.trained_:
            raise ValueError(
                f"Training diverged: the loss or weights became non-finite {when}, "
                "before any epoch ended with finite values, so no usable weights "
                f"exist. Lower learning_rate (now {lr:g}), check X for values of "
                "extreme magnitude (standardize=True rescales each feature), or use "
                "a more stable loss or optimizer."
            )
        kept = f"epoch {self.epoch_}" if self.epoch_ else "the start of this fit"
        warnings.warn(
            f"Training diverged: the loss or weights became non-finite {when}. "
            f"The weights of {kept} were restored and training stopped; lower "
            f"learning_rate (now {lr:g}) to train further.",
            DivergenceWarning,
            stacklevel=2,
        )
        if stop:
            raise StopTraining


class WeightAveraging(Callback):
    """End training with the mean of the weights over the last epochs.

    The network's parameters at the end of each of the last ``fraction`` of
    the epochs of a fit are averaged with equal weights (torch's
    ``AveragedModel``), and the average replaces the last epoch's weights
    when training ends: stochastic weight averaging (Izmailov et al.,
    "Averaging Weights Leads to Wider Optima and Better Generalization", UAI
    2018) on the optimizer's own learning rate. Buffers (the encoding's bins,
    the standardisation) are not trained and are kept. A non-finite average
    is not loaded (the divergence guard, later in the callbacks, restores the
    last finite weights).

    Parameters
    ----------
    fraction : float in (0, 1]
        Share of the fit's ``max_epochs`` whose end-of-epoch weights are
        averaged (at least the last epoch's).
    """

    def __init__(self, fraction):
        self.fraction = fraction

    def on_train_begin(self, net, **kwargs):
        epochs = net.max_epochs
        self.first_ = len(net.history) + epochs - max(1, round(self.fraction * epochs))
        self.averaged_ = None

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) <= self.first_:
            return
        if self.averaged_ is None:
            self.averaged_ = AveragedModel(net.module_)
        self.averaged_.update_parameters(net.module_)

    def on_train_end(self, net, **kwargs):
        averaged, self.averaged_ = self.averaged_, None
        if averaged is None or int(averaged.n_averaged) < 2:
            return
        mean = list(averaged.module.parameters())
        if _all_finite(mean):
            with torch.no_grad():
                for p, value in zip(net.module_.parameters(), mean):
                    p.copy_(value)


def _state_tensors(net):
    tensors = [t for t in net.module_.state_dict().values() if t.is_floating_point()]
    return tensors + [p for p in net.criterion_.parameters()]


def _all_finite(tensors):
    """Whether every tensor is finite, with a single host synchronisation."""
    tensors = [t for t in tensors if t.numel()]
    if not tensors:
        return True
    return bool(torch.stack([torch.isfinite(t.detach()).all() for t in tensors]).all())


def _cloned(state):
    """A copy of a state dict: tensors cloned, containers rebuilt, the rest
    deep-copied. Taken every epoch; ``copy.deepcopy`` of the same dicts costs
    a tenth of a small network's training time."""
    if isinstance(state, torch.Tensor):
        return state.detach().clone()
    if isinstance(state, dict):
        copied = type(state)((key, _cloned(value)) for key, value in state.items())
        if hasattr(state, "_metadata"):  # a module's state_dict: its versions
            copied._metadata = copy.deepcopy(state._metadata)
        return copied
    if type(state) in (list, tuple):
        return type(state)(_cloned(value) for value in state)
    return copy.deepcopy(state)


def _snapshot(net):
    state = {"module": _cloned(net.module_.state_dict()),
             "criterion": _cloned(net.criterion_.state_dict())}
    optimizer = getattr(net, "optimizer_", None)
    if optimizer is not None:
        state["optimizer"] = _cloned(optimizer.state_dict())
    return state


def _restore(net, state):
    # Copies, so that the snapshot is never aliased by the restored objects.
    net.module_.load_state_dict(copy.deepcopy(state["module"]))
    # Not strict: a loss may register submodules lazily, at its first forward
    # (TorchCriterionLoss caches its per-sample criterion).
    net.criterion_.load_state_dict(copy.deepcopy(state["criterion"]), strict=False)
    if "optimizer" in state:
        net.optimizer_.load_state_dict(copy.deepcopy(state["optimizer"]))


def _learning_rate(net):
    optimizer = getattr(net, "optimizer_", None)
    if optimizer is not None and optimizer.param_groups:
        return float(optimizer.param_groups[0]["lr"])
    return float(net.lr)


# Values above this in magnitude make ``X - mean`` overflow float32.
