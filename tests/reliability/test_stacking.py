"""Items 1, 4 and 5 for WeightedStackingClassifier: property-based inputs,
persistence with the version checked, and concurrent predict_proba.

The property test mirrors ``test_properties.py``: every drawn case either fits
and predicts finite probabilities whose rows sum to 1, or raises
ValueError/TypeError with a message naming the offending parameter. Any other
exception, a NaN probability, or a refused valid case is a bug.
"""

import pickle
import re
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import imbestimators
from imbestimators.utils import _persistence
from imbestimators import NeuralClassifier, WeightedStackingClassifier

from .test_properties import assert_valid_predictions, draw_inputs

SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
CV = 2

NAMES = {
    "X": re.compile(r"\bX\b|feature"),
    "y": re.compile(r"\by\b|label"),
    "sample_weight": re.compile(r"sample_weight|sample weight", re.I),
    "cost_matrix": re.compile(r"cost_matrix"),
    "cv": re.compile(r"\bcv\b.*class"),  # a class too small for the folds
}

BASE_FAILED = re.compile(r"estimators: '(lr|tree)' failed (on fold \d+ of cv|on all)")

# Both bases take sparse input and sample_weight, as the stack passes them on.
X_KINDS = {
    "float16": True, "float32": True, "float64": True, "int64": True, "uint8": True,
    "bool": True, "list": True, "object_numeric": True, "pandas_numeric": True,
    "sparse_csr": True, "sparse_csc": True, "sparse_coo": True,
    "object_string": False, "pandas_categorical": False, "pandas_string": False,
    "nan": False, "inf": False,
}
OPTIMIZERS = {"auto": None, "slsqp": None, "greedy": {"n_iter": 5},
              "differential_evolution": {"maxiter": 2, "popsize": 4}}


def _bases():
    return [("lr", LogisticRegression(max_iter=200)),
            ("tree", DecisionTreeClassifier(max_depth=2, random_state=0))]


@st.composite
def problems(draw):
    """One fit call with at most one broken input (half of the cases: none)."""
    broken = draw(st.sampled_from(
        [None] * 5 + ["X", "y", "sample_weight", "cost_matrix", "cv"]
    ))
    n_classes = draw(st.integers(1 if broken == "y" else 2, 4))
    # At least CV samples per class, unless the class counts are what is broken.
    low = 1 if broken == "cv" else CV
    counts = draw(st.lists(st.integers(low, 6), min_size=n_classes, max_size=n_classes))
    if broken == "cv":
        counts[draw(st.integers(0, n_classes - 1))] = 1
    X, y, sample_weight, cost_matrix, _ = draw_inputs(draw, broken, counts, X_KINDS)
    optimizer = draw(st.sampled_from(sorted(OPTIMIZERS)))
    params = dict(
        scoring=draw(st.sampled_from(["neg_log_loss", "balanced_accuracy"])),
        optimizer=optimizer, optimizer_params=OPTIMIZERS[optimizer],
        cost_matrix=cost_matrix,
        refit=draw(st.booleans()), cv=CV, random_state=0,
    )
    return X, y, sample_weight, params, set() if broken is None else {broken}


