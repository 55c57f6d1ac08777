"""Behaviour of NeuralClassifier that scikit-learn's common checks do not cover."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from skorch.callbacks import BatchScoring, Callback, EpochScoring
from sklearn.datasets import make_classification
from sklearn.metrics import recall_score, roc_auc_score

from imbestimators import NeuralClassifier
from imbestimators.losses import CrossEntropyLoss
from imbestimators.neural import MLP
from imbestimators.neural._modules import Dropout

FAST = dict(max_epochs=15, hidden_layer_sizes=(16,), learning_rate=1e-2, random_state=0)


@pytest.fixture(scope="module")
def imbalanced():
    X, y = make_classification(
        n_samples=400, n_features=6, n_informative=4, weights=[0.9], class_sep=0.8,
        random_state=0,
    )
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def three_classes():
    return make_classification(
        n_samples=300, n_features=5, n_informative=4, n_redundant=0, n_classes=3,
        n_clusters_per_class=1, random_state=1,
    )


@pytest.mark.parametrize(
    "labels", [np.array(["ham", "spam"]), np.array([-1, 1]), np.array([3, 17])],
    ids=["strings", "minus-one-one", "non-contiguous"],
)
def test_any_labels_round_trip(imbalanced, labels):
    X, y = imbalanced
    clf = NeuralClassifier(**FAST).fit(X, labels[y])
    assert list(clf.classes_) == sorted(labels.tolist())
    assert set(clf.predict(X)) <= set(labels.tolist())
    reference = NeuralClassifier(**FAST).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), reference.predict_proba(X))


def test_binary_network_has_one_logit_and_consistent_outputs(imbalanced):
    X, y = imbalanced
    clf = NeuralClassifier(**FAST).fit(X, y)
    assert clf.n_outputs_ == 1
    z = clf.decision_function(X)
    proba = clf.predict_proba(X)
    assert z.shape == (len(X),)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)
    np.testing.assert_array_equal(clf.predict(X), (z > 0).astype(int))


def test_multiclass_softmax(three_classes):
    X, y = three_classes
    clf = NeuralClassifier(**FAST).fit(X, y)
    logits = clf.decision_function(X)
    assert logits.shape == (len(X), 3)
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-10)
    assert clf.score(X, y) > 0.8


def test_same_random_state_same_predictions_and_global_rng_untouched(imbalanced):
    X, y = imbalanced
    torch_state = torch.random.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    a = NeuralClassifier(dropout=0.2, **FAST).fit(X, y).predict_proba(X)
    b = NeuralClassifier(dropout=0.2, **FAST).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)
    c = NeuralClassifier(dropout=0.2, **{**FAST, "random_state": 1}).fit(X, y)
    assert not np.allclose(c.predict_proba(X), a)


def test_random_state_none_does_not_reseed_torch(imbalanced):
    X, y = imbalanced
    torch.manual_seed(123)
    NeuralClassifier(**{**FAST, "random_state": None, "max_epochs": 1}).fit(X, y)
    after_fit = torch.rand(3)
    torch.manual_seed(123)
    assert torch.equal(torch.rand(3), after_fit)


@pytest.mark.parametrize("ensemble_size", [1, 3])
def test_sparse_input_matches_dense(imbalanced, ensemble_size):
    X, y = imbalanced
    X = np.where(np.abs(X) > 1, X, 0).astype(np.float32)
    # Sparse inputs are not encoded piecewise-linearly: compare like with like.
    params = dict(FAST, standardize=False, piecewise_bins=None, ensemble_size=ensemble_size)
    dense = NeuralClassifier(**params).fit(X, y)
    sparse = NeuralClassifier(**params).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(
        sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X), rtol=1e-5
    )


def test_sparse_input_is_divided_by_its_largest_absolute_value(imbalanced):
    X, y = imbalanced
    X = np.where(np.abs(X) > 1, 3 * X, 0).astype(np.float32)
    X[:, 2] = 0.0  # an empty column keeps scale 1
    largest = np.abs(X).max(axis=0)
    largest[largest == 0] = 1.0
    scaled = NeuralClassifier(**FAST).fit(sp.csr_matrix(X), y)
    by_hand = NeuralClassifier(**FAST, standardize=False, piecewise_bins=None).fit(
        X / largest, y)
    np.testing.assert_allclose(scaled.predict_proba(sp.csr_matrix(X)),
                               by_hand.predict_proba(X / largest), rtol=1e-5)


def test_balanced_class_weight_raises_minority_recall(imbalanced):
    X, y = imbalanced
    plain = NeuralClassifier(**FAST).fit(X, y)
    weighted = NeuralClassifier(class_weight="balanced", **FAST).fit(X, y)
    assert recall_score(y, weighted.predict(X)) > recall_score(y, plain.predict(X)) + 0.1
    counts = np.bincount(y)
    np.testing.assert_allclose(weighted.class_weight_, len(y) / (2 * counts))


def test_class_weight_equals_sample_weight_per_class(imbalanced):
    X, y = imbalanced
    weights = {0: 1.0, 1: 4.0}
    by_class = NeuralClassifier(class_weight=weights, **FAST).fit(X, y)
    by_sample = NeuralClassifier(**FAST).fit(X, y, sample_weight=np.where(y == 1, 4.0, 1.0))
    np.testing.assert_allclose(
        by_class.predict_proba(X), by_sample.predict_proba(X), rtol=1e-4, atol=1e-6
    )


def test_zero_sample_weight_equals_dropping_samples(imbalanced):
    X, y = imbalanced
    keep = np.arange(len(y)) % 4 != 0
    # One full batch each, so both runs take the same optimisation steps (no
    # dropout: its masks depend on the batch's length); the input scaling and
    # bins ignore rows of zero weight.
    params = dict(FAST, dropout=0.0)
    weighted = NeuralClassifier(batch_size=len(y), **params)
    weighted.fit(X, y, sample_weight=keep.astype(float))
    dropped = NeuralClassifier(batch_size=int(keep.sum()), **params).fit(X[keep], y[keep])
    np.testing.assert_allclose(
        weighted.predict_proba(X), dropped.predict_proba(X), rtol=1e-4, atol=1e-6
    )


def test_early_stopping_stops_and_restores_best(imbalanced):
    X, y = imbalanced
    clf = NeuralClassifier(
        early_stopping=True, scoring="average_precision", n_iter_no_change=3,
        max_epochs=200, hidden_layer_sizes=(16,), learning_rate=0.05, random_state=0,
    ).fit(X, y)
    scores = [row["valid_score"] for row in clf.history_]
    assert clf.n_iter_ < 200
    best = int(np.argmax(scores))
    assert len(scores) - 1 - best >= 3  # stopped after n_iter_no_change misses
    assert "valid_loss" in clf.history_[-1]


def test_custom_module_class_and_instance(three_classes):
    X, y = three_classes

    class Linear(torch.nn.Module):
        def __init__(self, n_features, n_outputs, bias=True):
            super().__init__()
            self.linear = torch.nn.Linear(n_features, n_outputs, bias=bias)

        def forward(self, X):
            return self.linear(X)

    clf = NeuralClassifier(module=Linear, module_params={"bias": False}, **FAST).fit(X, y)
    assert clf.net_.module_.network.linear.bias is None
    instance = torch.nn.Linear(X.shape[1], 3)
    before = instance.weight.detach().clone()
    NeuralClassifier(module=instance, **FAST).fit(X, y)
    assert torch.equal(instance.weight, before)  # the user's instance is not trained


def test_module_with_wrong_output_width_is_named(three_classes):
    X, y = three_classes
    clf = NeuralClassifier(module=torch.nn.Linear(X.shape[1], 2), **FAST)
    with pytest.raises(ValueError,
                       match=r"module must output logits of shape \(n_samples, 3\)"):
        clf.fit(X, y)


def test_torch_criterion_as_loss(imbalanced):
    X, y = imbalanced
    bce = NeuralClassifier(loss=torch.nn.BCEWithLogitsLoss(), **FAST).fit(X, y)
    ce = NeuralClassifier(loss=torch.nn.CrossEntropyLoss, **FAST).fit(X, y)
    assert bce.n_outputs_ == 1 and ce.n_outputs_ == 2
    for clf in (bce, ce):
        assert roc_auc_score(y, clf.predict_proba(X)[:, 1]) > 0.85
        np.testing.assert_allclose(clf.predict_proba(X).sum(1), 1.0, atol=1e-12)
    ours = NeuralClassifier(loss="cross_entropy", **FAST).fit(X, y)
    np.testing.assert_allclose(bce.predict_proba(X), ours.predict_proba(X), rtol=1e-4)


@pytest.mark.parametrize("criterion", [torch.nn.BCEWithLogitsLoss(),
                                       torch.nn.SoftMarginLoss()])
def test_one_logit_criterion_refuses_three_classes_before_training(three_classes,
                                                                   criterion):
    X, y = three_classes
    clf = NeuralClassifier(loss=criterion, **FAST)
    with pytest.raises(ValueError, match=r"loss=.*binary; got 3 classes"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


def test_loss_object_is_not_modified(imbalanced):
    X, y = imbalanced
    loss = CrossEntropyLoss()
    clf = NeuralClassifier(loss=loss, class_weight="balanced", **FAST).fit(X, y)
    assert loss.class_weight is None
    np.testing.assert_allclose(clf.loss_.class_weight, clf.class_weight_)


def test_cost_matrix_decision(imbalanced):
    X, y = imbalanced
    C = np.array([[0.0, 1.0], [9.0, 0.0]])
    clf = NeuralClassifier(cost_matrix=C, **FAST).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(clf.predict(X), (proba[:, 1] > 0.1).astype(int))


def test_warm_start_and_partial_fit_continue(imbalanced):
    X, y = imbalanced
    clf = NeuralClassifier(warm_start=True, **{**FAST, "max_epochs": 3}).fit(X, y)
    first = clf.predict_proba(X)
    clf.fit(X, y)
    assert clf.n_iter_ == 6
    assert not np.allclose(clf.predict_proba(X), first)
    inc = NeuralClassifier(**FAST)
    inc.partial_fit(X, y, classes=[0, 1])
    inc.partial_fit(X, y)
    assert inc.n_iter_ == 2
    with pytest.raises(ValueError, match="not in classes_"):
        inc.partial_fit(X, np.where(y == 1, 2, 0))


def test_warm_start_uses_the_new_learning_rate(imbalanced):
    X, y = imbalanced
    clf = NeuralClassifier(warm_start=True, **{**FAST, "max_epochs": 2}).fit(X, y)
    clf.set_params(learning_rate=1e-4).fit(X, y)
    assert clf.net_.optimizer_.param_groups[0]["lr"] == 1e-4


def test_lbfgs_optimizer(imbalanced):
    X, y = imbalanced
    clf = NeuralClassifier(optimizer=torch.optim.LBFGS, batch_size=len(y),
                           **{**FAST, "learning_rate": 0.5, "max_epochs": 5}).fit(X, y)
    assert roc_auc_score(y, clf.predict_proba(X)[:, 1]) > 0.85


def test_feature_names_in(imbalanced):
    pd = pytest.importorskip("pandas")
    X, y = imbalanced
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = NeuralClassifier(**FAST).fit(frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)


@pytest.mark.parametrize(
    "params, fit_kwargs, match",
    [
        ({"class_weight": {0: 1.0, 5: 2.0}}, {}, "class_weight has keys \\[5\\]"),
        ({"class_weight": "balance"}, {}, "class_weight"),
        ({"cost_matrix": np.ones((3, 3))}, {}, "cost_matrix must have shape \\(2, 2\\)"),
        ({"cost_matrix": [[0, -1], [1, 0]]}, {}, "cost_matrix must be non-negative"),
        ({"cost_matrix": [[0, np.nan], [1, 0]]}, {},
         "cost_matrix must contain only finite"),
        ({"loss": "no_such_loss"}, {}, "Unknown loss 'no_such_loss'; valid names are"),
        ({"loss": 3.0}, {}, "loss must be"),
        ({"device": "cuda:7" if not torch.cuda.is_available() else "cuda:99"}, {},
         "device='cuda:"),
        ({"device": "tpu"}, {}, "device='tpu'"),
        ({"batch_size": 0}, {}, "batch_size"),
        ({"learning_rate_schedule": "cos"}, {}, "learning_rate_schedule"),
        ({"weight_decay": "strong"}, {}, "weight_decay"),
        ({"weight_decay": -1.0}, {}, "weight_decay"),
        ({"weight_averaging": 1.5}, {}, "weight_averaging"),
        ({"weight_averaging": "half"}, {}, "weight_averaging"),
        ({"hidden_layer_sizes": (4, -2)}, {}, "hidden_layer_sizes"),
        ({"scoring": "no_such_scorer", "early_stopping": True}, {},
         "scoring='no_such_scorer'"),
        ({}, {"sample_weight": np.ones(3)}, "sample_weight"),
        ({}, {"sample_weight": -np.ones(400)}, "[Nn]egative"),
    ],
)
def test_bad_parameters_are_named(imbalanced, params, fit_kwargs, match):
    X, y = imbalanced
    with pytest.raises((ValueError, TypeError), match=match):
        NeuralClassifier(**{**FAST, **params}).fit(X, y, **fit_kwargs)


@pytest.mark.parametrize(
    "X_change, y_change, match",
    [
        (lambda X: np.where(np.arange(X.size).reshape(X.shape) == 5, np.nan, X), None,
         "NaN"),
        (lambda X: np.where(np.arange(X.size).reshape(X.shape) == 5, np.inf, X), None,
         "infinity"),
        (lambda X: X[:0], lambda y: y[:0], "0 sample"),
        (None, lambda y: np.linspace(0, 1, len(y)), "continuous"),
        (None, lambda y: np.zeros_like(y), "1 class"),
        (None, lambda y: np.where(np.arange(len(y)) == 5, np.nan, y), "y contains NaN"),
        (None, lambda y: np.where(np.arange(len(y)) == 5, np.inf, y),
         "y contains infinity"),
    ],
    ids=["nan", "inf", "empty", "continuous-y", "one-class", "nan-y", "inf-y"],
)
def test_bad_data_is_rejected(imbalanced, X_change, y_change, match):
    X, y = imbalanced
    X = X_change(X) if X_change else X
    y = y_change(y) if y_change else y
    with pytest.raises(ValueError, match=match):
        NeuralClassifier(**FAST).fit(X, y)


def test_wrong_number_of_features_at_predict(imbalanced):
    X, y = imbalanced
    clf = NeuralClassifier(**{**FAST, "max_epochs": 1}).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])


def test_cosine_schedule_anneals_the_learning_rate_per_epoch(imbalanced):
    X, y = imbalanced
    epochs = 6
    clf = NeuralClassifier(learning_rate_schedule="cosine",
                           **{**FAST, "max_epochs": epochs}).fit(X, y)
    lr0 = FAST["learning_rate"]
    # lr at epoch e (from 0) of cosine annealing to 0 over T epochs.
    expected = [lr0 * (1 + math.cos(math.pi * e / epochs)) / 2 for e in range(epochs)]
    np.testing.assert_allclose(clf.history_[:, "event_lr"], expected, rtol=1e-12)
    # A warm start restarts the schedule at learning_rate.
    clf.set_params(warm_start=True, max_epochs=2).fit(X, y)
    np.testing.assert_allclose(clf.history_[-2:, "event_lr"], [lr0, lr0 / 2], rtol=1e-12)
    # The constant default leaves the rate alone.
    plain = NeuralClassifier(**{**FAST, "max_epochs": 2}).fit(X, y)
    assert plain.net_.optimizer_.param_groups[0]["lr"] == lr0


@pytest.mark.parametrize("n, early_stopping, expected", [
    (400, False, 0.03),  # 30 / 400 = 0.075, capped at 0.03
    (3000, False, 0.01),  # 30 / 3000
    (3000, True, 30 / 2700),  # the validation tenth is not trained on
])
def test_auto_weight_decay_fades_with_the_training_rows(n, early_stopping, expected):
    X, y = make_classification(n_samples=n, n_features=3, n_informative=2,
                               n_redundant=0, weights=[0.8], random_state=0)
    clf = NeuralClassifier(weight_decay="auto", early_stopping=early_stopping,
                           **{**FAST, "max_epochs": 1}).fit(X, y)
    group = clf.net_.optimizer_.param_groups[0]
    assert group["weight_decay"] == pytest.approx(expected, rel=1e-12)


def test_weight_decay_and_optimizer_params_reach_the_optimizer(imbalanced):
    X, y = imbalanced
    clf = NeuralClassifier(optimizer="sgd", weight_decay=0.05,
                           optimizer_params={"momentum": 0.9},
                           **{**FAST, "max_epochs": 1}).fit(X, y)
    group = clf.net_.optimizer_.param_groups[0]
    assert isinstance(clf.net_.optimizer_, torch.optim.SGD)
    assert group["weight_decay"] == 0.05 and group["momentum"] == 0.9
    assert group["lr"] == FAST["learning_rate"]
    # weight decay shrinks the weights: a large one gives a smaller network norm
    norms = []
    for decay in (0.0, 0.5):
        net = NeuralClassifier(optimizer="sgd", weight_decay=decay, **FAST).fit(X, y).net_
        norms.append(sum(float((p.detach() ** 2).sum()) for p in net.module_.parameters()))
    assert norms[1] < norms[0]


class _EpochWeights(Callback):
    """Records the network's parameters at the end of every epoch."""

    def on_train_begin(self, net, **kwargs):
        self.weights_ = []

    def on_epoch_end(self, net, **kwargs):
        self.weights_.append([p.detach().clone() for p in net.module_.parameters()])


