"""The Python that rebuilds a saved model: ``model.py`` next to ``model.joblib``.

An estimator is written as its constructor call with the parameters that
differ from their defaults, nested estimators the same way, each class
imported from the shortest public module that exports it.
"""

import importlib
import inspect

import numpy as np


def estimator_source(estimator):
    """``(imports, expression)``: Python that rebuilds ``estimator`` unfitted."""
    imports = {}
    expression = _expression(estimator, imports, indent=0)
    lines = sorted(
        "import numpy as np" if name == "np" else f"from {module} import {name}"
        for name, module in imports.items()
    )
    return lines, expression


def _expression(value, imports, indent):
    if hasattr(value, "get_params") and not isinstance(value, type):
        return _call(value, imports, indent)
    if isinstance(value, np.ndarray):
        imports["np"] = None
        return f"np.array({value.tolist()!r}, dtype={str(value.dtype)!r})"
    if isinstance(value, (list, tuple)):
        inner = indent if isinstance(value, tuple) else indent + 4
        items = [_expression(v, imports, inner) for v in value]
        body = ", ".join(items)
        if isinstance(value, tuple):
            return f"({body}{',' if len(items) == 1 else ''})"
        if len(body) > 60 and any("(" in i for i in items):
            pad = " " * (indent + 4)
            return "[\n" + "".join(f"{pad}{i},\n" for i in items) + " " * indent + "]"
        return f"[{body}]"
    if isinstance(value, dict):
        return "{" + ", ".join(
            f"{k!r}: {_expression(v, imports, indent + 4)}" for k, v in value.items()
        ) + "}"
    if isinstance(value, type):
        imports[value.__name__] = _public_module(value)
        return value.__name__
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        imports["np"] = None
        return "np.nan" if np.isnan(value) else f"{'-' if value < 0 else ''}np.inf"
    cls = type(value)
    if cls.__module__ != "builtins":  # an object whose repr is its constructor call
        imports[cls.__name__] = _public_module(cls)
        imports["np"] = None
    return repr(value)


def _call(estimator, imports, indent):
    cls = type(estimator)
    imports[cls.__name__] = _public_module(cls)
    defaults = _defaults(cls)
    arguments = []
    for name, value in estimator.get_params(deep=False).items():
        if name in defaults and _same(value, defaults[name]):
            continue
        arguments.append(f"{name}={_expression(value, imports, indent + 4)}")
    text = f"{cls.__name__}({', '.join(arguments)})"
    if len(text) + indent <= 88:
        return text
    pad = " " * (indent + 4)
    return (f"{cls.__name__}(\n" + "".join(f"{pad}{a},\n" for a in arguments)
            + " " * indent + ")")


def _defaults(cls):
    """The constructor's default values. A constructor that passes ``**kwargs``
    on to its base's (XGBoost's classifier) takes the base's defaults for the
    others, so that model.py does not spell out every one of them."""
    defaults = {}
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        parameters = inspect.signature(klass.__init__).parameters.values()
        for p in parameters:
            if p.default is not inspect.Parameter.empty:
                defaults.setdefault(p.name, p.default)
        if all(p.kind is not p.VAR_KEYWORD for p in parameters):
            break
    return defaults


def _same(value, default):
    if isinstance(value, np.ndarray) or isinstance(default, np.ndarray):
        return False
    if isinstance(value, float) and isinstance(default, float) \
            and np.isnan(value) and np.isnan(default):
        return True
    try:
        return type(value) is type(default) and bool(value == default)
    except (TypeError, ValueError):
        return False


def _public_module(cls):
    """The shortest module path, up to the first private part, that exports ``cls``."""
    parts = cls.__module__.split(".")
    for end in range(1, len(parts) + 1):
        module = ".".join(parts[:end])
        try:
            if getattr(importlib.import_module(module), cls.__name__, None) is cls:
                return module
        except ImportError:  # pragma: no cover - a parent of an importable module
            continue
    return cls.__module__
