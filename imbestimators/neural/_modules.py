"""Networks built by ``NeuralClassifier`` and the input standardisation layer."""

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.sparsefuncs import mean_variance_axis
from torch import nn

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

    Examples
    --------
    >>> import torch
    >>> from imbestimators.neural import MLP
    >>> MLP(4, 1, hidden_layer_sizes=(8,))(torch.zeros(3, 4)).shape
    torch.Size([3, 1])
    """

    def __init__(
        self, n_features, n_outputs, hidden_layer_sizes=(100,), activation="relu",
        dropout=0.0,
    ):
        super().__init__()
        layers = []
        width = n_features
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, n_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        return self.layers(X)


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
        return self.network((X - self.mean) * self.inv_scale)


def column_mean_scale(X, rows=None, chunk_size=65536):
    """Column means and standard deviations of ``X[rows]`` in float64.

    Dense data is read in chunks so no float64 copy of ``X`` is made. Sparse
    data is scaled but not centred (as ``StandardScaler(with_mean=False)``),
    which keeps the meaning of its zeros. Constant columns get scale 1.
    """
    if sp.issparse(X):
        _, var = mean_variance_axis((X if rows is None else X[rows]).tocsr(), axis=0)
        mean = np.zeros(X.shape[1])
    else:
        n = X.shape[0] if rows is None else len(rows)

        def chunks():
            for start in range(0, n, chunk_size):
                stop = start + chunk_size
                yield X[start:stop] if rows is None else X[rows[start:stop]]

        mean = sum(c.sum(axis=0, dtype=np.float64) for c in chunks()) / n
        var = sum(((c - mean) ** 2).sum(axis=0) for c in chunks()) / n
    scale = np.sqrt(var)
    scale[~(scale > 10 * np.finfo(np.float32).eps)] = 1.0
    return mean, scale
