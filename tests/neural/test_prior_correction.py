"""prior_correction: probabilities for the training class distribution."""

import numpy as np
import pytest
import torch
from scipy.special import expit, softmax
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import train_test_split

from imbestimators import NeuralClassifier
from imbestimators.datasets import load_csv
from imbestimators.losses import CrossEntropyLoss

SMALL = dict(hidden_layer_sizes=(8,), max_epochs=10, learning_rate=0.02, random_state=0)


def _data(n_classes, seed=0):
    rng = np.random.default_rng(seed)
    counts = [150, 30, 20][:n_classes]
    y = np.concatenate([np.full(n, c) for c, n in enumerate(counts)])
    X = rng.normal(size=(len(y), 3)) + 0.8 * y[:, None]
    return X, y


def _balanced_weights(y):
    counts = np.bincount(y).astype(np.float64)
    return len(y) / (len(counts) * counts)


def test_binary_correction_undoes_the_class_weights():
    X, y = _data(2)
    as_trained = NeuralClassifier(class_weight="balanced", **SMALL).fit(X, y)
    corrected = NeuralClassifier(class_weight="balanced", prior_correction=True,
                                 **SMALL).fit(X, y)
    w = _balanced_weights(y)
    # p(y|x) ∝ p_w(y|x) / w_y, i.e. the logit of class 1 shifted by log(w0 / w1)
    z = as_trained.decision_function(X) + np.log(w[0] / w[1])
    np.testing.assert_allclose(corrected.logit_correction_, -np.log(w), rtol=1e-12)
    np.testing.assert_allclose(corrected.decision_function(X), z, rtol=1e-12)
    np.testing.assert_allclose(corrected.predict_proba(X)[:, 1], expit(z), rtol=1e-12)
    np.testing.assert_allclose(corrected.predict_log_proba(X)[:, 1], np.log(expit(z)),
                               rtol=1e-9)
    np.testing.assert_array_equal(corrected.predict(X), (expit(z) > 0.5).astype(int))
    # the correction moves the rare class's probability down
    p_trained = as_trained.predict_proba(X)[:, 1]
    assert corrected.predict_proba(X)[:, 1].mean() < p_trained.mean()


def test_multiclass_correction_undoes_the_class_weights():
    X, y = _data(3)
    weights = {0: 1.0, 1: 4.0, 2: 9.0}
    as_trained = NeuralClassifier(class_weight=weights, **SMALL).fit(X, y)
    corrected = NeuralClassifier(class_weight=weights, prior_correction=True,
                                 **SMALL).fit(X, y)
    z = as_trained.decision_function(X) - np.log([1.0, 4.0, 9.0])
    np.testing.assert_allclose(corrected.predict_proba(X), softmax(z, axis=1), rtol=1e-9)
    np.testing.assert_array_equal(corrected.predict(X), np.argmax(z, axis=1))


def test_default_reports_probabilities_as_trained():
    X, y = _data(2)
    clf = NeuralClassifier(class_weight="balanced", **SMALL).fit(X, y)
    assert clf.logit_correction_ is None
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1],
                               expit(clf.decision_function(X)), rtol=1e-12)


def test_without_class_weights_the_correction_is_zero():
    X, y = _data(2)
    plain = NeuralClassifier(**SMALL).fit(X, y)
    corrected = NeuralClassifier(prior_correction=True, **SMALL).fit(X, y)
    np.testing.assert_array_equal(corrected.predict_proba(X), plain.predict_proba(X))


@pytest.mark.parametrize(
    "loss", [CrossEntropyLoss(label_smoothing=0.1), torch.nn.BCEWithLogitsLoss()],
    ids=["label_smoothing", "torch_criterion"],
)
def test_losses_without_an_analytic_correction_raise_before_training(loss):
    X, y = _data(2)
    clf = NeuralClassifier(loss=loss, prior_correction=True, **SMALL)
    with pytest.raises(ValueError, match="prior_correction.*CalibratedClassifierCV"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


@pytest.mark.slow
def test_correction_improves_the_brier_score_on_real_data(shared_dataset):
    # abalone: 4177 samples, 9.3 % positives (IR 9.7)
    X, y = load_csv(shared_dataset("abalone"))
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0)
    params = dict(class_weight="balanced", hidden_layer_sizes=(16,), max_epochs=15,
                  batch_size=128, learning_rate=0.01, random_state=0)
    as_trained = NeuralClassifier(**params).fit(X_train, y_train)
    corrected = NeuralClassifier(prior_correction=True, **params).fit(X_train, y_train)
    brier_trained = brier_score_loss(y_test, as_trained.predict_proba(X_test)[:, 1])
    brier_corrected = brier_score_loss(y_test, corrected.predict_proba(X_test)[:, 1])
    # (0.071 against 0.163 when written; predicting the prior scores 0.085)
    assert brier_corrected < brier_trained
    assert brier_corrected < brier_score_loss(y_test, np.full(len(y_test), y_train.mean()))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_logit_adjustment_is_undone_through_the_estimator(n_classes):
    # loss='logit_adjusted' (tau = 1) trains z + log(pi): its raw probabilities
    # are balanced, and prior_correction adds tau * log(pi) back.
    X, y = _data(n_classes)
    priors = np.bincount(y) / len(y)
    raw = NeuralClassifier(loss="logit_adjusted", **SMALL).fit(X, y)
    corrected = NeuralClassifier(loss="logit_adjusted", prior_correction=True,
                                 **SMALL).fit(X, y)
    np.testing.assert_allclose(corrected.logit_correction_, np.log(priors), rtol=1e-12)
    z = raw.decision_function(X)
    if n_classes == 2:
        expected = expit(z + np.log(priors[1] / priors[0]))
        np.testing.assert_allclose(corrected.predict_proba(X)[:, 1], expected, rtol=1e-9)
    else:
        expected = softmax(z + np.log(priors), axis=1)
        np.testing.assert_allclose(corrected.predict_proba(X), expected, rtol=1e-9)
    # the training prior comes back: the rare classes lose probability mass
    assert np.all(corrected.predict_proba(X).mean(axis=0)[1:]
                  < raw.predict_proba(X).mean(axis=0)[1:])
