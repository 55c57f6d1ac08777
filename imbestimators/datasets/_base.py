"""Small real imbalanced datasets bundled with the package, and a CSV loader."""

from importlib import resources

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

_DATA = resources.files("imbestimators.datasets") / "data"

_DESCRIPTIONS = {
    "ecoli": (
        "E. coli protein localisation sites (UCI Machine Learning Repository, "
        "K. Nakai, 1996; CC BY 4.0), as in imbalanced-learn's fetch_datasets: "
        "336 samples, 7 features, positive class 'imU' (35 samples, IR 8.6)."
    ),
    "yeast_me2": (
        "Yeast protein localisation sites (UCI Machine Learning Repository, "
        "K. Nakai, 1996; CC BY 4.0), as in imbalanced-learn's fetch_datasets: "
        "1484 samples, 8 features, positive class 'ME2' (51 samples, IR 28.1)."
    ),
}


def load_csv(path, target="target", *, as_frame=False):
    """Read a CSV (optionally gzipped) with a label column.

    Parameters
    ----------
    path : str or path-like
        The file; ``.gz`` files are decompressed on the fly.
    target : str, default='target'
        Name of the label column.
    as_frame : bool, default=False
        Return a DataFrame and a Series instead of arrays.

    Returns
    -------
    X, y : features and labels

    Examples
    --------
    >>> from imbestimators.datasets import load_csv
    >>> from imbestimators.datasets._base import _DATA
    >>> X, y = load_csv(_DATA / "ecoli.csv.gz")
    >>> X.shape
    (336, 7)
    """
    frame = pd.read_csv(path)
    if target not in frame.columns:
        raise ValueError(
            f"target column {target!r} is not in {path}; columns are "
            f"{list(frame.columns)!r}."
        )
    y = frame.pop(target)
    if as_frame:
        return frame, y
    return frame.to_numpy(), y.to_numpy()


def _load(name, return_X_y, as_frame):
    X, y = load_csv(_DATA / f"{name}.csv.gz", as_frame=True)
    if not as_frame:
        X, y = X.to_numpy(dtype=np.float64), y.to_numpy()
    if return_X_y:
        return X, y
    return Bunch(data=X, target=y, feature_names=list(X.columns) if as_frame else None,
                 DESCR=_DESCRIPTIONS[name])


def load_ecoli(*, return_X_y=False, as_frame=False):
    """The E. coli 'imU' dataset: 336 samples, 7 features, 10% positives.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_frame : bool, default=False
        Return pandas objects.

    Returns
    -------
    data : Bunch with ``data``, ``target``, ``DESCR``, or ``(X, y)``

    Examples
    --------
    >>> from imbestimators.datasets import load_ecoli
    >>> X, y = load_ecoli(return_X_y=True)
    >>> X.shape, int(y.sum())
    ((336, 7), 35)
    """
    return _load("ecoli", return_X_y, as_frame)


def load_yeast_me2(*, return_X_y=False, as_frame=False):
    """The yeast 'ME2' dataset: 1484 samples, 8 features, 3.4% positives.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_frame : bool, default=False
        Return pandas objects.

    Returns
    -------
    data : Bunch with ``data``, ``target``, ``DESCR``, or ``(X, y)``

    Examples
    --------
    >>> from imbestimators.datasets import load_yeast_me2
    >>> X, y = load_yeast_me2(return_X_y=True)
    >>> X.shape, int(y.sum())
    ((1484, 8), 51)
    """
    return _load("yeast_me2", return_X_y, as_frame)
