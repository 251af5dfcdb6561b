"""scikit-learn's own estimator checks on honed's estimators."""

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from honed.sklearn import HonedClassifier  # noqa: E402

#: checks declared expected failures, each with its reason
EXPECTED_FAILURES: dict[str, str] = {}


@parametrize_with_checks(
    [HonedClassifier(epochs=50, random_state=0)],
    expected_failed_checks=lambda est: EXPECTED_FAILURES,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
