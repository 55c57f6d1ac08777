"""Mini-batch composition: stratified and balanced epoch orders."""

import warnings

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from imbestimators import NeuralClassifier
from imbestimators.losses import CrossEntropyLoss
from imbestimators.neural._batching import ORDERS, TensorData, check_class_counts


def _data(counts, rows=None):
    y = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    # Shuffle the storage so that classes are not contiguous in the tensors.
    y = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(99))]
    X = torch.arange(len(y), dtype=torch.float32)[:, None]
    return TensorData(X, y, rows=rows)


def _batch_counts(data, positions, batch_size, n_classes):
    labels = data.labels()[positions].numpy()
    return np.array([np.bincount(labels[s:s + batch_size], minlength=n_classes)
                     for s in range(0, len(labels), batch_size)])


@pytest.mark.parametrize("counts", [(90, 10), (300, 7, 41), (50, 50)])
@pytest.mark.parametrize("batch_size", [8, 16, 37])
def test_stratified_batches_keep_the_class_proportions(counts, batch_size):
    data = _data(counts)
    positions = ORDERS["stratified"](data, torch.Generator().manual_seed(0))()
    # one epoch visits every sample exactly once
    assert sorted(positions.tolist()) == list(range(len(data)))
    per_batch = _batch_counts(data, positions, batch_size, len(counts))
    share = np.asarray(counts) / sum(counts)
    expected = per_batch.sum(axis=1, keepdims=True) * share
    # Two classes: within ±1 of the exact share; K classes: the interleaving
    # bound 1 + p_c (K - 2).
    bound = 1 + share * (len(counts) - 2)
    assert np.all(np.abs(per_batch - expected) < bound + 1e-9)
    full = per_batch[:-1] if len(data) % batch_size else per_batch
    # a class with at least one sample per batch is in every full batch
    for c, n in enumerate(counts):
        if n >= len(per_batch):
            assert np.all(full[:, c] >= 1)


def test_stratified_has_a_positive_in_every_batch_where_shuffling_does_not():
    data = _data((190, 10))
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):  # epochs
        per_batch = _batch_counts(data, ORDERS["stratified"](data, generator)(), 20, 2)
        assert np.all(per_batch[:, 1] == 1)
    shuffled = [_batch_counts(data, ORDERS["shuffle"](data, generator)(), 20, 2)
                for _ in range(20)]
    assert any(np.any(b[:, 1] == 0) for b in shuffled)


@pytest.mark.parametrize("counts", [(90, 10), (200, 3, 40)])
def test_balanced_draws_classes_equally_every_epoch(counts):
    data = _data(counts)
    n_classes = len(counts)
    per_class = round(len(data) / n_classes)
    order = ORDERS["balanced"](data, torch.Generator().manual_seed(0))
    epochs = [order() for _ in range(3)]
    labels = data.labels().numpy()
    for positions in epochs:
        positions = positions.numpy()
        assert abs(len(positions) - len(data)) <= n_classes
        assert np.all(np.bincount(labels[positions], minlength=n_classes) == per_class)
        for c, n in enumerate(counts):
            seen = np.bincount(positions[labels[positions] == c], minlength=len(data))
            seen = seen[labels == c]
            if n >= per_class:  # subsampled: no sample twice
                assert seen.max() == 1
            else:  # oversampled: whole shuffles repeated
                assert seen.min() == per_class // n
                assert seen.max() == -(-per_class // n)
        per_batch = _batch_counts(data, torch.as_tensor(positions), 12, n_classes)
        expected = per_batch.sum(axis=1, keepdims=True) / n_classes
        assert np.all(np.abs(per_batch - expected) < 1 + (n_classes - 2) / n_classes + 1e-9)
    # the majority is re-drawn (and the minority re-shuffled) at every epoch
    assert not torch.equal(epochs[0], epochs[1])
    majority = [set(e.numpy()[labels[e.numpy()] == 0]) for e in epochs]
    assert majority[0] != majority[1]


def test_orders_use_the_rows_of_their_part():
    # positions index the part (rows), not the whole tensors
    full = _data((60, 20))
    rows = torch.arange(0, 80, 2)
    part = TensorData(full.X, full.y, rows=rows)
    counts = np.bincount(part.labels().numpy())
    positions = ORDERS["stratified"](part, torch.Generator().manual_seed(0))()
    assert sorted(positions.tolist()) == list(range(len(rows)))
    balanced = ORDERS["balanced"](part, torch.Generator().manual_seed(0))()
    assert balanced.max() < len(rows)
    assert np.all(np.bincount(part.labels()[balanced].numpy()) == round(counts.sum() / 2))


@pytest.mark.parametrize("sampling", ["shuffle", "stratified", "balanced"])
def test_same_seed_same_epochs(sampling):
    data = _data((70, 13, 17))

    def epochs(seed):
        order = ORDERS[sampling](data, torch.Generator().manual_seed(seed))
        return [order() for _ in range(3)]

    first, again, other = epochs(5), epochs(5), epochs(6)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))


