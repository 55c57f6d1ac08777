"""scikit-learn's estimator checks on every public estimator of the package."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from imbestimators.utils._testing import estimator_instance, expected_failed_checks
from imbestimators.utils.discovery import all_estimators

ESTIMATORS = [estimator_instance(cls) for _, cls in all_estimators()]


def test_discovery_finds_the_estimators():
    names = {name for name, _ in all_estimators()}
    assert "NeuralClassifier" in names


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_expected_failures_have_reasons(estimator):
    for check, reason in expected_failed_checks(estimator).items():
        assert check.startswith("check_") and len(reason) > 40
