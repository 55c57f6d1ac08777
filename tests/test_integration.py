"""NeuralClassifier inside the scikit-learn and imbalanced-learn tool boxes."""

import pickle

import numpy as np
import pytest
import torch
from imblearn.ensemble import BalancedBaggingClassifier
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.metrics import recall_score, roc_auc_score
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    TunedThresholdClassifierCV,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from imbestimators import NeuralClassifier
from imbestimators.losses import CrossEntropyLoss

FAST = dict(max_epochs=15, hidden_layer_sizes=(16,), learning_rate=1e-2, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=400, n_features=6, n_informative=4, weights=[0.9], class_sep=1.0,
        random_state=0,
    )
    return X * 50 + 10, y  # badly scaled on purpose


def test_pipeline_with_scaler(data):
    X, y = data
    # Scores on the training rows: no penalty holding the fit back.
    settings = dict(FAST, standardize=False, weight_decay=0.0)
    pipe = make_pipeline(StandardScaler(), NeuralClassifier(**settings))
    proba = pipe.fit(X, y).predict_proba(X)
    assert roc_auc_score(y, proba[:, 1]) > 0.85
    # The default encoding's quantile bins move with an affine rescaling of a
    # feature, so the scaler changes nothing.
    unscaled = NeuralClassifier(**settings).fit(X, y)
    np.testing.assert_allclose(unscaled.predict_proba(X), proba, atol=1e-4)


def test_grid_search_over_size_rate_and_class_weight(data):
    X, y = data
    grid = GridSearchCV(
        NeuralClassifier(**FAST),
        {
            "hidden_layer_sizes": [(4,), (16,)],
            "learning_rate": [1e-4, 1e-2],
            "class_weight": [None, "balanced"],
        },
        scoring="balanced_accuracy",
        cv=StratifiedKFold(3),
    )
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 8
    # 15 epochs at lr 1e-4 barely move the weights: never the best choice.
    assert grid.best_params_["learning_rate"] == 1e-2
    assert grid.best_params_["class_weight"] == "balanced"


def test_grid_search_over_loss_parameters(data):
    X, y = data
    grid = GridSearchCV(
        NeuralClassifier(loss=CrossEntropyLoss(), **FAST),
        {"loss__label_smoothing": [0.0, 0.2]},
        cv=StratifiedKFold(3),
    )
    grid.fit(X, y)
    assert grid.best_estimator_.loss.label_smoothing in (0.0, 0.2)
    assert grid.best_estimator_.loss_.label_smoothing == grid.best_params_[
        "loss__label_smoothing"]


@pytest.mark.parametrize("sampler",
                         [SMOTE(random_state=0), RandomUnderSampler(random_state=0)],
                         ids=["smote", "undersampling"])
def test_imbalanced_learn_pipeline(data, sampler):
    X, y = data
    pipe = make_imb_pipeline(sampler, NeuralClassifier(**FAST)).fit(X, y)
    plain = NeuralClassifier(**FAST).fit(X, y)
    net = pipe[-1]
    # The network saw the resampled, balanced labels.
    assert net.class_counts_[0] == net.class_counts_[1]
    assert recall_score(y, pipe.predict(X)) >= recall_score(y, plain.predict(X))


def test_balanced_bagging(data):
    X, y = data
    bag = BalancedBaggingClassifier(
        estimator=NeuralClassifier(**FAST), n_estimators=3, random_state=0
    ).fit(X, y)
    proba = bag.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert len(bag.estimators_) == 3
    assert recall_score(y, bag.predict(X)) > 0.7


def test_tuned_threshold(data):
    X, y = data
    tuned = TunedThresholdClassifierCV(
        NeuralClassifier(**FAST), scoring="f1", cv=3, random_state=0
    ).fit(X, y)
    assert 0.0 < tuned.best_threshold_ < 1.0
    assert set(np.unique(tuned.predict(X))) == {0, 1}


def test_cross_val_score_average_precision(data):
    X, y = data
    scores = cross_val_score(
        NeuralClassifier(**FAST), X, y, scoring="average_precision", cv=StratifiedKFold(3)
    )
    assert scores.shape == (3,)
    assert scores.mean() > 1.5 * y.mean()  # far better than chance


def test_clone_gives_an_unfitted_equal_estimator(data):
    X, y = data
    clf = NeuralClassifier(loss=CrossEntropyLoss(label_smoothing=0.1), **FAST).fit(X, y)
    copy = clone(clf)
    assert not hasattr(copy, "net_")
    assert copy.get_params()["loss__label_smoothing"] == 0.1
    assert copy.loss is not clf.loss


def test_pickle_round_trip(data):
    X, y = data
    clf = NeuralClassifier(**FAST).fit(X, y)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_fit_predict_matches_cpu_closely(data):
    X, y = data
    gpu = NeuralClassifier(device="cuda", **FAST).fit(X, y)
    assert next(gpu.net_.module_.parameters()).is_cuda
    cpu = NeuralClassifier(device="cpu", **FAST).fit(X, y)
    np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), atol=1e-3)
