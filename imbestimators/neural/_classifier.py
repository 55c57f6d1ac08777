"""NeuralClassifier: a scikit-learn classifier that trains a PyTorch network."""

import contextlib
import copy
import functools
import inspect
import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from scipy.special import expit, log_expit, log_softmax, softmax
from skorch.callbacks import EarlyStopping, LRScheduler
from skorch.callbacks.scoring import ScoringBase
from skorch.utils import noop
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn
from torch.optim.lr_scheduler import CosineAnnealingLR

from ..losses import BaseLoss, ExpectedCostLoss, check_loss
from ..metrics import check_scoring_positive, decide
from ..utils import check_class_weight, check_cost_matrix, check_device
from ..utils._compat import HasMethods, Interval, StrOptions, check_sample_weight
from ..utils._labels import label_positions
from ..utils._persistence import checked_state, stamped_state
from ._batching import (
    TensorData,
    as_tensor,
    check_class_counts,
    sparse_csr,
    training_batches,
)
from ._callbacks import DivergenceGuard, ValidationScoring, WeightAveraging
from ._guards import check_magnitude, named_input_errors, out_of_memory_hint
from ._modules import (
    ACTIVATIONS,
    MLP,
    PiecewiseLinear,
    Standardized,
    bin_edges,
    column_mean_scale,
)
from ._net import PRECISIONS, TensorNet

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

# Optimizers whose fused implementation we use by default.
_FUSED = {"adam", "adamw"}


