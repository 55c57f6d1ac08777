"""Per-sample losses against float64 NumPy references written from their formulas."""

from functools import partial

import numpy as np
import pytest
import torch

from imbestimators.losses import (
    AsymmetricLoss,
    ClassBalancedLoss,
    CrossEntropyLoss,
    ExpectedCostLoss,
    FocalLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    PolyLoss,
    WeightedBCELoss,
)

RNG = np.random.default_rng(0)
COUNTS3 = np.array([50.0, 10.0, 2.0])
COUNTS2 = np.array([40.0, 8.0])
COST3 = np.array([[0.0, 1.0, 4.0], [2.0, 0.0, 1.0], [8.0, 3.0, 0.0]])
COST2 = np.array([[0.0, 1.0], [6.0, 0.0]])


# ------------------------------------------------------------------ references

def _as_two_columns(z):
    """One binary logit z is the softmax over the logits (0, z)."""
    return np.column_stack([np.zeros_like(z), z]) if z.ndim == 1 else z


def _log_softmax(z):
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


def _log_pt(z, t):
    return _log_softmax(_as_two_columns(z))[np.arange(len(t)), t]


def ref_cross_entropy(z, t):
    return -_log_pt(z, t)


def ref_smoothed_cross_entropy(z, t, eps):
    """-Σ_c t'_c log softmax(z)_c, t' = (1 - eps) one-hot + eps / C (C = 2 if binary)."""
    log_p = _log_softmax(_as_two_columns(z))
    n_classes = log_p.shape[1]
    smoothed = (1 - eps) * np.eye(n_classes)[t] + eps / n_classes
    return -(smoothed * log_p).sum(axis=1)


def ref_focal(z, t, gamma=2.0, alpha=None):
    pt = np.exp(_log_pt(z, t))
    if alpha is None:
        a = 1.0
    elif np.ndim(alpha) == 0:
        a = np.where(t == 1, alpha, 1 - alpha)
    else:
        a = np.asarray(alpha)[t]
    return -a * (1 - pt) ** gamma * np.log(pt)


def ref_weighted_bce(z, t, pos_weight):
    p = 1 / (1 + np.exp(-z))
    return -(pos_weight * t * np.log(p) + (1 - t) * np.log(1 - p))


def ref_cb_weights(counts, beta):
    w = (1 - beta) / (1 - beta ** counts)
    return w * len(w) / w.sum()


def ref_ldam(z, t, counts, max_margin, scale):
    delta = max_margin * counts ** -0.25 / np.max(counts ** -0.25)
    z2 = _as_two_columns(z).copy()
    z2[np.arange(len(t)), t] -= delta[t]
    return -_log_softmax(scale * z2)[np.arange(len(t)), t]


def ref_logit_adjusted(z, t, priors, tau):
    z2 = _as_two_columns(z) + tau * np.log(priors)
    return -_log_softmax(z2)[np.arange(len(t)), t]


def ref_asymmetric(z, t, gamma_pos, gamma_neg, clip):
    z2 = z[:, None] if z.ndim == 1 else z
    onehot = t[:, None] if z.ndim == 1 else np.eye(z.shape[1])[t]
    p = 1 / (1 + np.exp(-z2))
    pm = np.maximum(p - clip, 0)
    positive = onehot * (1 - p) ** gamma_pos * np.log(p)
    negative = (1 - onehot) * pm ** gamma_neg * np.log(1 - pm)
    terms = positive + negative
    return -terms.sum(axis=1)


def ref_poly(z, t, epsilon):
    pt = np.exp(_log_pt(z, t))
    return -np.log(pt) + epsilon * (1 - pt)


def ref_expected_cost(z, t, cost, ce_weight):
    log_p = _log_softmax(_as_two_columns(z))
    return -ce_weight * log_p[np.arange(len(t)), t] + (cost[t] * np.exp(log_p)).sum(axis=1)


def _priors(c):
    counts = COUNTS3 if c == 3 else COUNTS2
    return counts / counts.sum()


