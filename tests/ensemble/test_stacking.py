"""WeightedStackingClassifier: OOF predictions, scores, refit, decisions, inputs, errors."""

import numpy as np
import pandas as pd
import pytest
from joblib import parallel_backend
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    log_loss,
    make_scorer,
)
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_val_predict,
    cross_val_score,
)
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from imbestimators import NeuralClassifier, WeightedStackingClassifier
from imbestimators.ensemble._weights import optimize_weights, to_simplex
from imbestimators.losses import CrossEntropyLoss
from imbestimators.metrics import make_cost_scorer

CV = StratifiedKFold(3, shuffle=True, random_state=0)


def _bases():
    return [
        ("lr", LogisticRegression(C=0.1)),
        ("nb", GaussianNB()),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
    ]


def _fitted_stack(**params):
    """The bases with the optimiser's weights as they are (no shrinkage, no
    recalibration), where a test recomputes them."""
    return WeightedStackingClassifier(_bases(), blend="fitted", recalibrate=False,
                                      **params)


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=240, n_features=6, n_informative=3,
                               weights=[0.8], random_state=0)


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return _fitted_stack(cv=CV).fit(X, y)


def test_oof_predictions_are_cross_val_predict_on_the_same_folds(data, fitted):
    X, y = data
    for i, (_, est) in enumerate(_bases()):
        expected = cross_val_predict(est, X, y, cv=CV, method="predict_proba")
        np.testing.assert_allclose(fitted.oof_predictions_[:, i], expected)


def test_scores_are_the_scorer_on_the_blends(data, fitted):
    X, y = data
    oof = fitted.oof_predictions_
    w = fitted.weights_
    assert np.all(w >= 0) and np.isclose(w.sum(), 1.0)
    assert np.isclose(fitted.oof_score_, -log_loss(y, np.tensordot(oof, w, ([1], [0]))))
    assert np.isclose(fitted.oof_score_uniform_, -log_loss(y, oof.mean(axis=1)))
    for i in range(3):
        assert np.isclose(fitted.oof_scores_individual_[i], -log_loss(y, oof[:, i]))
    # The weights optimise the in-sample OOF score: never below uniform or a member.
    assert fitted.oof_score_ >= fitted.oof_score_uniform_ - 1e-9
    assert fitted.oof_score_ >= fitted.oof_scores_individual_.max() - 1e-9


def _blend_of(oof, w):
    """The weighted average of OOF probabilities, written out for the tests."""
    return np.tensordot(oof, w, ([1], [0]))


def _honest_fold_scores(oof, y, folds, metric, optimizer, sample_weight=None):
    """Independent recomputation of ``cv_scores_``: for each fold, weights fitted
    with the module's optimiser on the other folds' OOF rows only, then
    ``metric`` of the fold's held-out blend alone (with its sample weights)."""
    weights, scores = [], []
    for _, test in folds:
        train = np.setdiff1d(np.arange(len(y)), test)
        sw_train = None if sample_weight is None else sample_weight[train]
        sw_test = None if sample_weight is None else sample_weight[test]

        def objective(w, train=train, sw_train=sw_train):
            return metric(y[train], _blend_of(oof[train], to_simplex(w)), sw_train)

        w = optimize_weights(objective, oof.shape[1], optimizer)
        weights.append(w)
        scores.append(metric(y[test], _blend_of(oof[test], w), sw_test))
    return np.array(weights), np.array(scores)


def _neg_log_loss(y, proba, sw):
    return -log_loss(y, proba, sample_weight=sw)


def _ap(y, proba, sw):
    return average_precision_score(y, proba[:, 1], sample_weight=sw)


def test_cv_score_blends_each_fold_with_weights_fitted_without_it(data, fitted):
    X, y = data
    folds = list(CV.split(X, y))
    weights, scores = _honest_fold_scores(fitted.oof_predictions_, y, folds,
                                          _neg_log_loss, "slsqp")
    assert np.all(fitted.cv_weights_ >= 0)
    np.testing.assert_allclose(fitted.cv_weights_.sum(1), 1.0)
    np.testing.assert_allclose(fitted.cv_weights_, weights, atol=1e-4)
    assert fitted.cv_scores_.shape == (len(folds),)
    np.testing.assert_allclose(fitted.cv_scores_, scores, rtol=1e-6)
    # The mean of the fold scores, as cross_val_score reports them.
    assert np.isclose(fitted.cv_score_, scores.mean(), rtol=1e-6)
    assert fitted.cv_score_ <= fitted.oof_score_


def test_cv_score_of_a_ranking_score_with_sample_weight_is_a_mean_over_folds(data):
    # Greedy weights for AP differ between folds, so pooling the held-out blends
    # into one AP would differ from the mean of the fold APs.
    X, y = data
    sw = np.random.RandomState(1).uniform(0.2, 3.0, size=len(y))
    clf = _fitted_stack(cv=CV, scoring="average_precision")
    clf.fit(X, y, sample_weight=sw)
    assert clf.optimizer_ == "greedy"
    folds = list(CV.split(X, y))
    weights, scores = _honest_fold_scores(clf.oof_predictions_, y, folds, _ap,
                                          "greedy", sample_weight=sw)
    np.testing.assert_allclose(clf.cv_weights_, weights)
    np.testing.assert_allclose(clf.cv_scores_, scores)
    assert np.isclose(clf.cv_score_, scores.mean())
    pooled = np.empty((len(y), 2))
    for w, (_, test) in zip(weights, folds):
        pooled[test] = _blend_of(clf.oof_predictions_[test], w)
    assert not np.isclose(clf.cv_score_, _ap(y, pooled, sw))


