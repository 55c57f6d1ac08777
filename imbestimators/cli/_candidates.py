"""The candidates ``imbestimators compare`` cross-validates: name → factory.

Each factory takes the run's :class:`Context` and returns an unfitted
estimator; the command puts the per-fold preprocessing in front of it. A new
candidate is one decorated function. Candidates registered with
``ensemble=True`` run after the others and receive, in ``context.best``, the
``(name, estimator)`` pairs of the best plain candidates. ``--quick`` runs
the candidates registered with ``quick=True`` (one of each family: weighted
network, logit-adjusted network, linear model, boosted trees) unless
``--configs`` names others.
"""

from dataclasses import dataclass, field

import numpy as np
from imblearn.ensemble import (
    BalancedBaggingClassifier,
    BalancedRandomForestClassifier,
    EasyEnsembleClassifier,
)
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    TransformerMixin,
    clone,
)
from sklearn.decomposition import TruncatedSVD
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, StandardScaler
from sklearn.utils import compute_sample_weight, get_tags

from ..ensemble import WeightedStackingClassifier
from ..metrics import decide
from ..neural import NeuralClassifier
from ..utils._labels import label_positions


@dataclass
class Context:
    """What a factory may use to build its estimator."""

    seed: int = 0
    quick: bool = False
    device: str = "auto"
    sparse: bool = False  # features are a sparse TF-IDF matrix (--text-column)
    scoring: object = None  # scikit-learn scorer of the ranking metric
    cost_matrix: object = None  # (n_classes, n_classes) ndarray from --cost-matrix
    best: list = field(default_factory=list)  # (name, estimator) for ensembles

    def network(self, **params):
        """``NeuralClassifier(**params)`` with the library's defaults, so the
        leaderboard shows what the estimator does out of the box; the run's
        cost matrix, device and seed; ``--quick`` trains 10 epochs."""
        settings = dict(cost_matrix=self.cost_matrix, device=self.device,
                        random_state=self.seed)
        if self.quick:
            settings["max_epochs"] = 10
        settings.update(params)
        return NeuralClassifier(**settings)


@dataclass(frozen=True)
class Candidate:
    name: str
    factory: object
    description: str
    ensemble: bool = False
    quick: bool = False
    # 'any'; 'without' a cost matrix only (it trains on reweighted or resampled
    # classes and has no prior correction: with --cost-matrix it would count
    # the imbalance twice); 'with' a cost matrix only (its plain counterpart).
    costs: str = "any"
    requires: str = None  # an optional package; skipped with a notice when absent
    default: bool = True  # run without --configs naming it


CANDIDATES = {}


def candidate(name, description, *, ensemble=False, quick=False, costs="any",
              requires=None, default=True):
    """Register ``factory(context) -> estimator`` under ``name``."""

    def register(factory):
        CANDIDATES[name] = Candidate(name, factory, description, ensemble, quick, costs,
                                     requires, default)
        return factory

    return register


@candidate("nn_cross_entropy", "NeuralClassifier, plain cross-entropy")
def _nn_cross_entropy(context):
    return context.network()


@candidate("nn_class_weight", "NeuralClassifier(class_weight='balanced'); with "
                              "--cost-matrix, prior_correction=True", quick=True)
def _nn_class_weight(context):
    return context.network(class_weight="balanced",
                           prior_correction=context.cost_matrix is not None)


@candidate("nn_focal", "NeuralClassifier(loss='focal')")
def _nn_focal(context):
    return context.network(loss="focal")


@candidate("nn_logit_adjusted", "NeuralClassifier(loss='logit_adjusted'); with "
                                "--cost-matrix, prior_correction=True", quick=True)
def _nn_logit_adjusted(context):
    return context.network(loss="logit_adjusted",
                           prior_correction=context.cost_matrix is not None)


@candidate("nn_fbeta", "NeuralClassifier(loss='fbeta'), stratified batches")
def _nn_fbeta(context):
    return context.network(loss="fbeta")


