"""Where the project's collection of real datasets lives (not in the package)."""

import os
from pathlib import Path

ENV = "IMBESTIMATORS_DATA"


def get_data_home(data_home=None, *, start=None):
    """The folder of a dataset collection (``<name>.csv.gz`` files), or None.

    The package ships two small datasets; the larger collection this project
    benchmarks on (``shared/data`` beside a checkout) is found here, in the
    spirit of scikit-learn's ``data_home``, by the first of:

    1. ``data_home``, when given (it must exist);
    2. the environment variable ``IMBESTIMATORS_DATA``;
    3. a ``shared/data`` folder in ``start`` (default: the current directory)
       or one of its parents, then beside the package's own checkout.

    Parameters
    ----------
    data_home : str or path-like, default=None
    start : str or path-like, default=None
        Where the upward search begins (default: the current directory).

    Returns
    -------
    path : pathlib.Path or None
        None when no collection is found: callers fall back to bundled or
        generated data, and say so.

    Examples
    --------
    >>> from imbestimators.datasets import get_data_home
    >>> get_data_home(start="/") is None or get_data_home().is_dir()
    True
    """
    if data_home is not None:
        path = Path(data_home)
        if not path.is_dir():
            raise ValueError(f"data_home={str(data_home)!r} is not a folder.")
        return path
    if os.environ.get(ENV):
        path = Path(os.environ[ENV])
        if not path.is_dir():
            raise ValueError(f"{ENV}={str(path)!r} is not a folder.")
        return path
    here = Path(start if start is not None else Path.cwd()).resolve()
    package = Path(__file__).resolve().parent
    for base in (here, package):
        for parent in (base, *base.parents):
            candidate = parent / "shared" / "data"
            if candidate.is_dir():
                return candidate
    return None


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
            "(a folder of <name>.csv.gz files, e.g. the project's shared/data)."
        )
    path = home / f"{name}.csv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"{name!r} is not in {home} (no {path.name}).")
    return load_csv(path, as_frame=as_frame)