@pytest.mark.filterwarnings("ignore:The least populated class:UserWarning")
@pytest.mark.filterwarnings("ignore:No positive class found:UserWarning")
def test_a_held_out_fold_without_a_class_is_left_out_with_a_warning(data):
    X, y = data
    y = y.copy()
    y[y == 1] = 0
    y[[3, 4]] = 1  # 2 positives, 3 folds: one held-out part has none
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    folds = list(cv.split(X, y))
    empty = [k for k, (_, test) in enumerate(folds) if not y[test].any()]
    assert len(empty) == 1
    clf = _fitted_stack(cv=cv, scoring="average_precision")
    with pytest.warns(UserWarning, match=(
        rf"cv: 1 of 3 held-out folds could not be scored.*fold {empty[0]}: its "
        r"held-out part has no sample of class\(es\) \[1\].*class counts: \[238, 2\]"
    )):
        clf.fit(X, y)
    _, scores = _honest_fold_scores(clf.oof_predictions_, y, folds, _ap, "greedy")
    assert np.isnan(clf.cv_scores_[empty[0]])
    kept = np.delete(np.arange(3), empty)
    np.testing.assert_allclose(clf.cv_scores_[kept], scores[kept])
    assert np.isclose(clf.cv_score_, scores[kept].mean())


def test_a_held_out_fold_of_zero_weight_is_left_out_with_a_warning(data):
    X, y = data
    folds = list(CV.split(X, y))
    sw = np.ones(len(y))
    sw[folds[1][1]] = 0.0  # log-loss of fold 1 is 0 / 0
    clf = _fitted_stack(cv=CV)
    with pytest.warns(UserWarning, match=r"fold 1: the scorer failed"):
        clf.fit(X, y, sample_weight=sw)
    assert np.isnan(clf.cv_scores_[1]) and np.isfinite(clf.cv_scores_[[0, 2]]).all()
    assert np.isclose(clf.cv_score_, clf.cv_scores_[[0, 2]].mean())


def test_in_sample_oof_score_is_optimistic_with_many_noise_estimators():
    # Labels independent of X: every base is noise, an honest AUC is ~0.5,
    # but weights tuned on the same OOF rows find a spuriously good blend.
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(300, 12)), rng.randint(2, size=300)
    bases = [(f"t{i}", make_pipeline(
        ColumnTransformer([("col", "passthrough", [i])]),
        DecisionTreeClassifier(max_depth=3, random_state=0))) for i in range(12)]
    clf = WeightedStackingClassifier(bases, scoring="roc_auc", cv=CV, blend="fitted",
                                     optimizer_params={"n_iter": 15}).fit(X, y)
    assert clf.optimizer_ == "greedy"
    assert clf.oof_score_ > clf.cv_score_ + 0.03
    assert abs(clf.cv_score_ - 0.5) < 0.1


def test_refit_true_predicts_with_bases_refitted_on_all_data(data, fitted):
    X, y = data
    probas = np.stack([clone(e).fit(X, y).predict_proba(X) for _, e in _bases()], 1)
    expected = np.tensordot(probas, fitted.weights_, ([1], [0]))
    np.testing.assert_allclose(fitted.predict_proba(X), expected)
    np.testing.assert_array_equal(fitted.predict(X), expected.argmax(1))
    np.testing.assert_allclose(fitted.transform(X), probas[:, :, 1])


def test_refit_false_averages_the_fold_models(data):
    X, y = data
    clf = _fitted_stack(cv=CV, refit=False).fit(X, y)
    probas = np.stack([
        np.mean([clone(e).fit(X[tr], y[tr]).predict_proba(X) for tr, _ in CV.split(X, y)],
                axis=0)
        for _, e in _bases()
    ], 1)
    np.testing.assert_allclose(
        clf.predict_proba(X), np.tensordot(probas, clf.weights_, ([1], [0]))
    )


def test_cost_matrix_gives_minimum_expected_cost_decisions(data):
    X, y = data
    C = np.array([[0.0, 1.0], [8.0, 0.0]])
    clf = _fitted_stack(cv=CV, cost_matrix=C).fit(X, y)
    proba = clf.predict_proba(X)
    expected = np.array([np.argmin([p @ C[:, j] for j in range(2)]) for p in proba])
    np.testing.assert_array_equal(clf.predict(X), expected)
    assert np.any(expected != proba.argmax(1))  # the cost matrix changes decisions


def test_label_scorer_sees_cost_matrix_decisions(data):
    X, y = data
    C = np.array([[0.0, 1.0], [8.0, 0.0]])

    def neg_cost(y_true, y_pred):
        return -C[y_true, y_pred].mean()

    clf = WeightedStackingClassifier(
        _bases(), cv=CV, cost_matrix=C, scoring=make_scorer(neg_cost)
    ).fit(X, y)
    assert clf.optimizer_ == "greedy"
    blend = np.tensordot(clf.oof_predictions_, clf.weights_, ([1], [0]))
    assert np.isclose(clf.oof_score_, neg_cost(y, np.argmin(blend @ C, axis=1)))


