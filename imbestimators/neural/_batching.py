"""Mini-batches as slices of tensors that live on the training device.

No per-sample ``Dataset.__getitem__`` and no collate: the data is turned into
tensors once per fit (moved to the device once), and each batch is one
indexing operation. Sparse matrices stay on the host; each batch becomes a
sparse CSR tensor for the library's MLP (whose first layer reads only the
stored values) or a dense one for a user's module.
"""

import warnings

import numpy as np
import scipy.sparse as sp
import torch


def as_tensor(X, device):
    """A float32 tensor on ``device`` sharing memory with ``X`` where possible.

    Sparse matrices are returned as float32 CSR on the host (batched by
    :class:`TensorData`).
    """
    if sp.issparse(X):
        return X.tocsr().astype(np.float32, copy=False)
    X = np.asarray(X)
    if X.dtype != np.float32:
        X = X.astype(np.float32)
    return shared_tensor(X).to(device)


def shared_tensor(array):
    """``torch.from_numpy(array)``, read-only arrays included."""
    with warnings.catch_warnings():
        # Read-only inputs (memory maps) are fine: the data is never written.
        warnings.filterwarnings("ignore", message=".*not writable.*")
        return torch.from_numpy(array)


def csr_tensor(crow_indices, col_indices, values, size):
    """``torch.sparse_csr_tensor`` without its warnings."""
    with warnings.catch_warnings():
        # torch calls its CSR layout "beta"; the library uses only its
        # constructor and accessors, and tests them.
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support")
        return torch.sparse_csr_tensor(crow_indices, col_indices, values, size=size,
                                       check_invariants=False)


def sparse_csr(X, device):
    """A scipy CSR matrix as a torch sparse CSR tensor on ``device``."""
    return csr_tensor(*[torch.from_numpy(a).to(device, non_blocking=True) for a in (
        X.indptr.astype(np.int64), X.indices.astype(np.int64), X.data)], X.shape)


def sparse_product(X, weight):
    """``X @ weight`` for a sparse CSR ``X``: each row the sum of ``weight``'s
    rows at its stored columns, times their values (one ``embedding_bag``),
    in time proportional to the stored values, not to ``X``'s width.

    ``weight`` is read fastest when contiguous, (n_features, width). On the
    CPU the gradient is accumulated into the rows of the stored columns
    directly, several times faster than ``embedding_bag``'s own backward.
    """
    crow, col, values = X.crow_indices(), X.col_indices(), X.values()
    if weight.device.type == "cpu":
        return _SparseProduct.apply(crow, col, values, weight)
    return torch.nn.functional.embedding_bag(
        col, weight, crow[:-1], per_sample_weights=values, mode="sum")


class _SparseProduct(torch.autograd.Function):
    """:func:`sparse_product` with a scatter-add backward (CPU)."""

    @staticmethod
    def forward(ctx, crow, col, values, weight):
        ctx.save_for_backward(crow, col, values, weight)
        return torch.nn.functional.embedding_bag(
            col, weight, crow[:-1], per_sample_weights=values, mode="sum")

    @staticmethod
    def backward(ctx, grad):
        crow, col, values, weight = ctx.saved_tensors
        # grad's row for each stored value: the row that value is in.
        per_value = grad.index_select(0, torch.repeat_interleave(
            torch.arange(len(crow) - 1, device=grad.device), crow.diff(),
            output_size=len(col)))
        grad_values = grad_weight = None
        if ctx.needs_input_grad[2]:
            grad_values = (per_value * weight.index_select(0, col)).sum(1)
        if ctx.needs_input_grad[3]:
            grad_weight = torch.zeros_like(weight).index_add_(
                0, col, per_value * values.unsqueeze(1))
        return None, None, grad_values, grad_weight


def csr_rows(parts, index):
    """Rows ``index`` (a slice or an index tensor) of a CSR matrix held as
    ``(crow_indices, col_indices, values)`` tensors, as the same three.

    The source's indices may be of any integer type (scipy's int32 are used
    without a copy); those of the rows returned are int64.
    """
    crow, col, values = parts
    if isinstance(index, slice):
        start, stop, _ = index.indices(len(crow) - 1)
        first, last = int(crow[start]), int(crow[stop])
        return (crow[start:stop + 1].long() - first, col[first:last].long(),
                values[first:last])
    starts = crow.index_select(0, index).long()
    counts = crow.index_select(0, index + 1).long() - starts
    new_crow = torch.zeros(len(index) + 1, dtype=torch.int64, device=crow.device)
    torch.cumsum(counts, 0, out=new_crow[1:])
    total = int(new_crow[-1])
    # Position of each kept value in the source: its row's start there, plus
    # its place within the row.
    shift = torch.repeat_interleave(starts - new_crow[:-1], counts, output_size=total)
    positions = torch.arange(total, device=crow.device) + shift
    return (new_crow, col.index_select(0, positions).long(),
            values.index_select(0, positions))


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
    sparse_batches : bool, default=False
        Serve the batches of a sparse ``X`` as sparse CSR tensors (for a
        module that takes them) rather than dense ones.
    """

    def __init__(self, X, y=None, weight=None, rows=None, device="cpu",
                 sparse_batches=False):
        self.X = X
        self.y = y
        self.weight = weight
        self.rows = rows
        self.device = torch.device(device)
        self.sparse_batches = sparse_batches
        # The host tensors of a sparse X, made at the first sparse batch.
        self._csr_parts = None

    def __len__(self):
        return self.X.shape[0] if self.rows is None else len(self.rows)

    def _features(self, index):
        if isinstance(self.X, torch.Tensor):
            return _rows(self.X, index)
        if self.sparse_batches:
            if self._csr_parts is None:
                # Views of scipy's arrays: no copy of X.
                self._csr_parts = [shared_tensor(a) for a in (
                    self.X.indptr, self.X.indices, self.X.data)]
            if isinstance(index, torch.Tensor):
                index = index.cpu()
            crow, col, values = csr_rows(self._csr_parts, index)
            return csr_tensor(*[a.to(self.device, non_blocking=True)
                                for a in (crow, col, values)],
                              (crow.shape[0] - 1, self.X.shape[1]))
        if isinstance(index, torch.Tensor):
            index = index.cpu().numpy()
        return torch.from_numpy(self.X[index].toarray()).to(self.device, non_blocking=True)

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
    """An epoch order: a fresh random permutation of ``range(n)`` on the
    generator's device."""
    def order():
        return torch.randperm(n, generator=generator, device=generator.device)
    return order


