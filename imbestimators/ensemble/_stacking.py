"""WeightedStackingClassifier: blend weights fitted on out-of-fold probabilities."""

import inspect
import warnings
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import ClassifierMixin, TransformerMixin, clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch, check_random_state, get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    has_fit_parameter,
    validate_data,
)

from ..metrics import check_scoring_positive, decide
from ..metrics._precomputed import PrecomputedClassifier
from ..utils import check_cost_matrix
from ..utils._compat import BaseComposition, StrOptions, check_sample_weight, safe_indexing
from ..utils._labels import label_positions
from ..utils._persistence import checked_state, stamped_state
from ._fast_scores import order_only, prepared_score
from ._weights import (
    OPTIMIZERS,
    fit_recalibration,
    optimize_weights,
    recalibrate,
    resolve_optimizer,
    to_simplex,
)

_OPTIMIZER_PARAMS = {"slsqp": {"maxiter", "ftol"}, "greedy": {"n_iter"}}

# The weight of the uniform average in blend='auto''s candidates, most
# shrunk first, so that ties go to the simpler blend.
_SHRINKAGE = (1.0, 0.75, 0.5, 0.25, 0.0)

# The geometric mean takes logs of the probabilities: a base that gives a
# class probability 0 would veto it, so each probability counts at least this
# much (one base can move a logit by at most about 14).
_LOG_FLOOR = 1e-6
_AVERAGES = {"auto": ("arithmetic", "geometric"), "arithmetic": ("arithmetic",),
             "geometric": ("geometric",)}