def test_cost_scorer_optimises_the_expected_cost(data):
    X, y = data
    C = np.array([[0.0, 1.0], [8.0, 0.0]])
    clf = WeightedStackingClassifier(
        _bases(), cv=CV, cost_matrix=C, scoring=make_cost_scorer(C)
    ).fit(X, y)
    blend = np.tensordot(clf.oof_predictions_, clf.weights_, ([1], [0]))
    decisions = np.argmin(blend @ C, axis=1)
    assert np.isclose(clf.oof_score_, -C[y, decisions].mean())
    # No single base decides more cheaply out of fold than the fitted blend.
    for i in range(len(_bases())):
        alone = np.argmin(clf.oof_predictions_[:, i] @ C, axis=1)
        assert clf.oof_score_ >= -C[y, alone].mean() - 1e-12


def test_multiclass_one_weight_per_estimator():
    X, y = make_classification(n_samples=240, n_features=8, n_informative=4,
                               n_classes=3, random_state=1)
    y = np.array(["a", "b", "c"])[y]
    clf = _fitted_stack(cv=CV).fit(X, y)
    assert clf.weights_.shape == (3,)
    assert clf.oof_predictions_.shape == (240, 3, 3)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    blend = np.tensordot(clf.oof_predictions_, clf.weights_, ([1], [0]))
    assert np.isclose(clf.oof_score_, -log_loss(y, blend))
    assert set(clf.predict(X)) <= {"a", "b", "c"}
    assert clf.transform(X).shape == (240, 9)


def test_sample_weight_reaches_bases_and_objective(data):
    X, y = data
    sw = np.random.RandomState(0).uniform(0.2, 3.0, size=len(y))
    bases = [("lr", LogisticRegression(C=0.1)),
             ("pipe", make_pipeline(ColumnTransformer([("c", "passthrough", [0, 1])]),
                                    LogisticRegression()))]
    clf = WeightedStackingClassifier(bases, cv=CV, scoring="average_precision")
    clf.fit(X, y, sample_weight=sw)
    for i, (_, est) in enumerate(bases):
        expected = np.empty((len(y), 2))
        for train, test in CV.split(X, y):
            model = clone(est)
            key = "sample_weight" if i == 0 else "logisticregression__sample_weight"
            model.fit(X[train], y[train], **{key: sw[train]})
            expected[test] = model.predict_proba(X[test])
        np.testing.assert_allclose(clf.oof_predictions_[:, i], expected)
    blend = np.tensordot(clf.oof_predictions_, clf.weights_, ([1], [0]))[:, 1]
    assert np.isclose(clf.oof_score_, average_precision_score(y, blend, sample_weight=sw))


def test_pipelines_selecting_columns_by_name_and_by_index(data):
    X, y = data
    df = pd.DataFrame(X, columns=list("abcdef"))
    by_name = make_pipeline(ColumnTransformer([("s", "passthrough", ["a", "b"])]),
                            LogisticRegression())
    by_index = make_pipeline(ColumnTransformer([("s", "passthrough", [3, 4, 5])]),
                             GaussianNB())
    clf = WeightedStackingClassifier([("ab", by_name), ("def", by_index)], cv=CV)
    clf.fit(df, y)
    assert clf.named_estimators_["ab"][-1].n_features_in_ == 2
    assert clf.named_estimators_["def"][-1].n_features_in_ == 3
    np.testing.assert_array_equal(clf.feature_names_in_, list("abcdef"))
    alone = clone(by_name).fit(df, y).predict_proba(df)[:, 1]
    np.testing.assert_allclose(clf.transform(df)[:, 0], alone)
    assert clf.predict_proba(df.iloc[:5]).shape == (5, 2)


def test_scorers_of_every_kind(data):
    X, y = data
    for scoring in ["roc_auc", "balanced_accuracy"]:
        clf = _fitted_stack(cv=CV, scoring=scoring,
                            optimizer_params={"n_iter": 10}).fit(X, y)
        assert np.isfinite(clf.cv_score_)
    blend = np.tensordot(clf.oof_predictions_, clf.weights_, ([1], [0]))
    assert np.isclose(clf.oof_score_, balanced_accuracy_score(y, blend.argmax(1)))

    def callable_scorer(estimator, X, y):
        return -log_loss(y, estimator.predict_proba(X))

    clf = _fitted_stack(cv=CV, scoring=callable_scorer).fit(X, y)
    blend = np.tensordot(clf.oof_predictions_, clf.weights_, ([1], [0]))
    assert np.isclose(clf.oof_score_, -log_loss(y, blend))


def test_parallel_backends_give_the_same_fit(data, fitted):
    X, y = data
    with parallel_backend("threading"):
        clf = _fitted_stack(cv=CV, n_jobs=2).fit(X, y)
    np.testing.assert_allclose(clf.oof_predictions_, fitted.oof_predictions_)
    np.testing.assert_allclose(clf.weights_, fitted.weights_)


def test_dask_backend(data, fitted):
    distributed = pytest.importorskip("distributed")
    X, y = data
    with distributed.LocalCluster(processes=False, n_workers=1,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster), parallel_backend("dask"):
            clf = _fitted_stack(cv=CV, n_jobs=2).fit(X, y)
    np.testing.assert_allclose(clf.oof_predictions_, fitted.oof_predictions_)
    np.testing.assert_allclose(clf.predict_proba(X), fitted.predict_proba(X))