def _fitted_weights(clf):
    return [p.detach() for p in clf.net_.module_.parameters()]


@pytest.mark.parametrize("fraction, averaged", [(0.5, 3), (0.25, 2), (1.0, 6), (0.1, 1)])
def test_weight_averaging_ends_with_the_mean_of_the_last_epochs(imbalanced, fraction,
                                                                averaged):
    X, y = imbalanced
    recorder = _EpochWeights()
    clf = NeuralClassifier(weight_averaging=fraction, callbacks=[recorder],
                           **{**FAST, "max_epochs": 6}).fit(X, y)
    [recorder] = [cb for _, cb in clf.net_.callbacks_ if isinstance(cb, _EpochWeights)]
    assert len(recorder.weights_) == 6
    # The mean of the last `averaged` epochs' weights, written from its
    # definition (a sum over the recorded epochs, divided by their number).
    last = recorder.weights_[-averaged:]
    expected = [sum(ws) / averaged for ws in zip(*last)]
    for got, want in zip(_fitted_weights(clf), expected):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    if averaged > 1:
        # ... which is not the last epoch's weights.
        assert any(not torch.allclose(got, final)
                   for got, final in zip(_fitted_weights(clf), recorder.weights_[-1]))


def test_weight_averaging_zero_and_early_stopping_keep_the_trained_weights(imbalanced):
    X, y = imbalanced
    clf = NeuralClassifier(weight_averaging=0.0, callbacks=[_EpochWeights()],
                           **{**FAST, "max_epochs": 4}).fit(X, y)
    [recorder] = [cb for _, cb in clf.net_.callbacks_ if isinstance(cb, _EpochWeights)]
    for got, final in zip(_fitted_weights(clf), recorder.weights_[-1]):
        torch.testing.assert_close(got, final, rtol=0, atol=0)
    # Early stopping restores the best epoch instead of averaging.
    stopped = NeuralClassifier(early_stopping=True, **{**FAST, "max_epochs": 4}).fit(X, y)
    names = [name for name, _ in stopped.net_.callbacks_]
    assert "early_stopping" in names and "weight_averaging" not in names
    default = NeuralClassifier(**{**FAST, "max_epochs": 4}).fit(X, y)
    assert "weight_averaging" in [name for name, _ in default.net_.callbacks_]


