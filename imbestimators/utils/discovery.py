"""Find the public estimators of the package (for the common checks)."""

import importlib
import inspect
import pkgutil

from sklearn.base import BaseEstimator


def all_estimators():
    """Public scikit-learn estimators defined in imbestimators.

    Every class reachable from a public (non-underscore) submodule's
    ``__all__`` that subclasses ``BaseEstimator`` is returned, so a new
    estimator is picked up by the common checks without registration.

    Returns
    -------
    estimators : list of (name, class) tuples, sorted by name

    Examples
    --------
    >>> from imbestimators.utils.discovery import all_estimators
    >>> "NeuralClassifier" in dict(all_estimators())
    True
    """
    import imbestimators

    found = {}
    modules = [imbestimators]
    for info in pkgutil.walk_packages(imbestimators.__path__, "imbestimators."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        if ".tests" in info.name or info.name.endswith("__main__"):
            continue
        modules.append(importlib.import_module(info.name))
    for module in modules:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if (
                inspect.isclass(obj) and issubclass(obj, BaseEstimator)
                and obj.__module__.startswith("imbestimators")
                and not name.startswith("_")
            ):
                found[name] = obj
    return sorted(found.items())