def test_neural_bases_grid_search_and_cross_val_score(data):
    X, y = data
    X, y = X[:120], y[:120]
    nn = NeuralClassifier(hidden_layer_sizes=(4,), max_epochs=3, random_state=0)
    stack = WeightedStackingClassifier(
        [("lr", LogisticRegression()), ("nn", nn)], cv=2, random_state=0
    )
    grid = GridSearchCV(stack, [
        {"nn__loss": ["cross_entropy", CrossEntropyLoss(label_smoothing=0.1)]},
        {"nn__hidden_layer_sizes": [(8,)], "optimizer": ["greedy"]},
    ], cv=2, scoring="neg_log_loss").fit(X, y)
    best = grid.best_estimator_
    for key, value in grid.best_params_.items():
        assert repr(best.get_params()[key]) == repr(value)
    assert best.named_estimators_["nn"].hidden_layer_sizes == (
        best.get_params()["nn__hidden_layer_sizes"]
    )
    scores = cross_val_score(stack, X, y, cv=2, scoring="roc_auc")
    assert scores.shape == (2,) and np.all((scores > 0.5) & (scores <= 1))


class _FailsWithoutRow(ClassifierMixin, BaseEstimator):
    """Fails when the marker row (X[:, 0] == 99) is not in its training data."""

    def fit(self, X, y):
        if not np.any(X[:, 0] == 99):
            raise ValueError("no marker row")
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


def test_a_base_failing_in_one_fold_is_named_with_the_fold(data):
    X, y = data
    X = X.copy()
    X[7, 0] = 99
    fold = next(k for k, (_, test) in enumerate(CV.split(X, y)) if 7 in test)
    clf = WeightedStackingClassifier(_bases() + [("bad", _FailsWithoutRow())], cv=CV)
    with pytest.raises(ValueError, match=rf"'bad' failed on fold {fold} .*no marker row"):
        clf.fit(X, y)


@pytest.mark.parametrize("estimators, error, match", [
    ([], ValueError, "estimators must be a non-empty"),
    ([("a", GaussianNB()), ("a", LogisticRegression())], ValueError, r"\['a'\]"),
    ([("svc", SVC())], TypeError, "'svc'.*predict_proba"),
    ([GaussianNB()], TypeError, "estimators must be a list of"),
])
def test_bad_estimators(data, estimators, error, match):
    with pytest.raises(error, match=match):
        WeightedStackingClassifier(estimators).fit(*data)


def test_bad_input_names_the_parameter(data):
    X, y = data
    with pytest.raises(ValueError, match="cost_matrix must have shape"):
        _fitted_stack(cost_matrix=np.eye(3)).fit(X, y)
    with pytest.raises(ValueError, match="optimizer_params has keys"):
        _fitted_stack(optimizer_params={"n_iter": 3}).fit(X, y)
    y_rare = y.copy()
    y_rare[0] = 2  # a class of 1 sample is missing from one fold's training part
    with pytest.raises(ValueError, match="cv: the training part of fold"):
        _fitted_stack(cv=3).fit(X, y_rare)


def test_a_base_without_sample_weight_is_named_in_a_warning(data):
    from sklearn.neighbors import KNeighborsClassifier

    X, y = data
    clf = WeightedStackingClassifier(
        [("knn", KNeighborsClassifier()), ("nb", GaussianNB())], cv=CV)
    with pytest.warns(UserWarning, match="'knn'.*does not accept sample_weight"):
        clf.fit(X, y, sample_weight=np.ones(len(y)))


class _CountingNB(GaussianNB):
    """GaussianNB that counts its fits (in this process: n_jobs=None)."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("refit, extra", [(True, 1), (False, 0)])
def test_refit_false_trains_no_extra_model(data, refit, extra):
    X, y = data
    _CountingNB.fits = 0
    clf = WeightedStackingClassifier([("nb", _CountingNB()), ("lr", LogisticRegression())],
                                     cv=CV, refit=refit).fit(X, y)
    assert _CountingNB.fits == CV.get_n_splits() + extra
    _CountingNB.fits = 0
    clf.predict_proba(X)
    assert _CountingNB.fits == 0


def test_differential_evolution_is_seeded_by_random_state(data):
    X, y = data
    params = dict(optimizer="differential_evolution", scoring="roc_auc",
                  optimizer_params={"maxiter": 5}, cv=3)
    first = _fitted_stack(random_state=0, **params).fit(X, y)
    again = _fitted_stack(random_state=0, **params).fit(X, y)
    assert first.optimizer_ == "differential_evolution"
    np.testing.assert_array_equal(first.weights_, again.weights_)
    np.testing.assert_array_equal(first.cv_weights_, again.cv_weights_)
    assert np.all(first.weights_ >= 0) and np.isclose(first.weights_.sum(), 1.0)
    # The weights are the best found for the in-sample score: no worse than uniform.
    assert first.oof_score_ >= first.oof_score_uniform_ - 1e-12


# --------------------------------------------------------------- blend='auto'

_GRID = (1.0, 0.75, 0.5, 0.25, 0.0)


class _Score(ClassifierMixin, BaseEstimator):
    """A 'classifier' whose decision function is its one column."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def decision_function(self, X):
        return np.asarray(X)[:, 0]

    def predict(self, X):
        return self.classes_[(self.decision_function(X) > 0).astype(int)]


