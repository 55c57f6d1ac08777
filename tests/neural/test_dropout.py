"""The CPU dropout mask drawn from 16-bit random integers."""

import numpy as np
import pytest
import torch

from imbestimators.neural import MLP
from imbestimators.neural._modules import Dropout


def _dropped_fraction(p):
    """The probability the layer drops at, from its documented rule."""
    return round(p * 65536) / 65536


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.9])
def test_every_unit_is_dropped_at_rate_p_independently(p):
    torch.manual_seed(0)
    n = 4 * 200_000
    dropped = (Dropout(p)(torch.ones(n)) == 0).numpy()
    # Four units share one 64-bit draw: each position in the draw on its own,
    # and two positions together, must drop at p and p * p.
    lanes = dropped.reshape(-1, 4)
    tolerance = 5 * np.sqrt(p * (1 - p) / len(lanes))
    np.testing.assert_allclose(lanes.mean(axis=0), p, atol=tolerance)
    assert abs((lanes[:, 0] & lanes[:, 3]).mean() - p * p) < tolerance


@pytest.mark.parametrize("p", [0.1, 1 / 3])
def test_kept_units_are_rescaled_so_the_expectation_is_exact(p):
    torch.manual_seed(1)
    x = torch.rand(1000, 37) + 0.5
    out = Dropout(p)(x)
    kept = out != 0
    expected = x[kept] / (1 - _dropped_fraction(p))
    torch.testing.assert_close(out[kept], expected)
    assert 0 < kept.float().mean() < 1


def test_low_precision_units_are_rounded_once():
    torch.manual_seed(5)
    x = (torch.rand(200_000) + 1).bfloat16()
    out = Dropout(0.1)(x)
    kept = out != 0
    scale = 1 / (1 - _dropped_fraction(0.1))
    # Each kept unit is x / (1 - q) rounded to bfloat16 once.
    expected = (x[kept].double() * scale).bfloat16()
    assert out.dtype == torch.bfloat16
    assert (out[kept] == expected).float().mean() > 0.999


def test_gradient_is_the_mask():
    torch.manual_seed(2)
    x = (torch.rand(1024, 9) + 0.5).requires_grad_()
    out = Dropout(0.2)(x)
    out.backward(torch.full_like(out, 3.0))
    scale = 1 / (1 - _dropped_fraction(0.2))
    expected = torch.where(out != 0, 3.0 * scale, 0.0)
    torch.testing.assert_close(x.grad, expected)


def test_same_seed_same_mask_and_fresh_masks_per_call():
    layer = Dropout(0.5)
    torch.manual_seed(3)
    first, second = layer(torch.ones(9999)), layer(torch.ones(9999))
    torch.manual_seed(3)
    torch.testing.assert_close(layer(torch.ones(9999)), first)
    assert not torch.equal(first, second)


def test_small_inputs_are_left_to_torch():
    torch.manual_seed(6)
    out = Dropout(0.2)(torch.ones(64, 100))  # 6 400 units
    # torch scales by 1 / (1 - p) itself, not by 1 / (1 - q).
    assert set(out.unique().tolist()) == {0.0, torch.tensor(1 / 0.8).item()}


# Inputs large enough for the 16-bit path, so each guard is what is tested.
LARGE = (100, 100)


@pytest.mark.parametrize("p, training", [(0.0, True), (0.4, False)])
def test_identity_without_dropout_or_in_evaluation(p, training):
    x = torch.randn(*LARGE)
    layer = Dropout(p).train(training)
    torch.testing.assert_close(layer(x), x)


def test_p_rounding_to_one_and_inplace_follow_torch():
    x = torch.ones(*LARGE)
    torch.testing.assert_close(Dropout(1 - 1e-7)(x), torch.zeros_like(x))
    y = torch.ones(*LARGE)
    torch.manual_seed(4)
    out = Dropout(0.5, inplace=True)(y)
    assert out.data_ptr() == y.data_ptr()
    assert set(out.unique().tolist()) == {0.0, 2.0}


def test_an_ensemble_drops_with_it():
    mlp = MLP(4, 1, hidden_layer_sizes=(8, 8), dropout=0.3, ensemble_size=3)
    assert isinstance(mlp.dropout, Dropout) and mlp.dropout.p == 0.3