def test_warnings_for_classes_too_small_for_the_batches():
    classes = np.array(["a", "b", "c"])
    with pytest.warns(UserWarning, match=r"stratified.*\[.b.\].*\(13\)"):
        check_class_counts([200, 3, 40], classes, batch_size=20, sampling="stratified")
    with pytest.warns(UserWarning, match=r"balanced.*\['c'\].*no training samples"):
        check_class_counts([200, 3, 0], classes, batch_size=20, sampling="balanced")
    with pytest.warns(UserWarning, match=r"balanced.*batch_size of at least"):
        check_class_counts([200, 3, 40], classes, batch_size=2, sampling="balanced")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_class_counts([200, 3, 40], classes, batch_size=20, sampling="balanced")
        check_class_counts([200, 10, 40], classes, batch_size=25, sampling="stratified")
        check_class_counts([200, 1, 0], classes, batch_size=5, sampling="shuffle")


class _RecordBatches(Callback):
    def initialize(self):
        self.counts = []
        return self

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            self.counts.append(np.bincount(batch[1].numpy(), minlength=2))


class _BatchLevelCE(CrossEntropyLoss):
    _batch_level = True


def _toy(n=200, positives=20, seed=0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n - positives, int), np.ones(positives, int)]
    X = rng.normal(size=(n, 3)) + y[:, None]
    return X, y


def _fit(**params):
    X, y = _toy()
    clf = NeuralClassifier(hidden_layer_sizes=(4,), max_epochs=3, batch_size=20,
                           callbacks=[("record", _RecordBatches())], random_state=0,
                           **params).fit(X, y)
    return clf, np.array(dict(clf.net_.callbacks_)["record"].counts)


def test_classifier_batches_follow_batch_sampling():
    _, stratified = _fit(batch_sampling="stratified")
    assert len(stratified) == 30 and np.all(stratified[:, 1] == 2)
    _, balanced = _fit(batch_sampling="balanced")
    assert np.all(balanced == 10)


def test_auto_is_stratified_for_batch_level_losses_and_shuffle_otherwise():
    auto, auto_counts = _fit(loss=_BatchLevelCE())
    strat, strat_counts = _fit(loss=_BatchLevelCE(), batch_sampling="stratified")
    np.testing.assert_array_equal(auto_counts, strat_counts)
    np.testing.assert_array_equal(auto.decision_function(_toy()[0]),
                                  strat.decision_function(_toy()[0]))
    auto, auto_counts = _fit()
    shuffle, shuffle_counts = _fit(batch_sampling="shuffle")
    np.testing.assert_array_equal(auto_counts, shuffle_counts)
    assert np.any(auto_counts[:, 1] != 2)  # not stratified


def test_classifier_warns_when_a_class_is_missing_from_balanced_batches():
    X, y = _toy()
    clf = NeuralClassifier(hidden_layer_sizes=(4,), batch_sampling="balanced",
                           batch_size=20)
    with pytest.warns(UserWarning, match="no training samples"):
        clf.partial_fit(X, y, classes=[0, 1, 2])


def test_bad_batch_sampling():
    X, y = _toy()
    with pytest.raises(ValueError, match="batch_sampling"):
        NeuralClassifier(batch_sampling="oversample").fit(X, y)