def _platt(proba_train, y_train, proba_test):
    """Platt scaling of a binary blend's logit by scikit-learn's sigmoid
    calibration (Platt's targets): the reference for the recalibration."""
    def logit(p):
        p = np.clip(p[:, 1], 1e-15, 1 - 1e-15)
        return np.log(p / (1 - p))[:, None]

    frozen = FrozenEstimator(_Score().fit(logit(proba_train), y_train))
    platt = CalibratedClassifierCV(frozen, method="sigmoid", ensemble=False)
    return platt.fit(logit(proba_train), y_train).predict_proba(logit(proba_test))


def _auto_choice(oof, y, folds, metric, optimizer, recalibrations=(False, True)):
    """Independent recomputation of blend='auto', recalibrate='auto' (binary):
    every shrinkage of the fold weights toward uniform, and the member with the
    best score on the other folds, each without and (unless the score is a
    ranking score, which Platt scaling cannot change) with Platt scaling
    fitted on the other folds, scored on the held-out folds; the best mean
    (ties to the simpler), kept only if its mean paired gain over the plain
    uniform average exceeds the gain's standard error."""
    weights, _ = _honest_fold_scores(oof, y, folds, metric, optimizer)
    m = oof.shape[1]
    uniform = np.full(m, 1.0 / m)
    mixes = (*_GRID, "best_member")
    table = []
    for recalibrated in recalibrations:
        for mix in mixes:
            row = []
            for w, (_, test) in zip(weights, folds):
                train = np.setdiff1d(np.arange(len(y)), test)
                if mix == "best_member":
                    member = np.argmax([metric(y[train], oof[train, i], None)
                                        for i in range(m)])
                    w = np.eye(m)[member]
                else:
                    w = (1 - mix) * w + mix * uniform
                proba = _blend_of(oof[test], w)
                if recalibrated:
                    proba = _platt(_blend_of(oof[train], w), y[train], proba)
                row.append(metric(y[test], proba, None))
            table.append(row)
    table = np.array(table)
    candidates = [(mix, r) for r in recalibrations for mix in mixes]
    return candidates[_rule(table)], table


def _rule(table):
    """The candidate (row) kept: the best mean, if its mean paired gain over
    row 0 exceeds the gain's standard error; else row 0."""
    if table.shape[1] < 2:
        return 0
    best = int(np.argmax(table.mean(axis=1)))
    gain = table[best] - table[0]
    if best != 0 and gain.mean() > gain.std(ddof=1) / np.sqrt(len(gain)):
        return best
    return 0


@pytest.mark.parametrize("scoring, metric, optimizer, recalibrations", [
    ("neg_log_loss", _neg_log_loss, "slsqp", (False, True)),
    ("average_precision", _ap, "greedy", (False,)),
])
def test_auto_blend_is_the_rule_written_out(data, scoring, metric, optimizer,
                                            recalibrations):
    X, y = data
    folds = list(CV.split(X, y))
    clf = WeightedStackingClassifier(_bases(), cv=CV, scoring=scoring).fit(X, y)
    (mix, recalibrated), table = _auto_choice(
        clf.oof_predictions_, y, folds, metric, optimizer, recalibrations)
    np.testing.assert_allclose(clf.blend_evidence_["cv_scores"], table, rtol=1e-4)
    # cv_scores_: fold k scored by the candidate the rule picks without fold k.
    picks = [_rule(np.delete(table, k, axis=1)) for k in range(len(folds))]
    np.testing.assert_allclose(clf.cv_scores_, table[picks, np.arange(len(folds))],
                               rtol=1e-4)
    assert clf.recalibrated_ == recalibrated
    if mix == "best_member":
        assert clf.blend_ == "best_member" and np.isnan(clf.shrinkage_)
        best = np.argmax(clf.oof_scores_individual_)
        np.testing.assert_array_equal(clf.weights_, np.eye(3)[best])
    else:
        assert clf.shrinkage_ == mix
        assert clf.blend_ == {0.0: "fitted", 1.0: "uniform"}.get(mix, "shrunk")
        np.testing.assert_allclose(
            clf.weights_, (1 - mix) * clf.fitted_weights_ + mix * np.full(3, 1 / 3))
    assert clf.blend_evidence_["reason"]


def _noise_bases(n):
    return [(f"t{i}", make_pipeline(
        ColumnTransformer([("col", "passthrough", [i])]),
        DecisionTreeClassifier(max_depth=3, random_state=0))) for i in range(n)]


def test_auto_falls_back_to_uniform_without_a_gain_beyond_its_standard_error(data):
    # Copies of one model: every blend ranks the rows the same on every fold, a
    # gain of 0 is not more than its standard error (0), so 'auto' uses the
    # plain average.
    X, y = data
    bases = [(name, LogisticRegression(C=0.1)) for name in ("a", "b", "c")]
    clf = WeightedStackingClassifier(bases, scoring="roc_auc", cv=CV).fit(X, y)
    assert clf.blend_ == "uniform" and clf.shrinkage_ == 1.0
    assert not clf.recalibrated_ and clf.recalibration_ is None
    np.testing.assert_allclose(clf.weights_, np.full(3, 1 / 3))
    np.testing.assert_allclose(clf.cv_weights_, np.full((3, 3), 1 / 3))
    assert clf.oof_score_ == clf.oof_score_uniform_
    assert clf.blend_evidence_["gain"] == 0.0
    assert "standard error" in clf.blend_evidence_["reason"]


