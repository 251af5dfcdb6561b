"""HonedRegressor: standardized targets, one or several outputs, scikit-learn's tools."""

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.model_selection import KFold, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from honed.sklearn import HonedRegressor  # noqa: E402


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_targets_are_standardized_on_train_and_mapped_back(diabetes):
    X, y = diabetes
    reg = HonedRegressor(hidden=[16], epochs=5, random_state=0, dtype="float64").fit(X, y)
    assert reg.target_scaler_.mean_ == pytest.approx(y.mean())
    assert reg.target_scaler_.std_ == pytest.approx(y.std())
    z = reg.model_.predict_proba(X)[:, 0]  # the linear output, in standardized units
    np.testing.assert_allclose(reg.predict(X), z * y.std() + y.mean(), rtol=1e-12)
    assert reg.predict(X).shape == (len(X),)
    assert reg.config_.model.output == "linear" and reg.trainer_.loss.name == "mse"


def test_cross_validation_on_diabetes(diabetes):
    X, y = diabetes
    model = make_pipeline(
        StandardScaler(), HonedRegressor(hidden=[32], epochs=60, lr=3e-3, l2=1.0, random_state=0)
    )
    r2 = cross_val_score(model, X, y, cv=KFold(5, shuffle=True, random_state=0))
    assert r2.mean() > 0.4  # a linear model scores ≈ 0.48 on these folds


def test_several_targets_and_losses(diabetes):
    X, y = diabetes
    Y = np.column_stack([y, X[:, 2] * 10])
    reg = HonedRegressor(hidden=[16], epochs=30, lr=1e-2, loss="huber", random_state=0)
    reg.fit(X, Y)
    assert reg.predict(X).shape == (len(X), 2)
    assert reg.trainer_.loss.name == "huber"
    assert reg.score(X, Y) > 0.3
    with pytest.raises(ValueError, match="train.loss"):
        HonedRegressor(loss="softmax_cross_entropy").fit(X, y)


def test_partial_fit_keeps_the_first_targets_scale(diabetes):
    X, y = diabetes
    reg = HonedRegressor(hidden=[8], random_state=0)
    reg.partial_fit(X[:200], y[:200])
    mean = reg.target_scaler_.mean_.copy()
    reg.partial_fit(X[200:], y[200:])
    assert (reg.target_scaler_.mean_ == mean).all() and len(reg.history_) == 2
    with pytest.raises(ValueError, match="targets"):
        reg.partial_fit(X[:10], np.column_stack([y[:10], y[:10]]))