def stratified(data, generator):
    """An epoch order in which every stretch of positions keeps the class proportions.

    Each class is shuffled, then the classes are interleaved evenly: the k-th
    of the ``n_c`` samples of class ``c`` gets the key ``(k + u_c) / n_c``
    (``u_c`` a random offset in [0, 1)) and the epoch visits the samples by
    increasing key. Any ``B`` consecutive positions, hence every mini-batch
    whatever its size, hold ``B n_c / n`` samples of class ``c`` up to
    rounding (within ±1 for two classes), so a class with at least as many
    samples as there are batches is in every batch.
    """
    groups = _class_positions(data)

    def order():
        return _interleave([group[_permutation(len(group), generator)]
                            for group in groups], generator)
    return order


def balanced(data, generator):
    """An epoch order that draws every class equally, afresh each epoch.

    Each of the ``K`` classes present gets ``m = round(n / K)`` positions, so
    an epoch stays about ``n`` samples long: a class with more samples
    contributes a new random subset of ``m`` of them each epoch, a class with
    fewer contributes all of its samples, repeated in fresh random orders, up
    to ``m`` (each sample ``⌊m / n_c⌋`` or ``⌈m / n_c⌉`` times). The classes are
    then interleaved as in :func:`stratified`, so every batch is balanced.
    """
    groups = _class_positions(data)
    per_class = max(1, round(len(data) / len(groups)))

    def order():
        return _interleave([_draw(group, per_class, generator) for group in groups],
                           generator)
    return order


def _class_positions(data):
    """Positions of each class present in ``data``, as tensors on its device."""
    labels = data.labels()
    counts = torch.bincount(labels).tolist()
    by_class = torch.argsort(labels, stable=True)
    return [group for group in torch.split(by_class, counts) if len(group)]


def _permutation(n, generator):
    return torch.randperm(n, generator=generator, device=generator.device)


def _draw(group, size, generator):
    """``size`` members of ``group``: a random subset, or whole shuffles repeated."""
    n = len(group)
    if n >= size:
        return group[_permutation(n, generator)[:size]]
    repeats = -(-size // n)
    noise = torch.rand((repeats, n), generator=generator, device=generator.device)
    return group[torch.argsort(noise, dim=1).flatten()[:size]]


def _interleave(groups, generator):
    """Merge ``groups`` so that each is spread evenly over the result."""
    device = generator.device
    # float64 keys stay distinct for any realistic n; MPS has no float64.
    dtype = torch.float32 if device.type == "mps" else torch.float64
    offsets = torch.rand(len(groups), generator=generator, device=device, dtype=dtype)
    keys = torch.cat([
        (torch.arange(len(group), device=device, dtype=dtype) + offset)
        / len(group)
        for group, offset in zip(groups, offsets)
    ])
    return torch.cat(groups)[torch.argsort(keys)]


# Epoch orders by name; each is built from the training part and a generator
# and returns a callable giving one epoch's positions on the data's device.
ORDERS = {
    "shuffle": lambda data, generator: shuffled(len(data), generator),
    "stratified": stratified,
    "balanced": balanced,
}


def check_class_counts(counts, classes, batch_size, sampling):
    """Warn where ``sampling`` cannot put every class in every batch.

    Parameters
    ----------
    counts : array-like of shape (n_classes,)
        Training samples of each class.
    classes : array-like of shape (n_classes,)
        The labels, for the messages.
    batch_size : int
    sampling : {'shuffle', 'stratified', 'balanced'}
    """
    counts, classes = np.asarray(counts), np.asarray(classes)
    present = counts > 0
    if sampling == "shuffle":
        return
    if sampling == "balanced":
        if not np.all(present):
            warnings.warn(
                f"batch_sampling='balanced': classes {classes[~present].tolist()!r} have "
                "no training samples; the batches balance the other classes.",
                UserWarning, stacklevel=4,
            )
        counts = np.where(present, max(1, round(counts.sum() / present.sum())), 0)
    n_batches = -(-int(counts.sum()) // batch_size)
    short = present & (counts < n_batches)
    if np.any(short):
        remedy = (
            "a batch_size of at least the number of classes" if sampling == "balanced"
            else "a larger batch_size, or batch_sampling='balanced'"
        )
        warnings.warn(
            f"batch_sampling={sampling!r}: classes {classes[short].tolist()!r} have fewer "
            f"samples per epoch ({counts[short].tolist()}) than there are batches "
            f"({n_batches}); they are spread at most one per batch and some batches "
            f"have none. Use {remedy}.",
            UserWarning, stacklevel=4,
        )


def training_batches(data, *, batch_size, generator, sampling="shuffle"):
    """The training :class:`Batches` of ``data`` for the chosen ``sampling``."""
    return Batches(data, batch_size, ORDERS[sampling](data, generator))
