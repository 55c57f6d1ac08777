"""scikit-learn's estimator checks on every public estimator of the package."""

import pytest
from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks

from imbestimators.utils._testing import (
    SECOND_PARAMS,
    estimator_instance,
    expected_failed_checks,
)
from imbestimators.utils.discovery import all_estimators

ESTIMATORS = [estimator_instance(cls) for _, cls in all_estimators()]
SECOND = [estimator_instance(cls, SECOND_PARAMS) for _, cls in all_estimators()
          if cls.__name__ in SECOND_PARAMS]


def test_discovery_finds_the_estimators():
    names = {name for name, _ in all_estimators()}
    assert "NeuralClassifier" in names


@parametrize_with_checks(ESTIMATORS + SECOND,
                         expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_parameter_validation(estimator):
    # Every constructor parameter is declared in _parameter_constraints, and a
    # value outside them fails at fit with scikit-learn's InvalidParameterError.
    check_param_validation(type(estimator).__name__, estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_expected_failures_have_reasons(estimator):
    for check, reason in expected_failed_checks(estimator).items():
        assert check.startswith("check_") and len(reason) > 40
