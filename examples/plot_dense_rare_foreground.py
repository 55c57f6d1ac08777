"""
Rare foreground pixels: cross-entropy versus focal, Dice and Tversky
=====================================================================

A segmentation-like problem where about 3% of the pixels are foreground:
small faint squares in noise. Plain cross-entropy learns that "background
everywhere" is already a very good answer, and predicts no foreground at all
at the usual 0.5 threshold. Losses that look at the foreground directly
(focal with a large ``alpha`` on the foreground, Dice, Tversky with
``beta > alpha``) do find it. (Focal with ``gamma=2`` and no ``alpha``
still predicts no foreground here: ``alpha`` matters as much as ``gamma``.)

The losses of :mod:`imbestimators.losses` are plain ``torch.nn.Module``\\ s:
this example uses them in an ordinary PyTorch training loop, no estimator.
Dense binary logits have shape ``(N, 1, H, W)`` and targets ``(N, H, W)``.
"""

# %%
# Data: faint 3x3 squares in Gaussian noise
# -----------------------------------------
# :func:`~imbestimators.datasets.make_rare_foreground` draws two 3x3 squares
# per 24x24 image, with a signal of 1.2 noise standard deviations.
import torch
from torch import nn

from imbestimators.datasets import make_rare_foreground
from imbestimators.losses import CrossEntropyLoss, DiceLoss, FocalLoss, TverskyLoss

X_train, y_train = map(torch.from_numpy, make_rare_foreground(32, random_state=0))
X_test, y_test = map(torch.from_numpy, make_rare_foreground(64, random_state=1))
print(f"foreground pixels: {y_train.float().mean():.1%}")

# %%
# One small convolutional network per loss, trained the same way
# ---------------------------------------------------------------


def make_network():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
        nn.Conv2d(8, 1, 1),
    )


def train(loss, steps=100):
    torch.manual_seed(0)
    network = make_network()
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-2)
    for _ in range(steps):
        optimizer.zero_grad()
        loss(network(X_train), y_train).backward()
        optimizer.step()
    return network


def foreground_scores(network):
    with torch.no_grad():
        predicted = network(X_test)[:, 0] > 0  # probability above 0.5
    truth = y_test.bool()
    hits = (predicted & truth).sum().item()
    recall = hits / truth.sum().item()
    iou = hits / (predicted | truth).sum().item()
    return recall, iou


losses = {
    "cross-entropy": CrossEntropyLoss(),
    "focal (gamma=2, alpha=0.9)": FocalLoss(gamma=2.0, alpha=0.9),
    "Dice": DiceLoss(smooth=1.0),
    "Tversky (alpha=0.3, beta=0.7)": TverskyLoss(alpha=0.3, beta=0.7, smooth=1.0),
}
results = {name: foreground_scores(train(loss)) for name, loss in losses.items()}

# %%
# Foreground recall and IoU on new images
# ---------------------------------------
# Cross-entropy scores 0 on both: it never predicts foreground. Dice and
# Tversky trade some precision for recall; Tversky's ``beta > alpha``
# penalises missed foreground more than false alarms.
print(f"{'loss':32s} {'recall':>7s} {'IoU':>7s}")
for name, (recall, iou) in results.items():
    print(f"{name:32s} {recall:7.2f} {iou:7.2f}")