def test_auto_keeps_fitted_weights_when_one_base_carries_the_signal():
    X, y = make_classification(n_samples=600, n_features=8, n_informative=4,
                               weights=[0.8], random_state=1)
    X = np.hstack([X, np.random.RandomState(1).normal(size=(600, 3))])
    bases = [("lr", LogisticRegression())] + [
        (f"noise{i}", make_pipeline(ColumnTransformer([("c", "passthrough", [8 + i])]),
                                    DecisionTreeClassifier(max_depth=2, random_state=0)))
        for i in range(3)]
    clf = WeightedStackingClassifier(bases, cv=CV, recalibrate=False).fit(X, y)
    assert clf.blend_ in ("fitted", "shrunk")
    assert clf.blend_evidence_["gain"] > clf.blend_evidence_["gain_se"] > 0
    assert clf.weights_[0] > 0.5
    uniform_fold_scores = clf.blend_evidence_["cv_scores"][0]
    assert clf.cv_score_ > uniform_fold_scores.mean()


def test_blend_uniform_is_the_plain_average_of_the_refitted_bases(data):
    X, y = data
    clf = WeightedStackingClassifier(_bases(), cv=CV, blend="uniform",
                                     recalibrate=False).fit(X, y)
    assert clf.blend_ == "uniform"
    np.testing.assert_allclose(clf.weights_, np.full(3, 1 / 3))
    probas = np.stack([clone(e).fit(X, y).predict_proba(X) for _, e in _bases()], 1)
    np.testing.assert_allclose(clf.predict_proba(X), probas.mean(axis=1))
    folds = list(CV.split(X, y))
    expected = [-log_loss(y[test], clf.oof_predictions_[test].mean(axis=1))
                for _, test in folds]
    np.testing.assert_allclose(clf.cv_scores_, expected)


def test_blend_best_member_uses_the_base_with_the_best_oof_score(data):
    X, y = data
    clf = WeightedStackingClassifier(_bases(), cv=CV, blend="best_member",
                                     recalibrate=False).fit(X, y)
    best = int(np.argmax(clf.oof_scores_individual_))
    assert clf.blend_ == "best_member"
    np.testing.assert_array_equal(clf.weights_, np.eye(3)[best])
    np.testing.assert_allclose(clf.predict_proba(X),
                               clf.estimators_[best].predict_proba(X))
    assert clf.oof_score_ == pytest.approx(clf.oof_scores_individual_[best])


def test_cv_score_se_is_the_standard_error_of_the_fold_scores(data, fitted):
    scores = fitted.cv_scores_
    k = len(scores)
    expected = np.sqrt(((scores - scores.mean()) ** 2).sum() / (k - 1) / k)
    assert np.isclose(fitted.cv_score_se_, expected)


def test_auto_reports_its_decision_under_verbose(data, capsys):
    X, y = data
    WeightedStackingClassifier(_bases(), cv=CV, verbose=1).fit(X, y)
    assert "blend_=" in capsys.readouterr().out


class _NaNProba(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), np.nan)


def test_bases_with_nan_or_constant_oof_probabilities_are_named_and_left_out(data):
    from sklearn.dummy import DummyClassifier

    X, y = data
    bases = _bases()[:2] + [("nan", _NaNProba()), ("prior", DummyClassifier())]
    clf = WeightedStackingClassifier(bases, cv=CV)
    with pytest.warns(UserWarning, match=r"left out of the blend.*'nan': .*not all "
                                         r"finite.*'prior': .*same for every sample"):
        clf.fit(X, y)
    assert clf.excluded_ == ["nan", "prior"]
    assert np.all(clf.weights_[2:] == 0) and np.isclose(clf.weights_.sum(), 1.0)
    assert np.isnan(clf.oof_scores_individual_[2:]).all()
    assert np.all(np.isfinite(clf.predict_proba(X)))
    with pytest.raises(ValueError, match="no base can be blended.*'nan'"):
        WeightedStackingClassifier(bases[2:3], cv=CV).fit(X, y)
    # Only uninformative but valid bases: they are blended, not refused.
    with pytest.warns(UserWarning, match=r"left out of the blend.*'nan'") as record:
        only_prior = WeightedStackingClassifier(bases[2:], cv=CV).fit(X, y)
    assert not any("'prior'" in str(w.message) for w in record)
    assert only_prior.excluded_ == ["nan"] and only_prior.weights_[1] == 1.0


def test_bad_blend_names_the_parameter(data):
    X, y = data
    with pytest.raises(ValueError, match="'blend' parameter"):
        WeightedStackingClassifier(_bases(), blend="best").fit(X, y)


# ---------------------------------------------------------------- recalibrate


def test_recalibration_is_platt_scaling_for_two_classes():
    from imbestimators.ensemble._weights import fit_recalibration, recalibrate

    rng = np.random.RandomState(0)
    y = (rng.uniform(size=400) < 0.15).astype(int)
    # Inflated minority probabilities, as from class-weighted members.
    p1 = 1 / (1 + np.exp(-(2.0 * y - 1 + rng.normal(size=400) + 1.5)))
    proba = np.column_stack([1 - p1, p1])
    params = fit_recalibration(proba, y)
    assert params[0] > 0 and params[1] == 0
    np.testing.assert_allclose(recalibrate(proba, params), _platt(proba, y, proba),
                               atol=1e-5)