def test_weight_averaging_averages_each_warm_fit_over_its_own_epochs(imbalanced):
    X, y = imbalanced
    clf = NeuralClassifier(weight_averaging=0.5, warm_start=True,
                           callbacks=[_EpochWeights()],
                           **{**FAST, "max_epochs": 4}).fit(X, y)
    clf.fit(X, y)
    [recorder] = [cb for _, cb in clf.net_.callbacks_ if isinstance(cb, _EpochWeights)]
    assert len(recorder.weights_) == 4 and len(clf.history_) == 8
    # The second fit's own last two epochs, not the first fit's.
    expected = [sum(ws) / 2 for ws in zip(*recorder.weights_[-2:])]
    for got, want in zip(_fitted_weights(clf), expected):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    # partial_fit trains one epoch: nothing to average, the weights stay.
    recorder = _EpochWeights()
    clf.set_params(callbacks=[recorder]).partial_fit(X, y)
    [recorder] = [cb for _, cb in clf.net_.callbacks_ if isinstance(cb, _EpochWeights)]
    for got, final in zip(_fitted_weights(clf), recorder.weights_[-1]):
        torch.testing.assert_close(got, final, rtol=0, atol=0)


def test_activation_and_dropout_build_the_mlp(imbalanced):
    X, y = imbalanced
    clf = NeuralClassifier(activation="tanh", dropout=0.3, hidden_layer_sizes=(8, 4),
                           max_epochs=1, random_state=0).fit(X, y)
    [mlp] = [m for m in clf.net_.module_.modules() if isinstance(m, MLP)]
    layers = list(mlp.layers)
    assert [type(m) for m in layers] == [
        torch.nn.Linear, torch.nn.Tanh, Dropout,
        torch.nn.Linear, torch.nn.Tanh, Dropout, torch.nn.Linear,
    ]
    assert [m.out_features for m in layers if isinstance(m, torch.nn.Linear)] == [8, 4, 1]
    assert all(m.p == 0.3 for m in layers if isinstance(m, torch.nn.Dropout))


