"""The dense (segmentation-like) case end to end, in a plain PyTorch loop.

The gallery's rare-foreground example makes the claim; this test keeps it
true: on faint squares covering about 3% of the pixels
(:func:`imbestimators.datasets.make_rare_foreground`), cross-entropy predicts
background everywhere and the foreground-aware losses do not.
"""

import numpy as np
import pytest
import torch
from torch import nn

from imbestimators.datasets import make_rare_foreground
from imbestimators.losses import CrossEntropyLoss, DiceLoss, FocalLoss, TverskyLoss


@pytest.fixture(scope="module")
def images():
    train = map(torch.from_numpy, make_rare_foreground(32, random_state=0))
    test = map(torch.from_numpy, make_rare_foreground(64, random_state=1))
    return tuple(train), tuple(test)


def _foreground_recall(loss, images, steps=100):
    (X_train, y_train), (X_test, y_test) = images
    torch.manual_seed(0)
    network = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
        nn.Conv2d(8, 1, 1),
    )
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-2)
    for _ in range(steps):
        optimizer.zero_grad()
        loss(network(X_train), y_train).backward()
        optimizer.step()
    with torch.no_grad():
        predicted = network(X_test)[:, 0] > 0
    truth = y_test.bool()
    return ((predicted & truth).sum() / truth.sum()).item()


@pytest.mark.parametrize("loss", [CrossEntropyLoss(), FocalLoss(gamma=2.0)],
                         ids=["cross_entropy", "focal_without_alpha"])
def test_background_everywhere_without_a_foreground_weight(images, loss):
    assert images[0][1].float().mean() < 0.05
    assert _foreground_recall(loss, images) < 0.05


@pytest.mark.parametrize("loss", [
    FocalLoss(gamma=2.0, alpha=0.9),
    DiceLoss(smooth=1.0),
    TverskyLoss(alpha=0.3, beta=0.7, smooth=1.0),
], ids=["focal", "dice", "tversky"])
def test_foreground_aware_losses_find_it(images, loss):
    assert _foreground_recall(loss, images) > 0.3


def test_rare_foreground_images():
    X, y = make_rare_foreground(50, size=10, n_squares=1, square=2, signal=3.0,
                                random_state=0)
    assert X.shape == (50, 1, 10, 10) and X.dtype == np.float32
    assert y.shape == (50, 10, 10) and set(np.unique(y)) == {0, 1}
    # one 2x2 square per image, shifted by the signal
    np.testing.assert_array_equal(y.sum(axis=(1, 2)), 4)
    assert X[:, 0][y == 1].mean() - X[:, 0][y == 0].mean() == pytest.approx(3.0, abs=0.3)
    again, _ = make_rare_foreground(50, size=10, n_squares=1, square=2, signal=3.0,
                                    random_state=0)
    np.testing.assert_array_equal(X, again)
    with pytest.raises(ValueError, match="square=5 must be at most size=4"):
        make_rare_foreground(2, size=4, square=5)
    with pytest.raises(ValueError, match="n_images"):
        make_rare_foreground(0)
