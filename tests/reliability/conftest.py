import io
import pickle

import joblib
import numpy as np
import pytest


@pytest.fixture(scope="module")
def binary_data():
    """200 rows, 4 features, about 20% positives; a learnable signal."""
    rng = np.random.RandomState(0)
    X = rng.randn(200, 4)
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.5 * rng.randn(200) > 1.0).astype(int)
    return X, y


@pytest.fixture(scope="module")
def multiclass_data():
    rng = np.random.RandomState(1)
    X = rng.randn(150, 3)
    y = np.digitize(X[:, 0] + 0.3 * rng.randn(150), [-0.5, 0.8])
    return X, np.array(["a", "b", "c"])[y]


def _pickle_round_trip(obj):
    return pickle.loads(pickle.dumps(obj))


def _joblib_round_trip(obj):
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


@pytest.fixture(params=[_pickle_round_trip, _joblib_round_trip], ids=["pickle", "joblib"])
def round_trip(request):
    """Save and load an object with pickle, then with joblib."""
    return request.param