@candidate("nn_balanced_batches", "NeuralClassifier(batch_sampling='balanced')",
           costs="without")
def _nn_balanced_batches(context):
    return context.network(batch_sampling="balanced")


@candidate("nn_oversampling", "RandomOverSampler → NeuralClassifier", costs="without")
def _nn_oversampling(context):
    return make_imb_pipeline(
        RandomOverSampler(random_state=context.seed), context.network()
    )


def _logreg(context, class_weight):
    # TF-IDF columns are divided by their largest value, not their standard
    # deviation, which would make the rarest words the loudest (on the
    # bird-strike remarks of benchmarks/bench_text.py: AP 0.43 against 0.69).
    return make_pipeline(
        MaxAbsScaler() if context.sparse else StandardScaler(),
        LogisticRegression(class_weight=class_weight, max_iter=1000),
    )


@candidate("logreg_class_weight",
           "StandardScaler → LogisticRegression(class_weight='balanced')", quick=True,
           costs="without")
def _logreg_class_weight(context):
    return _logreg(context, "balanced")


@candidate("logreg", "StandardScaler → LogisticRegression()", quick=True, costs="with")
def _logreg_plain(context):
    return _logreg(context, None)


class _LeadingComponents(TransformerMixin, BaseEstimator):
    """TruncatedSVD to ``n_components``, or fewer on a smaller vocabulary.

    The TF-IDF vocabulary is learned per fold, so its size is known only at
    fit: TruncatedSVD needs fewer components than features.
    """

    def __init__(self, n_components=100, random_state=None):
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X, y=None):
        n_components = min(self.n_components, X.shape[1] - 1)
        self.svd_ = (TruncatedSVD(n_components, random_state=self.random_state).fit(X)
                     if n_components >= 1 else None)
        return self

    def transform(self, X):
        return X.toarray() if self.svd_ is None else self.svd_.transform(X)


def _hgb(context, class_weight):
    model = HistGradientBoostingClassifier(
        class_weight=class_weight, max_iter=50 if context.quick else 200,
        early_stopping=not context.quick, random_state=context.seed,
    )
    if context.sparse:  # trees need dense input: reduce the TF-IDF matrix first
        return make_pipeline(_LeadingComponents(100, random_state=context.seed), model)
    return model


@candidate("hgb_class_weight", "HistGradientBoostingClassifier(class_weight='balanced')",
           quick=True, costs="without")
def _hgb_class_weight(context):
    return _hgb(context, "balanced")


@candidate("hgb", "HistGradientBoostingClassifier()", quick=True, costs="with")
def _hgb_plain(context):
    return _hgb(context, None)


@candidate("nn_smote", "SMOTE → NeuralClassifier", costs="without")
def _nn_smote(context):
    return make_imb_pipeline(SMOTE(random_state=context.seed), context.network())


@candidate("balanced_random_forest",
           "imbalanced-learn's BalancedRandomForestClassifier (each tree on a "
           "balanced bootstrap)", costs="without")
def _balanced_random_forest(context):
    return BalancedRandomForestClassifier(
        sampling_strategy="all", replacement=True, bootstrap=False,
        n_estimators=50 if context.quick else 100, random_state=context.seed, n_jobs=1,
    )


@candidate("easy_ensemble",
           "imbalanced-learn's EasyEnsembleClassifier (AdaBoost on balanced "
           "subsamples)", costs="without")
def _easy_ensemble(context):
    return EasyEnsembleClassifier(n_estimators=10, random_state=context.seed, n_jobs=1)


@candidate("nn_balanced_bagging",
           "imbalanced-learn's BalancedBaggingClassifier of 5 NeuralClassifiers, each on "
           "a balanced subsample (named in --configs only: 5 networks per fold)",
           costs="without", default=False)