@settings(max_examples=80, **SETTINGS)
@given(problems())
def test_fit_predicts_finite_probabilities_or_names_the_parameter(problem):
    X, y, sample_weight, params, invalid = problem
    event(f"broken: {sorted(invalid)}")
    clf = WeightedStackingClassifier(_bases(), **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            clf.fit(X, y, sample_weight=sample_weight)
        except (ValueError, TypeError) as exc:
            message = str(exc)
            if not invalid:
                # The stack itself must accept every valid case; a base may still
                # refuse one (LogisticRegression casts sample weights of 1e300 to
                # float32 with float32 X), and is then named with the parameter.
                if not BASE_FAILED.match(message):
                    raise AssertionError(f"a valid case was refused: {exc}") from exc
                invalid = set(NAMES) - {"cv"}
            assert any(NAMES[p].search(message) for p in invalid), (
                f"{type(exc).__name__} does not name {sorted(invalid)}: {message}"
            )
            event(f"refused: {sorted(invalid)}")
            return
        event("fitted")
        proba = clf.predict_proba(X)
        predicted = clf.predict(X)
    assert not invalid, f"invalid {sorted(invalid)} was accepted"
    assert_valid_predictions(clf, y, proba, predicted, atol=1e-9)
    weights = clf.weights_
    assert np.all(weights >= 0) and np.isclose(weights.sum(), 1.0)
    assert np.isfinite(clf.oof_score_) and np.isfinite(clf.cv_score_)


def test_non_numeric_X_error_names_X_and_the_base():
    X = pd.DataFrame({"a": np.arange(12.0), "b": ["u", "v"] * 6})
    y = np.array([0, 1, 1, 0] * 3)
    with pytest.raises(ValueError, match=r"'lr' failed on fold 0 of cv.*X has "
                                         r"non-numeric values"):
        WeightedStackingClassifier(_bases(), cv=CV).fit(X, y)


def test_every_class_smaller_than_the_folds_names_cv():
    X, y = np.arange(4.0).reshape(-1, 1), np.array([0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"^cv: the folds cannot be formed.*"
                                         r"class counts: \[1, 1, 1, 1\]"):
        WeightedStackingClassifier(_bases(), cv=CV).fit(X, y)


def test_labels_of_mixed_types_name_y():
    X = np.random.RandomState(0).randn(12, 2)
    y = np.array(["a", 1] * 6, dtype=object)
    with pytest.raises(TypeError, match=r"^y must hold class labels of one sortable"):
        WeightedStackingClassifier(_bases(), cv=CV).fit(X, y)


# ----------------------------------------------------------------- persistence


def _stack(refit):
    nn = NeuralClassifier(hidden_layer_sizes=(4,), max_epochs=2, random_state=0)
    return WeightedStackingClassifier(
        [("lr", LogisticRegression()), ("nn", nn)], cv=CV, refit=refit,
        cost_matrix=[[0, 1], [4, 0]], random_state=0,
    )


@pytest.mark.parametrize("refit", [True, False], ids=["refit", "fold_models"])
def test_round_trip_gives_identical_predictions(binary_data, round_trip, refit):
    X, y = binary_data
    clf = _stack(refit).fit(X, y)
    expected = clf.predict_proba(X), clf.predict(X), clf.transform(X)
    loaded = round_trip(clf)
    for left, right in zip((loaded.predict_proba(X), loaded.predict(X),
                            loaded.transform(X)), expected):
        np.testing.assert_array_equal(left, right)
    np.testing.assert_array_equal(loaded.weights_, clf.weights_)
    assert loaded.cv_score_ == clf.cv_score_
    # Pickling leaves the live estimator as it was.
    assert "_imbestimators_version" not in vars(clf)
    assert "_imbestimators_version" not in vars(loaded)


def test_pickle_states_the_version_and_refuses_another_major(binary_data, monkeypatch):
    X, y = binary_data
    clf = WeightedStackingClassifier(_bases(), cv=CV).fit(X, y)
    assert clf.__getstate__()["_imbestimators_version"] == imbestimators.__version__
    major = int(imbestimators.__version__.split(".")[0])
    with monkeypatch.context() as patch:
        patch.setattr(_persistence, "__version__", f"{major + 1}.0.0")
        data = pickle.dumps(clf)
    with pytest.raises(ValueError, match=rf"saved by imbestimators {major + 1}\.0\.0.*"
                                         "major version"):
        pickle.loads(data)
    with monkeypatch.context() as patch:
        patch.setattr(_persistence, "__version__", f"{major}.999.0")
        data = pickle.dumps(clf)
    np.testing.assert_array_equal(pickle.loads(data).predict_proba(X),
                                  clf.predict_proba(X))


# ----------------------------------------------------------------- concurrency


def test_predict_proba_from_8_threads_equals_sequential(binary_data):
    X, y = binary_data
    clf = _stack(refit=False).fit(X, y)
    inputs = [X[i * 20:(i + 1) * 20 + 40] for i in range(8)]
    sequential = [clf.predict_proba(Xi) for Xi in inputs]
    with ThreadPoolExecutor(8) as pool:
        concurrent = list(pool.map(clf.predict_proba, inputs))
    for expected, result in zip(sequential, concurrent):
        np.testing.assert_array_equal(result, expected)


def test_sparse_input_reaches_the_bases(binary_data):
    X, y = binary_data
    X = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    # The same seed, so both draw the same shuffled folds.
    clf = WeightedStackingClassifier(_bases(), cv=CV, random_state=0).fit(X, y)
    dense = WeightedStackingClassifier(_bases(), cv=CV, random_state=0).fit(X.toarray(), y)
    np.testing.assert_allclose(clf.predict_proba(X), dense.predict_proba(X.toarray()))
