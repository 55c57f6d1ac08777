"""MLP(ensemble_size=k): k networks in one module, their mean probability."""

import numpy as np
import pytest
import torch
from scipy.special import expit, softmax
from sklearn.datasets import make_classification

from imbestimators import NeuralClassifier
from imbestimators.neural import MLP


def _member_logits(mlp, X, member):
    """Member ``member``'s logits, written out as plain matrix products."""
    h = X.astype(np.float64)
    n_layers = len(mlp.weights)
    k = mlp.ensemble_size
    for i in range(n_layers):
        W = mlp.weights[i].detach().double().numpy()
        # The first layer's members are stored side by side, column blocks.
        W = W.reshape(W.shape[0], k, -1)[:, member] if i == 0 else W[member]
        b = mlp.biases[i].detach().double().numpy()[member, 0]
        h = h @ W + b
        if i < n_layers - 1:
            h = np.maximum(h, 0.0)
    return h


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_evaluation_output_is_the_logit_of_the_members_mean_probability(n_outputs):
    torch.manual_seed(0)
    mlp = MLP(5, n_outputs, hidden_layer_sizes=(7, 6), ensemble_size=4).eval()
    X = np.random.RandomState(0).normal(size=(9, 5)).astype(np.float32)
    with torch.no_grad():
        out = mlp(torch.from_numpy(X)).double().numpy()
    members = [_member_logits(mlp, X, m) for m in range(4)]
    if n_outputs == 1:
        mean = np.mean([expit(z[:, 0]) for z in members], axis=0)
        np.testing.assert_allclose(expit(out[:, 0]), mean, rtol=1e-5)
    else:
        mean = np.mean([softmax(z, axis=1) for z in members], axis=0)
        np.testing.assert_allclose(softmax(out, axis=1), mean, rtol=1e-5)


def test_training_output_holds_every_member():
    torch.manual_seed(0)
    mlp = MLP(5, 1, hidden_layer_sizes=(7,), ensemble_size=3).train()
    X = np.random.RandomState(0).normal(size=(4, 5)).astype(np.float32)
    out = mlp(torch.from_numpy(X)).detach().double().numpy()
    assert out.shape == (4, 3, 1)
    for m in range(3):
        np.testing.assert_allclose(out[:, m], _member_logits(mlp, X, m), rtol=1e-5,
                                   atol=1e-6)
    # Members start from different weights.
    assert not np.allclose(out[:, 0], out[:, 1])


def test_the_loss_is_the_members_mean_loss():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    clf = NeuralClassifier(ensemble_size=3, max_epochs=1, piecewise_bins=None,
                           standardize=False, dropout=0.0, random_state=0).fit(X, y)
    net = clf.net_
    net.module_.train()
    Xt = torch.from_numpy(X.astype(np.float32))
    yt = torch.from_numpy(np.searchsorted(clf.classes_, y))
    with torch.no_grad():
        loss = float(net._loss(net.module_(Xt), yt, None))
        members = net.module_(Xt)
    expected = np.mean([
        float(torch.nn.functional.binary_cross_entropy_with_logits(
            members[:, m, 0], yt.float())) for m in range(3)])
    assert loss == pytest.approx(expected, rel=1e-5)


def test_an_ensemble_estimator_learns_a_multiclass_problem():
    X, y = make_classification(n_samples=300, n_features=6, n_informative=3,
                               n_classes=3, random_state=1)
    clf = NeuralClassifier(ensemble_size=4, max_epochs=20, random_state=0).fit(X, y)
    assert (clf.predict(X) == y).mean() > 0.7


def test_bad_ensemble_size_names_the_parameter():
    X, y = make_classification(n_samples=40, random_state=0)
    with pytest.raises(ValueError, match="'ensemble_size' parameter"):
        NeuralClassifier(ensemble_size=0).fit(X, y)


def test_each_member_descends_its_own_loss():
    # A member's gradient in the training step is the gradient of its own
    # mean loss, as if trained alone (not 1/k of it, which weight decay and
    # plain SGD's step would not scale with).
    X, y = make_classification(n_samples=60, n_features=5, random_state=0)
    clf = NeuralClassifier(ensemble_size=3, max_epochs=1, piecewise_bins=None,
                           standardize=False, dropout=0.0, random_state=0).fit(X, y)
    net = clf.net_
    Xt = torch.from_numpy(X.astype(np.float32))
    yt = torch.from_numpy(np.searchsorted(clf.classes_, y))
    net.module_.zero_grad()
    net.train_step_single((Xt, yt, None))
    step_grads = [w.grad.clone() for w in net.module_.weights]
    net.module_.zero_grad()
    for member in range(3):
        logits = net.module_(Xt)[:, member, 0]
        own_loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, yt.float())
        grads = torch.autograd.grad(own_loss, list(net.module_.weights))
        first = grads[0].reshape(5, 3, -1)[:, member]
        np.testing.assert_allclose(step_grads[0].reshape(5, 3, -1)[:, member], first,
                                   rtol=1e-4, atol=1e-7)
        for i in range(1, len(grads)):
            np.testing.assert_allclose(step_grads[i][member], grads[i][member],
                                       rtol=1e-4, atol=1e-7)