class WeightedStackingClassifier(TransformerMixin, ClassifierMixin, BaseComposition):
    """Weighted average of classifiers, weights fitted on out-of-fold probabilities.

    Every base estimator is cross-validated on the same stratified folds (one
    flat joblib loop over (estimator, fold) pairs); non-negative weights
    summing to 1 are then fitted to maximise ``scoring`` of the weighted
    average of the out-of-fold (OOF) probabilities. Because those weights are
    tuned on the rows they are scored on, the in-sample ``oof_score_`` is
    optimistic; ``cv_score_`` is the honest estimate: the weight fit is
    itself cross-validated on the OOF rows (weights fitted on k-1 folds,
    the held-out fold blended and scored with them, the fold scores
    averaged). The same held-out folds decide, by default, whether the
    fitted weights (shrunk toward uniform or not), the best base alone, or
    the plain average predicts, and whether the blend is recalibrated: the
    plain average unless something beats it there by more than the gain's
    standard error (``blend='auto'``, ``recalibrate='auto'``).

    Read more in the :ref:`User Guide <stacking>`.

    Parameters
    ----------
    estimators : list of (str, estimator) tuples
        The base classifiers; each needs ``predict_proba``. A Pipeline whose
        first step selects columns gives a base its own feature group.
        Parameters of a base are tunable as ``<name>__<param>``.
    scoring : str, callable or None, default='neg_log_loss'
        The score the weights maximise: a scorer name, a scorer from
        :func:`sklearn.metrics.make_scorer`, or ``scorer(estimator, X, y,
        sample_weight=None)``. It is evaluated on a fitted view of the
        blended probabilities whose ``predict`` applies ``cost_matrix``.
        ``None`` uses accuracy. For two classes, a name whose metric needs a
        positive class (``'average_precision'``, ``'f1'`` …) scores the
        minority class (:func:`imbestimators.metrics.positive_class`), whatever
        the labels; pass ``make_scorer(..., pos_label=...)`` to choose another.
    optimizer : {'auto', 'slsqp', 'differential_evolution', 'greedy'}, \
default='auto'
        'slsqp': constrained gradient search, for smooth scores (log-loss,
        Brier). 'differential_evolution': scipy's global search over the
        simplex, seeded by ``random_state``. 'greedy': ensemble selection
        with replacement (Caruana et al., 2004), the best prefix kept.
        'auto': 'slsqp' for log-loss and Brier, 'greedy' otherwise.
    optimizer_params : dict, default=None
        'slsqp': ``maxiter`` (200), ``ftol`` (1e-10); 'greedy': ``n_iter``
        (50 rounds); 'differential_evolution': keyword arguments of
        :func:`scipy.optimize.differential_evolution` (``maxiter`` 100 by
        default).
    cv : int, cross-validation generator or iterable, default=5
        The folds of the OOF predictions and of ``cv_score_``. An int gives
        a shuffled :class:`~sklearn.model_selection.StratifiedKFold` seeded
        by ``random_state``. The test folds must partition the samples.
    cost_matrix : array-like of shape (n_classes, n_classes), dict or None, \
default=None
        ``C[i, j]`` is the cost of predicting ``classes_[j]`` when the truth
        is ``classes_[i]``. With it, ``predict`` returns the class of minimum
        expected cost under ``predict_proba`` (also inside ``scoring``).
    blend : {'auto', 'fitted', 'uniform', 'best_member'}, default='auto'
        Which weights predict. 'fitted': the optimiser's weights.
        'uniform': the plain average of the bases (no weight fit).
        'best_member': the base with the best OOF score alone.
        'auto': whichever of these and of the fitted weights shrunk toward
        the uniform ones, ``(1 - s) * fitted + s * uniform`` for ``s`` in
        {0.25, 0.5, 0.75}, scores best in the nested cross-validation of
        ``cv_scores_``, kept only if that beats the uniform average there by
        more than the gain's standard error (see below); else the uniform
        average. Fitted weights on a noisy score (average precision with a
        hundred positives) can overfit the OOF rows and lose to the plain
        average on new data; 'auto' keeps them only with evidence.
    average : {'arithmetic', 'geometric', 'auto'}, default='arithmetic'
        How the weights combine the bases' probabilities. 'arithmetic':
        ``sum_m w_m p_m``. 'geometric': the normalised weighted geometric
        mean, ``softmax(sum_m w_m log p_m)`` (each probability floored at
        1e-6), which for two classes is the weighted mean of the bases'
        logits; the weights are fitted in that space. A base sure of a row
        counts more than in the arithmetic mean, and bases calibrated
        differently (boosting's extreme probabilities, a network's moderate
        ones) meet on one scale. 'auto': the candidates of ``blend`` in both
        averages, compared as below; the simplest stays the uniform
        arithmetic average. On this project's benchmark 'auto' did not beat
        'arithmetic' and doubled the weight step (see the
        :ref:`User Guide <stacking>`).
    recalibrate : 'auto' or bool, default='auto'
        Whether the blend is recalibrated: ``softmax(a * log(p) + b)`` with
        one slope ``a > 0`` and one offset per class, fitted for log-loss on
        the blended OOF probabilities against Platt's targets (Platt scaling
        of the blend for binary problems, as scikit-learn's
        ``CalibratedClassifierCV(method='sigmoid')``; the targets keep the
        slope finite when the OOF probabilities separate the classes).
        Bases trained with class weights or resampling predict inflated
        minority probabilities, and so does their average; this
        undoes that, which matters for log-loss and for ``cost_matrix``
        decisions. The slope is positive, so ranking scores (average
        precision, ROC AUC) are unchanged. 'auto': only with evidence, as
        for ``blend``; never for the binary 'average_precision' and
        'roc_auc', which it cannot change.

        With 'auto' in ``blend``, ``average`` or ``recalibrate``, every
        allowed (weights, average, recalibration) candidate is scored on the
        held-out folds of ``cv_scores_``; the best mean is used if its mean
        paired gain over the simplest candidate (the uniform arithmetic
        average, not recalibrated) exceeds the gain's standard error,
        otherwise the simplest. What was
        decided and why is in ``blend_``, ``shrinkage_``, ``average_``,
        ``recalibrated_`` and ``blend_evidence_``.
    refit : bool, default=True
        Refit each base on all the data (in the same joblib loop as the
        folds). ``False`` keeps the fold models and averages their
        probabilities at predict time: no extra fit, ``cv`` times the
        predict cost.
    n_jobs : int, default=None
        Parallel (estimator, fold) fits, through joblib (any backend).
    random_state : int, RandomState instance or None, default=None
        Seeds the folds of an int ``cv`` and differential evolution.
    verbose : int, default=0
        joblib's progress messages.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when X has string feature names.
    estimators_ : list of estimators
        The fitted bases, in the order of ``estimators`` (with
        ``refit=False``, each averages its fold models).
    named_estimators_ : Bunch
        ``estimators_`` by name.
    weights_ : ndarray of shape (n_estimators,)
        The weights ``predict_proba`` uses: non-negative, summing to 1 (0 for
        a base left out, see ``excluded_``).
    fitted_weights_ : ndarray of shape (n_estimators,)
        The optimiser's weights on all the OOF rows, before shrinkage, for
        the average ``average_`` (uniform with ``blend='uniform'``).
    blend_ : {'fitted', 'shrunk', 'uniform', 'best_member'}
        What ``weights_`` are: the fitted weights, fitted weights shrunk
        toward uniform, the uniform average, or the best base alone.
    shrinkage_ : float
        The weight ``s`` of the uniform average in ``weights_`` (``nan`` for
        'best_member').
    average_ : {'arithmetic', 'geometric'}
        How ``predict_proba`` averages the bases with ``weights_``.
    recalibrated_ : bool
        Whether ``predict_proba`` recalibrates the blend.
    recalibration_ : ndarray of shape (n_classes + 1,) or None
        ``[a, b_0, ..., b_{n_classes - 1}]`` of the recalibration, fitted on
        all the blended OOF rows; ``None`` when not recalibrated.
    blend_evidence_ : dict
        Why: ``'candidates'`` (the (mix, average, recalibrated) triples
        compared, simplest first; a mix is ``s`` or 'best_member'),
        ``'cv_scores'`` (array of shape (n_candidates, n_splits): each
        candidate's held-out fold scores), ``'gain'`` and
        ``'gain_se'`` (mean per-fold gain of the best candidate over the
        simplest, and its standard error) and ``'reason'`` (a sentence).
    excluded_ : list of str
        Bases left out of the blend (weight 0) because their OOF
        probabilities are not finite or do not vary; each is named in a
        warning.
    optimizer_ : str
        The optimiser used (what 'auto' resolved to).
    oof_predictions_ : ndarray of shape (n_samples, n_estimators, n_classes)
        Out-of-fold probabilities of every base.
    pos_label_ : label or None
        The positive class a named binary scorer used (the minority class);
        None where ``scoring`` is not such a name.
    oof_score_ : float
        Score of the OOF rows blended as ``predict_proba`` blends (weights
        and recalibration fitted on these same rows, so optimistic), all
        rows pooled into one score.
    cv_score_ : float
        Honest estimate: the mean of ``cv_scores_`` over the folds that could
        be scored, as :func:`~sklearn.model_selection.cross_val_score` would
        average them (unweighted: every fold counts once, whatever its size
        or total sample weight). ``nan`` only if no fold could be scored.
        Unlike ``oof_score_`` (one score of all OOF rows pooled) it is a mean
        of scores of smaller parts, so for ranking scores the two are not on
        the same footing: on small folds average precision is biased upward,
        and ``cv_score_`` can exceed ``oof_score_`` (see the
        :ref:`User Guide <stacking>`).
    cv_score_se_ : float
        Standard error of ``cv_score_``: the standard deviation of the scored
        folds over the square root of their number (``nan`` with fewer than
        two). The folds share training rows, so it is a lower bound.
    cv_scores_ : ndarray of shape (n_splits,)
        For each fold ``k`` of ``cv``: ``scoring`` of the OOF rows of fold
        ``k`` alone (with their ``sample_weight``), blended with
        ``cv_weights_[k]``, weights fitted on the OOF rows of the other folds
        only, as the candidate that ``blend``/``recalibrate`` pick from the
        other folds' scores (any recalibration fitted on those folds too):
        the whole procedure, its choice included, is cross-validated. With
        ``'auto'`` and 2 folds, one fold is too few to pick from, so these
        are the plain average's scores. ``nan``, with a warning, for a fold
        whose held-out part lacks a class of ``classes_`` (ranking scores such as ROC AUC or
        average precision are undefined there), or whose score fails or is
        not finite (e.g. its sample weights sum to 0); such folds are left
        out of ``cv_score_``.
    cv_weights_ : ndarray of shape (n_splits, n_estimators)
        The weights used for each fold of ``cv_scores_`` (their spread
        shows how stable the weights are). The held-out blends themselves
        are not stored: fold ``k``'s is the average (that of the candidate
        picked for it) of ``oof_predictions_[test]`` over the estimators with
        weights ``cv_weights_[k]``, ``test`` the held-out rows of fold ``k``.
    oof_score_uniform_ : float
        Score of the uniform average of the OOF probabilities.
    oof_scores_individual_ : ndarray of shape (n_estimators,)
        Score of each base's OOF probabilities.
    cost_matrix_ : ndarray of shape (n_classes, n_classes) or None

    See Also
    --------
    sklearn.ensemble.StackingClassifier : an unconstrained meta-learner on
        the OOF predictions.
    sklearn.ensemble.VotingClassifier : weights given by hand.

    Notes
    -----
    A pickle (or joblib file) of the estimator records the imbestimators
    version that wrote it; loading one written by another major version
    raises ``ValueError``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from imbestimators import WeightedStackingClassifier
    >>> from imbestimators.datasets import load_ecoli
    >>> X, y = load_ecoli(return_X_y=True)
    >>> clf = WeightedStackingClassifier(
    ...     [("lr", LogisticRegression()), ("nb", GaussianNB()),
    ...      ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))],
    ...     random_state=0).fit(X, y)
    >>> clf.weights_.shape, round(float(clf.weights_.sum()), 6)
    ((3,), 1.0)
    >>> bool(clf.oof_score_ >= clf.cv_score_)
    True
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {
        "estimators": [list],
        "scoring": [None, str, callable],
        "optimizer": [StrOptions({"auto", *OPTIMIZERS})],
        "optimizer_params": [None, dict],
        "cv": ["cv_object"],
        "cost_matrix": [None, "array-like", dict],
        "blend": [StrOptions({"auto", "fitted", "uniform", "best_member"})],
        "average": [StrOptions(set(_AVERAGES))],
        "recalibrate": [StrOptions({"auto"}), "boolean"],
        "refit": ["boolean"],
        "n_jobs": [None, Integral],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimators,
        *,
        scoring="neg_log_loss",
        optimizer="auto",
        optimizer_params=None,
        cv=5,
        cost_matrix=None,
        blend="auto",
        average="arithmetic",
        recalibrate="auto",
        refit=True,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.estimators = estimators
        self.scoring = scoring
        self.optimizer = optimizer
        self.optimizer_params = optimizer_params
        self.cv = cv
        self.cost_matrix = cost_matrix
        self.blend = blend
        self.average = average
        self.recalibrate = recalibrate
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def get_params(self, deep=True):
        """Parameters, with ``<name>__<param>`` of every base when ``deep``.

        Parameters
        ----------
        deep : bool, default=True

        Returns
        -------
        params : dict
        """
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        """Set parameters, including ``<name>`` and ``<name>__<param>``.

        Parameters
        ----------
        **params : dict

        Returns
        -------
        self : WeightedStackingClassifier
        """
        return self._set_params("estimators", **params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        bases = [est for _, est in _pairs(self.estimators)]
        tags.input_tags.sparse = bool(bases) and all(
            get_tags(est).input_tags.sparse for est in bases
        )
        tags.input_tags.allow_nan = bool(bases) and all(
            get_tags(est).input_tags.allow_nan for est in bases
        )
        return tags

    # ------------------------------------------------------------------ fit

    def fit(self, X, y, sample_weight=None):
        """Cross-validate the bases, fit the blend weights, refit the bases.

        Parameters
        ----------
        X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)
            Passed to the bases unchanged (so column-selecting pipelines can
            select by name).
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every base whose ``fit`` (or whose pipeline's last
            step) accepts it, and used in the weight objective.

        Returns
        -------
        self : WeightedStackingClassifier
        """
        self._validate_params()
        names, bases = self._check_estimators()
        X = self._validate_X(X, reset=True)
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        try:
            check_classification_targets(y)
            self.classes_ = np.unique(y)
        except TypeError as exc:
            raise TypeError(
                "y must hold class labels of one sortable type (all strings or all "
                f"numbers); sorting them failed: {exc}."
            ) from exc
        if len(self.classes_) < 2:
            raise ValueError(
                "y must contain samples of at least 2 classes; got 1 class: "
                f"{self.classes_.tolist()!r}."
            )
        y_index = label_positions(y, self.classes_)
        if sample_weight is not None:
            sample_weight = check_sample_weight(
                sample_weight, y, ensure_non_negative=True
            )
        self.cost_matrix_ = (
            None if self.cost_matrix is None
            else check_cost_matrix(self.cost_matrix, self.classes_)
        )
        scorer, self.pos_label_ = (
            check_scoring_positive(self.scoring, self.classes_,
                                   np.bincount(y_index, minlength=len(self.classes_)))
            if isinstance(self.scoring, str) else (check_scoring(self, self.scoring), None)
        )
        self.optimizer_ = resolve_optimizer(self.optimizer, self.scoring, scorer)
        optimizer_params = self._check_optimizer_params()
        rng = check_random_state(self.random_state)
        folds = self._folds(X, y, y_index, rng)
        optimizer_seed = int(rng.randint(np.iinfo(np.int32).max))

        self._fit_bases(names, bases, X, y, sample_weight, folds)
        kept = self._blendable(names, folds)
        n_kept = len(kept)
        uniform = np.full(n_kept, 1.0 / n_kept)

        def score_on(rows, average="arithmetic"):
            return self._blend_score(scorer, y, sample_weight, rows, kept, average)

        def fit_weights(rows, average):
            return optimize_weights(
                score_on(rows, average), n_kept, self.optimizer_, optimizer_params,
                optimizer_seed,
            )

        # Honest estimate, as cross_val_score computes one: each fold's OOF rows
        # are blended with weights fitted on the other folds' OOF rows and
        # scored alone; cv_score_ is the mean of the fold scores. (Pooling the
        # folds into one score mixes blends of different weights, which for
        # ranking scores such as AP or ROC AUC is strongly pessimistic.) Every
        # candidate blend (weights, recalibration) is scored on the same
        # folds: that is the evidence blend='auto' and recalibrate='auto'
        # decide on.
        candidates = self._candidates()
        all_rows = np.arange(len(y))
        # Only what some candidate uses is computed: the optimiser's weights
        # in each space with a shrunk or fitted mix, the best base for
        # 'best_member'.
        fitted_in = {a for m, a, _ in candidates if m != "best_member" and m < 1.0}
        fold_weights = {a: [fit_weights(np.setdiff1d(all_rows, test), a)
                            if a in fitted_in else uniform for _, test in folds]
                        for a in _AVERAGES[self.average]}
        fold_best = [self._best_member(np.setdiff1d(all_rows, test), kept, scorer, y,
                                       sample_weight)
                     if any(m == "best_member" for m, _, _ in candidates) else None
                     for _, test in folds]
        scores = np.full((len(candidates), len(folds)), np.nan)
        cv_weights = np.empty((len(candidates), len(folds), n_kept))
        unscored = {}
        for g, (mix, average, recalibrated) in enumerate(candidates):
            for k, (_, test) in enumerate(folds):
                weights = cv_weights[g, k] = _mixed(mix, fold_weights[average][k],
                                                    fold_best[k])
                params = (self._recalibration(np.setdiff1d(all_rows, test), weights,
                                              kept, y_index, sample_weight, average)
                          if recalibrated else None)
                scores[g, k], reason = self._fold_score(
                    scorer, y, y_index, sample_weight, test, weights, kept, average,
                    params
                )
                if reason is not None:
                    unscored.setdefault(k, f"fold {k}: {reason.rstrip('.')}")
        if unscored:
            self._warn_unscored(list(unscored.values()), len(folds), y_index)
        choice, self.blend_evidence_ = _choose_blend(candidates, scores)
        mix, self.average_, self.recalibrated_ = candidates[choice]
        self.blend_ = {0.0: "fitted", 1.0: "uniform", "best_member": "best_member"}.get(
            mix, "shrunk")
        self.shrinkage_ = float("nan") if mix == "best_member" else float(mix)
        if self.verbose and len(candidates) > 1:
            print(f"WeightedStackingClassifier: blend_={self.blend_!r}, "
                  f"average_={self.average_!r}, recalibrated_={self.recalibrated_}: "
                  f"{self.blend_evidence_['reason']}")
        # The choice itself is part of what cv_score_ estimates: fold k is
        # scored with the candidate the same rule picks from the other folds'
        # scores (picking on all folds and quoting the winner's fold scores
        # would report the best of the candidates' noise).
        picks = [_choose_blend(candidates, np.delete(scores, k, axis=1))[0]
                 for k in range(len(folds))]
        self.cv_weights_ = np.zeros((len(folds), len(bases)))
        self.cv_weights_[:, kept] = cv_weights[picks, np.arange(len(folds))]
        self.cv_scores_ = scores[picks, np.arange(len(folds))]
        scored = self.cv_scores_[np.isfinite(self.cv_scores_)]
        self.cv_score_ = float(scored.mean()) if scored.size else float("nan")
        self.cv_score_se_ = (
            float(scored.std(ddof=1) / np.sqrt(scored.size)) if scored.size > 1
            else float("nan")
        )

        score = score_on(all_rows)
        score_rows = self._scorer_on(scorer, y, sample_weight)
        self.oof_scores_individual_ = np.array([
            score_rows(self.oof_predictions_[:, i]) if i in kept else np.nan
            for i in range(len(bases))
        ])
        fitted = (fit_weights(all_rows, self.average_) if self.average_ in fitted_in
                  else uniform)
        self.fitted_weights_ = np.zeros(len(bases))
        self.fitted_weights_[kept] = fitted
        # The best base on all rows, first of equals (as _best_member picks).
        best = np.eye(n_kept)[self._first_best(self.oof_scores_individual_[kept])]
        self.weights_ = np.zeros(len(bases))
        self.weights_[kept] = _mixed(mix, fitted, best)
        self.recalibration_ = (
            self._recalibration(all_rows, self.weights_[kept], kept, y_index,
                                sample_weight, self.average_)
            if self.recalibrated_ else None
        )
        self.oof_score_ = score_rows(self._oof_blend(all_rows))
        self.oof_score_uniform_ = score(uniform)
        return self

    def _best_member(self, rows, kept, scorer, y, sample_weight):
        """One-hot weights (over ``kept``) of the base with the best OOF score
        on ``rows`` (the first of equals)."""
        score = self._scorer_on(scorer, y[rows],
                                None if sample_weight is None else sample_weight[rows])
        scores = [score(self.oof_predictions_[rows, i]) for i in kept]
        return np.eye(len(kept))[self._first_best(scores)]

    def _first_best(self, scores):
        """Index of the best score (the first of equals); a named error when no
        base has a score (e.g. average precision with no weighted positive)."""
        scores = np.asarray(scores, dtype=float)
        if np.all(np.isnan(scores)):
            raise ValueError(
                f"scoring={self.scoring!r} is undefined (NaN) for every base on these "
                "rows: does sample_weight leave a single class with positive weight, "
                "or a fold without the positive class? Give both classes weight, or "
                "use scoring='neg_log_loss'."
            )
        return int(np.nanargmax(scores))

    def _candidates(self):
        """The (mix, average, recalibrated) blends the nested folds compare, a
        mix being the weight of the uniform average in a shrunk blend or
        'best_member' (one base alone: the same in either average); the
        first, the simplest, is what stays without evidence against it."""
        shrinkage = {"auto": (*_SHRINKAGE, "best_member"), "fitted": (0.0,),
                     "uniform": (1.0,), "best_member": ("best_member",)}[self.blend]
        recalibrated = {"auto": (False, True), True: (True,), False: (False,)}[
            self.recalibrate]
        if self.recalibrate == "auto" and order_only(self.scoring, len(self.classes_)):
            # Recalibration keeps the order of the rows: its fold scores would
            # be the same, and the simpler blend wins ties.
            recalibrated = (False,)
        averages = _AVERAGES[self.average]
        return [(s, a, r) for r in recalibrated for a in averages for s in shrinkage
                if s != "best_member" or a == averages[0]]

    def _recalibration(self, rows, weights, kept, y_index, sample_weight, average):
        """:func:`fit_recalibration` on the blend of the OOF ``rows``."""
        proba = _blend(self.oof_predictions_[np.ix_(rows, kept)], weights, average)
        return fit_recalibration(
            proba, y_index[rows], None if sample_weight is None else sample_weight[rows]
        )

    def _oof_blend(self, rows):
        """What ``predict_proba`` gives, on the OOF probabilities of ``rows``."""
        used = np.flatnonzero(self.weights_ > 0)
        proba = _blend(self.oof_predictions_[np.ix_(rows, used)], self.weights_[used],
                       self.average_)
        return proba if self.recalibration_ is None else recalibrate(
            proba, self.recalibration_)

    def _blendable(self, names, folds):
        """Indices of the bases whose OOF probabilities can be blended; the
        others are named in a warning and left out (weight 0). A base whose
        probabilities do not vary within any fold (a prior: nothing about the
        rows) is left out only when another base can be blended."""
        oof = self.oof_predictions_
        broken, constant = {}, {}
        for i, name in enumerate(names):
            if not np.all(np.isfinite(oof[:, i])):
                broken[name] = "its OOF probabilities are not all finite (NaN or inf)"
            elif all(np.ptp(oof[test, i], axis=0).max() <= 1e-12 for _, test in folds):
                constant[name] = ("its OOF probabilities are the same for every sample "
                                  "of each fold")
        if len(broken) == len(names):
            raise ValueError(
                "estimators: no base can be blended: "
                + "; ".join(f"{n!r}: {why}" for n, why in broken.items()) + "."
            )
        bad = broken if len(broken) + len(constant) == len(names) else {
            **broken, **constant}
        bad = {name: bad[name] for name in names if name in bad}
        self.excluded_ = list(bad)
        if bad:
            warnings.warn(
                "estimators: left out of the blend (weight 0): "
                + "; ".join(f"{n!r}: {why}" for n, why in bad.items()) + ".",
                UserWarning,
            )
        return [i for i, name in enumerate(names) if name not in bad]

    def _fit_bases(self, names, bases, X, y, sample_weight, folds):
        """One joblib loop over (estimator, fold) pairs, plus the refits."""
        tasks = [(i, k) for i in range(len(bases)) for k in range(len(folds))]
        if self.refit:
            tasks += [(i, None) for i in range(len(bases))]
        fit_kwargs = [_sample_weight_kwargs(name, est, sample_weight)
                      for name, est in zip(names, bases)]
        results = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            delayed(_fit_one)(
                clone(bases[i]), X, y, fit_kwargs[i],
                None if k is None else folds[k], names[i], k, self.classes_,
                keep=k is None or not self.refit,
            )
            for i, k in tasks
        )
        oof = np.empty((len(y), len(bases), len(self.classes_)))
        fold_models = [[None] * len(folds) for _ in bases]
        self.estimators_ = [None] * len(bases)
        for (i, k), (model, proba) in zip(tasks, results):
            if k is None:
                self.estimators_[i] = model
            else:
                oof[folds[k][1], i] = proba
                fold_models[i][k] = model
        if not self.refit:
            self.estimators_ = [
                _FoldAverage(models, self.classes_) for models in fold_models
            ]
        self.named_estimators_ = Bunch(**dict(zip(names, self.estimators_)))
        self.oof_predictions_ = oof

    def _blend_score(self, scorer, y, sample_weight, rows, kept, average="arithmetic"):
        """``score(weights)`` of the blended OOF probabilities of ``rows``
        (weights of the ``kept`` bases)."""
        oof = _estimators_last(self.oof_predictions_[np.ix_(rows, kept)], average)
        score_proba = self._scorer_on(
            scorer, y[rows], None if sample_weight is None else sample_weight[rows])

        def score(weights):
            return score_proba(_blend(oof, weights, average, estimators_last=True))

        return score

    def _fold_score(self, scorer, y, y_index, sample_weight, test, weights, kept,
                    average="arithmetic", params=None):
        """``(score, None)`` of fold ``test`` blended with ``weights`` (then
        recalibrated with ``params``), or ``(nan, reason)`` when the fold
        cannot be scored."""
        missing = np.setdiff1d(np.arange(len(self.classes_)), y_index[test])
        if missing.size:
            # Ranking scores are undefined there and others are skewed; sklearn's
            # scorers return nan, 0 or raise depending on the metric.
            return np.nan, (
                f"its held-out part has no sample of class(es) "
                f"{self.classes_[missing].tolist()!r}"
            )
        try:
            proba = _blend(self.oof_predictions_[np.ix_(test, kept)], weights, average)
            if params is not None:
                proba = recalibrate(proba, params)
            score = self._score(scorer, proba, y[test],
                                None if sample_weight is None else sample_weight[test])
        except (ValueError, ZeroDivisionError) as exc:  # e.g. weights summing to 0
            return np.nan, f"the scorer failed: {type(exc).__name__}: {exc}"
        if not np.isfinite(score):
            return np.nan, f"the score is {score}"
        return score, None

    def _warn_unscored(self, unscored, n_folds, y_index):
        left = n_folds - len(unscored)
        outcome = (
            f"cv_score_ is the mean over the other {left}" if left
            else "cv_score_ is nan"
        )
        hint = (
            " With stratified folds, every held-out part holds every class when each "
            "class has at least "
            f"as many samples as there are folds (class counts: "
            f"{np.bincount(y_index, minlength=len(self.classes_)).tolist()})."
            if any("no sample of class" in u for u in unscored) else ""
        )
        warnings.warn(
            f"cv: {len(unscored)} of {n_folds} held-out folds could not be scored "
            f"and are left out of cv_score_ (nan in cv_scores_); {outcome}. "
            + "; ".join(unscored) + "." + hint,
            UserWarning,
        )

    def _validate_X(self, X, reset):
        # DataFrames go to the bases untouched (pipelines select columns by
        # name); anything else becomes a 2-D array or CSR/CSC matrix the bases
        # validate further (NaN, dtype: each base knows what it accepts).
        return validate_data(
            self, X, reset=reset, skip_check_array=hasattr(X, "columns"),
            accept_sparse=["csr", "csc"], ensure_all_finite=False, dtype=None,
        )

    def _check_estimators(self):
        if not self.estimators:
            raise ValueError(
                "estimators must be a non-empty list of (name, estimator) tuples; "
                "got an empty list."
            )
        if not all(isinstance(p, tuple) and len(p) == 2 for p in self.estimators):
            raise TypeError(
                "estimators must be a list of (name, estimator) tuples; got "
                f"{self.estimators!r}."
            )
        names, bases = zip(*self.estimators)
        if not all(isinstance(name, str) for name in names):
            raise TypeError(f"estimators names must be strings; got {list(names)!r}.")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(
                f"estimators names must be unique; {duplicates!r} appear more than once."
            )
        self._validate_names(names)
        for name, est in self.estimators:
            if not hasattr(est, "fit") or not hasattr(est, "predict_proba"):
                raise TypeError(
                    f"estimators: {name!r} ({type(est).__name__}) has no predict_proba; "
                    "every base must be a classifier with predict_proba (e.g. "
                    "SVC(probability=True), or wrap it in CalibratedClassifierCV)."
                )
        return list(names), list(bases)

    def _check_optimizer_params(self):
        params = dict(self.optimizer_params or {})
        if self.optimizer_ == "differential_evolution":
            from scipy.optimize import differential_evolution

            allowed = set(inspect.signature(differential_evolution).parameters)
            allowed -= {"func", "bounds"}
        else:
            allowed = _OPTIMIZER_PARAMS[self.optimizer_]
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise ValueError(
                f"optimizer_params has keys {unknown!r} that optimizer "
                f"{self.optimizer_!r} does not take; it takes {sorted(allowed)!r}."
            )
        return params

    def _folds(self, X, y, y_index, rng):
        if isinstance(self.cv, Integral):
            cv = StratifiedKFold(
                self.cv, shuffle=True, random_state=rng.randint(np.iinfo(np.int32).max)
            )
        else:
            cv = check_cv(self.cv, y, classifier=True)
        try:
            folds = [
                (np.asarray(train), np.asarray(test)) for train, test in cv.split(X, y)
            ]
        except ValueError as exc:  # e.g. every class smaller than n_splits
            raise ValueError(
                f"cv: the folds cannot be formed: {exc} (class counts: "
                f"{np.bincount(y_index).tolist()})"
            ) from exc
        counts = np.zeros(len(y), dtype=int)
        for k, (train, test) in enumerate(folds):
            counts[test] += 1
            missing = np.setdiff1d(np.arange(len(self.classes_)), y_index[train])
            if missing.size:
                raise ValueError(
                    f"cv: the training part of fold {k} has no sample of class(es) "
                    f"{self.classes_[missing].tolist()!r}, so its models could not "
                    "predict them; every class needs at least as many samples as "
                    f"there are folds (class counts: {np.bincount(y_index).tolist()})."
                )
        if len(folds) < 2 or np.any(counts != 1):
            raise ValueError(
                "cv must give at least 2 folds whose test parts partition the "
                "samples (every sample predicted out-of-fold exactly once)."
            )
        return folds

    def _score(self, scorer, proba, y, sample_weight):
        return self._scorer_on(scorer, y, sample_weight)(proba)

    def _scorer_on(self, scorer, y, sample_weight):
        """``score(proba)`` of the rows ``y``: the shortcut where it applies
        (prepared once for the many blends of the same rows), else
        ``scorer`` on a classifier that returns ``proba``."""
        positive = (1 if self.pos_label_ is None
                    else int(label_positions([self.pos_label_], self.classes_)[0]))
        fast = prepared_score(self.scoring, self.classes_, y, sample_weight, positive,
                              self.cost_matrix_)
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}

        def score(proba):
            value = fast(proba)
            if value is not None:
                return value
            view = PrecomputedClassifier(self.classes_, proba, self.cost_matrix_)
            return float(scorer(view, np.empty((len(y), 0)), y, **kwargs))

        return score

    # ---------------------------------------------------------- persistence

    def __getstate__(self):
        return stamped_state(super().__getstate__())

    def __setstate__(self, state):
        state = checked_state(state, type(self).__name__)
        # Pickles made before average= existed blended arithmetically.
        state.setdefault("average", "arithmetic")
        if "weights_" in state:
            state.setdefault("average_", "arithmetic")
        super().__setstate__(state)

    # -------------------------------------------------------------- predict

    def _base_proba(self, X, which):
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return [
            _aligned_proba(self.estimators_[i], X, self.classes_) for i in which
        ]

    def predict_proba(self, X):
        """Weighted average (``average_``) of the bases' probabilities.

        Bases with weight 0 are not evaluated.

        Parameters
        ----------
        X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        used = np.flatnonzero(self.weights_ > 0)
        probas = self._base_proba(X, used)
        proba = _blend(np.stack(probas, axis=1), self.weights_[used], self.average_)
        return proba if self.recalibration_ is None else recalibrate(
            proba, self.recalibration_)

    def predict(self, X):
        """Minimum expected cost class with ``cost_matrix``, else the most probable.

        Parameters
        ----------
        X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        return decide(self.predict_proba(X), self.classes_, self.cost_matrix_)

    def transform(self, X):
        """The probabilities of every base.

        Parameters
        ----------
        X : array-like, DataFrame or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_estimators) or \
