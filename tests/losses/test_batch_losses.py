"""Batch-level losses (overlap, Lovász, MCC, AUC) against float64 NumPy references."""

import itertools
from functools import partial

import numpy as np
import pytest
import torch

from imbestimators.losses import (
    DiceLoss,
    JaccardLoss,
    LovaszHingeLoss,
    MCCLoss,
    PairwiseAUCLoss,
    SoftFBetaLoss,
    TverskyLoss,
)

RNG = np.random.default_rng(1)


# ------------------------------------------------------------------ references

def _probabilities(z, t):
    """(K, M) probabilities and one-hot targets: positive class only for binary."""
    if z.ndim == 1:
        return (1 / (1 + np.exp(-z)))[None, :], t[None, :].astype(float)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).T, np.eye(z.shape[1])[t].T


def _counts(z, t, w):
    p, y = _probabilities(z, t)
    return ((w * p * y).sum(1), (w * p * (1 - y)).sum(1), (w * (1 - p) * y).sum(1),
            (w * (1 - p) * (1 - y)).sum(1))


def ref_fbeta(z, t, w, beta):
    tp, fp, fn, _ = _counts(z, t, w)
    return np.mean(1 - (1 + beta**2) * tp / ((1 + beta**2) * tp + beta**2 * fn + fp))


def ref_dice(z, t, w, smooth):
    tp, fp, fn, _ = _counts(z, t, w)
    return np.mean(1 - (2 * tp + smooth) / (2 * tp + fp + fn + smooth))


def ref_tversky(z, t, w, alpha, beta, gamma, smooth):
    tp, fp, fn, _ = _counts(z, t, w)
    return np.mean((1 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)) ** gamma)


def ref_jaccard(z, t, w, smooth):
    tp, fp, fn, _ = _counts(z, t, w)
    return np.mean(1 - (tp + smooth) / (tp + fp + fn + smooth))


def ref_mcc(z, t, w):
    tp, fp, fn, tn = _counts(z, t, w)
    mcc = (tp * tn - fp * fn) / np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return np.mean(1 - mcc)


def _weighted_jaccard_loss(mispredicted, t, w):
    """Delta_J(M) = 1 - |P minus M| / |P union M|, with weighted set sizes."""
    positives = t == 1
    inter = w[positives & ~mispredicted].sum()
    union = w[positives | mispredicted].sum()
    return 0.0 if union == 0 else 1 - inter / union


def ref_lovasz(z, t, w):
    errors = np.maximum(1 - z * (2 * t - 1), 0)
    order = np.argsort(-errors, kind="stable")
    total, previous = 0.0, 0.0
    mispredicted = np.zeros(len(z), dtype=bool)
    for k in order:
        mispredicted[k] = True
        current = _weighted_jaccard_loss(mispredicted, t, w)
        total += errors[k] * (current - previous)
        previous = current
    return total


def _phi(d, surrogate, margin):
    if surrogate == "logistic":
        return np.log1p(np.exp(-d))
    return np.maximum(margin - d, 0) ** 2


def ref_auc(z, t, w, surrogate, margin):
    if z.ndim == 1:
        scores, classes = np.column_stack([-z, z]), [1]  # only the positive class' ranking
    else:
        m = z.max(axis=1, keepdims=True)
        scores = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
        classes = range(z.shape[1])
    per_class = []
    for c in classes:
        num = den = 0.0
        for i, j in itertools.product(range(len(t)), repeat=2):
            if t[i] == c and t[j] != c:
                pair = w[i] * w[j]
                num += pair * _phi(scores[i, c] - scores[j, c], surrogate, margin)
                den += pair
        if den > 0:
            per_class.append(num / den)
    return np.mean(per_class) if per_class else 0.0


CASES = [
    ("fbeta", lambda: SoftFBetaLoss(beta=2.0), lambda z, t, w: ref_fbeta(z, t, w, 2.0),
     (2, 3)),
    ("dice", lambda: DiceLoss(), lambda z, t, w: ref_dice(z, t, w, 0.0), (2, 3)),
    ("dice_smooth", lambda: DiceLoss(smooth=1.0), lambda z, t, w: ref_dice(z, t, w, 1.0),
     (2, 3)),
    ("tversky", lambda: TverskyLoss(alpha=0.3, beta=0.7, gamma=0.75, smooth=0.5),
     lambda z, t, w: ref_tversky(z, t, w, 0.3, 0.7, 0.75, 0.5), (2, 3)),
    ("jaccard", lambda: JaccardLoss(), lambda z, t, w: ref_jaccard(z, t, w, 0.0), (2, 3)),
    ("jaccard_smooth", lambda: JaccardLoss(smooth=0.1),
     lambda z, t, w: ref_jaccard(z, t, w, 0.1), (2, 3)),
    ("mcc", lambda: MCCLoss(), ref_mcc, (2, 3)),
    ("lovasz_hinge", lambda: LovaszHingeLoss(), ref_lovasz, (2,)),
    ("auc_logistic", lambda: PairwiseAUCLoss(),
     lambda z, t, w: ref_auc(z, t, w, "logistic", 1.0), (2, 3)),
    ("auc_squared_hinge", lambda: PairwiseAUCLoss(surrogate="squared_hinge", margin=0.5),
     lambda z, t, w: ref_auc(z, t, w, "squared_hinge", 0.5), (2, 3)),
]
PARAMS = [
    pytest.param(factory, ref, c, id=f"{name}-{c}")
    for name, factory, ref, classes in CASES
    for c in classes
]