# (id, loss factory for n_classes, reference(z, t, n_classes), classes supported)
CASES = [
    ("cross_entropy", lambda c: CrossEntropyLoss(),
     lambda z, t, c: ref_smoothed_cross_entropy(z, t, 0.0), (2, 3)),
    ("cross_entropy_smoothing", lambda c: CrossEntropyLoss(label_smoothing=0.2),
     lambda z, t, c: ref_smoothed_cross_entropy(z, t, 0.2), (2, 3)),
    ("focal", lambda c: FocalLoss(gamma=2.0), lambda z, t, c: ref_focal(z, t, 2.0), (2, 3)),
    ("focal_alpha_binary", lambda c: FocalLoss(gamma=0.5, alpha=0.25),
     lambda z, t, c: ref_focal(z, t, 0.5, 0.25), (2,)),
    ("focal_alpha_vector", lambda c: FocalLoss(gamma=1.5, alpha=[0.2, 0.3, 0.5][:c]),
     lambda z, t, c: ref_focal(z, t, 1.5, [0.2, 0.3, 0.5][:c]), (2, 3)),
    ("weighted_bce", lambda c: WeightedBCELoss(pos_weight=3.0),
     lambda z, t, c: ref_weighted_bce(z, t, 3.0), (2,)),
    ("weighted_bce_counts", lambda c: WeightedBCELoss(class_counts=COUNTS2),
     lambda z, t, c: ref_weighted_bce(z, t, 40 / 8), (2,)),
    ("class_balanced_ce",
     lambda c: ClassBalancedLoss(beta=0.9, class_counts=COUNTS3[:c] if c == 3 else COUNTS2),
     lambda z, t, c: ref_cross_entropy(z, t), (2, 3)),
    ("class_balanced_focal",
     lambda c: ClassBalancedLoss(beta=0.99, base="focal", gamma=1.0,
                                 class_counts=COUNTS3 if c == 3 else COUNTS2),
     lambda z, t, c: ref_focal(z, t, 1.0), (2, 3)),
    ("ldam", lambda c: LDAMLoss(max_margin=0.5, scale=3.0,
                                class_counts=COUNTS3 if c == 3 else COUNTS2),
     lambda z, t, c: ref_ldam(z, t, COUNTS3 if c == 3 else COUNTS2, 0.5, 3.0), (2, 3)),
    ("logit_adjusted", lambda c: LogitAdjustedLoss(tau=0.7, class_priors=_priors(c)),
     lambda z, t, c: ref_logit_adjusted(z, t, _priors(c), 0.7), (2, 3)),
    ("asymmetric", lambda c: AsymmetricLoss(gamma_pos=1.0, gamma_neg=4.0, clip=0.05),
     lambda z, t, c: ref_asymmetric(z, t, 1.0, 4.0, 0.05), (2, 3)),
    ("asymmetric_noclip", lambda c: AsymmetricLoss(gamma_pos=0.0, gamma_neg=0.5, clip=0.0),
     lambda z, t, c: ref_asymmetric(z, t, 0.0, 0.5, 0.0), (2, 3)),
    ("poly", lambda c: PolyLoss(epsilon=2.0), lambda z, t, c: ref_poly(z, t, 2.0), (2, 3)),
    ("expected_cost", lambda c: ExpectedCostLoss(cost_matrix=COST3 if c == 3 else COST2,
                                                 ce_weight=0.5),
     lambda z, t, c: ref_expected_cost(z, t, COST3 if c == 3 else COST2, 0.5), (2, 3)),
]
PARAMS = [
    pytest.param(factory, ref, c, id=f"{name}-{c}")
    for name, factory, ref, classes in CASES
    for c in classes
]


def _class_weights_of(loss, c):
    """The per-class weights the weighted mean must use for ``loss``."""
    if isinstance(loss, ClassBalancedLoss):
        return ref_cb_weights(np.asarray(loss.class_counts), loss.beta)
    return np.ones(c)


def _data(c, n=11, scale=2.0):
    t = RNG.integers(0, c, n)
    t[:c] = np.arange(c)
    z = RNG.normal(scale=scale, size=n if c == 2 else (n, c))
    return z, t