def test_verbose_prints_the_epoch_table_and_silent_by_default(imbalanced, capsys):
    X, y = imbalanced
    NeuralClassifier(**{**FAST, "max_epochs": 2}).fit(X, y)
    assert capsys.readouterr().out == ""
    NeuralClassifier(verbose=1, **{**FAST, "max_epochs": 2}).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "epoch" in out


def test_silent_fit_builds_no_epoch_table_and_a_later_verbose_one_has_a_header(
        imbalanced, capsys, monkeypatch):
    from skorch.callbacks import PrintLog

    X, y = imbalanced
    table = PrintLog.table

    def counted(self, row):
        counted.calls += 1
        return table(self, row)

    counted.calls = 0
    monkeypatch.setattr(PrintLog, "table", counted)
    clf = NeuralClassifier(**{**FAST, "max_epochs": 2}).fit(X, y)
    assert counted.calls == 0 and capsys.readouterr().out == ""
    clf.set_params(verbose=1).partial_fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert counted.calls == 1
    # set_params reaches the warm net: the header, its rule and the third
    # epoch's row.
    assert "epoch" in lines[0] and "train_loss" in lines[0]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split()[0] == "3"


class _ValidRows(Callback):
    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        self.train_rows = dataset_train.rows.cpu().numpy()
        self.valid_rows = dataset_valid.rows.cpu().numpy()


