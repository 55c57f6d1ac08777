"""Mini-batches as slices of tensors that live on the training device.

No per-sample ``Dataset.__getitem__`` and no collate: the data is turned into
tensors once per fit (moved to the device once), and each batch is one
indexing operation. Sparse matrices stay on the host and only one batch at a
time is made dense.
"""

import warnings

import numpy as np
import scipy.sparse as sp
import torch


def as_tensor(X, device):
    """A float32 tensor on ``device`` sharing memory with ``X`` where possible.

    Sparse matrices are returned as CSR unchanged (made dense per batch).
    """
    if sp.issparse(X):
        return X.tocsr().astype(np.float32, copy=False)
    X = np.asarray(X)
    if X.dtype != np.float32:
        X = X.astype(np.float32)
    with warnings.catch_warnings():
        # Read-only inputs (memory maps) are fine: the data is never written.
        warnings.filterwarnings("ignore", message=".*not writable.*")
        return torch.from_numpy(X).to(device)


def _rows(tensor, index):
    """``tensor[index]`` for a slice (a view) or an index tensor (a gather)."""
    if isinstance(index, slice):
        return tensor[index]
    # index_select is several times faster than advanced indexing on the CPU.
    return tensor.index_select(0, index)


class TensorData:
    """Rows ``rows`` of ``(X, y, weight)``, served as batches.

    Parameters
    ----------
    X : torch.Tensor or scipy.sparse.csr_matrix
        Features; a tensor already on ``device``.
    y : torch.Tensor or None
        Encoded labels on ``device``.
    weight : torch.Tensor or None
        Per-sample weights on ``device``.
    rows : torch.Tensor or None
        Row indices (on ``device``) of this part of the data; ``None`` is all.
    device : torch.device
    """

    def __init__(self, X, y=None, weight=None, rows=None, device="cpu"):
        self.X = X
        self.y = y
        self.weight = weight
        self.rows = rows
        self.device = torch.device(device)

    def __len__(self):
        return self.X.shape[0] if self.rows is None else len(self.rows)

    def _features(self, index):
        if isinstance(self.X, torch.Tensor):
            return _rows(self.X, index)
        if isinstance(index, torch.Tensor):
            index = index.cpu().numpy()
        dense = torch.from_numpy(self.X[index].toarray())
        return dense.to(self.device, non_blocking=True)

    def take(self, positions):
        """The batch at ``positions`` (a slice or an index tensor) of this part."""
        index = positions if self.rows is None else self.rows[positions]
        Xb = self._features(index)
        yb = None if self.y is None else _rows(self.y, index)
        wb = None if self.weight is None else _rows(self.weight, index)
        return Xb, yb, wb

    def labels(self):
        """Encoded labels of this part's rows."""
        return self.y if self.rows is None else self.y[self.rows]


class Batches:
    """Iterable over the batches of one epoch; iterate again for the next.

    Parameters
    ----------
    data : TensorData
    batch_size : int
    order : callable or None
        ``order()`` returns the positions (a tensor on the data's device) to
        visit in an epoch: a permutation, a stratified or balanced draw.
        ``None`` visits the rows in order, as contiguous slices.
    """

    def __init__(self, data, batch_size, order=None):
        self.data = data
        self.batch_size = batch_size
        self.order = order

    def __iter__(self):
        n = len(self.data)
        if self.order is None:
            for start in range(0, n, self.batch_size):
                yield self.data.take(slice(start, min(start + self.batch_size, n)))
            return
        positions = self.order()
        for start in range(0, len(positions), self.batch_size):
            yield self.data.take(positions[start:start + self.batch_size])


def shuffled(n, generator):
    """An epoch order: a fresh random permutation of ``range(n)`` on the generator's device."""
    def order():
        return torch.randperm(n, generator=generator, device=generator.device)
    return order


# Epoch orders by name; each is built from the training part and a generator.
ORDERS = {
    "shuffle": lambda data, generator: shuffled(len(data), generator),
}


def training_batches(data, *, batch_size, generator, sampling="shuffle"):
    """The training :class:`Batches` of ``data`` for the chosen ``sampling``."""
    return Batches(data, batch_size, ORDERS[sampling](data, generator))
