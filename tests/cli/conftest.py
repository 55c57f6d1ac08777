import numpy as np
import pandas as pd
import pytest


def make_table(n=160, n_classes=2, seed=0):
    """A small imbalanced table whose label depends on the first two columns."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    score = X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.normal(size=n)
    if n_classes == 2:
        y = (score > np.quantile(score, 0.8)).astype(int)  # 20% positives
    else:
        y = np.digitize(score, np.quantile(score, [0.6, 0.85]))  # 60/25/15 %
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["label"] = y
    return frame


@pytest.fixture(name="make_table")
def make_table_fixture():
    return make_table


@pytest.fixture
def binary_csv(tmp_path):
    path = tmp_path / "binary.csv"
    make_table().to_csv(path, index=False)
    return path
