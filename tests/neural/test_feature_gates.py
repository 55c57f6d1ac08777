"""Feature gates: one learned factor per feature on the first layer's weights
(``MLP(input_groups=...)``, ``NeuralClassifier(feature_gates=True)``)."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import make_classification

from imbestimators import NeuralClassifier
from imbestimators.neural import MLP

GROUPS = np.array([0, 0, 0, 1, 2, 2])  # 6 inputs of 3 features


@pytest.fixture(scope="module")
def imbalanced():
    X, y = make_classification(n_samples=300, n_features=5, n_informative=3,
                               weights=[0.9], random_state=0)
    return X.astype(np.float32), y


def _relu(z):
    return np.maximum(z, 0.0)


def _random_gates(mlp, seed=0):
    with torch.no_grad():
        mlp.gates.copy_(torch.from_numpy(
            np.random.default_rng(seed).uniform(0.2, 2.0, mlp.gates.shape)))
    return mlp.gates.detach().double().numpy()


@pytest.mark.parametrize("sparse_input", [False, True])
def test_one_network_scales_each_features_weight_columns(sparse_input):
    torch.manual_seed(0)
    mlp = MLP(6, 2, hidden_layer_sizes=(5,), input_groups=GROUPS,
              sparse_input=sparse_input).double().eval()
    gates = _random_gates(mlp)
    X = np.random.default_rng(1).normal(size=(7, 6)) * np.eye(7, 6)  # sparse rows
    W1, b1 = (p.detach().numpy() for p in (mlp.layers[0].weight, mlp.layers[0].bias))
    if sparse_input:  # stored input by input
        W1 = W1.T
    W2, b2 = (p.detach().numpy() for p in (mlp.layers[-1].weight, mlp.layers[-1].bias))
    # The formula: input i of feature f reads W1[:, i] * s_f.
    expected = _relu(X @ (W1 * gates[GROUPS][None, :]).T + b1) @ W2.T + b2
    for batch in (torch.from_numpy(X), torch.from_numpy(X).to_sparse_csr()):
        np.testing.assert_allclose(mlp(batch).detach().numpy(), expected, rtol=1e-10)


def test_ensemble_members_have_their_own_gates():
    torch.manual_seed(0)
    k, width = 3, 4
    mlp = MLP(6, 1, hidden_layer_sizes=(width,), ensemble_size=k,
              input_groups=GROUPS).double().train()
    assert mlp.gates.shape == (k, 3)
    gates = _random_gates(mlp)
    X = np.random.default_rng(1).normal(size=(5, 6))
    W1 = mlp.weights[0].detach().numpy()  # (inputs, members * width)
    out = mlp(torch.from_numpy(X)).detach().numpy()  # (n, members, 1)
    for m in range(k):
        first = W1[:, m * width:(m + 1) * width] * gates[m, GROUPS][:, None]
        hidden = _relu(X @ first + mlp.biases[0][m].detach().numpy())
        expected = hidden @ mlp.weights[1][m].detach().numpy() \
            + mlp.biases[1][m].detach().numpy()
        np.testing.assert_allclose(out[:, m], expected, rtol=1e-10)


def test_gradient_of_a_gate_is_its_features_weight_gradient_times_weight():
    torch.manual_seed(0)
    mlp = MLP(6, 1, hidden_layer_sizes=(5,), input_groups=GROUPS).double()
    _random_gates(mlp)
    X = torch.from_numpy(np.random.default_rng(2).normal(size=(9, 6)))
    mlp(X).pow(2).sum().backward()
    # The same network with the scaled weight W' = W * s as a leaf: by the
    # chain rule dL/ds_f = sum over the feature's columns of dL/dW' * W.
    first, last = mlp.layers[0], mlp.layers[-1]
    W = first.weight.detach()
    scaled = (W * mlp.gates.detach()[torch.from_numpy(GROUPS)]).requires_grad_()
    hidden = torch.relu(X @ scaled.T + first.bias.detach())
    (hidden @ last.weight.detach().T + last.bias.detach()).pow(2).sum().backward()
    per_input = (scaled.grad * W).sum(0).numpy()
    expected = np.bincount(GROUPS, weights=per_input)
    np.testing.assert_allclose(mlp.gates.grad.numpy(), expected, rtol=1e-10)


def test_weight_decay_makes_the_gates_select_the_deciding_feature():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 30))
    y = (X[:, 0] > 1.0).astype(int)

    def gates(weight_decay):
        clf = NeuralClassifier(weight_decay=weight_decay, random_state=0).fit(X, y)
        return clf.net_.module_.network.gates.detach().numpy()

    # A group lasso: the one feature that decides keeps its gate, the rest fade.
    selected = gates(0.03)
    assert selected[0] > 2 * selected[1:].max()
    # Without the penalty nothing pulls them apart.
    free = gates(0.0)
    assert free[1:].min() > 0.8 * free[0]


def test_classifier_gates_the_encoded_features_only(imbalanced):
    X, y = imbalanced
    params = dict(max_epochs=2, random_state=0)
    encoded = NeuralClassifier(**params).fit(X, y).net_.module_
    assert encoded.network.gates.shape == (X.shape[1],)
    # Every encoded input (a bin) is gated by the feature it reads.
    assert torch.equal(encoded.network.input_groups, encoded.features)
    off = NeuralClassifier(feature_gates=False, **params).fit(X, y).net_.module_
    assert off.network.gates is None
    raw = NeuralClassifier(piecewise_bins=None, **params).fit(X, y).net_.module_
    assert raw.network.gates is None
    text = NeuralClassifier(**params).fit(sp.csr_matrix(X), y).net_.module_
    assert text.network.gates is None


def test_gates_can_be_turned_off_to_the_network_without_them(imbalanced):
    X, y = imbalanced
    params = dict(max_epochs=3, random_state=0)
    with_gates = NeuralClassifier(**params).fit(X, y).predict_proba(X)
    without = NeuralClassifier(feature_gates=False, **params).fit(X, y).predict_proba(X)
    # Same initial weights and batches: the gates alone make the difference.
    assert not np.allclose(with_gates, without)


def test_feature_gates_is_validated():
    X, y = np.random.default_rng(0).normal(size=(20, 2)), np.r_[[0] * 10, [1] * 10]
    with pytest.raises(ValueError, match="feature_gates"):
        NeuralClassifier(feature_gates="yes").fit(X, y)


@pytest.mark.parametrize("groups", [[0, 1], [0, -1, 1], [[0, 1, 2]]])
def test_input_groups_must_give_one_group_per_input(groups):
    with pytest.raises(ValueError, match="input_groups"):
        MLP(3, 1, input_groups=groups)
