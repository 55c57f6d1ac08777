"""NeuralClassifier trains and predicts on the fast path (issue 6).

These tests check which code runs, never how long it takes: no per-sample
dataset indexing, no copy of X, no per-batch host synchronisation, and the
per-batch hooks of user callbacks still called.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import skorch.dataset
import torch
from skorch.callbacks import Callback

from imbestimators import NeuralClassifier
from imbestimators.losses import _functional, available_losses
from imbestimators.neural import _batching
from imbestimators.neural._net import PREDICT_BLOCK

N_ROWS, BATCH, EPOCHS = 320, 32, 3


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_ROWS, 5)).astype(np.float32)
    y = (X[:, 0] + 0.3 * rng.standard_normal(N_ROWS) > 0.5).astype(int)
    return X, y


def small(**params):
    params = {"hidden_layer_sizes": (8,), "batch_size": BATCH, "max_epochs": EPOCHS,
              "random_state": 0, "device": "cpu", **params}
    return NeuralClassifier(**params)


def _forbidden(*args, **kwargs):
    raise AssertionError("the per-sample Dataset/DataLoader path was used")


@pytest.mark.parametrize("early_stopping", [False, True])
def test_no_dataset_or_dataloader(data, monkeypatch, early_stopping):
    X, y = data
    monkeypatch.setattr(skorch.dataset.Dataset, "__getitem__", _forbidden)
    monkeypatch.setattr(torch.utils.data.DataLoader, "__iter__", _forbidden)
    clf = small(early_stopping=early_stopping, scoring="average_precision").fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (N_ROWS, 2)


def _spy_take(monkeypatch):
    """Record (X tensor, positions) of every batch taken."""
    seen = []
    take = _batching.TensorData.take

    def spy(self, positions):
        seen.append((self.X, positions))
        return take(self, positions)

    monkeypatch.setattr(_batching.TensorData, "take", spy)
    return seen


def test_training_tensor_shares_memory_with_X(data, monkeypatch):
    X, y = data
    seen = _spy_take(monkeypatch)
    small().fit(X, y)
    n_batches = EPOCHS * (N_ROWS // BATCH)
    assert len(seen) == n_batches
    # float32 input is used in place: every batch of every epoch is gathered
    # from one tensor whose memory is X's own.
    pointers = {X_t.data_ptr() for X_t, _ in seen}
    assert pointers == {X.__array_interface__["data"][0]}
    # Batches are shuffled: the positions are index tensors, a new order per epoch.
    first = [p for _, p in seen[: N_ROWS // BATCH]]
    second = [p for _, p in seen[N_ROWS // BATCH: 2 * N_ROWS // BATCH]]
    assert all(isinstance(p, torch.Tensor) for p in first)
    assert not torch.equal(torch.cat(first), torch.cat(second))


def test_loss_is_read_once_per_epoch(data, monkeypatch):
    X, y = data
    calls = []
    for name in ("item", "__float__", "tolist"):
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, **kwargs):
            calls.append(tuple(self.shape))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    # SGD reads no step counter from a tensor (Adam does, on the host).
    clf = small(optimizer="sgd").fit(X, y)
    monkeypatch.undo()
    assert clf.history_[:, "train_batch_count"] == [N_ROWS // BATCH] * EPOCHS
    assert len(calls) <= EPOCHS


class CountHooks(Callback):
    def initialize(self):
        self.counts = {"begin": 0, "end": 0, "grad": 0}
        self.n_params = set()
        return self

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        self.counts["begin"] += 1

    def on_batch_end(self, net, batch=None, training=False, loss=None, **kwargs):
        assert loss is not None and loss.ndim == 0
        self.counts["end"] += 1

    def on_grad_computed(self, net, named_parameters, training=False, **kwargs):
        self.n_params.add(sum(1 for _, p in named_parameters if p.grad is not None))
        self.counts["grad"] += 1


def test_user_batch_hooks_still_called(data):
    X, y = data
    clf = small(callbacks=[("hooks", CountHooks())]).fit(X, y)
    hooks = dict(clf.net_.callbacks_)["hooks"]
    n_batches = EPOCHS * (N_ROWS // BATCH)
    assert hooks.counts == {"begin": n_batches, "end": n_batches, "grad": n_batches}
    # Every learnable tensor (2 layers × weight and bias, and the feature
    # gates) had its gradient.
    assert hooks.n_params == {5}


class LogitDtypes(Callback):
    def initialize(self):
        self.dtypes = set()
        return self

    def on_batch_end(self, net, training=False, y_pred=None, **kwargs):
        if training:
            self.dtypes.add(y_pred.dtype)


def test_bfloat16_trains_and_predicts_finite(data):
    X, y = data
    clf = small(precision="bfloat16", max_epochs=5, learning_rate=1e-2,
                callbacks=[("dtypes", LogitDtypes())]).fit(X, y)
    assert dict(clf.net_.callbacks_)["dtypes"].dtypes == {torch.bfloat16}
    assert clf.history_[-1, "train_loss"] < clf.history_[0, "train_loss"]
    predicted = []
    clf.net_.module_.register_forward_hook(lambda m, args, out: predicted.append(out.dtype))
    proba = clf.predict_proba(X)
    assert set(predicted) == {torch.bfloat16}
    assert proba.dtype == np.float64 and np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.score(X, y) > 0.7


def test_float16_needs_cuda(data):
    X, y = data
    with pytest.raises(ValueError, match="precision='float16' needs a CUDA device"):
        small(precision="float16").fit(X, y)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_moves_data_once(data, monkeypatch):
    X, y = data
    seen = _spy_take(monkeypatch)
    small(device="cuda").fit(X, y)
    assert all(X_t.is_cuda and p.is_cuda for X_t, p in seen)
    # One tensor on the device for the whole fit: moved once, not per epoch.
    assert len({X_t.data_ptr() for X_t, _ in seen}) == 1


@pytest.mark.parametrize("loss", ["cross_entropy", "weighted_bce", "focal", "ldam",
                                  "logit_adjusted", "expected_cost"])
def test_per_class_constants_are_built_once_not_per_batch(data, loss):
    # Built from host memory each batch, they would make a GPU wait for the
    # copy every batch.
    X, y = data
    params = dict(loss=loss, class_weight="balanced", cost_matrix=[[0, 1], [3, 0]])
    if loss != "expected_cost":
        params["cost_matrix"] = None
    built = []
    for size in (16, 64):
        _functional._device_constant.cache_clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # double counting of the weights
            small(batch_size=size, **params).fit(X, y)
        info = _functional._device_constant.cache_info()
        built.append(info.misses)
        assert info.hits + info.misses >= EPOCHS * (N_ROWS // size)
    assert built[0] == built[1] <= 3


def test_per_class_constant_first_built_in_inference_mode_trains():
    _functional._device_constant.cache_clear()
    like = torch.zeros(3, dtype=torch.float64)
    with torch.inference_mode():
        first = _functional.per_class_tensor([1.0, 2.5], like)
    again = _functional.per_class_tensor(np.array([1, 2.5]), like)
    assert again is first and not again.is_inference()
    assert again.dtype == torch.float64 and again.tolist() == [1.0, 2.5]
    logits = torch.zeros(2, requires_grad=True)
    (logits * again).sum().backward()
    assert logits.grad.tolist() == [1.0, 2.5]
    assert _functional.per_class_tensor([1.0, 2.0], like).tolist() == [1.0, 2.0]


def _synchronisations(run):
    """The number of host synchronisations of the CUDA device during ``run()``."""
    _functional._device_constant.cache_clear()
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught)


SYNC_CASES = [{"optimizer": "sgd"}] + [
    {"loss": name, "class_weight": "balanced",
     "cost_matrix": [[0, 1], [3, 0]] if name == "expected_cost" else None}
    for name in available_losses()
]


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("params", SYNC_CASES, ids=lambda p: p.get("loss", "sgd"))
def test_cuda_synchronises_per_epoch_not_per_batch(data, params):
    X, y = data
    # 20 batches an epoch against 5: one synchronisation per batch would add 45.
    many, few = (
        _synchronisations(lambda: small(device="cuda", batch_size=size, **params).fit(X, y))
        for size in (16, 64)
    )
    assert many == few


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_cuda_prediction_synchronises_once_not_per_block(data, precision):
    X, y = data
    clf = small(device="cuda", precision=precision).fit(X, y)
    block = PREDICT_BLOCK["cuda"]
    rng = np.random.default_rng(1)
    X_few, X_many = (rng.standard_normal((n * block - 7, X.shape[1])).astype(np.float32)
                     for n in (2, 6))
    few, many = (_synchronisations(lambda X_new=X_new: clf.predict_proba(X_new))
                 for X_new in (X_few, X_many))
    assert many == few
    # Every asynchronous copy has landed: the same as one small block at a time.
    pieces = [clf.predict_proba(X_many[i:i + 1000]) for i in range(0, len(X_many), 1000)]
    np.testing.assert_allclose(clf.predict_proba(X_many), np.vstack(pieces),
                               rtol=1e-3, atol=1e-6)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_float16_on_cuda_trains_with_loss_scaling(data):
    X, y = data
    clf = small(device="cuda", precision="float16", max_epochs=5, learning_rate=1e-2,
                callbacks=[("dtypes", LogitDtypes())]).fit(X, y)
    assert dict(clf.net_.callbacks_)["dtypes"].dtypes == {torch.float16}
    assert clf.net_.grad_scaler_ is not None
    assert clf.history_[-1, "train_loss"] < clf.history_[0, "train_loss"]
    proba = clf.predict_proba(X)
    assert np.all(np.isfinite(proba)) and clf.score(X, y) > 0.7


@pytest.mark.parametrize("sparse", [False, True])
def test_a_rows_probabilities_do_not_depend_on_the_rows_predicted_with_it(sparse):
    rng = np.random.default_rng(0)
    X = np.where(rng.random((1500, 64)) < 0.2, rng.standard_normal((1500, 64)), 0.0)
    y = (X[:, :3].sum(axis=1) > 0.5).astype(int)
    X = X.astype(np.float32)
    as_input = sp.csr_matrix if sparse else np.asarray
    # Wide enough that unpadded blocks of other shapes round differently.
    clf = small(hidden_layer_sizes=(256, 256), max_epochs=2).fit(as_input(X), y)
    # 1 500 rows are a full block and a padded one; 6 rows, one padded block.
    full = clf.predict_proba(as_input(X))
    for rows in (slice(1024, 1030), slice(0, 3), slice(1497, 1500)):
        np.testing.assert_array_equal(clf.predict_proba(as_input(X[rows])), full[rows])