def _data(c, n=12, scale=2.0):
    t = RNG.integers(0, c, n)
    t[:c] = np.arange(c)
    z = RNG.normal(scale=scale, size=n if c == 2 else (n, c))
    return z, t


def _torch(z, t):
    return torch.tensor(z), torch.tensor(t)


# ----------------------------------------------------------------------- tests

@pytest.mark.parametrize("factory, ref, c", PARAMS)
def test_matches_numpy_reference_with_weights(factory, ref, c):
    z, t = _data(c)
    sw = RNG.uniform(0.2, 2.0, len(t))
    class_weight = np.arange(1.0, c + 1)
    loss = factory()
    assert loss._batch_level
    np.testing.assert_allclose(float(loss(*_torch(z, t))), ref(z, t, np.ones(len(t))),
                               rtol=1e-10, atol=1e-12)
    loss.class_weight = class_weight
    got = loss(*_torch(z, t), sample_weight=torch.tensor(sw))
    np.testing.assert_allclose(float(got), ref(z, t, sw * class_weight[t]), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("factory, ref, c", PARAMS)
def test_gradcheck(factory, ref, c):
    z, t = _data(c, n=7, scale=1.5)
    z = torch.tensor(z, requires_grad=True)
    sw = torch.tensor(RNG.uniform(0.5, 2.0, len(t)))
    loss = factory()
    target = torch.tensor(t)
    assert torch.autograd.gradcheck(lambda x: loss(x, target, sample_weight=sw), (z,))


@pytest.mark.parametrize("factory, ref, c", PARAMS)
def test_extreme_logits_are_finite(factory, ref, c):
    t = np.array([0, 1, 0, 1] if c == 2 else [0, 1, 2, 0, 1, 2])
    z = np.array([1e4, -1e4, -1e4, 1e4]) if c == 2 else np.where(
        np.eye(3)[[0, 1, 2, 1, 2, 0]] > 0, 1e4, -1e4
    )
    logits = torch.tensor(z, dtype=torch.float32, requires_grad=True)
    value = factory()(logits, torch.tensor(t))
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(logits.grad).all()


# Smoothing (and Lovász) deliberately keep pushing false positives down on a
# batch without positives.
NO_GRADIENT = [
    p for p in PARAMS
    if "smooth" not in p.id and not p.id.startswith(("lovasz", "tversky"))
]


@pytest.mark.parametrize("factory, ref, c", NO_GRADIENT)
@pytest.mark.parametrize("only_class", [0, 1])
def test_batch_with_a_single_class_gives_zero_gradient(factory, ref, c, only_class):
    if c == 3 and only_class == 1:
        pytest.skip("one single-class batch is enough for multiclass")
    z, _ = _data(c, n=8)
    t = np.full(8, only_class)
    for scale in (1.0, 1e4):  # also where every probability rounds to 0 or 1
        logits = torch.tensor(z * scale, requires_grad=True)
        loss = factory()
        value = loss(logits, torch.tensor(t))
        value.backward()
        assert torch.isfinite(value)
        # Without negatives, F-beta/Dice/Jaccard still push p up: only MCC and
        # AUC are undefined there.
        if isinstance(loss, (MCCLoss, PairwiseAUCLoss)) or (c == 2 and only_class == 0):
            assert torch.all(logits.grad == 0), logits.grad


@pytest.mark.parametrize("factory", [DiceLoss, lambda: DiceLoss(smooth=1.0),
                                     lambda: TverskyLoss(gamma=0.5), LovaszHingeLoss],
                         ids=["dice", "dice_smooth", "focal_tversky", "lovasz"])
def test_batch_without_positives_is_finite(factory):
    logits = torch.tensor([-3.0, 2.0, -1e4, 0.5], requires_grad=True)
    value = factory()(logits, torch.zeros(4, dtype=torch.long))
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(logits.grad).all()


def test_lovasz_equals_jaccard_loss_at_the_vertices():
    # With hinge errors in {0, 1}, the Lovász extension is Delta_J of the set
    # of elements with error 1 (a definition, not the sorting algorithm).
    t = np.array([1, 1, 0, 0, 1, 0])
    mispredicted = np.array([True, False, True, False, False, True])
    z = np.where(mispredicted, 0.0, 1.0) * (2 * t - 1)
    expected = _weighted_jaccard_loss(mispredicted, t, np.ones(6))  # 1 - 2 / 5
    assert np.isclose(expected, 0.6)
    assert np.isclose(float(LovaszHingeLoss()(*_torch(z, t))), expected)


@pytest.mark.parametrize("factory, ref, c", PARAMS)
def test_dense_shapes_sum_over_positions(factory, ref, c):
    n, h, w = 2, 3, 3
    t = RNG.integers(0, c, (n, h, w))
    t.flat[:c] = np.arange(c)
    if c == 2:
        z = RNG.normal(size=(n, 1, h, w))
        flat_z = z[:, 0].reshape(-1)
    else:
        z = RNG.normal(size=(n, c, h, w))
        flat_z = np.moveaxis(z, 1, -1).reshape(-1, c)
    sw = np.array([0.5, 2.0])
    got = factory()(*_torch(z, t), sample_weight=torch.tensor(sw))
    expected = ref(flat_z, t.reshape(-1), np.repeat(sw, h * w))
    np.testing.assert_allclose(float(got), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("factory, ref, c", PARAMS)
def test_mismatched_shapes_raise(factory, ref, c):
    with pytest.raises(ValueError, match="shape"):
        factory()(torch.zeros(4, 3, 2), torch.zeros(4, 3, dtype=torch.long))


def test_lovasz_rejects_multiclass():
    with pytest.raises(ValueError, match="one logit"):
        LovaszHingeLoss()(torch.zeros(4, 3), torch.tensor([0, 1, 2, 0]))
    with pytest.raises(ValueError, match="binary"):
        LovaszHingeLoss().n_outputs(3)


@pytest.mark.parametrize(
    "build, message",
    [
        (partial(SoftFBetaLoss, beta=0.0), "beta"),
        (partial(DiceLoss, smooth=-1.0), "smooth"),
        (partial(TverskyLoss, alpha=-0.1), "alpha"),
        (partial(TverskyLoss, gamma=0.0), "gamma"),
        (partial(JaccardLoss, class_weight=[1.0, 2.0]), "class_weight"),
        (partial(PairwiseAUCLoss, surrogate="hinge"), "surrogate"),
        (partial(PairwiseAUCLoss, margin=-1.0), "margin"),
    ],
)
def test_bad_parameters_raise(build, message):
    # Out-of-range values when the loss is built, per-class lengths that do
    # not match the logits at the first batch.
    with pytest.raises(ValueError, match=message):
        build()(torch.zeros(4, 3), torch.tensor([0, 1, 2, 1]))


def test_auc_on_a_large_batch():
    # 4 million pairs, compared with the plain mean over the pair matrix.
    z, t = RNG.normal(size=4000), np.repeat([0, 1], 2000)
    value = PairwiseAUCLoss()(*_torch(z, t))
    d = z[2000:][:, None] - z[:2000][None, :]
    np.testing.assert_allclose(float(value), np.log1p(np.exp(-d)).mean(), rtol=1e-10)


@pytest.mark.parametrize("surrogate, margin", [("logistic", 1.0), ("squared_hinge", 0.5)])
@pytest.mark.parametrize("labels", ["mixed", "no_positive", "no_negative"])
def test_auc_all_pairs_path_off_the_cpu(monkeypatch, surrogate, margin, labels):
    # Off the CPU the binary loss weighs all n x n pairs instead of selecting the
    # positives (a host synchronisation); forced here on the CPU.
    monkeypatch.setattr(PairwiseAUCLoss, "_binary", PairwiseAUCLoss._binary_masked)
    z, t = _data(2)
    if labels != "mixed":
        t[:] = 0 if labels == "no_positive" else 1
    w = RNG.uniform(0.2, 2.0, len(t))
    logits = torch.tensor(z, requires_grad=True)
    value = PairwiseAUCLoss(surrogate=surrogate, margin=margin)(
        logits, torch.tensor(t), sample_weight=torch.tensor(w))
    np.testing.assert_allclose(float(value.detach()), ref_auc(z, t, w, surrogate, margin),
                               rtol=1e-10, atol=1e-12)
    value.backward()
    if labels == "mixed":
        loss = PairwiseAUCLoss(surrogate=surrogate, margin=margin)
        assert torch.autograd.gradcheck(
            lambda x: loss(x, torch.tensor(t), sample_weight=torch.tensor(w)),
            (logits.detach().requires_grad_(),))
    else:
        assert torch.equal(logits.grad, torch.zeros_like(logits))
