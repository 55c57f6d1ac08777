"""What importing a part of the package loads."""

import subprocess
import sys

import pytest


def loaded_after(statement):
    code = (f"import sys; {statement}; "
            "print(' '.join(m for m in ('torch', 'skorch') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    return set(result.stdout.split())


@pytest.mark.parametrize("statement, expected", [
    ("import imbestimators", set()),
    ("import imbestimators.metrics", set()),
    ("from imbestimators.metrics import decide, positive_class", set()),
    ("import imbestimators.losses", {"torch"}),
    ("from imbestimators import NeuralClassifier", {"torch", "skorch"}),
])
def test_imports_load_torch_and_skorch_only_when_needed(statement, expected):
    assert loaded_after(statement) == expected


def test_lazy_names_resolve_to_the_classes():
    import imbestimators
    from imbestimators.ensemble import WeightedStackingClassifier
    from imbestimators.neural import NeuralClassifier

    assert imbestimators.NeuralClassifier is NeuralClassifier
    assert imbestimators.WeightedStackingClassifier is WeightedStackingClassifier
    assert {"NeuralClassifier", "losses", "metrics"} <= set(dir(imbestimators))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        imbestimators.Nope
