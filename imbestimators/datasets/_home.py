"""Where a collection of larger datasets lives (never in the package)."""

import os
from pathlib import Path

ENV = "IMBESTIMATORS_DATA"


def get_data_home(data_home=None):
    """The folder of a dataset collection (``<name>.csv.gz`` files), or None.

    The package ships two small datasets and needs nothing else. Examples,
    benchmarks and tests that use a larger collection find it here, in the
    spirit of scikit-learn's ``data_home``: ``data_home`` when given, else
    the environment variable ``IMBESTIMATORS_DATA``, else None.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder; it must exist.

    Returns
    -------
    path : pathlib.Path or None
        None when neither is set: callers fall back to bundled or generated
        data, and say so.

    Examples
    --------
    >>> from imbestimators.datasets import get_data_home
    >>> get_data_home() is None or get_data_home().is_dir()
    True
    """
    if data_home is None:
        data_home = os.environ.get(ENV) or None
        name = ENV
    else:
        name = "data_home"
    if data_home is None:
        return None
    path = Path(data_home)
    if not path.is_dir():
        raise ValueError(f"{name}={str(data_home)!r} is not a folder.")
    return path


def fetch_csv(name, data_home=None, *, as_frame=False):
    """``load_csv`` of ``<name>.csv.gz`` from :func:`get_data_home`'s folder.

    Parameters
    ----------
    name : str
        The dataset's file name without ``.csv.gz`` (e.g. ``'us_crime'``).
    data_home : str or path-like, default=None
        See :func:`get_data_home`.
    as_frame : bool, default=False

    Returns
    -------
    X, y : features and labels

    Raises
    ------
    FileNotFoundError
        When there is no collection or no such file in it.

    Examples
    --------
    >>> from imbestimators.datasets import fetch_csv, get_data_home
    >>> if get_data_home() is not None:
    ...     X, y = fetch_csv("ecoli")
    """
    from ._base import load_csv

    home = get_data_home(data_home)
    if home is None:
        raise FileNotFoundError(
            f"no dataset collection found for {name!r}: set {ENV} or pass data_home "
            "(a folder of <name>.csv.gz files)."
        )
    path = home / f"{name}.csv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"{name!r} is not in {home} (no {path.name}).")
    return load_csv(path, as_frame=as_frame)
