"""DataFrames with categories and missing values, by the rules of honed's tables."""

import numpy as np
import pytest

pytest.importorskip("sklearn")
pd = pytest.importorskip("pandas")
palmerpenguins = pytest.importorskip("palmerpenguins")

from honed.sklearn import HonedClassifier, HonedRegressor, PopulationSearchCV  # noqa: E402


@pytest.fixture(scope="module")
def penguins():
    frame = palmerpenguins.load_penguins()
    X = frame.drop(columns=["species"])
    for c in ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year"):
        X[c] = (X[c] - X[c].mean()) / X[c].std()  # a user's scaler; honed's rules do the rest
    return X, frame["species"].to_numpy()


def test_categories_one_hot_and_missing_imputed(penguins):
    X, y = penguins
    assert X.isna().any().any() and not pd.api.types.is_numeric_dtype(X["island"])
    clf = HonedClassifier(hidden=[16], epochs=40, lr=1e-2, missing="impute", random_state=0)
    clf.fit(X, y)
    names = clf.encoder_.output_names()
    assert {"island=Biscoe", "island=Dream", "island=Torgersen", "sex=male"} <= set(names)
    assert list(clf.feature_names_in_) == list(X.columns)
    assert clf.score(X, y) > 0.95
    assert set(clf.predict(X[::-1].iloc[:5])) <= set(y)  # columns matched by name
    assert (clf.predict(X[list(reversed(X.columns))]) == clf.predict(X)).all()


def test_missing_values_refused_naming_row_and_column(penguins):
    X, y = penguins
    with pytest.raises(ValueError, match=r"X: row 3, column 'bill_length_mm': missing value"):
        HonedClassifier(epochs=1).fit(X, y)
    dropped = HonedClassifier(epochs=1, missing="drop", random_state=0).fit(X, y)
    assert dropped.history_.last is not None
    with pytest.raises(ValueError, match="missing must be one of error, drop, impute"):
        HonedClassifier(epochs=1, missing="zero").fit(X, y)


def test_unknown_category_at_predict(penguins):
    X, y = penguins
    clf = HonedClassifier(epochs=2, missing="impute", random_state=0).fit(X, y)
    odd = X.iloc[:3].copy()
    odd["island"] = "Atlantis"
    with pytest.raises(ValueError, match="Atlantis"):
        clf.predict(odd)
    lenient = HonedClassifier(
        epochs=2, missing="impute", unknown_category="ignore", random_state=0
    ).fit(X, y)
    assert len(lenient.predict(odd)) == 3
    with pytest.raises(ValueError, match="X must be a DataFrame"):
        clf.predict(X.to_numpy())


def test_regression_and_population_search_on_a_table(penguins):
    X, y = penguins
    X = X.assign(species=y)
    target = X.pop("body_mass_g")
    keep = target.notna().to_numpy()
    reg = HonedRegressor(hidden=[16], epochs=30, lr=1e-2, missing="impute", random_state=0)
    reg.fit(X[keep], target[keep])
    assert reg.score(X[keep], target[keep]) > 0.7
    search = PopulationSearchCV(
        HonedClassifier(hidden=[8], epochs=5, missing="impute", random_state=0),
        {"lr": [1e-3, 1e-2, 3e-2]},
        n_iter=3,
        cv=3,
    ).fit(X.drop(columns=["species"]).assign(mass=target), y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
