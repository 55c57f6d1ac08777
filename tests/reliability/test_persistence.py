"""Item 4: saved models load with identical predictions, across devices and
with their version checked."""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from skorch.exceptions import DeviceWarning

import imbestimators
from imbestimators.utils import _persistence
from imbestimators import NeuralClassifier
from imbestimators.losses import TorchCriterionLoss

REPO = Path(__file__).resolve().parents[2]
SMALL = dict(hidden_layer_sizes=(8,), max_epochs=3, random_state=0)


def _outputs(clf, X):
    return clf.predict_proba(X), clf.predict(X), clf.decision_function(X)


def _assert_same(a, b):
    for left, right in zip(a, b):
        np.testing.assert_array_equal(left, right)


@pytest.mark.parametrize("params", [
    {},
    {"early_stopping": True, "scoring": "average_precision", "dropout": 0.3},
    {"loss": TorchCriterionLoss(torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(3.0))),
     "cost_matrix": [[0, 1], [5, 0]]},
], ids=["default", "early_stopping", "criterion_with_buffer"])
def test_round_trip_gives_identical_predictions(binary_data, round_trip, params):
    X, y = binary_data
    clf = NeuralClassifier(**SMALL, **params).fit(X, y)
    loaded = round_trip(clf)
    _assert_same(_outputs(loaded, X), _outputs(clf, X))
    assert loaded.loss_ is loaded.net_.criterion_
    assert loaded.n_iter_ == clf.n_iter_


def test_round_trip_sparse_multiclass(multiclass_data):
    X, y = multiclass_data
    X = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    clf = NeuralClassifier(**SMALL).fit(X, y)
    _assert_same(_outputs(pickle.loads(pickle.dumps(clf)), X), _outputs(clf, X))


def test_loaded_model_keeps_training(binary_data):
    X, y = binary_data
    clf = NeuralClassifier(**SMALL).fit(X, y)
    loaded = pickle.loads(pickle.dumps(clf))
    loaded.partial_fit(X, y)
    clf.partial_fit(X, y)
    assert loaded.n_iter_ == 4
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_cuda_model_loads_on_cpu_only_machine(binary_data, monkeypatch):
    """Simulation: the net records device='cuda', and CUDA is absent at load."""
    X, y = binary_data
    clf = NeuralClassifier(**SMALL, device="cpu").fit(X, y)
    expected = _outputs(clf, X)
    clf.net_.device = "cuda"
    data = pickle.dumps(clf)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning, match="cpu"):
        loaded = pickle.loads(data)
    assert torch.device(loaded.net_.device).type == "cpu"
    assert all(p.device.type == "cpu" for p in loaded.net_.module_.parameters())
    _assert_same(_outputs(loaded, X), expected)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_real_cuda_model_loads_in_process_without_cuda(binary_data, tmp_path):
    X, y = binary_data
    clf = NeuralClassifier(**SMALL, device="cuda").fit(X, y)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    code = (
        "import pickle, warnings, numpy as np, sys\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        f"    clf = pickle.loads(open({str(path)!r}, 'rb').read())\n"
        "assert any('cpu' in str(x.message) for x in w), [str(x.message) for x in w]\n"
        f"np.save({str(tmp_path / 'p.npy')!r}, "
        f"clf.predict_proba(np.load({str(tmp_path / 'X.npy')!r})))\n"
    )
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=REPO)
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), clf.predict_proba(X),
                               atol=1e-5)


def test_pickle_states_the_version(binary_data):
    X, y = binary_data
    clf = NeuralClassifier(**SMALL).fit(X, y)
    assert clf.__getstate__()["_imbestimators_version"] == imbestimators.__version__
    loaded = pickle.loads(pickle.dumps(clf))
    assert not hasattr(loaded, "_imbestimators_version")


def _pickled_as_version(clf, version, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(_persistence, "__version__", version)
        return pickle.dumps(clf)


def test_other_major_version_is_refused(binary_data, monkeypatch):
    X, y = binary_data
    clf = NeuralClassifier(**SMALL).fit(X, y)
    major = int(imbestimators.__version__.split(".")[0])
    data = _pickled_as_version(clf, f"{major + 1}.0.0", monkeypatch)
    with pytest.raises(ValueError, match=rf"saved by imbestimators {major + 1}\.0\.0.*"
                                         "major version"):
        pickle.loads(data)
    # Same major version, other minor: loads and predicts the same.
    data = _pickled_as_version(clf, f"{major}.999.0", monkeypatch)
    _assert_same(_outputs(pickle.loads(data), X), _outputs(clf, X))


def test_unfitted_estimator_round_trips():
    clf = NeuralClassifier(hidden_layer_sizes=(3,), learning_rate=0.5)
    assert pickle.loads(pickle.dumps(clf)).get_params() == clf.get_params()


def test_pickling_leaves_the_fitted_model_unchanged(binary_data):
    X, y = binary_data
    clf = NeuralClassifier(**SMALL).fit(X, y)
    before = set(vars(clf))
    pickle.dumps(clf)
    assert set(vars(clf)) == before
    assert clf.loss_ is clf.net_.criterion_