def _recalibrated_reference(proba, y, sample_weight):
    """softmax(a log p + b), b_0 = 0, a > 0, minimising the weighted
    cross-entropy against Platt's targets (a row of class c: (n_c + 1) /
    (n_c + 2) on c, the rest shared equally), written from the formula and
    minimised by Nelder-Mead (no gradient)."""
    from scipy.optimize import minimize

    log_p = np.log(proba)
    k = proba.shape[1]
    counts = np.array([sample_weight[y == c].sum() for c in range(k)])
    targets = np.empty_like(proba)
    for i, c in enumerate(y):
        targets[i] = (1 - (counts[c] + 1) / (counts[c] + 2)) / (k - 1)
        targets[i, c] = (counts[c] + 1) / (counts[c] + 2)

    def recalibrated(theta):
        z = theta[0] * log_p + np.r_[0.0, theta[1:]]
        z = z - z.max(axis=1, keepdims=True)
        return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)

    def loss(theta):
        return -np.sum(sample_weight[:, None] * targets
                       * np.log(recalibrated(theta))) / sample_weight.sum()

    start = np.r_[1.0, np.zeros(k - 1)]
    best = minimize(loss, start, method="Nelder-Mead",
                    options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 20_000})
    return recalibrated(best.x)


def test_recalibration_fits_platts_targets_for_many_classes():
    from imbestimators.ensemble._weights import fit_recalibration, recalibrate

    rng = np.random.RandomState(1)
    y = rng.choice(3, size=300, p=[0.7, 0.2, 0.1])
    logits = np.eye(3)[y] * 1.5 + rng.normal(size=(300, 3)) + [0.0, 1.0, 1.0]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    sw = rng.uniform(0.5, 2.0, size=300)
    params = fit_recalibration(proba, y, sw)
    np.testing.assert_allclose(recalibrate(proba, params),
                               _recalibrated_reference(proba, y, sw), atol=1e-4)
    assert log_loss(y, recalibrate(proba, params), sample_weight=sw) < log_loss(
        y, proba, sample_weight=sw)


def test_recalibration_stays_finite_on_separable_rows():
    """OOF probabilities that separate the classes: against 0/1 targets the
    slope grows without bound and a new row on the wrong side gets a
    probability of about 1e-15; Platt's targets keep it finite."""
    from imbestimators.ensemble._weights import fit_recalibration, recalibrate

    rng = np.random.RandomState(0)
    y = np.r_[np.zeros(90, dtype=int), np.ones(10, dtype=int)]
    p1 = np.r_[rng.uniform(0.01, 0.4, 90), rng.uniform(0.6, 0.99, 10)]
    params = fit_recalibration(np.column_stack([1 - p1, p1]), y)
    assert 0 < params[0] < 10
    wrong_side = recalibrate(np.array([[0.05, 0.95], [0.95, 0.05]]), params)
    assert log_loss([0, 1], wrong_side, labels=[0, 1]) < 10


def _balanced_bases():
    return [("lr", make_pipeline(StandardScaler(),
                                 LogisticRegression(class_weight="balanced"))),
            ("tree", DecisionTreeClassifier(max_depth=4, class_weight="balanced",
                                            random_state=0))]


def test_auto_recalibrates_the_inflated_blend_of_class_weighted_bases():
    X, y = make_classification(n_samples=800, n_features=6, n_informative=3,
                               weights=[0.9], flip_y=0.02, random_state=3)
    clf = WeightedStackingClassifier(_balanced_bases(), cv=CV).fit(X, y)
    plain = WeightedStackingClassifier(_balanced_bases(), cv=CV,
                                       recalibrate=False).fit(X, y)
    assert clf.recalibrated_ and clf.recalibration_.shape == (3,)
    assert clf.cv_score_ > plain.cv_score_ + 0.05
    # Class weights inflate the minority probability; recalibrated, the mean
    # predicted probability is close to the prevalence again.
    assert plain.predict_proba(X)[:, 1].mean() > y.mean() + 0.1
    assert abs(clf.predict_proba(X)[:, 1].mean() - y.mean()) < 0.03
    expected = _blend_of(clf.oof_predictions_, clf.weights_)
    from imbestimators.ensemble._weights import recalibrate
    assert np.isclose(clf.oof_score_, -log_loss(y, recalibrate(expected,
                                                               clf.recalibration_)))


def test_recalibration_does_not_change_a_ranking_score(data):
    X, y = data
    on = WeightedStackingClassifier(_balanced_bases(), cv=CV, blend="fitted",
                                    recalibrate=True, scoring="average_precision")
    off = clone(on).set_params(recalibrate=False)
    on.fit(X, y)
    off.fit(X, y)
    np.testing.assert_allclose(on.weights_, off.weights_)
    np.testing.assert_allclose(on.cv_scores_, off.cv_scores_)
    assert not np.allclose(on.predict_proba(X), off.predict_proba(X))
    assert average_precision_score(y, on.predict_proba(X)[:, 1]) == pytest.approx(
        average_precision_score(y, off.predict_proba(X)[:, 1]))


# ------------------------------------------------------------ average=