@pytest.mark.parametrize("fraction", [0.1, 0.25])
def test_validation_split_is_stratified(imbalanced, fraction):
    X, y = imbalanced
    clf = NeuralClassifier(early_stopping=True, validation_fraction=fraction,
                           callbacks=[("rows", _ValidRows())],
                           **{**FAST, "max_epochs": 2}).fit(X, y)
    rows = dict(clf.net_.callbacks_)["rows"]
    train, valid = rows.train_rows, rows.valid_rows
    assert len(np.intersect1d(train, valid)) == 0
    assert len(train) + len(valid) == len(y)
    assert abs(len(valid) - fraction * len(y)) <= 1
    # every class in the validation part in its training proportion (±1 sample)
    counts = np.bincount(y)
    np.testing.assert_allclose(np.bincount(y[valid]), fraction * counts, atol=1)


def test_sparse_input_is_never_made_dense_for_the_mlp(imbalanced, monkeypatch):
    X, y = imbalanced
    X = np.tile(np.where(np.abs(X) > 1, X, 0), (4, 1)).astype(np.float32)  # 1600 rows
    y = np.tile(y, 4)
    X_sparse = sp.csr_matrix(X)
    densified = []
    to_dense = sp.csr_matrix.toarray

    def spy(self, *args, **kwargs):
        densified.append(self.shape[0])
        return to_dense(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", spy)
    mlp = NeuralClassifier(batch_size=64, **{**FAST, "max_epochs": 2}).fit(X_sparse, y)
    np.testing.assert_allclose(mlp.predict_proba(X_sparse).sum(axis=1), 1.0)
    assert densified == []
    # Its first layer is stored as sparse batches read it: input by input.
    first = mlp.net_.module_.network.layers[0]
    assert first.weight.shape == (X.shape[1], FAST["hidden_layer_sizes"][0])
    assert first.weight.is_contiguous()
    # A user's module gets dense batches, one at a time.
    module = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 8), torch.nn.ReLU(),
                                 torch.nn.Linear(8, 1))
    users = NeuralClassifier(module=module, batch_size=64, max_epochs=2).fit(X_sparse, y)
    assert densified and max(densified) <= 64
    densified.clear()
    proba = users.predict_proba(X_sparse)
    assert densified and max(densified) < X.shape[0]
    assert sum(densified) == X.shape[0]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("callback", [
    EpochScoring("accuracy", on_train=True),
    ("batch_acc", BatchScoring("accuracy", on_train=True)),
])
def test_skorch_scoring_callbacks_are_rejected_with_the_alternative(imbalanced, callback):
    X, y = imbalanced
    with pytest.raises(TypeError, match="callbacks: skorch's (Epoch|Batch)Scoring .*"
                                        "early_stopping=True with scoring="):
        NeuralClassifier(callbacks=[callback], **FAST).fit(X, y)


