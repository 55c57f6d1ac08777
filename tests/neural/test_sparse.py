"""The sparse path of the library's MLP: row batches of a CSR matrix, the
sparse product and its gradients, the input-major first layer."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from imbestimators import NeuralClassifier
from imbestimators.neural import MLP
from imbestimators.neural._batching import TensorData, csr_rows, csr_tensor, sparse_product


def _csr(n_rows=9, n_cols=7, seed=0):
    X = sp.random(n_rows, n_cols, density=0.3, format="lil", random_state=seed,
                  dtype=np.float32)
    X[3] = 0  # an empty row
    return X.tocsr()


def _parts(X, index_dtype=np.int64):
    return [torch.from_numpy(a) for a in (X.indptr.astype(index_dtype),
                                          X.indices.astype(index_dtype), X.data)]


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("index", [[4, 0, 3, 4, 8], [3], [], slice(2, 6), slice(0, 9)])
def test_csr_rows_are_scipys_rows(index, index_dtype):
    X = _csr()
    rows = index if isinstance(index, slice) else torch.tensor(index, dtype=torch.int64)
    crow, col, values = csr_rows(_parts(X, index_dtype), rows)
    assert crow.dtype == col.dtype == torch.int64
    got = sp.csr_matrix((values.numpy(), col.numpy(), crow.numpy()),
                        shape=(len(crow) - 1, X.shape[1]))
    expected = X[index] if isinstance(index, slice) else X[np.asarray(index, dtype=int)]
    np.testing.assert_array_equal(got.toarray(), expected.toarray())


@pytest.mark.parametrize("transposed", [False, True])
def test_sparse_product_and_its_gradients_are_the_dense_products(transposed):
    X = _csr()
    crow, col, values = _parts(X)
    values = values.clone().requires_grad_(True)
    rng = np.random.default_rng(0)
    W0 = rng.standard_normal((7, 5)).astype(np.float32)
    # A weight stored (width, features) and read transposed, as nn.Linear's.
    weight = torch.tensor(W0.T.copy() if transposed else W0, requires_grad=True)
    G = rng.standard_normal((9, 5)).astype(np.float32)
    out = sparse_product(csr_tensor(crow, col, values, X.shape),
                         weight.t() if transposed else weight)
    out.backward(torch.from_numpy(G))
    dense = X.toarray().astype(np.float64)
    np.testing.assert_allclose(out.detach().numpy(), dense @ W0, rtol=1e-5, atol=1e-6)
    # d(sum G * XW)/dW = X^T G, and for each stored value X[i, j]: (G W^T)[i, j].
    grad_w = dense.T @ G
    np.testing.assert_allclose(weight.grad.numpy(), grad_w.T if transposed else grad_w,
                               rtol=1e-5, atol=1e-6)
    rows = np.repeat(np.arange(9), np.diff(X.indptr))
    np.testing.assert_allclose(values.grad.numpy(), (G @ W0.T)[rows, X.indices],
                               rtol=1e-5, atol=1e-6)


def test_sparse_input_mlp_stores_its_first_layer_input_major():
    torch.manual_seed(0)
    plain = MLP(7, 1, hidden_layer_sizes=(5,))
    torch.manual_seed(0)
    sparse = MLP(7, 1, hidden_layer_sizes=(5,), sparse_input=True)
    first = sparse.layers[0].weight
    assert first.shape == (7, 5) and first.is_contiguous()
    # The same initialisation as nn.Linear's, and the same function.
    torch.testing.assert_close(first, plain.layers[0].weight.t())
    X = _csr()
    with torch.no_grad():
        dense_out = plain(torch.from_numpy(X.toarray()))
        torch.testing.assert_close(sparse(torch.from_numpy(X.toarray())), dense_out)
        torch.testing.assert_close(
            sparse(csr_tensor(*_parts(X), X.shape)), dense_out)
        # An MLP built for dense input (or pickled before sparse_input
        # existed) reads sparse batches too.
        torch.testing.assert_close(plain(csr_tensor(*_parts(X), X.shape)), dense_out)


def test_sparse_batches_are_cut_from_x_without_copying_it():
    X = _csr(n_rows=40)
    data = TensorData(X, sparse_batches=True)
    batch, _, _ = data.take(torch.tensor([5, 1, 3]))
    np.testing.assert_array_equal(batch.to_dense().numpy(), X[[5, 1, 3]].toarray())
    # The host tensors the batches are cut from are scipy's own arrays.
    for part, array in zip(data._csr_parts, (X.indptr, X.indices, X.data)):
        assert np.shares_memory(part.numpy(), array)


def test_read_only_sparse_input_trains_without_a_warning():
    X = _csr(n_rows=60)
    for array in (X.data, X.indices, X.indptr):
        array.flags.writeable = False
    y = np.r_[np.zeros(45, dtype=int), np.ones(15, dtype=int)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        NeuralClassifier(max_epochs=2, random_state=0).fit(X, y)