class NeuralClassifier(ClassifierMixin, BaseEstimator):
    """A PyTorch network trained by skorch, as a scikit-learn classifier.

    ``fit`` builds a ``skorch.NeuralNet`` (kept as ``net_``) around a network
    (an :class:`~imbestimators.neural.MLP` unless ``module`` is given) and a
    loss from :mod:`imbestimators.losses`, and trains it on mini-batches
    sliced from tensors that are moved to the device once.

    Parameters
    ----------
    module : None, callable or torch.nn.Module, default=None
        The network. ``None`` builds an MLP from ``hidden_layer_sizes``,
        ``activation`` and ``dropout``. A class or factory is called with
        ``module_params`` plus ``n_features`` and ``n_outputs`` when its
        signature accepts them; an instance is deep-copied. The network must
        map a float32 batch of shape (n, n_features) to logits of shape
        (n, n_outputs), where ``n_outputs`` is 1 for binary problems with the
        catalogue's losses and ``n_classes`` otherwise.
    module_params : dict, default=None
        Keyword arguments for ``module`` when it is a class or factory.
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the default MLP (ignored with ``module``).
    activation : {'relu', 'tanh', 'logistic', 'identity', 'gelu', 'silu', \
'leaky_relu'}, default='relu'
        Activation of the default MLP.
    dropout : float, default=0.1
        Dropout probability after each hidden layer of the default MLP.
    ensemble_size : int, default=1
        Number of default MLPs, each initialised on its own, trained side by
        side on the same batches inside one network, each descending its own
        loss as a network trained alone would (``history_`` records their
        mean loss); the probabilities are their mean (see
        :class:`~imbestimators.neural.MLP`). Training and prediction cost
        about ``ensemble_size`` times as much. Ignored with ``module``.
    standardize : bool, default=True
        Standardise the network's inputs (the encoded features when
        ``piecewise_bins`` encodes them) with the mean and standard deviation
        of the training rows, inside the network (no copy of the data is
        made). Sparse inputs are divided by each column's largest absolute
        value, not centred (as ``MaxAbsScaler``).
    piecewise_bins : int, 'auto' or None, default=8
        Piecewise-linear encoding of each dense feature for the default MLP
        (ignored with ``module`` and for sparse X): the training rows'
        quantiles cut each feature into at most this many bins, and the
        network sees, per bin, how far the value has come through it
        (Gorishniy et al. 2022; :class:`~imbestimators.neural.PiecewiseLinear`).
        It lets the network learn thresholds on single features, as trees do:
        over the benchmark collection it raised the mean average precision by
        about 0.03 (see the defaults guide). The first layer becomes up to
        ``piecewise_bins`` times wider (binary features get one bin); for
        data with many thousands of continuous features, ``None`` feeds the
        (standardised) features directly. ``'auto'``: finer bins on more
        data, ``min(32, max(8, n_train // 500))`` (8 bins below 4 500 training
        rows, 32 from 16 000).
    piecewise_strategy : {'quantile', 'tree'}, default='quantile'
        Where the bins of ``piecewise_bins`` are cut: at the training rows'
        quantiles, or at the thresholds of a small decision tree that predicts
        the label from the feature alone (classes balanced; the target-aware
        bins of Gorishniy et al. 2022), which puts the edges where the
        classes change.
    feature_gates : bool, default=True
        With ``piecewise_bins``, give the default MLP one learned factor per
        feature, started at 1, that multiplies the first layer's weights of
        the feature's bins. Under ``weight_decay`` the penalty on a factor
        and its feature's weights together is a group lasso over the
        features (see :class:`~imbestimators.neural.MLP`'s
        ``input_groups``): features that do not help fade out as a whole, so
        one decisive feature among hundreds can be found, as a tree finds
        it. On three collections of real sets (the defaults guide) it raised
        the mean average precision by 0.003 to 0.007, better on 36 of 52
        sets, for about a tenth more fit time. Ignored where the features
        are not encoded (``piecewise_bins=None``, sparse X, ``module``).
    loss : str, loss object or torch criterion, default='cross_entropy'
        A name from :func:`imbestimators.losses.available_losses`, a loss of
        :mod:`imbestimators.losses` (its parameters are tunable as
        ``loss__<name>``), or a ``torch.nn`` criterion instance or class.
        The object is never modified: ``fit`` trains with a copy completed
        with the class weights, counts and cost matrix of the training data.
    class_weight : dict, 'balanced' or None, default=None
        Per-class weights in the loss. ``'balanced'`` uses
        ``n_samples / (n_classes * np.bincount(y))``; a dict maps labels to
        weights. Combined with ``sample_weight`` as wᵢ = sample_weight[i] ×
        class_weight[yᵢ] in the weighted mean Σ wᵢ lᵢ / Σ wᵢ.
    cost_matrix : array-like of shape (n_classes, n_classes), dict or None, \
default=None
        ``C[i, j]`` is the cost of predicting ``classes_[j]`` when the truth
        is ``classes_[i]``. With it, ``predict`` returns the class of minimum
        expected cost under ``predict_proba``; without it, the most probable.
        For two classes and a zero diagonal this predicts ``classes_[1]`` when
        its probability exceeds ``C[0, 1] / (C[0, 1] + C[1, 0])``. The losses
        that need costs (``loss='expected_cost'``) are trained with it too;
        combined with such a loss or with ``class_weight``, the imbalance is
        counted twice and ``fit`` warns.
    optimizer : {'adam', 'adamw', 'sgd', 'rmsprop'} or torch optimizer class, \
default='adam'
    learning_rate : float, default=1e-3
    learning_rate_schedule : {'constant', 'cosine'}, default='constant'
        ``'cosine'`` anneals the learning rate once per epoch from
        ``learning_rate`` toward 0 over ``max_epochs`` (``CosineAnnealingLR``
        through skorch's ``LRScheduler``; a warm start restarts it).
    weight_decay : float or 'auto', default='auto'
        L2 penalty passed to the optimizer. ``'auto'`` is
        ``min(0.03, 30 / n_train)`` for ``n_train`` training rows: a prior
        whose weight against the data falls as ``1 / n`` (strong under a
        thousand rows, negligible above ten thousand); 0 with an optimizer
        class of your own, which may take no ``weight_decay``. Set when the
        network is built (a warm start or ``partial_fit`` keeps it). Chosen on the
        tuning half of the defaults benchmark and confirmed on the other half
        (see the defaults guide).
    weight_averaging : float in [0, 1], default=0.5
        End training with the mean of the weights at the end of each of the
        last ``weight_averaging`` share of the epochs (stochastic weight
        averaging, Izmailov et al. 2018): 0.5 averages the last 25 of 50
        epochs. 0 keeps the last epoch's weights. Not used with early
        stopping (``early_stopping=True`` or an ``EarlyStopping`` in
        ``callbacks``), which restores the best epoch's weights instead.
        Costs one copy of the weights and a few additions per epoch.
        Chosen on the tuning half of the defaults benchmark and confirmed on
        the other half (see the defaults guide).
    optimizer_params : dict, default=None
        Further keyword arguments of the optimizer (e.g. ``{'momentum': 0.9}``).
        ``'adam'`` and ``'adamw'`` use torch's fused implementation on the CPU
        and CUDA unless this sets ``fused``.
    batch_size : int or 'auto', default='auto'
        Rows per mini-batch; ``'auto'`` is ``clip(n_train // 16, 16, 256)``.
    batch_sampling : {'auto', 'shuffle', 'stratified', 'balanced'}, \
default='auto'
        How each epoch's mini-batches are composed. ``'shuffle'``: a random
        permutation. ``'stratified'``: every batch keeps the class proportions
        of the training data (up to rounding), so every batch holds the rare
        class when it has at least one sample per batch. ``'balanced'``: each
        epoch draws ``n_samples / n_classes`` samples of every class afresh
        (a new subset of the frequent classes, the rare ones repeated in new
        random orders), so every batch is balanced and an epoch stays about
        ``n_samples`` long. ``'auto'`` is ``'stratified'`` for batch-level
        losses (F-beta, Dice, AUC …) and ``'shuffle'`` otherwise. A class too
        small to reach every batch is spread at most one sample per batch,
        with a warning; ``'balanced'`` balances the classes present in the
        training part, with a warning when some class is absent.
    max_epochs : int or 'auto', default='auto'
        Passes over the training data. ``'auto'``: 50 below 8 000 training
        rows, 20 from 8 000 (about 10 000 rows under 5-fold cross-validation).
        50 beat 100 and 200 on mean average precision and balanced accuracy
        on small tables; on the 12 benchmark sets of 10 000 rows and more, 20
        kept the average precision (-0.001 on average, 6 sets better, 6
        worse), raised balanced accuracy by 0.006, and cut the fit time 2.5
        times (see the defaults guide). 10 on sparse input (TF-IDF text),
        where the first layer holds a row of weights per word and fits the
        training rows within a few epochs: on four text sets 10 epochs
        changed the average precision by -0.003, -0.003, +0.002 and +0.007
        against 50 or 20, in a fifth to a half of the time.
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the training data,
        stop when the validation score (or loss) has not improved by ``tol``
        for ``n_iter_no_change`` epochs, and restore the best epoch's weights.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    tol : float, default=1e-4
    scoring : str, callable or None, default=None
        scikit-learn scorer evaluated on the validation part each epoch
        (``'average_precision'``, ``'balanced_accuracy'``, ``'f1'``,
        :func:`imbestimators.metrics.make_cost_scorer` …) for early stopping;
        the weights of the best-scoring epoch are restored. ``None`` monitors
        the validation loss. An unknown name raises ``ValueError`` at ``fit``.
        For two classes, a name whose metric needs a positive class
        (``'average_precision'``, ``'f1'`` …) scores the minority class
        (:func:`imbestimators.metrics.positive_class`), whatever the labels;
        pass ``make_scorer(..., pos_label=...)`` to choose another.
    prior_correction : bool, default=False
        Undo, in ``predict_proba``, ``predict`` and ``decision_function``, the
        shift that class weights (or a logit adjustment) put into the trained
        probabilities: the loss's analytic correction
        (:meth:`imbestimators.losses.BaseLoss.logit_correction`) is added to
        the logits, so that p(y|x) ∝ p_w(y|x) / w_y. ``False`` reports the
        probabilities as trained. Losses without an analytic correction
        (focal, Dice …) raise ``ValueError`` at ``fit``: calibrate them with
        ``sklearn.calibration.CalibratedClassifierCV`` instead.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Passed to the skorch net (copied at each fit). skorch's scoring
        callbacks (``EpochScoring``, ``BatchScoring``, ``PassthroughScoring``)
        score a plain skorch net with ``(X, y)`` batches and are rejected at
        ``fit``: use ``early_stopping=True`` with ``scoring=``, which records
        the validation score of every epoch in ``history_`` (``'valid_score'``;
        ``n_iter_no_change=max_epochs`` to watch it without stopping).
    device : str or torch.device, default='auto'
        ``'auto'`` uses CUDA when available, else the CPU.
    precision : {'float32', 'bfloat16', 'float16'}, default='float32'
        Mixed precision: the forward passes of training and prediction run
        under ``torch.autocast`` with this dtype, while the weights, the
        optimizer and the loss stay float32. ``'float16'`` also scales the
        loss with a ``torch.amp.GradScaler`` and needs a CUDA device; on the
        CPU use ``'bfloat16'``.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, dropout, shuffling and validation
        split. Global random generators are never reseeded.
    verbose : int, default=0
        Print skorch's epoch table when positive.
    warm_start : bool, default=False
        Continue training the fitted network at the next ``fit``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when X has string feature names.
    n_outputs_ : int
        Logits per sample (1 for binary problems with the catalogue's losses).
    class_counts_ : ndarray of shape (n_classes,)
        Training samples per class, as seen by the last fit (after any
        resampling done before this estimator in a pipeline).
    class_weight_ : ndarray of shape (n_classes,)
        The per-class weights used in the loss (ones when ``class_weight`` is
        None).
    cost_matrix_ : ndarray of shape (n_classes, n_classes) or None
    logit_correction_ : ndarray of shape (n_classes,) or None
        Added to the logits before probabilities and decisions when
        ``prior_correction=True``; ``None`` otherwise.
    loss_ : BaseLoss
        The fitted copy of the loss used in training.
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the network.
    history_ : skorch.History
        Per-epoch training history (``train_loss``, ``valid_loss`` …).
    n_iter_ : int
        Epochs run (in total, across ``warm_start`` fits).

    See Also
    --------
    sklearn.neural_network.MLPClassifier : scikit-learn's own network.

    Notes
    -----
    Training is guarded by a :class:`~imbestimators.neural.DivergenceGuard`
    (unless ``callbacks`` holds one): a non-finite loss or weight restores the
    weights of the last finite epoch with a
    :class:`~imbestimators.neural.DivergenceWarning`, or raises ``ValueError``
    when no epoch was finite. A ``KeyboardInterrupt`` during ``fit`` keeps the
    model trained so far (the best epoch's with ``early_stopping``, the mean
    of the averaged epochs that ended with ``weight_averaging``) with an
    :class:`~imbestimators.neural.InterruptedTrainingWarning`. ``sample_weight``
    is rescaled to a maximum of 1 (weighted-mean losses do not change). Pickles
    record the imbestimators version and refuse another major version; a model
    trained on CUDA loads on a machine without it, on the CPU, with a warning.

    Examples
    --------
    >>> from imbestimators import NeuralClassifier
    >>> from imbestimators.datasets import load_ecoli
    >>> X, y = load_ecoli(return_X_y=True)
    >>> clf = NeuralClassifier(class_weight="balanced", max_epochs=30,
    ...                        random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    >>> clf.score(X, y) > 0.8
    True
    """

    _parameter_constraints = {
        "module": [None, callable, HasMethods(["forward"])],
        "module_params": [None, dict],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "ensemble_size": [Interval(Integral, 1, None, closed="left")],
        "standardize": ["boolean"],
        "piecewise_bins": [None, StrOptions({"auto"}),
                           Interval(Integral, 1, None, closed="left")],
        "piecewise_strategy": [StrOptions({"quantile", "tree"})],
        "feature_gates": ["boolean"],
        "loss": "no_validation",
        "class_weight": [None, dict, StrOptions({"balanced"})],
        "cost_matrix": [None, "array-like", dict],
        "optimizer": [StrOptions(set(OPTIMIZERS)), type],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_schedule": [StrOptions({"constant", "cosine"})],
        "weight_decay": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "weight_averaging": [Interval(Real, 0, 1, closed="both")],
        "optimizer_params": [None, dict],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "batch_sampling": [StrOptions({"auto", "shuffle", "stratified", "balanced"})],
        "max_epochs": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "scoring": [None, str, callable],
        "prior_correction": ["boolean"],
        "callbacks": [None, list],
        "device": "no_validation",
        "precision": [StrOptions(set(PRECISIONS))],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        module=None,
        *,
        module_params=None,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.1,
        ensemble_size=1,
        standardize=True,
        piecewise_bins=8,
        piecewise_strategy="quantile",
        feature_gates=True,
        loss="cross_entropy",
        class_weight=None,
        cost_matrix=None,
        optimizer="adam",
        learning_rate=1e-3,
        learning_rate_schedule="constant",
        weight_decay="auto",
        weight_averaging=0.5,
        optimizer_params=None,
        batch_size="auto",
        batch_sampling="auto",
        max_epochs="auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        scoring=None,
        prior_correction=False,
        callbacks=None,
        device="auto",
        precision="float32",
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.module = module
        self.module_params = module_params
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.ensemble_size = ensemble_size
        self.standardize = standardize
        self.piecewise_bins = piecewise_bins
        self.piecewise_strategy = piecewise_strategy
        self.feature_gates = feature_gates
        self.loss = loss
        self.class_weight = class_weight
        self.cost_matrix = cost_matrix
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.weight_decay = weight_decay
        self.weight_averaging = weight_averaging
        self.optimizer_params = optimizer_params
        self.batch_size = batch_size
        self.batch_sampling = batch_sampling
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.scoring = scoring
        self.prior_correction = prior_correction
        self.callbacks = callbacks
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------------ fit

    def set_params(self, **params):
        """Set parameters, including ``loss__<param>`` with ``loss`` given by name.

        ``loss__gamma=...`` with ``loss='focal'`` first replaces the name by
        the catalogue's loss object of that name (``FocalLoss()``), whose
        parameter is then set, so a grid over a named loss's parameters
        works as it does over a loss object.

        Parameters
        ----------
        **params : dict

        Returns
        -------
        self : NeuralClassifier
        """
        loss = params.get("loss", self.loss)
        if isinstance(loss, str) and any(k.startswith("loss__") for k in params):
            params["loss"] = check_loss(loss)
        return super().set_params(**params)

    def fit(self, X, y, sample_weight=None):
        """Train the network on ``X``, ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; sparse data is never made dense as a whole (the MLP
            reads each sparse batch as it is; a custom module gets it dense).
        y : array-like of shape (n_samples,)
            Labels of any kind (strings, {-1, 1}, non-contiguous integers).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights in the loss.

        Returns
        -------
        self : NeuralClassifier
        """
        self._validate_params()
        incremental = self.warm_start and hasattr(self, "net_")
        with out_of_memory_hint(self, X, "to fit"):
            return self._fit(X, y, sample_weight, epochs=self.max_epochs,
                             incremental=incremental,
                             early_stopping=self.early_stopping)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch, continuing from the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like of shape (n_classes,), default=None
            All labels that will ever be seen; only used on the first call,
            where it defaults to the labels of ``y``.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : NeuralClassifier
        """
        incremental = hasattr(self, "net_")
        if not incremental:
            self._validate_params()
        with out_of_memory_hint(self, X, "to fit"):
            return self._fit(X, y, sample_weight, epochs=1, incremental=incremental,
                             early_stopping=False, classes=classes)

    def _fit(self, X, y, sample_weight, *, epochs, incremental, early_stopping,
             classes=None):
        # Four steps: what to train (checked inputs, NumPy only), the data as
        # tensors on the device, the skorch net set up for this fit, training.
        with named_input_errors():
            X, y = validate_data(
                self, X, y, accept_sparse="csr", dtype=[np.float32, np.float64],
                reset=not incremental,
            )
        plan = self._plan(X, y, sample_weight, epochs=epochs, incremental=incremental,
                          early_stopping=early_stopping, classes=classes)
        train, valid = self._stage(X, plan)
        with _seeded_torch(plan.seed, plan.device):
            self._configure_net(X, plan, incremental=incremental,
                                early_stopping=early_stopping)
            self.net_.partial_fit((train, valid))
        self.history_ = self.net_.history
        self.n_iter_ = len(self.history_)
        return self

    def _plan(self, X, y, sample_weight, *, epochs, incremental, early_stopping,
              classes):
        """Check the inputs and settle what this fit trains: labels, weights,
        loss, device, split and batch size; records the fitted attributes that
        follow from them. No tensor is made."""
        check_magnitude(X, self._rescales(X))
        _check_targets(y)
        if not incremental:
            self.classes_ = _sorted_labels(y if classes is None else classes)
            if len(self.classes_) < 2:
                raise ValueError(
                    "NeuralClassifier needs samples of at least 2 classes in y; "
                    f"got 1 class: {self.classes_.tolist()!r}."
                )
        y_index = label_positions(y, self.classes_, labels_name="classes_")
        has_weights = sample_weight is not None
        sample_weight = check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        # Rescaled to a maximum of 1 in float64 before the float32 cast, so that
        # huge or tiny weights neither overflow nor vanish; weighted-mean losses
        # do not change.
        largest = sample_weight.max(initial=0.0)
        if largest > 0:
            sample_weight = sample_weight / largest
        sample_weight = sample_weight.astype(np.float32)
        class_weight = check_class_weight(self.class_weight, self.classes_, y_index)
        cost_matrix = (
            None if self.cost_matrix is None
            else check_cost_matrix(self.cost_matrix, self.classes_)
        )
        device = check_device(self.device)
        if self.precision == "float16" and device.type != "cuda":
            raise ValueError(
                f"precision='float16' needs a CUDA device (got device={device.type!r}): "
                "float16 training relies on loss scaling and fast float16 kernels; "
                "use precision='bfloat16' on the CPU."
            )
        loss = self._fitted_loss(y_index, class_weight, cost_matrix)
        n_outputs = loss.n_outputs(len(self.classes_))
        if incremental and n_outputs != self.n_outputs_:
            raise ValueError(
                f"loss now needs {n_outputs} outputs but the fitted network has "
                f"{self.n_outputs_}; refit with warm_start=False."
            )
        logit_correction = self._check_prior_correction(loss)
        # Checked at every fit, so a typo fails before training, not later.
        _check_callbacks(self.callbacks)
        scorer = self._check_scoring(y_index)  # checked even when unused
        scorer = scorer if early_stopping else None
        sampling = self._check_batch_sampling(loss)
        _warn_double_counting(loss, self.class_weight, cost_matrix,
                              logit_correction is not None, sampling)

        random_state = check_random_state(self.random_state)
        seed = int(random_state.randint(np.iinfo(np.int32).max))
        train_rows, valid_rows = (
            self._validation_split(y_index, seed) if early_stopping else (None, None)
        )
        n_train = len(y_index) if train_rows is None else len(train_rows)
        batch_size = (
            int(np.clip(n_train // 16, 16, 256)) if self.batch_size == "auto"
            else self.batch_size
        )
        if epochs == "auto":
            epochs = 10 if sp.issparse(X) else 50 if n_train < 8000 else 20
        check_class_counts(
            np.bincount(y_index if train_rows is None else y_index[train_rows],
                        minlength=len(self.classes_)),
            self.classes_, batch_size, sampling,
        )

        self.class_counts_ = np.bincount(y_index, minlength=len(self.classes_))
        self.class_weight_ = class_weight
        self.cost_matrix_ = cost_matrix
        self.logit_correction_ = logit_correction
        self.n_outputs_ = n_outputs
        return _Plan(
            y_index=y_index,
            # Equal weights change nothing in a weighted mean: skip the work.
            sample_weight=(sample_weight if has_weights and np.ptp(sample_weight) > 0
                           else None),
            statistics_rows=_statistics_rows(train_rows, sample_weight),
            loss=loss, device=device, scorer=scorer, sampling=sampling,
            random_state=random_state, seed=seed, train_rows=train_rows,
            valid_rows=valid_rows, n_train=n_train, batch_size=batch_size, epochs=epochs,
        )

    def _stage(self, X, plan):
        """The training and validation parts as tensors on the device, made once."""
        device = plan.device
        X_t = as_tensor(X, device)
        y_t = torch.as_tensor(plan.y_index, dtype=torch.long, device=device)
        w_t = (None if plan.sample_weight is None
               else torch.as_tensor(plan.sample_weight, device=device))
        sparse_batches = self._sparse_batches(X)

        def part(rows):
            if rows is not None:
                rows = torch.as_tensor(rows, dtype=torch.long, device=device)
            return TensorData(X_t, y_t, w_t, rows, device, sparse_batches)

        return part(plan.train_rows), (None if plan.valid_rows is None
                                       else part(plan.valid_rows))

    def _configure_net(self, X, plan, *, incremental, early_stopping):
        """Build the net (or keep it, warm), and set it up for this fit."""
        if not incremental:
            self.net_ = self._build_net(
                X, plan.y_index, plan.statistics_rows, self.n_outputs_, plan.loss,
                plan.device, plan.random_state, plan.n_train,
            )
            self.net_.initialize()
        generator = torch.Generator(device=plan.device).manual_seed(plan.seed)
        if incremental:
            # A warm start continues from the weights, not from old settings.
            for group in self.net_.optimizer_.param_groups:
                group["lr"] = self.learning_rate
        self.net_.criterion_ = plan.loss.to(plan.device)
        self.net_.batch_size = plan.batch_size
        self.net_.max_epochs = plan.epochs
        self.net_.precision = self.precision
        self.net_.verbose = self.verbose
        self.net_.iterator_train = functools.partial(
            training_batches, batch_size=plan.batch_size, generator=generator,
            sampling=plan.sampling,
        )
        self.net_.callbacks = self._callbacks(plan.scorer, early_stopping, plan.epochs)
        self.net_.initialize_callbacks()

    def _fitted_loss(self, y_index, class_weight, cost_matrix):
        loss = check_loss(self.loss)
        if (
            self.class_weight is not None and isinstance(self.loss, BaseLoss)
            and getattr(self.loss, "class_weight", None) is not None
        ):
            raise ValueError(
                "class_weight is set both on NeuralClassifier and on its loss; "
                "set it in one place only."
            )
        counts = np.bincount(y_index, minlength=len(self.classes_)).astype(np.float64)
        info = {
            "class_counts": counts,
            "class_priors": counts / counts.sum(),
            "cost_matrix": cost_matrix,
        }
        if self.class_weight is not None:
            info["class_weight"] = class_weight
        loss = loss.with_training_info(**info)
        # The targets are positions in classes_: checking them every batch
        # would read the device from the host every batch.
        loss._validate_targets = False
        return loss

    def _check_scoring(self, y_index):
        if self.scoring is None or callable(self.scoring):
            return self.scoring
        counts = np.bincount(y_index, minlength=len(self.classes_))
        try:
            return check_scoring_positive(self.scoring, self.classes_, counts)[0]
        except ValueError as exc:
            raise ValueError(f"scoring={self.scoring!r} is not valid: {exc}") from exc

    def _check_batch_sampling(self, loss):
        if self.batch_sampling != "auto":
            return self.batch_sampling
        return "stratified" if getattr(loss, "_batch_level", False) else "shuffle"

    def _check_prior_correction(self, loss):
        """The fitted loss's logit correction, or None without prior_correction."""
        if not self.prior_correction:
            return None
        correction = loss.logit_correction(len(self.classes_))
        if correction is None:
            raise ValueError(
                f"prior_correction=True needs a loss with an analytic prior "
                f"correction; {loss!r} has none. Set prior_correction=False and "
                "calibrate with sklearn.calibration.CalibratedClassifierCV instead."
            )
        return np.asarray(correction, dtype=np.float64)

    def _validation_split(self, y_index, seed):
        splitter = StratifiedShuffleSplit(
            n_splits=1, test_size=self.validation_fraction, random_state=seed
        )
        try:
            train, valid = next(splitter.split(np.zeros(len(y_index)), y_index))
        except ValueError as exc:
            warnings.warn(
                f"early_stopping: the validation split cannot be stratified ({exc}); "
                "using a random split instead.",
                UserWarning,
            )
            splitter = ShuffleSplit(
                n_splits=1, test_size=self.validation_fraction, random_state=seed
            )
            try:
                train, valid = next(splitter.split(np.zeros(len(y_index))))
            except ValueError as exc2:
                raise ValueError(
                    "early_stopping needs enough samples for a training and a "
                    f"validation part (validation_fraction={self.validation_fraction}): "
                    f"{exc2}"
                ) from exc2
        return np.sort(train), np.sort(valid)

    def _encodes(self, X):
        """Whether the network encodes X piecewise-linearly."""
        return self.module is None and self.piecewise_bins is not None \
            and not sp.issparse(X)

    def _sparse_batches(self, X):
        """Whether batches of X reach the network as sparse tensors: only the
        library's MLP reads them (a user's module gets dense batches)."""
        return self.module is None and sp.issparse(X)

    def _rescales(self, X):
        """Whether the network rescales X before its first layer."""
        return self.standardize or self._encodes(X)

    def _build_net(self, X, y_index, train_rows, n_outputs, loss, device, random_state,
                   n_train):
        if self._encodes(X):
            n_bins = self.piecewise_bins
            if n_bins == "auto":
                n_bins = min(32, max(8, n_train // 500))
            lower, inv_width, columns, mean, scale = bin_edges(
                X, train_rows, n_bins, random_state,
                y=y_index if self.piecewise_strategy == "tree" else None,
            )
            if not self.standardize:
                mean = scale = None
            module = PiecewiseLinear(nn.Identity(), lower, inv_width, columns, mean, scale)
            # Built after the encoding, whose `features` (the feature each
            # encoded input reads) are the gates' groups.
            module.network = self._build_module(len(module.features), n_outputs,
                                                input_groups=module.features)
        else:
            module = self._build_module(X.shape[1], n_outputs,
                                        sparse_input=self._sparse_batches(X))
            _check_module_output(module, X, n_outputs, self._sparse_batches(X))
            if self.standardize:
                mean, scale = column_mean_scale(X, train_rows)
                module = Standardized(module, mean, scale)
        optimizer = (
            OPTIMIZERS[self.optimizer] if isinstance(self.optimizer, str)
            else self.optimizer
        )
        # Only when set: some optimizers (LBFGS) take no weight_decay.
        weight_decay = self.weight_decay
        if weight_decay == "auto":
            weight_decay = (min(0.03, 30.0 / n_train) if isinstance(self.optimizer, str)
                            else 0.0)
        optimizer_params = {"weight_decay": weight_decay} if weight_decay else {}
        if isinstance(self.optimizer, str) and self.optimizer in _FUSED and \
                device.type in ("cpu", "cuda"):
            # The same update rule in one kernel per step instead of one per
            # tensor: 5-10% of a small network's training time on the CPU.
            optimizer_params["fused"] = True
        optimizer_params.update(self.optimizer_params or {})
        return TensorNet(
            module=module,
            criterion=loss,
            optimizer=optimizer,
            lr=self.learning_rate,
            train_split=None,
            device=device,
            verbose=self.verbose,
            **{f"optimizer__{k}": v for k, v in optimizer_params.items()},
        )

    def _build_module(self, n_features, n_outputs, sparse_input=False, input_groups=None):
        if self.module is None:
            sizes = self.hidden_layer_sizes
            if not all(isinstance(s, Integral) and s > 0 for s in sizes):
                raise ValueError(
                    "hidden_layer_sizes must be a sequence of positive integers; "
                    f"got {sizes!r}."
                )
            return MLP(n_features, n_outputs, tuple(sizes), self.activation, self.dropout,
                       self.ensemble_size, sparse_input,
                       input_groups if self.feature_gates else None)
        if isinstance(self.module, nn.Module):
            return copy.deepcopy(self.module)
        params = dict(self.module_params or {})
        try:
            signature = inspect.signature(self.module).parameters
        except (TypeError, ValueError):
            signature = {}
        takes_kwargs = any(p.kind == p.VAR_KEYWORD for p in signature.values())
        for name, value in (("n_features", n_features), ("n_outputs", n_outputs)):
            if name in signature or takes_kwargs:
                params.setdefault(name, value)
        module = self.module(**params)
        if not isinstance(module, nn.Module):
            raise TypeError(
                "module must be a torch.nn.Module class, a factory returning one, "
                f"or an instance; calling it returned {type(module).__name__}."
            )
        return module

    def _callbacks(self, scorer, early_stopping, epochs):
        callbacks = copy.deepcopy(self.callbacks) if self.callbacks else []
        if self.learning_rate_schedule == "cosine":
            callbacks.append(("learning_rate_schedule",
                              LRScheduler(CosineAnnealingLR, T_max=max(epochs, 1),
                                          last_epoch=-1)))
        if early_stopping:
            if scorer is not None:
                callbacks.append(("valid_score", ValidationScoring(scorer, self)))
            callbacks.append((
                "early_stopping",
                EarlyStopping(
                    monitor="valid_score" if scorer is not None else "valid_loss",
                    lower_is_better=scorer is None,
                    patience=self.n_iter_no_change,
                    threshold=self.tol,
                    threshold_mode="abs",
                    load_best=True,
                    sink=print if self.verbose else noop,
                ),
            ))
        stops = early_stopping or any(
            isinstance(_callback(c), EarlyStopping) for c in callbacks)
        if self.weight_averaging > 0 and not stops:
            callbacks.append(("weight_averaging", WeightAveraging(self.weight_averaging)))
        # Last, so that its final check sees the weights EarlyStopping restores
        # or the averaged ones.
        if not any(isinstance(_callback(c), DivergenceGuard) for c in callbacks):
            callbacks.append(("divergence_guard", DivergenceGuard()))
        return callbacks

    # ---------------------------------------------------------- persistence

    def __getstate__(self):
        return stamped_state(super().__getstate__())

    def __setstate__(self, state):
        state = checked_state(state, type(self).__name__)
        # Pickles made before loss_ became a view of the net's criterion hold
        # it, or a marker for it: both give way to the view.
        state.pop("loss_", None)
        state.pop("_loss_is_criterion", None)
        super().__setstate__(state)

    @property
    def loss_(self):
        """The fitted copy of the loss used in training: ``net_.criterion_``."""
        return self.net_.criterion_

    # -------------------------------------------------------------- predict

    def _logits(self, X):
        check_is_fitted(self)
        with named_input_errors():
            X = validate_data(
                self, X, accept_sparse="csr", dtype=[np.float32, np.float64],
                reset=False,
            )
        check_magnitude(X, self._rescales(X))
        with out_of_memory_hint(self, X, "to predict"):
            return self.net_.predict_logits(as_tensor(X, self.net_.device),
                                            self._sparse_batches(X))

    def _corrected(self, logits):
        """``logits`` shifted by ``logit_correction_`` (a no-op without it)."""
        correction = getattr(self, "logit_correction_", None)
        if correction is None:
            return logits
        if logits.shape[1] == 1:
            return logits + (correction[1] - correction[0])
        return logits + correction

    def _decision_from_logits(self, logits):
        logits = self._corrected(logits)
        if logits.shape[1] == 1:
            return logits[:, 0]
        if len(self.classes_) == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def _proba_from_logits(self, logits):
        logits = self._corrected(logits)
        if logits.shape[1] == 1:
            p = expit(logits[:, 0])
            return np.column_stack([1.0 - p, p])
        return softmax(logits, axis=1)

    def decision_function(self, X):
        """Raw scores: the logit of ``classes_[1]`` for binary problems.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        return self._decision_from_logits(self._logits(X))

    def predict_proba(self, X):
        """Class probabilities (sigmoid or softmax of the logits).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1; columns in the order of ``classes_``.
        """
        return self._proba_from_logits(self._logits(X))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably from the logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        logits = self._corrected(self._logits(X))
        if logits.shape[1] == 1:
            return np.column_stack([log_expit(-logits[:, 0]), log_expit(logits[:, 0])])
        return log_softmax(logits, axis=1)

    def predict(self, X):
        """Predicted labels: most probable, or of minimum expected cost.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        return decide(self.predict_proba(X), self.classes_, self.cost_matrix_)


def _mixed_labels(exc):
    return TypeError(
        f"y (or classes) mixes label types that cannot be sorted ({exc}); use "
        "labels of one type, e.g. all strings or all integers."
    )


def _check_targets(y):
    try:
        check_classification_targets(y)
    except TypeError as exc:
        raise _mixed_labels(exc) from exc


def _sorted_labels(y):
    try:
        return np.unique(y)
    except TypeError as exc:
        raise _mixed_labels(exc) from exc


def _check_callbacks(callbacks):
    """skorch's scoring callbacks cannot score this net: say so before training."""
    for item in callbacks or ():
        callback = _callback(item)
        if isinstance(callback, ScoringBase):
            raise TypeError(
                f"callbacks: skorch's {type(callback).__name__} scores a plain skorch "
                "net on (X, y) batches and cannot score NeuralClassifier's net; use "
                "early_stopping=True with scoring=..., which records every epoch's "
                "validation score in history_ ('valid_score'; n_iter_no_change="
                "max_epochs to watch it without stopping)."
            )


@dataclass(frozen=True)
class _Plan:
    """What one fit trains, settled from the inputs before any tensor exists."""

    y_index: np.ndarray
    sample_weight: np.ndarray  # None when every weight is equal
    statistics_rows: np.ndarray  # rows the input statistics come from (None: all)
    loss: object
    device: torch.device
    scorer: object  # the early-stopping scorer, or None
    sampling: str
    random_state: np.random.RandomState
    seed: int
    train_rows: np.ndarray  # None: every row
    valid_rows: np.ndarray  # None: no validation part
    n_train: int
    batch_size: int
    epochs: int


def _statistics_rows(train_rows, sample_weight):
    """Rows whose inputs set the network's scaling and bins: the training rows
    of positive weight, so that a zero weight is the same as a dropped row."""
    positive = sample_weight > 0
    if positive.all() or not positive.any():
        return train_rows
    positive = np.flatnonzero(positive)
    return positive if train_rows is None else np.intersect1d(train_rows, positive)


def _callback(item):
    """The callback of a ``callbacks`` entry: an object or a (name, object) pair."""
    return item[1] if isinstance(item, (tuple, list)) else item


@contextlib.contextmanager
def _seeded_torch(seed, device):
    """Seed the generators of ``device`` inside the block, restore them after."""
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.random.default_generator.manual_seed(seed)
        if device.type == "cuda":
            with torch.cuda.device(device):
                torch.cuda.manual_seed(seed)
        yield


def _warn_double_counting(loss, class_weight, cost_matrix, prior_corrected, sampling):
    """Warn when the imbalance enters both the training and the decision.

    ``loss`` is the fitted loss; ``sampling`` the batch composition in use.
    """
    if cost_matrix is None:
        return
    if isinstance(loss, ExpectedCostLoss):
        warnings.warn(
            "cost_matrix with loss='expected_cost' counts the costs (and so the "
            "imbalance) twice: the network is trained to minimise the expected cost "
            "and predict then decides with the costs again. Give the costs to the "
            "loss only (loss=ExpectedCostLoss(cost_matrix=...)), or train with a "
            "probabilistic loss and decide with cost_matrix.",
            UserWarning, stacklevel=4,
        )
    shift = _prior_shift(loss, class_weight, len(cost_matrix))
    # prior_correction undoes the loss's shift before the cost decision.
    if shift is not None and not prior_corrected:
        warnings.warn(
            f"{shift} together with cost_matrix counts the imbalance twice: it "
            "already shifts predict_proba towards the rare classes, and the cost "
            "decision shifts it again. Use one of them, or set prior_correction=True "
            "to undo the shift before the decision.",
            UserWarning, stacklevel=4,
        )
    if sampling == "balanced":
        warnings.warn(
            "batch_sampling='balanced' together with cost_matrix counts the imbalance "
            "twice: balanced batches train the network on equal class frequencies, "
            "which shifts predict_proba towards the rare classes, and the cost "
            "decision shifts it again (prior_correction does not undo the sampling). "
            "Use batch_sampling='stratified' with a cost decision.",
            UserWarning, stacklevel=4,
        )


def _prior_shift(loss, class_weight, n_classes):
    """What in the loss moves predict_proba away from the class frequencies, or None."""
    if class_weight is not None:
        return "class_weight"
    if getattr(loss, "class_weight", None) is not None:
        return f"the class weights of {type(loss).__name__}"
    if getattr(loss, "alpha", None) is not None:
        return f"the alpha of {type(loss).__name__}"
    correction = loss.logit_correction(n_classes)
    if correction is not None and np.ptp(correction) > 0:
        return f"the prior shift of {type(loss).__name__}"
    return None


def _check_module_output(module, X, n_outputs, sparse_batches):
    probe = as_tensor(X[:2], "cpu")
    if not isinstance(probe, torch.Tensor):
        probe = (sparse_csr(probe, "cpu") if sparse_batches
                 else torch.from_numpy(probe.toarray()))
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(probe)
    except Exception as exc:
        raise ValueError(
            f"module failed on a batch of shape {tuple(probe.shape)} (float32): {exc}"
        ) from exc
    finally:
        module.train(was_training)
    expected = (probe.shape[0], n_outputs)
    if not isinstance(out, torch.Tensor) or out.reshape(out.shape[0], -1).shape != expected:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"module must output logits of shape (n_samples, {n_outputs}) for this "
            f"problem and loss; it returned {shape}."
        )