def test_other_skorch_callbacks_run(imbalanced):
    X, y = imbalanced
    seen = []

    class Count(Callback):
        def on_epoch_end(self, net, **kwargs):
            seen.append(len(net.history))

    NeuralClassifier(callbacks=[Count()], **{**FAST, "max_epochs": 3}).fit(X, y)
    assert seen == [1, 2, 3]


@pytest.mark.parametrize("n_rows, early_stopping, epochs", [
    (7_999, False, 50), (8_000, False, 20),
    # The rule counts training rows: 10% are held out for early stopping.
    (8_888, True, 50), (8_890, True, 20),
])
def test_auto_epochs_are_fewer_from_8000_training_rows(n_rows, early_stopping, epochs):
    X = np.random.default_rng(0).standard_normal((n_rows, 2))
    y = np.arange(n_rows) % 5 == 0
    # The plan is settled before any tensor is made: no training needed.
    plan = NeuralClassifier(early_stopping=early_stopping)._plan(
        X, y, None, epochs="auto", incremental=False, early_stopping=early_stopping,
        classes=None)
    assert plan.epochs == epochs
    assert plan.n_train == (n_rows if not early_stopping else n_rows - round(0.1 * n_rows))


@pytest.mark.parametrize("n_rows", [200, 20_000])
def test_auto_epochs_are_10_on_sparse_input_at_any_size(n_rows):
    X = sp.random(n_rows, 30, density=0.1, format="csr", random_state=0)
    y = np.arange(n_rows) % 5 == 0
    plan = NeuralClassifier()._plan(X, y, None, epochs="auto", incremental=False,
                                    early_stopping=False, classes=None)
    assert plan.epochs == 10
    # The same values, dense, train the dense rule's epochs.
    dense = NeuralClassifier()._plan(X.toarray(), y, None, epochs="auto",
                                     incremental=False, early_stopping=False, classes=None)
    assert dense.epochs == (50 if n_rows < 8000 else 20)