def _torch(z, t):
    return torch.tensor(z), torch.tensor(t)


# ----------------------------------------------------------------------- tests

@pytest.mark.parametrize("factory, ref, c", PARAMS)
def test_matches_numpy_reference(factory, ref, c):
    z, t = _data(c)
    loss = factory(c)
    loss.reduction = "none"
    np.testing.assert_allclose(loss(*_torch(z, t)).numpy(), ref(z, t, c), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("factory, ref, c", PARAMS)
def test_weighted_mean_and_sum(factory, ref, c):
    z, t = _data(c)
    sw = RNG.uniform(0.1, 2.0, len(t))
    loss = factory(c)
    extra = np.arange(1.0, c + 1)
    loss.class_weight = extra
    w = sw * extra[t] * _class_weights_of(loss, c)[t]
    per_sample = ref(z, t, c)
    got = loss(*_torch(z, t), sample_weight=torch.tensor(sw))
    np.testing.assert_allclose(float(got), (w * per_sample).sum() / w.sum(), rtol=1e-10)
    loss.reduction = "sum"
    got = loss(*_torch(z, t), sample_weight=torch.tensor(sw))
    np.testing.assert_allclose(float(got), (w * per_sample).sum(), rtol=1e-10)


@pytest.mark.parametrize("factory, ref, c", PARAMS)
def test_integer_sample_weight_equals_repeated_samples(factory, ref, c):
    z, t = _data(c)
    repeats = RNG.integers(0, 4, len(t))
    repeats[:c] = 1
    loss = factory(c)
    weighted = loss(*_torch(z, t), sample_weight=torch.tensor(repeats, dtype=torch.float64))
    repeated = loss(*_torch(np.repeat(z, repeats, axis=0), np.repeat(t, repeats)))
    np.testing.assert_allclose(float(weighted), float(repeated), rtol=1e-12)


@pytest.mark.parametrize("factory, ref, c", PARAMS)
def test_gradcheck(factory, ref, c):
    z, t = _data(c, n=6, scale=1.5)
    z = torch.tensor(z, requires_grad=True)
    sw = torch.tensor(RNG.uniform(0.5, 2.0, len(t)))
    loss = factory(c)
    target = torch.tensor(t)
    assert torch.autograd.gradcheck(lambda x: loss(x, target, sample_weight=sw), (z,))


@pytest.mark.parametrize("factory, ref, c", PARAMS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_extreme_logits_are_finite(factory, ref, c, dtype):
    # Every sign pattern of +-1e4: confidently right and confidently wrong.
    t = np.array([0, 1, 0, 1] if c == 2 else [0, 1, 2, 0, 1, 2])
    z = np.array([1e4, -1e4, -1e4, 1e4]) if c == 2 else np.where(
        np.eye(3)[[0, 1, 2, 1, 2, 0]] > 0, 1e4, -1e4
    )
    logits = torch.tensor(z, dtype=dtype, requires_grad=True)
    value = factory(c)(logits, torch.tensor(t))
    value.backward()
    assert torch.isfinite(value)
    assert torch.isfinite(logits.grad).all()


@pytest.mark.parametrize(
    "loss",
    [FocalLoss(gamma=0.3), AsymmetricLoss(gamma_pos=0.5, gamma_neg=0.5, clip=0.05),
     ClassBalancedLoss(base="focal", gamma=0.2, class_counts=COUNTS2)],
    ids=["focal", "asymmetric", "class_balanced_focal"],
)
def test_gamma_below_one_has_finite_gradient_where_p_rounds_to_one(loss):
    logits = torch.tensor([60.0, -60.0, 1e4, -1e4, 17.0], requires_grad=True)
    target = torch.tensor([1, 0, 1, 0, 1])
    loss(logits, target).backward()
    assert torch.isfinite(logits.grad).all()
    assert torch.all(logits.grad.abs() < 1.0)


@pytest.mark.parametrize("factory, ref, c", PARAMS)
def test_dense_shapes(factory, ref, c):
    n, h, w = 2, 3, 4
    t = RNG.integers(0, c, (n, h, w))
    if c == 2:
        z = RNG.normal(size=(n, 1, h, w))
        flat_z = z[:, 0].reshape(-1)
    else:
        z = RNG.normal(size=(n, c, h, w))
        flat_z = np.moveaxis(z, 1, -1).reshape(-1, c)
    loss = factory(c)
    loss.reduction = "none"
    per_pixel = loss(*_torch(z, t))
    assert per_pixel.shape == (n, h, w)
    np.testing.assert_allclose(per_pixel.numpy().reshape(-1), ref(flat_z, t.reshape(-1), c),
                               rtol=1e-10, atol=1e-12)
    sw = RNG.uniform(0.5, 2.0, n)
    loss.reduction = "mean"
    got = loss(*_torch(z, t), sample_weight=torch.tensor(sw))
    w_pixel = np.repeat(sw, h * w) * _class_weights_of(loss, c)[t.reshape(-1)]
    expected = (w_pixel * ref(flat_z, t.reshape(-1), c)).sum() / w_pixel.sum()
    np.testing.assert_allclose(float(got), expected, rtol=1e-10)


@pytest.mark.parametrize("factory, ref, c", PARAMS)
def test_mismatched_shapes_raise(factory, ref, c):
    loss = factory(c)
    with pytest.raises(ValueError, match="shape"):
        loss(torch.zeros(4, c + 2, 3), torch.zeros(5, dtype=torch.long))


def test_focal_gamma_zero_is_torch_cross_entropy():
    z, t = _data(3)
    weight = np.array([0.5, 2.0, 1.0])
    expected = torch.nn.CrossEntropyLoss(weight=torch.tensor(weight))(*_torch(z, t))
    got = FocalLoss(gamma=0.0, class_weight=weight)(*_torch(z, t))
    assert torch.isclose(got, expected, rtol=1e-12)


def test_class_balanced_cross_entropy_is_torch_weighted_cross_entropy():
    z, t = _data(3)
    weight = torch.tensor(ref_cb_weights(COUNTS3, 0.999))
    expected = torch.nn.CrossEntropyLoss(weight=weight)(*_torch(z, t))
    got = ClassBalancedLoss(beta=0.999, class_counts=COUNTS3)(*_torch(z, t))
    assert torch.isclose(got, expected, rtol=1e-12)


def test_logit_adjusted_tau_zero_is_torch_cross_entropy_with_smoothing_off():
    z, t = _data(3)
    expected = torch.nn.CrossEntropyLoss()(*_torch(z, t))
    got = LogitAdjustedLoss(tau=0.0, class_priors=COUNTS3 / COUNTS3.sum())(*_torch(z, t))
    assert torch.isclose(got, expected, rtol=1e-12)


def test_weighted_bce_is_torch_bce_with_pos_weight_also_dense():
    z = torch.tensor(RNG.normal(size=(3, 1, 4, 5)))
    t = torch.tensor(RNG.integers(0, 2, (3, 4, 5)))
    expected = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(2.5))(z[:, 0], t.double())
    assert torch.isclose(WeightedBCELoss(pos_weight=2.5)(z, t), expected, rtol=1e-12)


def test_cross_entropy_matches_torch_weight_and_label_smoothing_separately():
    z, t = _data(3)
    weight = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    expected = torch.nn.CrossEntropyLoss(weight=weight)(*_torch(z, t))
    got = CrossEntropyLoss(class_weight=weight.numpy())(*_torch(z, t))
    assert torch.isclose(got, expected, rtol=1e-12)
    expected = torch.nn.CrossEntropyLoss(label_smoothing=0.1)(*_torch(z, t))
    assert torch.isclose(CrossEntropyLoss(label_smoothing=0.1)(*_torch(z, t)), expected,
                         rtol=1e-12)


def test_cross_entropy_weight_with_smoothing_weighs_each_sample_by_its_class():
    # Unlike torch (which weighs the smoothing term of class c by weight[c]),
    # the catalogue's convention is w_i * l_i with w_i = class_weight[y_i].
    z, t = _data(3)
    weight = np.array([1.0, 2.0, 3.0])
    eps = 0.1
    smoothed = (1 - eps) * np.eye(3)[t] + eps / 3
    per_sample = -(smoothed * _log_softmax(z)).sum(axis=1)
    expected = (weight[t] * per_sample).sum() / weight[t].sum()
    got = CrossEntropyLoss(class_weight=weight, label_smoothing=eps)(*_torch(z, t))
    np.testing.assert_allclose(float(got), expected, rtol=1e-12)


def test_ldam_binary_single_logit_matches_two_logits():
    z, t = _data(2)
    two = np.column_stack([np.zeros_like(z), z])
    loss = LDAMLoss(class_counts=COUNTS2, scale=5.0)
    assert torch.isclose(loss(*_torch(z, t)), loss(*_torch(two, t)), rtol=1e-12)


def test_asymmetric_clip_removes_easy_negatives():
    # p = sigmoid(-4) < 0.05: no loss and no gradient for this negative.
    logits = torch.tensor([-4.0], requires_grad=True)
    value = AsymmetricLoss(clip=0.05)(logits, torch.tensor([0]))
    value.backward()
    assert value.item() == 0.0 and logits.grad.item() == 0.0


@pytest.mark.parametrize(
    "loss, message",
    [
        (LDAMLoss(), "class_counts"),
        (LogitAdjustedLoss(), "class_priors"),
        (ExpectedCostLoss(), "cost_matrix"),
        (ClassBalancedLoss(), "class_counts"),
        (WeightedBCELoss(), "class_counts"),
    ],
)
def test_missing_training_information_raises(loss, message):
    with pytest.raises(ValueError, match=message):
        loss(torch.zeros(4), torch.tensor([0, 1, 0, 1]))


@pytest.mark.parametrize(
    "build, message",
    [
        (partial(FocalLoss, gamma=-1.0), "gamma"),
        (partial(FocalLoss, alpha=1.5), "alpha"),
        (partial(FocalLoss, alpha=0.25), "alpha"),  # a float alpha on multiclass logits
        (partial(FocalLoss, alpha=[1.0, 2.0]), "alpha"),  # wrong number of classes
        (partial(ClassBalancedLoss, beta=1.0, class_counts=COUNTS3), "beta"),
        (partial(ClassBalancedLoss, base="hinge", class_counts=COUNTS3), "base"),
        (partial(LDAMLoss, max_margin=0.0, class_counts=COUNTS3), "max_margin"),
        (partial(LDAMLoss, class_counts=COUNTS2), "class_counts"),
        (partial(LogitAdjustedLoss, tau=-1.0, class_priors=[0.2, 0.3, 0.5]), "tau"),
        (partial(AsymmetricLoss, clip=1.0), "clip"),
        (partial(PolyLoss, epsilon=-2.0), "epsilon"),
        (partial(PolyLoss, class_weight=[1.0, -1.0, 1.0]), "class_weight"),
        (partial(ExpectedCostLoss, cost_matrix=COST2), "cost_matrix"),
        (partial(ExpectedCostLoss, cost_matrix=[[0.0, 1.0, 2.0]]), "cost_matrix"),
        (partial(ExpectedCostLoss, cost_matrix=-COST3), "non-negative"),
        (partial(ExpectedCostLoss, cost_matrix=np.where(COST3 > 3, np.inf, COST3)),
         "finite"),
        (partial(FocalLoss, reduction="avg"), "reduction"),
    ],
)
def test_bad_parameters_raise(build, message):
    # Out-of-range values when the loss is built, per-class lengths that do
    # not match the logits at the first batch.
    with pytest.raises(ValueError, match=message):
        build()(torch.zeros(4, 3), torch.tensor([0, 1, 2, 1]))


def test_binary_only_losses_reject_multiclass():
    with pytest.raises(ValueError, match="one logit"):
        WeightedBCELoss(pos_weight=2.0)(torch.zeros(4, 3), torch.tensor([0, 1, 2, 1]))
    with pytest.raises(ValueError, match="binary"):
        WeightedBCELoss().n_outputs(3)