(n_samples, n_estimators * n_classes)
            For binary problems the probability of ``classes_[1]`` per base,
            otherwise every class's probability, base after base (the layout
            of :class:`sklearn.ensemble.StackingClassifier`).
        """
        check_is_fitted(self)
        probas = self._base_proba(X, range(len(self.estimators_)))
        if len(self.classes_) == 2:
            return np.column_stack([p[:, 1] for p in probas])
        return np.hstack(probas)


def _mixed(mix, fitted, best):
    """The weights of a candidate: ``fitted`` shrunk toward uniform by ``mix``,
    or the one-hot ``best`` member for ``mix='best_member'``."""
    if mix == "best_member":
        return best
    return (1.0 - mix) * fitted + mix / len(fitted)


def _describe(candidate):
    mix, average, recalibrated = candidate
    if mix == "best_member":
        return "the base with the best OOF score" + (", recalibrated" if recalibrated
                                                     else "")
    name = {0.0: "the fitted weights", 1.0: "the uniform average"}.get(
        mix, f"the fitted weights shrunk by {mix} toward uniform")
    if average == "geometric":
        name = "the geometric mean with " + name.replace("the uniform average",
                                                         "uniform weights")
    return name + (", recalibrated" if recalibrated else "")


def _choose_blend(candidates, scores, n_se=1.0):
    """Index of the candidate to use, and the evidence: the best mean fold
    score, kept only if its paired gain over the first candidate (the
    simplest) exceeds ``n_se`` standard errors (one: the estimator's rule;
    ``benchmarks/bench_stacking.py`` studies others); else the first."""
    scored = np.all(np.isfinite(scores), axis=0)
    evidence = {"candidates": list(candidates), "cv_scores": scores,
                "gain": 0.0, "gain_se": float("nan")}
    if len(candidates) == 1:
        evidence["reason"] = "the only candidate the parameters allow."
        return 0, evidence
    if scored.sum() < 2:
        evidence["reason"] = (f"fewer than 2 held-out folds could be scored, so "
                              f"nothing shows a blend beating {_describe(candidates[0])}.")
        return 0, evidence
    best = int(np.argmax(scores[:, scored].mean(axis=1)))  # first maximum: simplest
    gain = scores[best, scored] - scores[0, scored]
    evidence["gain"] = float(gain.mean())
    evidence["gain_se"] = float(gain.std(ddof=1) / np.sqrt(gain.size))
    if best != 0 and evidence["gain"] > n_se * evidence["gain_se"]:
        evidence["reason"] = (
            f"{_describe(candidates[best])} beat {_describe(candidates[0])} by "
            f"{evidence['gain']:.4g} per held-out fold on average, more than the "
            f"gain's standard error {evidence['gain_se']:.2g}."
        )
        return best, evidence
    evidence["reason"] = (
        f"no candidate beat {_describe(candidates[0])} on the held-out folds by more "
        f"than the standard error of the gain (best gain {evidence['gain']:.4g}, "
        f"standard error {evidence['gain_se']:.2g})."
    )
    return 0, evidence


class _FoldAverage:
    """The fold models of one base, predicting the mean of their probabilities."""

    def __init__(self, estimators, classes):
        self.estimators = estimators
        self.classes_ = classes

    def predict_proba(self, X):
        return np.mean(
            [_aligned_proba(est, X, self.classes_) for est in self.estimators], axis=0
        )


def _blend(proba, weights, average="arithmetic", estimators_last=False):
    """Weighted average over the estimator axis, rows renormalised to sum 1.

    ``proba`` is (n, estimators, classes), or with ``estimators_last`` what
    :func:`_estimators_last` makes of it for ``average``, (n, classes,
    estimators) and C-contiguous, laid out once for many blends: then the
    average is one matrix-vector product, several times faster than a sum
    over the middle axis. The geometric average is the arithmetic one of the
    log-probabilities, exponentiated.
    """
    if not estimators_last:
        proba = _estimators_last(proba, average)
    n, n_classes, n_estimators = proba.shape
    blended = (proba.reshape(-1, n_estimators) @ to_simplex(weights)).reshape(n, n_classes)
    if average == "geometric":
        blended = np.exp(blended - blended.max(axis=1, keepdims=True))
    # A product too: a sum over a short last axis costs more than the blend.
    return blended / (blended @ np.ones(n_classes))[:, None]


def _estimators_last(proba, average="arithmetic"):
    """``proba`` (n, estimators, classes) as :func:`_blend` reads it for
    ``average``: (n, classes, estimators), log-probabilities for 'geometric'."""
    proba = np.asarray(proba)
    if average == "geometric":
        proba = np.log(np.maximum(proba, _LOG_FLOOR))
    return np.ascontiguousarray(proba.transpose(0, 2, 1))


def _pairs(estimators):
    try:
        return [(n, e) for n, e in estimators]
    except (TypeError, ValueError):
        return []


def _sample_weight_kwargs(name, estimator, sample_weight):
    if sample_weight is None:
        return {}
    if has_fit_parameter(estimator, "sample_weight"):
        return {"sample_weight": sample_weight}
    if isinstance(estimator, Pipeline) and has_fit_parameter(
        estimator.steps[-1][1], "sample_weight"
    ):
        return {f"{estimator.steps[-1][0]}__sample_weight": sample_weight}
    warnings.warn(
        f"estimators: {name!r} ({type(estimator).__name__}) does not accept "
        "sample_weight in fit; it is trained unweighted (the weight fit still "
        "uses sample_weight).",
        UserWarning,
    )
    return {}


def _fit_one(estimator, X, y, fit_kwargs, fold, name, k, classes, keep):
    """Fit one base on one fold's training rows (all rows when ``fold`` is None)
    and predict the fold's test rows; the model is returned only if ``keep``."""
    if fold is None:
        train, test = np.arange(len(y)), None
    else:
        train, test = fold
    kwargs = {key: value[train] for key, value in fit_kwargs.items()}
    where = "on all the data (refit)" if k is None else f"on fold {k} of cv"
    try:
        estimator.fit(safe_indexing(X, train), y[train], **kwargs)
        proba = (
            None if test is None
            else _aligned_proba(estimator, safe_indexing(X, test), classes)
        )
    except Exception as exc:
        raise _with_context(exc, f"estimators: {name!r} failed {where}") from exc
    return (estimator if keep else None), proba


def _input_hint(exc):
    """What to do about a base refusing non-numeric ``X`` (else ``''``)."""
    message = str(exc)
    if isinstance(exc, (TypeError, ValueError)) and (
        "convert" in message or "real number" in message
    ):
        return (
            " (X has non-numeric values this base cannot use: encode them inside "
            "its pipeline, e.g. with sklearn.preprocessing.OneHotEncoder)"
        )
    return ""


def _with_context(exc, context):
    """The same kind of exception, its message prefixed with ``context``."""
    message = f"{context}: {type(exc).__name__}: {exc}{_input_hint(exc)}"
    try:
        return type(exc)(message)
    except Exception:
        return RuntimeError(message)


def _aligned_proba(estimator, X, classes):
    """``predict_proba`` with columns in the order of ``classes``."""
    proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    own = np.asarray(getattr(estimator, "classes_", classes))
    if len(own) == len(classes) and np.array_equal(own, classes):
        return proba
    if not np.isin(classes, own).all() or proba.shape[1] != len(own):
        raise ValueError(
            f"estimators: a base predicts classes {own.tolist()!r}, not "
            f"{classes.tolist()!r}."
        )
    return proba[:, [int(np.flatnonzero(own == c)[0]) for c in classes]]