@pytest.mark.parametrize("params", [
    {}, {"class_weight": "balanced"}, {"loss": "logit_adjusted"},
    {"early_stopping": True}, {"piecewise_bins": "auto"}, {"ensemble_size": 4},
    {"batch_sampling": "balanced"},
], ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()) or "defaults")
# Four rows hold out one for validation: it cannot hold every class.
@pytest.mark.filterwarnings("ignore:early_stopping. the validation split cannot be")
def test_auto_rules_fit_two_samples_per_class_and_one_feature(params):
    # The smallest data a classifier can be given: every 'auto' rule (batch
    # size, epochs, decay, bins, validation split) must still train, and the
    # probabilities follow the one feature that separates the classes.
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    clf = NeuralClassifier(random_state=0, **params).fit(X, y)
    proba = clf.predict_proba(X)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert np.all(np.diff(proba[:, 1]) > 0)
    X3, y3 = np.arange(6.0)[:, None], np.repeat([0, 1, 2], 2)
    clf = NeuralClassifier(random_state=0, **params).fit(X3, y3)
    np.testing.assert_array_equal(clf.predict(X3), y3)


def test_auto_epochs_train_that_many(imbalanced):
    X, y = imbalanced
    clf = NeuralClassifier(hidden_layer_sizes=(4,), random_state=0).fit(X, y)
    assert clf.n_iter_ == 50 and len(clf.history_) == 50


def test_loss_is_a_read_only_view_of_the_nets_criterion(imbalanced):
    X, y = imbalanced
    assert not hasattr(NeuralClassifier(), "loss_")
    clf = NeuralClassifier(**FAST).fit(X, y)
    assert clf.loss_ is clf.net_.criterion_
    with pytest.raises(AttributeError):
        clf.loss_ = None
    assert "loss_" not in vars(clf)  # one object, one name: nothing to keep in step
