"""The piecewise-linear input encoding of the default network (``piecewise_bins``)."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.metrics import average_precision_score
from sklearn.model_selection import train_test_split

from imbestimators import NeuralClassifier
from imbestimators.datasets import load_csv
from imbestimators.neural import MLP, PiecewiseLinear
from imbestimators.neural._modules import Standardized, bin_edges

FAST = dict(max_epochs=10, hidden_layer_sizes=(16,), learning_rate=1e-2, random_state=0)


def _mixed_features(n=600, seed=0):
    """A continuous, a binary, a constant, a skewed and a 3-valued feature."""
    rng = np.random.RandomState(seed)
    return np.column_stack([
        rng.randn(n), rng.randint(0, 2, n), np.full(n, 3.0), rng.exponential(size=n),
        rng.choice([-1.0, 0.0, 5.0], n),
    ]).astype(np.float32)


def _reference_encoding(X, n_bins):
    """The encoding written out from its definition, one bin at a time."""
    columns = []
    for j in range(X.shape[1]):
        edges = np.quantile(X[:, j].astype(np.float64), np.linspace(0, 1, n_bins + 1))
        edges = np.unique(edges.astype(np.float32)).astype(np.float64)
        if len(edges) == 1:  # a constant feature: one bin that stays 0
            edges = np.array([edges[0], edges[0] + 1.0])
        for left, right in zip(edges[:-1], edges[1:]):
            columns.append(np.clip((X[:, j] - left) / (right - left), 0.0, 1.0))
    return np.column_stack(columns)


@pytest.mark.parametrize("n_bins", [1, 4, 8])
def test_encoding_matches_its_definition(n_bins):
    X = _mixed_features()
    lower, inv_width, columns, mean, scale = bin_edges(
        X, None, n_bins, np.random.RandomState(0))
    expected = _reference_encoding(X, n_bins)
    # binary feature: one bin; constant: one; 3-valued: two
    assert len(mean) == expected.shape[1] == n_bins + 1 + 1 + n_bins + min(n_bins, 2)
    raw = PiecewiseLinear(torch.nn.Identity(), lower, inv_width, columns)
    np.testing.assert_allclose(raw(torch.from_numpy(X)).numpy(), expected, atol=1e-5)
    standardised = PiecewiseLinear(torch.nn.Identity(), lower, inv_width, columns,
                                   mean, scale)
    spread = expected.std(axis=0)
    spread[spread < 1e-6] = 1.0
    np.testing.assert_allclose(standardised(torch.from_numpy(X)).numpy(),
                               (expected - expected.mean(axis=0)) / spread, atol=1e-4)


def test_tree_bins_put_an_edge_where_the_class_changes():
    # The positives are the rows above 0.93 of a uniform feature: no quantile
    # edge of 8 bins is near it, a tree on the labels splits there.
    rng = np.random.RandomState(0)
    X = rng.rand(3000, 1)
    y = (X[:, 0] > 0.93).astype(int)
    quantile = bin_edges(X, None, 8, np.random.RandomState(0))[0][0]
    tree = bin_edges(X, None, 8, np.random.RandomState(0), y=y)[0][0]
    assert np.min(np.abs(quantile - 0.93)) > 0.04
    assert np.min(np.abs(tree - 0.93)) < 0.005
    # The edges stay sorted and span the feature's training range.
    assert np.all(np.diff(tree[tree > 0]) > 0) and tree[0] == pytest.approx(X.min())


def test_tree_bins_fall_back_to_quantiles_without_a_split():
    X = _mixed_features()
    y = np.zeros(len(X), dtype=int)  # one class: nothing to split
    with_tree = bin_edges(X, None, 8, np.random.RandomState(0), y=y)
    plain = bin_edges(X, None, 8, np.random.RandomState(0))
    for a, b in zip(with_tree, plain):
        np.testing.assert_allclose(a, b)


def test_values_outside_the_training_range_saturate():
    X = _mixed_features()
    layer = PiecewiseLinear(torch.nn.Identity(), *bin_edges(
        X, None, 8, np.random.RandomState(0))[:3])
    far = np.full((2, X.shape[1]), 0.0, dtype=np.float32)
    far[0, 0], far[1, 0] = -1e6, 1e6
    encoded = layer(torch.from_numpy(far)).numpy()
    np.testing.assert_array_equal(encoded[0, :8], 0.0)
    np.testing.assert_array_equal(encoded[1, :8], 1.0)


def test_gradients_reach_the_inputs():
    X = torch.from_numpy(_mixed_features(50)).requires_grad_()
    layer = PiecewiseLinear(torch.nn.Identity(), *bin_edges(
        X.detach().numpy(), None, 4, np.random.RandomState(0))[:3])
    layer(X).sum().backward()
    # d/dx of the sum over bins is the inverse width of the bin x lies in
    assert torch.all(torch.isfinite(X.grad)) and torch.any(X.grad[:, 0] > 0)


def test_large_data_uses_a_seeded_subsample_close_to_all_rows():
    rng = np.random.RandomState(0)
    X = rng.exponential(size=(50_000, 2)).astype(np.float32)
    full = bin_edges(X, None, 8, np.random.RandomState(0), max_rows=len(X))
    first = bin_edges(X, None, 8, np.random.RandomState(1), max_rows=5_000)
    again = bin_edges(X, None, 8, np.random.RandomState(1), max_rows=5_000)
    np.testing.assert_array_equal(first[0], again[0])
    # every inner edge within 0.03 of its rank among all rows
    ranks = np.array([[np.mean(X[:, j] < edge) for edge in first[0][j, 1:]]
                      for j in range(2)])
    np.testing.assert_allclose(ranks, np.tile(np.arange(1, 8) / 8, (2, 1)), atol=0.03)
    assert not np.array_equal(first[0], full[0])


def test_the_default_network_encodes_dense_input():
    X = _mixed_features()
    y = (X[:, 0] > 1.0).astype(int)
    clf = NeuralClassifier(**FAST).fit(X, y)
    module = clf.net_.module_
    assert isinstance(module, PiecewiseLinear)
    first = module.network.layers[0]
    assert first.in_features == _reference_encoding(X, 8).shape[1]
    plain = NeuralClassifier(piecewise_bins=None, **FAST).fit(X, y)
    assert isinstance(plain.net_.module_, Standardized)
    assert plain.net_.module_.network.layers[0].in_features == X.shape[1]


def test_no_encoding_for_sparse_input_or_a_users_module():
    X = _mixed_features()
    y = (X[:, 0] > 1.0).astype(int)
    sparse = NeuralClassifier(**FAST).fit(sp.csr_matrix(X), y)
    assert not isinstance(sparse.net_.module_, PiecewiseLinear)
    custom = NeuralClassifier(module=MLP, module_params={"hidden_layer_sizes": (4,)},
                              **{k: v for k, v in FAST.items()
                                 if k != "hidden_layer_sizes"}).fit(X, y)
    assert not isinstance(custom.net_.module_, PiecewiseLinear)
    assert custom.net_.module_.network.layers[0].in_features == X.shape[1]


def test_a_threshold_on_one_feature_is_learned_with_bins():
    # The label is a narrow interval of one skewed feature: a step function
    # that the encoding turns into two inputs, while the raw feature needs
    # several ReLU units placed exactly.
    rng = np.random.RandomState(0)
    X = rng.lognormal(size=(3000, 4)).astype(np.float32)
    y = ((X[:, 0] > 1.5) & (X[:, 0] < 2.5)).astype(int)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    params = dict(max_epochs=20, hidden_layer_sizes=(16,), random_state=0)
    binned = NeuralClassifier(**params).fit(X_train, y_train)
    raw = NeuralClassifier(piecewise_bins=None, **params).fit(X_train, y_train)
    ap_binned = average_precision_score(y_test, binned.predict_proba(X_test)[:, 1])
    ap_raw = average_precision_score(y_test, raw.predict_proba(X_test)[:, 1])
    # (0.97 against 0.22 when written)
    assert ap_binned > 0.9 and ap_binned > ap_raw + 0.3


@pytest.mark.slow
def test_bins_raise_average_precision_on_real_lab_values(shared_dataset):
    # thyroid_sick: 3772 patients, 52 lab and history features, 6 % positives;
    # trees beat a network on raw features here by thresholding lab values.
    X, y = load_csv(shared_dataset("thyroid_sick"))
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0)
    params = dict(class_weight="balanced", max_epochs=30, random_state=0)
    binned = NeuralClassifier(**params).fit(X_train, y_train)
    raw = NeuralClassifier(piecewise_bins=None, **params).fit(X_train, y_train)
    ap_binned = average_precision_score(y_test, binned.predict_proba(X_test)[:, 1])
    ap_raw = average_precision_score(y_test, raw.predict_proba(X_test)[:, 1])
    assert ap_binned > ap_raw + 0.05
