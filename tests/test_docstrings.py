"""numpydoc validation of the public API: every public class and function has
a docstring, documents exactly its parameters, and shows an example."""

import pytest

from imbestimators.utils.discovery import all_public_objects

numpydoc_validate = pytest.importorskip("numpydoc.validate")

# No docstring; parameters missing, unknown or misnamed; no Examples section.
CHECKS = {"GL08", "PR01", "PR02", "PR10", "EX01"}


def public_objects():
    return sorted({f"{obj.__module__}.{obj.__qualname__}"
                   for _, _, obj in all_public_objects()})


@pytest.mark.parametrize("name", public_objects())
def test_public_docstring(name):
    result = numpydoc_validate.validate(name)
    errors = [f"{code}: {message}" for code, message in result["errors"]
              if code in CHECKS]
    assert not errors, "\n".join(errors)
