"""Find the public estimators of the package (for the common checks)."""

import importlib
import inspect
import pkgutil

from sklearn.base import BaseEstimator


def public_modules():
    """The package and its public (no underscore) submodules, imported.

    Returns
    -------
    modules : list of modules

    Examples
    --------
    >>> from imbestimators.utils.discovery import public_modules
    >>> "imbestimators.metrics" in [m.__name__ for m in public_modules()]
    True
    """
    import imbestimators

    modules = [imbestimators]
    for info in pkgutil.walk_packages(imbestimators.__path__, "imbestimators."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        if ".tests" in info.name or info.name.endswith("__main__"):
            continue
        modules.append(importlib.import_module(info.name))
    return modules


def all_public_objects():
    """Every public class and function: the ``__all__`` of the public modules.

    Returns
    -------
    objects : list of (module name, name, object) tuples

    Examples
    --------
    >>> from imbestimators.utils.discovery import all_public_objects
    >>> ("imbestimators.metrics", "decide") in [(m, n) for m, n, _ in all_public_objects()]
    True
    """
    found = []
    for module in public_modules():
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                found.append((module.__name__, name, obj))
    return found


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
    found = {
        name: obj for _, name, obj in all_public_objects()
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator)
        and obj.__module__.startswith("imbestimators") and not name.startswith("_")
    }
    return sorted(found.items())