def _geometric(proba, weights):
    """The normalised weighted geometric mean of (n, bases, classes)
    probabilities, each floored at 1e-6, written out from its formula."""
    log_mean = sum(w * np.log(np.maximum(proba[:, m], 1e-6))
                   for m, w in enumerate(weights))
    unnormalised = np.exp(log_mean)
    return unnormalised / unnormalised.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_geometric_average_is_the_weighted_geometric_mean_of_the_bases(n_classes):
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4,
                               n_classes=n_classes, random_state=0)
    clf = WeightedStackingClassifier(_bases(), cv=CV, average="geometric",
                                     blend="fitted", recalibrate=False).fit(X, y)
    assert clf.average_ == "geometric"
    members = np.stack([est.predict_proba(X) for est in clf.estimators_], axis=1)
    expected = _geometric(members, clf.weights_)
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-10)
    # The in-sample score is that of the same blend of the OOF probabilities,
    # and the weights were fitted for it: no worse than the geometric uniform.
    oof_blend = _geometric(clf.oof_predictions_, clf.weights_)
    assert clf.oof_score_ == pytest.approx(-log_loss(y, oof_blend), rel=1e-10)
    uniform = _geometric(clf.oof_predictions_, np.full(3, 1 / 3))
    assert clf.oof_score_ >= -log_loss(y, uniform) - 1e-9
    if n_classes == 2:  # two classes: the weighted mean of the bases' logits
        floored = np.maximum(members, 1e-6)
        logit = np.log(floored[:, :, 1] / floored[:, :, 0]) @ clf.weights_
        np.testing.assert_allclose(clf.predict_proba(X)[:, 1], 1 / (1 + np.exp(-logit)),
                                   rtol=1e-10)


def test_a_base_sure_of_a_row_does_not_veto_a_class_in_the_geometric_mean(data):
    # An unpruned tree predicts probabilities of exactly 0 and 1, and is wrong
    # on some held-out rows: without the floor its 0 would give the true class
    # probability 0 there (an infinite log-loss). Floored, every class keeps
    # a positive probability and the held-out log-loss is finite.
    X, y = data
    bases = [("deep", DecisionTreeClassifier(random_state=0)), ("nb", GaussianNB())]
    clf = WeightedStackingClassifier(bases, cv=CV, average="geometric", blend="uniform",
                                     recalibrate=False).fit(X, y)
    assert np.any(clf.oof_predictions_[:, 0] == 0.0)
    proba = clf.predict_proba(X)
    assert np.all(proba > 0) and np.allclose(proba.sum(axis=1), 1.0)
    assert np.all(np.isfinite(clf.cv_scores_)) and np.isfinite(clf.oof_score_)


def test_average_auto_scores_both_averages_on_the_same_folds(data):
    X, y = data
    folds = list(CV.split(X, y))
    clf = WeightedStackingClassifier(_bases(), cv=CV, scoring="neg_log_loss",
                                     average="auto", recalibrate=False).fit(X, y)
    candidates = clf.blend_evidence_["candidates"]
    assert candidates[0] == (1.0, "arithmetic", False)  # the simplest stays first
    assert [c for c in candidates if c[0] == "best_member"] == [
        ("best_member", "arithmetic", False)]  # one base alone: counted once
    assert {(m, a) for m, a, _ in candidates if m != "best_member"} == {
        (m, a) for m in _GRID for a in ("arithmetic", "geometric")}
    # The uniform candidates need no weight fit: their fold scores are the
    # held-out blends' log-losses, written out here.
    scores = clf.blend_evidence_["cv_scores"]
    uniform = np.full(3, 1 / 3)
    for average, blend_of in (("arithmetic", _blend_of), ("geometric", _geometric)):
        row = scores[candidates.index((1.0, average, False))]
        expected = [-log_loss(y[test], blend_of(clf.oof_predictions_[test], uniform),
                              labels=[0, 1]) for _, test in folds]
        np.testing.assert_allclose(row, expected, rtol=1e-10)
    # The estimator predicts with the candidate the rule picks.
    mix, average, _ = candidates[_rule(scores)]
    assert clf.average_ == average
    blend_of = _geometric if average == "geometric" else _blend_of
    members = np.stack([est.predict_proba(X) for est in clf.estimators_], axis=1)
    np.testing.assert_allclose(clf.predict_proba(X), blend_of(members, clf.weights_),
                               rtol=1e-10)


def test_average_arithmetic_is_the_default_and_bad_values_are_named(data):
    X, y = data
    clf = _fitted_stack(cv=CV).fit(X, y)
    assert clf.average_ == "arithmetic"
    assert {a for _, a, _ in clf.blend_evidence_["candidates"]} == {"arithmetic"}
    with pytest.raises(ValueError, match="'average' parameter"):
        _fitted_stack(average="harmonic").fit(X, y)


def test_a_stack_pickled_before_average_existed_loads_as_arithmetic(fitted, data):
    X, _ = data
    state = fitted.__getstate__()
    del state["average"], state["average_"]
    old = WeightedStackingClassifier.__new__(WeightedStackingClassifier)
    old.__setstate__(state)
    assert old.get_params()["average"] == "arithmetic" and old.average_ == "arithmetic"
    np.testing.assert_array_equal(old.predict_proba(X), fitted.predict_proba(X))


def test_geometric_blend_is_recalibrated_by_platt_scaling_of_its_own_logit(data):
    X, y = data
    clf = WeightedStackingClassifier(_bases(), cv=CV, average="geometric",
                                     blend="uniform", recalibrate=True).fit(X, y)
    uniform = np.full(3, 1 / 3)
    members = np.stack([est.predict_proba(X) for est in clf.estimators_], axis=1)
    expected = _platt(_geometric(clf.oof_predictions_, uniform), y,
                      _geometric(members, uniform))
    np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-4)
    # Not the arithmetic blend's recalibration: the two differ on these bases.
    arithmetic = _platt(_blend_of(clf.oof_predictions_, uniform), y,
                        _blend_of(members, uniform))
    assert np.abs(clf.predict_proba(X) - arithmetic).max() > 1e-3
