"""Item 1: property-based tests over the inputs of NeuralClassifier and of every
registered loss.

Every drawn case either fits and predicts finite probabilities whose rows sum
to 1, or raises ValueError/TypeError with a message that names the offending
parameter. Any other exception, a NaN probability, or an error on a case that
is valid is a bug. The losses are read from the registry when the test runs,
so a newly registered loss is covered without editing this file.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from imbestimators import NeuralClassifier
from imbestimators.losses import TorchCriterionLoss, available_losses, get_loss

# Reproducible in CI (no example database, no random seed between runs).
SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])

# The words that name each parameter in an error message.
NAMES = {
    "X": re.compile(r"\bX\b|feature"),
    "y": re.compile(r"\by\b|label|class"),
    "sample_weight": re.compile(r"sample_weight|sample weight", re.I),
    "cost_matrix": re.compile(r"cost_matrix"),
    "class_weight": re.compile(r"class_weight"),
    "loss": re.compile(r"\bloss\b"),
}

X_KINDS = {  # kind -> whether it is a valid input
    "float16": True, "float32": True, "float64": True, "int64": True, "uint8": True,
    "bool": True, "list": True, "object_numeric": True, "pandas_numeric": True,
    "pandas_nullable_float": True, "pandas_numeric_categorical": True,
    "sparse_csr": True, "sparse_csc": True, "sparse_coo": True,
    "object_string": False, "pandas_categorical": False, "pandas_string": False,
    "nan": False, "inf": False,
}
Y_KINDS = {
    "int": True, "str": True, "bool": True, "float_integral": True,
    "pandas_categorical": True, "column": True,
    "object_mixed": False, "float_continuous": False,
}
WEIGHT_KINDS = {
    None: True, "random": True, "some_zeros": True, "huge": True, "tiny": True,
    "all_zeros": False, "negative": False, "nan": False, "wrong_length": False,
}
COST_KINDS = {
    None: True, "random": True, "zeros": True, "dict": True,
    "wrong_shape": False, "negative": False, "nan": False,
}
CLASS_WEIGHT_KINDS = {None: True, "balanced": True, "dict": True, "unknown_label": False}


def make_X(kind, values, scale, rng):
    n, d = values.shape
    scaled = values * scale
    sparse = np.where(np.abs(values) > 0.7, scaled, 0.0)
    frame = pd.DataFrame(scaled, columns=[f"f{j}" for j in range(d)])
    if kind in ("float16", "float32", "float64"):
        with np.errstate(over="ignore"):
            return scaled.astype(kind)
    if kind == "int64":
        return np.round(values * 3).astype(np.int64)
    if kind == "uint8":
        return np.abs(np.round(values * 3)).astype(np.uint8)
    if kind == "bool":
        return values > 0
    if kind == "list":
        return scaled.tolist()
    if kind == "object_numeric":
        return scaled.astype(object)
    if kind == "object_string":
        X = scaled.astype(object)
        X[rng.randint(n), rng.randint(d)] = "a"
        return X
    if kind == "pandas_numeric":
        return frame
    if kind == "pandas_nullable_float":
        return frame.astype("Float64")
    if kind == "pandas_numeric_categorical":
        return frame.assign(code=pd.Categorical(rng.choice([1.0, 2.0], n)))
    if kind == "pandas_categorical":
        return frame.assign(code=pd.Categorical(rng.choice(["u", "v"], n)))
    if kind == "pandas_string":
        return frame.assign(code=pd.array(rng.choice(["u", "v"], n), dtype="string"))
    if kind.startswith("sparse_"):
        return getattr(sp, kind[len("sparse_"):] + "_matrix")(sparse)
    X = scaled.copy()
    X[rng.randint(n), rng.randint(d)] = np.nan if kind == "nan" else np.inf
    return X


def make_y(kind, y_index, rng):
    if kind == "int":
        return np.array([3, -1, 7, 0])[y_index]  # not sorted, negative, gaps
    if kind == "str":
        return np.array(["cat", "dog", "emu", "fox"])[y_index]
    if kind == "bool":
        return y_index % 2 == 1
    if kind == "float_integral":
        return y_index * 2.0
    if kind == "pandas_categorical":
        return pd.Series(pd.Categorical(np.array(["lo", "mid", "hi", "top"])[y_index]))
    if kind == "column":
        return y_index[:, None]
    if kind == "object_mixed":
        return np.array(["a", 1, "b", 2], dtype=object)[y_index]
    return y_index + 0.1 + 0.5 * rng.rand(len(y_index))  # float_continuous


def make_sample_weight(kind, n, rng):
    if kind is None:
        return None
    weight = rng.rand(n) + 0.1
    if kind == "some_zeros":
        weight[rng.rand(n) < 0.5] = 0.0
        weight[rng.randint(n)] = 1.0
    elif kind == "huge":
        weight *= 1e300
    elif kind == "tiny":
        weight *= 1e-300
    elif kind == "all_zeros":
        weight[:] = 0.0
    elif kind == "negative":
        weight[rng.randint(n)] = -1.0
    elif kind == "nan":
        weight[rng.randint(n)] = np.nan
    elif kind == "wrong_length":
        weight = weight[:-1] if n > 1 else np.ones(2)
    return weight


def make_cost_matrix(kind, labels, rng):
    k = len(labels)
    if kind is None:
        return None
    cost = rng.rand(k, k) * 10
    np.fill_diagonal(cost, 0.0)
    if kind == "zeros":
        return np.zeros((k, k))
    if kind == "dict":
        return {_key(a): {_key(b): cost[i, j] for j, b in enumerate(labels)}
                for i, a in enumerate(labels)}
    if kind == "wrong_shape":
        return np.ones((k + 1, k + 1))
    if kind == "negative":
        cost[0, -1] = -1.0
    elif kind == "nan":
        cost[-1, 0] = np.nan
    return cost


def make_class_weight(kind, labels, rng):
    if kind in (None, "balanced"):
        return kind
    weights = {_key(label): float(w) for label, w in zip(labels, rng.rand(len(labels)))}
    if kind == "unknown_label":
        weights["no such label"] = 1.0
    return weights


def _key(label):
    return label.item() if isinstance(label, np.generic) else label


def _labels_of(y):
    y = np.asarray(y).ravel()
    try:
        return np.unique(y)
    except TypeError:
        return np.array(sorted(set(map(str, y))))


def _kind(draw, kinds, broken):
    """A valid kind of input, or an invalid one when this input is the broken one."""
    return draw(st.sampled_from([k for k, ok in kinds.items() if ok != broken]))


def draw_inputs(draw, broken, counts, x_kinds=X_KINDS):
    """X, y, sample_weight and cost_matrix of ``counts[k]`` samples of class k.

    The input that ``broken`` names ('X', 'y', 'sample_weight' or
    'cost_matrix') is drawn from its invalid kinds, the others from valid ones;
    ``x_kinds`` are the kinds of X to draw from. Also returns the generator,
    for the caller's further inputs.
    """
    n_classes = len(counts)
    y_index = np.repeat(np.arange(n_classes), counts)
    y_index = y_index[np.array(draw(st.permutations(range(len(y_index)))))]
    n_features = draw(st.integers(1, 4))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    # Shifted by class: there is something to learn.
    values = rng.randn(len(y_index), n_features) + y_index[:, None]

    x_kind = _kind(draw, x_kinds, broken == "X")
    scale = draw(st.sampled_from([1.0, 1e-30, 1e10, 1e30]))
    if x_kind == "float16" and scale > 6e4 and broken != "X":
        scale = 1.0  # float16 overflows to inf above 65504
    y_kind = _kind(draw, Y_KINDS, broken == "y" and n_classes > 1)
    if y_kind == "bool" and n_classes > 2:
        y_kind = "int"
    w_kind = _kind(draw, WEIGHT_KINDS, broken == "sample_weight")
    c_kind = _kind(draw, COST_KINDS, broken == "cost_matrix")

    X = make_X(x_kind, values, scale, rng)
    y = make_y(y_kind, y_index, rng)
    sample_weight = make_sample_weight(w_kind, len(y_index), rng)
    cost_matrix = make_cost_matrix(c_kind, _labels_of(y), rng)
    return X, y, sample_weight, cost_matrix, rng


@st.composite
def problems(draw):
    """One fit call: data, labels, weights, costs and estimator parameters.

    At most one input is broken (half of the cases have none), so an error
    must name exactly that parameter and a valid case must fit.
    """
    broken = draw(st.sampled_from(
        [None] * 5 + ["X", "y", "sample_weight", "cost_matrix", "class_weight"]
    ))
    n_classes = draw(st.integers(1 if broken == "y" else 2, 4))
    counts = draw(st.lists(st.integers(1, 6), min_size=n_classes, max_size=n_classes))
    X, y, sample_weight, cost_matrix, rng = draw_inputs(draw, broken, counts)
    labels = _labels_of(y)
    cw_kind = _kind(draw, CLASS_WEIGHT_KINDS, broken == "class_weight")
    params = dict(
        loss=draw(st.sampled_from(available_losses())),
        cost_matrix=cost_matrix,
        class_weight=make_class_weight(cw_kind, labels, rng),
        early_stopping=draw(st.booleans()),
        batch_size=draw(st.sampled_from(["auto", 1, 3, 64])),
        max_epochs=draw(st.integers(1, 2)),
        hidden_layer_sizes=(3,),
        random_state=0,
    )
    return X, y, sample_weight, params, set() if broken is None else {broken}


def _assert_names(exc, parameters, loss):
    """The error message names one of ``parameters`` (or the loss)."""
    patterns = [NAMES[p] for p in parameters]
    if loss != "cross_entropy":
        # A loss may refuse a problem (e.g. need a cost matrix) by its parameters.
        patterns += [NAMES["loss"], NAMES["cost_matrix"]]
        patterns += [re.compile(re.escape(p)) for p in get_loss(loss).get_params()]
    message = str(exc)
    assert any(p.search(message) for p in patterns), (
        f"{type(exc).__name__} does not name any of {sorted(parameters)}: {message}"
    )


@settings(max_examples=200, **SETTINGS)
@given(problems())
def test_fit_predicts_finite_probabilities_or_names_the_parameter(problem):
    X, y, sample_weight, params, invalid = problem
    clf = NeuralClassifier(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            clf.fit(X, y, sample_weight=sample_weight)
        except (ValueError, TypeError) as exc:
            if not invalid and params["loss"] == "cross_entropy":
                raise AssertionError(f"a valid case was refused: {exc}") from exc
            _assert_names(exc, invalid, params["loss"])
            event(f"refused: {sorted(invalid)}")
            return
        event("fitted")
        proba = clf.predict_proba(X)
        predicted = clf.predict(X)
    assert not invalid, f"invalid {sorted(invalid)} was accepted"
    assert_valid_predictions(clf, y, proba, predicted, atol=1e-6)


def assert_valid_predictions(clf, y, proba, predicted, atol):
    """Finite probabilities summing to 1 over ``classes_``, labels among them."""
    np.testing.assert_array_equal(clf.classes_, _labels_of(y))
    assert proba.shape == (len(np.asarray(y)), len(clf.classes_))
    assert np.all(np.isfinite(proba)) and np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=atol)
    assert np.isin(predicted, clf.classes_).all()


# The catalogue by name, and plain torch criteria wrapped by TorchCriterionLoss.
TORCH_CRITERIA = {
    "torch:CrossEntropyLoss": lambda: TorchCriterionLoss(torch.nn.CrossEntropyLoss()),
    "torch:BCEWithLogitsLoss": lambda: TorchCriterionLoss(
        torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(3.0))),
}


def _loss(name):
    return TORCH_CRITERIA[name]() if name in TORCH_CRITERIA else get_loss(name)


@settings(max_examples=60, **SETTINGS)
@given(
    loss_name=st.sampled_from(available_losses() + sorted(TORCH_CRITERIA)),
    n_classes=st.integers(2, 4),
    n=st.integers(1, 16),
    logit_scale=st.sampled_from([1.0, 100.0]),
    weight_kind=st.sampled_from([None, "random", "some_zeros", "all_zeros", "tiny"]),
    with_cost=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_loss_value_and_gradient_are_finite(
    loss_name, n_classes, n, logit_scale, weight_kind, with_cost, seed
):
    rng = np.random.RandomState(seed)
    target = torch.as_tensor(rng.randint(n_classes, size=n))
    counts = np.bincount(target.numpy(), minlength=n_classes) + 1.0
    cost = rng.rand(n_classes, n_classes) * 5 if with_cost else None
    if cost is not None:
        np.fill_diagonal(cost, 0.0)
    try:
        loss = _loss(loss_name).with_training_info(
            class_counts=counts, class_priors=counts / counts.sum(), cost_matrix=cost,
        )
    except (ValueError, TypeError) as exc:
        _assert_names(exc, {"cost_matrix"}, loss_name)
        return
    try:
        n_outputs = loss.n_outputs(n_classes)
    except ValueError as exc:  # binary-only losses refuse multiclass problems
        assert n_classes > 2 and "binary" in str(exc), (loss_name, exc)
        return
    logits = torch.as_tensor(rng.randn(n, n_outputs) * logit_scale,
                             dtype=torch.float32).requires_grad_()
    weight = make_sample_weight(weight_kind, n, rng)
    if weight is not None:
        weight = torch.as_tensor(weight, dtype=torch.float32)
    try:
        value = loss(logits, target, sample_weight=weight)
    except (ValueError, TypeError) as exc:
        _assert_names(exc, {"sample_weight"}, loss_name)
        return
    assert value.dim() == 0 and torch.isfinite(value)
    value.backward()
    assert torch.all(torch.isfinite(logits.grad))


@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_sample_weight_scale_does_not_matter(binary_data, scale):
    X, y = binary_data
    weight = np.random.RandomState(0).rand(len(y)) + 0.5
    params = dict(hidden_layer_sizes=(4,), max_epochs=2, random_state=0)
    reference = NeuralClassifier(**params).fit(X, y, sample_weight=weight)
    scaled = NeuralClassifier(**params).fit(X, y, sample_weight=weight * scale)
    np.testing.assert_allclose(scaled.predict_proba(X), reference.predict_proba(X),
                               rtol=0, atol=1e-6)
