"""Networks built by ``NeuralClassifier`` and the input layers fitted on the
training rows."""

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.sparsefuncs import min_max_axis
from torch import nn

from ._batching import csr_tensor, sparse_product

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "leaky_relu": nn.LeakyReLU,
}


class MLP(nn.Module):
    """Fully connected network: Linear → activation → dropout, repeated.

    Parameters
    ----------
    n_features : int
        Input width.
    n_outputs : int
        Number of logits.
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer; ``()`` gives a linear model.
    activation : str, default='relu'
        One of ``'relu'``, ``'tanh'``, ``'logistic'``, ``'identity'``,
        ``'gelu'``, ``'silu'``, ``'leaky_relu'``.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.
    ensemble_size : int, default=1
        Number of independently initialised networks of these sizes trained
        side by side on the same batches, as one module (their weights are
        stacked, so each layer is one batched matrix product; the first
        layer one product for all of them). In training the output is
        ``(n, ensemble_size, n_outputs)`` (``NeuralClassifier`` trains each
        member on its own loss: the gradient of their summed losses); in
        evaluation it is one set of logits per row, those of the
        members' mean probability (``log`` of the mean softmax, or the logit
        of the mean sigmoid for one output), as in the "deep ensembles" of
        Lakshminarayanan et al. (2017) and TabM (Gorishniy et al., 2025).
    sparse_input : bool, default=False
        Store the first layer's weights input by input, (n_features, width),
        as sparse batches read them: each stored value of a sparse CSR batch
        then reads and updates one contiguous row, several times faster than
        in ``nn.Linear``'s (width, n_features) layout (an ensemble's first
        layer is stored so whatever this says). Dense batches work either
        way; ``NeuralClassifier`` sets it for sparse training data.
    input_groups : array-like of shape (n_features,) or None, default=None
        The feature each input belongs to (integers from 0; several inputs
        of one feature after an encoding). When given, the network learns
        one factor per feature (per member in an ensemble), started at 1,
        that multiplies the first layer's weights of the feature's inputs
        (``gates``). With weight decay on both the factor ``s`` and the
        block ``W`` of a feature, the penalty at its minimum over the split
        ``s * W`` is ``2 * ||s W||``, a group lasso over the features (Hoff
        2017): a feature that does not help fades out as a whole.

    Examples
    --------
    >>> import torch
    >>> from imbestimators.neural import MLP
    >>> MLP(4, 1, hidden_layer_sizes=(8,))(torch.zeros(3, 4)).shape
    torch.Size([3, 1])
    >>> MLP(4, 1, hidden_layer_sizes=(8,), ensemble_size=5).eval()(torch.zeros(3, 4)).shape
    torch.Size([3, 1])
    >>> MLP(4, 1, hidden_layer_sizes=(8,), input_groups=[0, 0, 1, 2]).gates.shape
    torch.Size([3])
    """

    def __init__(
        self, n_features, n_outputs, hidden_layer_sizes=(100,), activation="relu",
        dropout=0.0, ensemble_size=1, sparse_input=False, input_groups=None,
    ):
        super().__init__()
        self.gates = None
        if input_groups is not None:
            groups = torch.as_tensor(np.asarray(input_groups), dtype=torch.long)
            if groups.shape != (n_features,) or (groups < 0).any():
                raise ValueError(
                    f"input_groups must hold one non-negative integer per input "
                    f"({n_features}); got shape {tuple(groups.shape)}, smallest "
                    f"value {int(groups.min()) if groups.numel() else None}."
                )
            self.register_buffer("input_groups", groups)
            shape = (int(groups.max()) + 1,) if ensemble_size == 1 else (
                ensemble_size, int(groups.max()) + 1)
            self.gates = nn.Parameter(torch.ones(shape))
        if ensemble_size == 1:
            layers = []
            width = n_features
            for size in hidden_layer_sizes:
                layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
                if dropout > 0:
                    layers.append(Dropout(dropout))
                width = size
            layers.append(nn.Linear(width, n_outputs))
            if sparse_input:
                layers[0] = InputMajorLinear(layers[0])
            self.layers = nn.Sequential(*layers)
            return
        self.ensemble_size = ensemble_size
        self.activation = ACTIVATIONS[activation]()
        self.dropout = Dropout(dropout) if dropout > 0 else nn.Identity()
        sizes = [n_features, *hidden_layer_sizes, n_outputs]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            # nn.Linear's initialisation, drawn for each member. The first
            # layer reads the same rows for every member, so its weights are
            # stored side by side, (fan_in, members * fan_out): one product.
            bound = 1.0 / np.sqrt(fan_in)
            shape = ((fan_in, ensemble_size * fan_out) if i == 0
                     else (ensemble_size, fan_in, fan_out))
            self.weights.append(nn.Parameter(torch.empty(shape).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(
                torch.empty(ensemble_size, 1, fan_out).uniform_(-bound, bound)))

    def forward(self, X):
        sparse = X.layout == torch.sparse_csr
        if "layers" in self._modules:  # one network
            first = self.layers[0]
            input_major = isinstance(first, InputMajorLinear)
            if self.gates is None and (not sparse or input_major):
                return self.layers(X)
            weight = first.weight  # (n_features, width) if input_major, else transposed
            if self.gates is not None:
                gates = self.gates.index_select(0, self.input_groups)
                weight = weight * (gates[:, None] if input_major else gates)
            if not input_major:
                weight = weight.t()
            h = (sparse_product(X, weight) + first.bias if sparse
                 else torch.addmm(first.bias, X, weight))
            return self.layers[1:](h)
        k, last = self.ensemble_size, len(self.weights) - 1
        weight = self.weights[0]
        if self.gates is not None:  # (k, groups) -> the (n_features, k * width) layout
            gates = self.gates.index_select(1, self.input_groups).t()
            weight = weight * gates.repeat_interleave(weight.shape[1] // k, dim=1)
        h = sparse_product(X, weight) if sparse else X @ weight
        h = h.reshape(X.shape[0], k, -1)
        h = h.transpose(0, 1) + self.biases[0]  # (k, n, width)
        for i in range(1, last + 1):
            h = self.dropout(self.activation(h))
            h = torch.baddbmm(self.biases[i], h, self.weights[i])
        logits = h.transpose(0, 1)  # (n, k, n_outputs)
        if self.training:
            return logits
        return _mean_probability_logits(logits)


class Dropout(nn.Dropout):
    """``nn.Dropout`` with a faster mask on the CPU.

    torch draws a CPU dropout mask with ``bernoulli_``, one random float per
    unit, which takes several times as long as the ReLU before it. Here each
    unit reads 16 random bits instead (four units per 64-bit draw) and is
    dropped when they fall below ``q = round(p * 65536) / 65536``, within
    1 / 131072 of ``p``; the kept units are multiplied by ``1 / (1 - q)``,
    so the expected output is the input exactly, as in ``nn.Dropout``.
    Other devices, inputs of fewer than 8 192 units (where ``bernoulli_``
    is as fast), ``p`` of 0 or rounding to 1, ``inplace=True`` and
    evaluation mode use ``nn.Dropout`` itself.

    Parameters
    ----------
    p : float, default=0.5
        Probability of dropping a unit.
    inplace : bool, default=False
        As in ``nn.Dropout`` (which then does the work).

    Examples
    --------
    >>> import torch
    >>> from imbestimators.neural._modules import Dropout
    >>> _ = torch.manual_seed(0)
    >>> out = Dropout(0.25)(torch.ones(100_000))
    >>> sorted(set(out.tolist()))
    [0.0, 1.3333333730697632]
    >>> round(float((out == 0).float().mean()), 2)
    0.25
    """

    _LEVELS = 65536  # the 16-bit values a unit draws
    # Below this many units the few extra calls cost more than bernoulli_.
    _MIN_UNITS = 8192

    def forward(self, X):
        dropped = round(self.p * self._LEVELS)
        if (not self.training or self.inplace or X.device.type != "cpu"
                or not 0 < dropped < self._LEVELS or X.numel() < self._MIN_UNITS):
            return super().forward(X)
        n = X.numel()
        # All 64 bits: random_() alone leaves the sign bit of each draw 0.
        bits = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-2**63, None)
        bits = bits.view(torch.int16)[:n].view(X.shape)
        # int16 runs from -32768: the lowest `dropped` values drop the unit.
        keep = torch.ge(bits, dropped - self._LEVELS // 2, out=torch.empty_like(X))
        scale = self._LEVELS / (self._LEVELS - dropped)
        if X.dtype in (torch.float32, torch.float64):
            return X * keep.mul_(scale)  # one product, one autograd node
        # In half precision a scaled mask would round the scale itself, a
        # bias shared by every unit: scale the product instead.
        return (X * keep).mul_(scale)


class InputMajorLinear(nn.Module):
    """``nn.Linear`` with its weight stored transposed, (in_features,
    out_features), for sparse input (see ``MLP``'s ``sparse_input``).

    Parameters
    ----------
    linear : torch.nn.Linear
        The layer whose weights (and initialisation) it takes.
    """

    def __init__(self, linear):
        super().__init__()
        self.weight = nn.Parameter(linear.weight.detach().t().contiguous())
        self.bias = nn.Parameter(linear.bias.detach().clone())

    def forward(self, X):
        if X.layout == torch.sparse_csr:
            return sparse_product(X, self.weight) + self.bias
        return torch.addmm(self.bias, X, self.weight)


def _mean_probability_logits(logits):
    """Logits of the members' mean probability, from ``(n, k, n_outputs)``."""
    log_k = float(np.log(logits.shape[1]))
    if logits.shape[2] == 1:
        log_p = torch.logsumexp(nn.functional.logsigmoid(logits), dim=1) - log_k
        log_q = torch.logsumexp(nn.functional.logsigmoid(-logits), dim=1) - log_k
        return log_p - log_q
    return torch.logsumexp(torch.log_softmax(logits, dim=2), dim=1) - log_k


class Standardized(nn.Module):
    """Apply ``(X - mean) / scale`` before ``network``, inside the module.

    Keeping the statistics as buffers of the module means no standardised copy
    of the data is ever made, and a saved module carries its preprocessing.
    """

    def __init__(self, network, mean, scale):
        super().__init__()
        self.network = network
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("inv_scale", 1.0 / torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, X):
        if X.layout == torch.sparse_csr:  # scaled, not centred: the mean is 0
            columns = X.col_indices()
            return self.network(csr_tensor(X.crow_indices(), columns,
                                           X.values() * self.inv_scale[columns], X.shape))
        return self.network((X - self.mean) * self.inv_scale)


def column_mean_scale(X, rows=None, chunk_size=65536):
    """Column centres and scales of ``X[rows]`` in float64.

    Dense data: means and standard deviations, read in chunks so no float64
    copy of ``X`` is made. Sparse data is neither centred (which keeps the
    meaning of its zeros) nor divided by its standard deviation, but by its
    largest absolute value (as ``MaxAbsScaler``): a rare word's TF-IDF column
    has a tiny standard deviation, and dividing by it makes the rarest words
    the loudest inputs (see the defaults guide). Constant columns get scale 1.
    """
    if sp.issparse(X):
        low, high = min_max_axis((X if rows is None else X[rows]).tocsr(), axis=0)
        mean = np.zeros(X.shape[1])
        scale = np.maximum(np.abs(low), np.abs(high)).astype(np.float64)
    else:
        n = X.shape[0] if rows is None else len(rows)

        def chunks():
            for start in range(0, n, chunk_size):
                stop = start + chunk_size
                yield X[start:stop] if rows is None else X[rows[start:stop]]

        mean = sum(c.sum(axis=0, dtype=np.float64) for c in chunks()) / n
        scale = np.sqrt(sum(((c - mean) ** 2).sum(axis=0) for c in chunks()) / n)
    scale[~(scale > 10 * np.finfo(np.float32).eps)] = 1.0
    return mean, scale


class PiecewiseLinear(nn.Module):
    """Piecewise-linear encoding of each feature before ``network``.

    A feature with bin edges b_0 < b_1 < … < b_T becomes T inputs, the t-th
    being ``e_t = clamp((x - b_{t-1}) / (b_t - b_{t-1}), 0, 1)``: how far
    ``x`` has come through bin t (Gorishniy, Rubachev and Babenko, "On
    Embeddings for Numerical Features in Tabular Deep Learning", NeurIPS
    2022), then optionally standardised, ``(e_t - mean) / scale``. A ReLU
    network on these inputs represents thresholds on single features, which
    is what gradient-boosted trees find on tabular data, with one layer.

    Parameters
    ----------
    network : torch.nn.Module
        Maps the encoded batch of width ``len(columns)`` to logits.
    lower, inv_width : array-like of shape (n_features, n_bins)
        Left edge and inverse width of every bin; features with fewer bins
        are padded with bins that ``columns`` leaves out.
    columns : array-like of int or None, default=None
        The real bins among the ``n_features * n_bins`` flattened ones;
        ``None`` when every feature has ``n_bins`` bins.
    mean, scale : array-like of shape (n_inputs,) or None, default=None
        Standardisation of the encoded inputs (one value per real bin).

    Examples
    --------
    One feature with edges 0, 1 and 3 (two bins):

    >>> import torch
    >>> from imbestimators.neural import PiecewiseLinear
    >>> layer = PiecewiseLinear(torch.nn.Identity(), lower=[[0.0, 1.0]],
    ...                         inv_width=[[1.0, 0.5]])
    >>> layer(torch.tensor([[0.5], [2.0], [5.0]]))
    tensor([[0.5000, 0.0000],
            [1.0000, 0.5000],
            [1.0000, 1.0000]])
    """

    def __init__(self, network, lower, inv_width, columns=None, mean=None, scale=None):
        super().__init__()
        self.network = network
        lower = np.asarray(lower, dtype=np.float64)
        n_bins = lower.shape[1]
        real = np.arange(lower.size) if columns is None else np.asarray(columns)
        lower = lower.ravel()[real]
        inv_width = np.asarray(inv_width, dtype=np.float64).ravel()[real]
        shift = np.zeros_like(lower) if mean is None else np.asarray(mean, np.float64)
        inv_scale = (np.ones_like(lower) if scale is None
                     else 1.0 / np.asarray(scale, dtype=np.float64))
        # (clamp(u, 0, 1) - m) * s is clamp(u * s - m * s, -m * s, (1 - m) * s)
        # for s > 0: per batch one column gather, one multiply-add and one
        # clamp in place, on the real bins only.
        slope = inv_width * inv_scale
        for name, value in (
            ("slope", slope),
            ("offset", -(lower * slope) - shift * inv_scale),
            ("low", -shift * inv_scale),
            ("high", (1.0 - shift) * inv_scale),
        ):
            self.register_buffer(name, torch.as_tensor(value, dtype=torch.float32))
        # The feature each encoded input reads.
        self.register_buffer("features", torch.as_tensor(real // n_bins, dtype=torch.long))

    def forward(self, X):
        encoded = torch.addcmul(self.offset, X.index_select(1, self.features), self.slope)
        if X.requires_grad:
            encoded = torch.clamp(encoded, self.low, self.high)
        else:
            encoded.clamp_(self.low, self.high)
        return self.network(encoded)


def quantile_levels(n_bins):
    """The quantile levels of the bin edges: ``n_bins`` bins of equal counts."""
    return np.linspace(0.0, 1.0, n_bins + 1)


def quantile_edges(values, n_bins):
    """Bin edges of one feature's ``values`` at :func:`quantile_levels`
    (repeated edges are merged by :func:`bin_edges`)."""
    return np.quantile(values, quantile_levels(n_bins))


def bin_edges(X, rows, n_bins, random_state, y=None, max_rows=20_000):
    """Bins of each feature of ``X[rows]``, as :class:`PiecewiseLinear` takes them.

    The edges are the feature's quantiles, or with ``y`` the thresholds of a
    decision tree of at most ``n_bins`` leaves that predicts ``y`` from the
    feature alone (classes balanced, leaves of at least a quarter of a
    quantile bin): the "target-aware" bins of Gorishniy et al. (2022), which
    put the edges where the classes change rather than where the rows are
    dense. Both come from at most ``max_rows`` rows (a random subset drawn
    with ``random_state``, as ``sklearn.preprocessing.QuantileTransformer``
    subsamples): for a few bins that places each edge within about 1% of its
    rank, and the work and memory stay small on millions of rows. Repeated
    edges (discrete or constant features) are merged, so a binary feature
    gets one bin and a constant one a single bin that is always 0; a tree
    that finds no split falls back to the quantiles.

    Returns
    -------
    lower, inv_width : ndarray of shape (n_features, n_bins)
    columns : ndarray of int or None
    mean, scale : ndarray of shape (n_inputs,)
        Mean and standard deviation of each encoded input over the same rows
        (scale 1 where constant), to standardise them as the raw features.
    """
    rows = np.arange(X.shape[0]) if rows is None else np.asarray(rows)
    if len(rows) > max_rows:
        rows = np.sort(random_state.choice(rows, max_rows, replace=False))
    tree = None
    if y is not None:
        y = np.asarray(y)[rows]
        tree = DecisionTreeClassifier(
            max_leaf_nodes=max(n_bins, 2),
            min_samples_leaf=max(1, len(rows) // (4 * n_bins)),
            class_weight="balanced", random_state=random_state.randint(2**31 - 1),
        )
    n_features = X.shape[1]
    lower = np.zeros((n_features, n_bins), dtype=np.float32)
    inv_width = np.zeros((n_features, n_bins), dtype=np.float32)
    counts = np.zeros(n_features, dtype=np.int64)
    means, scales = [], []
    # One feature at a time: no float64 copy of X, and the encoded sample is
    # n_bins times wider than the feature.
    for j in range(n_features):
        values = np.asarray(X[rows, j], dtype=np.float64)
        edges = quantile_edges(values, n_bins)
        if tree is not None:
            split = tree.fit(values[:, None], y).tree_
            thresholds = split.threshold[split.feature >= 0]
            if len(thresholds):
                edges = np.concatenate([edges[:1], np.sort(thresholds), edges[-1:]])
        # Merged in float32, the precision the network computes in.
        edges = np.unique(edges.astype(np.float32)).astype(np.float64)
        if len(edges) < 2:
            edges = np.array([edges[0], edges[0] + 1.0])
        k = len(edges) - 1
        lower[j, :k] = edges[:-1]
        with np.errstate(over="ignore"):
            inv_width[j, :k] = np.minimum(1.0 / np.diff(edges), np.finfo(np.float32).max)
        counts[j] = k
        encoded = np.clip((values[:, None] - lower[j, :k]) * inv_width[j, :k], 0, 1)
        means.append(encoded.mean(axis=0))
        scales.append(encoded.std(axis=0))
    mean, scale = np.concatenate(means), np.concatenate(scales)
    scale[~(scale > 10 * np.finfo(np.float32).eps)] = 1.0
    columns = None
    if not np.all(counts == n_bins):
        columns = np.flatnonzero(np.arange(n_bins)[None, :] < counts[:, None])
    return lower, inv_width, columns, mean, scale
