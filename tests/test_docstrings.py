"""numpydoc validation of the public API: every public class and function has
a docstring, documents exactly its parameters, and shows an example."""

import importlib
import inspect

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

MODULES = ["imbestimators", "imbestimators.neural", "imbestimators.ensemble",
           "imbestimators.losses", "imbestimators.metrics", "imbestimators.datasets",
           "imbestimators.utils", "imbestimators.utils.discovery", "imbestimators.cli"]
# No docstring; parameters missing, unknown or misnamed; no Examples section.
CHECKS = {"GL08", "PR01", "PR02", "PR10", "EX01"}


def public_objects():
    names = set()
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                names.add(f"{obj.__module__}.{obj.__qualname__}")
    return sorted(names)


@pytest.mark.parametrize("name", public_objects())
def test_public_docstring(name):
    result = numpydoc_validate.validate(name)
    errors = [f"{code}: {message}" for code, message in result["errors"]
              if code in CHECKS]
    assert not errors, "\n".join(errors)
