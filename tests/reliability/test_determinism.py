"""Item 7: fixed random_state → the same model and predictions in two processes."""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np

from imbestimators import NeuralClassifier

REPO = Path(__file__).resolve().parents[2]

DATA_AND_MODEL = """
import numpy as np
from imbestimators import NeuralClassifier
rng = np.random.RandomState(0)
X = rng.randn(300, 5)
y = np.digitize(X[:, 0] + X[:, 1] * rng.randn(300), [-0.5, 0.7])
model = NeuralClassifier(hidden_layer_sizes=(16,), dropout=0.2, max_epochs=5,
                         early_stopping=True, random_state=0)
"""

# In the second process: fit the same model, and load the first process's one.
SECOND_PROCESS = DATA_AND_MODEL + """
import pickle, sys
np.save(sys.argv[2], model.fit(X, y).predict_proba(X))
with open(sys.argv[1], "rb") as f:
    np.save(sys.argv[3], pickle.load(f).predict_proba(X))
"""


def test_fit_pickle_load_predict_is_identical_across_processes(tmp_path):
    scope = {}
    exec(DATA_AND_MODEL, scope)
    clf = scope["model"].fit(scope["X"], scope["y"])
    assert isinstance(clf, NeuralClassifier)
    expected = clf.predict_proba(scope["X"])
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(clf))

    paths = [tmp_path / name for name in ("model.pkl", "fitted.npy", "loaded.npy")]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-c", SECOND_PROCESS, *map(str, paths)],
                   check=True, env=env, cwd=REPO, timeout=300)
    np.testing.assert_array_equal(np.load(paths[1]), expected)  # same fit there
    np.testing.assert_array_equal(np.load(paths[2]), expected)  # same model loaded