def _nn_balanced_bagging(context):
    return BalancedBaggingClassifier(context.network(), n_estimators=5,
                                     random_state=context.seed, n_jobs=1)


@candidate("lightgbm_class_weight", "LightGBM's LGBMClassifier(class_weight='balanced')",
           costs="without", requires="lightgbm")
def _lightgbm_class_weight(context):
    return _lightgbm(context, "balanced")


@candidate("lightgbm", "LightGBM's LGBMClassifier()", costs="with", requires="lightgbm")
def _lightgbm_plain(context):
    return _lightgbm(context, None)


def _lightgbm(context, class_weight):
    from lightgbm import LGBMClassifier

    return LGBMClassifier(class_weight=class_weight, n_estimators=50 if context.quick
                          else 100, random_state=context.seed, n_jobs=1, verbose=-1)


@candidate("catboost_balanced",
           "CatBoost's CatBoostClassifier(auto_class_weights='Balanced')",
           costs="without", requires="catboost")
def _catboost_balanced(context):
    return _catboost(context, "Balanced")


@candidate("catboost", "CatBoost's CatBoostClassifier()", costs="with",
           requires="catboost")
def _catboost_plain(context):
    return _catboost(context, None)


def _catboost(context, weights):
    from catboost import CatBoostClassifier

    return CatBoostClassifier(
        auto_class_weights=weights, iterations=200 if context.quick else 1000,
        random_seed=context.seed, thread_count=1, verbose=False,
        allow_writing_files=False,
    )


class _EncodedLabels(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """``estimator`` fitted on the labels' positions in ``classes_``, weighted
    by ``class_weight``.

    XGBoost's classifier accepts only the labels 0 … k-1, and has no
    ``class_weight``: ``'balanced'`` becomes the sample weights
    ``n / (k n_class)``, the weights LightGBM's ``class_weight='balanced'``
    gives, for two classes and for more. (``scale_pos_weight`` has the same
    ratio for two classes, but weights summing to ``2 n_negative`` instead of
    ``n`` change how much ``min_child_weight`` and ``reg_lambda`` weigh.)
    """

    def __init__(self, estimator, class_weight=None):
        self.estimator = estimator
        self.class_weight = class_weight

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        y_index = label_positions(y, self.classes_)
        weights = (None if self.class_weight is None
                   else compute_sample_weight(self.class_weight, y_index))
        self.estimator_ = clone(self.estimator).fit(X, y_index, sample_weight=weights)
        return self

    def predict_proba(self, X):
        # XGBoost's probabilities are float32, whose rows sum to 1 only to
        # about 1e-7: scikit-learn's log-loss (the report's calibration)
        # warns that they are not probabilities.
        proba = np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        return decide(self.predict_proba(X), self.classes_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator).input_tags
        tags.input_tags.sparse, tags.input_tags.allow_nan = inner.sparse, inner.allow_nan
        return tags


@candidate("xgboost_balanced",
           "XGBoost's XGBClassifier with balanced class weights (as "
           "class_weight='balanced')", costs="without", requires="xgboost")
def _xgboost_balanced(context):
    return _xgboost(context, "balanced")


@candidate("xgboost", "XGBoost's XGBClassifier()", costs="with", requires="xgboost")
def _xgboost_plain(context):
    return _xgboost(context, None)


def _xgboost(context, class_weight):
    from xgboost import XGBClassifier

    return _EncodedLabels(
        XGBClassifier(n_estimators=50 if context.quick else 100,
                      random_state=context.seed, n_jobs=1),
        class_weight=class_weight,
    )


@candidate("stack_best", "WeightedStackingClassifier of the 3 best candidates "
                         "(blend chosen on out-of-fold probabilities)",
           ensemble=True)
def _stack_best(context):
    return WeightedStackingClassifier(
        context.best, scoring=context.scoring, cv=3, cost_matrix=context.cost_matrix,
        random_state=context.seed,
    )
