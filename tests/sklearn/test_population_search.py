"""PopulationSearchCV: the scores RandomizedSearchCV gives, from one population."""

import numpy as np
import pytest

pytest.importorskip("sklearn")

from scipy.stats import loguniform, uniform  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.model_selection import RandomizedSearchCV  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from honed.sklearn import HonedClassifier, HonedScale, PopulationSearchCV  # noqa: E402
from honed.tune.space import OneMinusLogUniform  # noqa: E402


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), np.array(["setosa", "versicolor", "virginica"])[y]


SPACE = {
    "lr": loguniform(1e-3, 1e-1),
    "l2": uniform(0.0, 0.5),
    "beta1": OneMinusLogUniform(0.8, 0.99),  # the notes' 1-β scale
    "keep_prob": [1.0, 0.8],
    "hidden": [(8,), (5, 5)],  # two architectures: two populations
}


def _columns(results, n_splits, metric="score"):
    return np.array([results[f"split{i}_test_{metric}"] for i in range(n_splits)])


@pytest.mark.parametrize("early_stopping, n_jobs", [(False, None), ({"patience": 2}, 2)])
def test_each_candidate_and_fold_scores_as_randomized_search(iris, early_stopping, n_jobs):
    X, y = iris
    estimator = HonedClassifier(
        epochs=6, batch_size=32, random_state=7, dtype="float64", early_stopping=early_stopping
    )
    kwargs = dict(n_iter=6, cv=3, random_state=0, scoring="neg_log_loss")
    # RandomizedSearchCV takes honed's scales through HonedScale (scipy's rvs)
    wrapped = {**SPACE, "beta1": HonedScale(SPACE["beta1"])}
    reference = RandomizedSearchCV(estimator, wrapped, **kwargs).fit(X, y)
    search = PopulationSearchCV(estimator, SPACE, n_jobs=n_jobs, **kwargs).fit(X, y)
    assert search.cv_results_["params"] == reference.cv_results_["params"]
    np.testing.assert_allclose(
        _columns(search.cv_results_, 3), _columns(reference.cv_results_, 3), rtol=1e-9
    )
    assert search.best_params_ == reference.best_params_
    assert search.best_index_ == reference.best_index_
    np.testing.assert_array_equal(
        search.predict_proba(X), reference.best_estimator_.predict_proba(X)
    )
    assert set(reference.cv_results_) <= set(search.cv_results_)
    assert list(search.cv_results_["rank_test_score"]) == list(
        reference.cv_results_["rank_test_score"]
    )


def test_cv_results_load_into_a_dataframe(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    search = PopulationSearchCV(
        HonedClassifier(epochs=3, random_state=0),
        {"lr": {"log": [1e-3, 1e-1]}, "beta2": HonedScale({"one_minus_log": [0.9, 0.999]})},
        n_iter=4,
        cv=2,
        random_state=1,
        return_train_score=True,
    ).fit(X, y)
    frame = pd.DataFrame(search.cv_results_)
    assert len(frame) == 4
    assert {"param_lr", "param_beta2", "mean_test_score", "mean_train_score"} <= set(frame)
    assert ((frame["param_beta2"] >= 0.9) & (frame["param_beta2"] <= 0.999)).all()
    assert search.best_estimator_.predict(X[:3]).dtype == y.dtype


def test_halving_keeps_the_best_third_with_three_times_the_epochs(iris):
    X, y = iris
    search = PopulationSearchCV(
        HonedClassifier(epochs=9, batch_size=32, random_state=0, dtype="float64"),
        {"lr": loguniform(1e-4, 1e-1)},
        n_iter=9,
        cv=3,
        random_state=0,
        halving=True,
        factor=3,
        scoring="neg_log_loss",
    ).fit(X, y)
    assert search.n_resources_ == [1, 3, 9]
    assert search.n_candidates_ == [9, 3, 1]
    results = search.cv_results_
    assert list(results["iter"]) == [0] * 9 + [1] * 3 + [2]
    # the survivors of iteration 0 are its three best
    first = np.array(results["mean_test_score"][:9])
    kept = {results["params"][i]["lr"] for i in np.argsort(-first)[:3]}
    assert {p["lr"] for p in results["params"][9:12]} == kept
    # a survivor's score at 3 epochs is what a fresh 3-epoch fit scores (continuing = refitting)
    reference = RandomizedSearchCV(
        HonedClassifier(epochs=3, batch_size=32, random_state=0, dtype="float64"),
        {"lr": [results["params"][9]["lr"]]},
        n_iter=1,
        cv=3,
        scoring="neg_log_loss",
    ).fit(X, y)
    np.testing.assert_allclose(
        _columns(results, 3)[:, 9], _columns(reference.cv_results_, 3)[:, 0], rtol=1e-9
    )
    assert search.best_index_ == len(results["iter"]) - 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_iter": 0}, "n_iter must be an integer >= 1, got 0"),
        ({"n_jobs": 0}, "n_jobs must be None, -1 or an integer >= 1, got 0"),
        ({"halving": True, "factor": 1}, "factor must be an integer >= 2, got 1"),
        ({"halving": True, "min_resources": 0}, "min_resources must be"),
    ],
)
def test_bad_arguments_are_named(iris, kwargs, message):
    X, y = iris
    with pytest.raises(ValueError, match=message):
        PopulationSearchCV(HonedClassifier(epochs=1), {"lr": [0.01]}, **kwargs).fit(X, y)
    with pytest.raises(ValueError, match="estimator must be a honed.sklearn.HonedClassifier or"):
        PopulationSearchCV(StandardScaler(), {"lr": [0.01]}).fit(X, y)


def test_candidates_a_population_cannot_train_are_fitted_alone(iris):
    """identity hidden units are not a population activation: those candidates train one
    by one and still score as RandomizedSearchCV's."""
    X, y = iris
    estimator = HonedClassifier(epochs=3, random_state=2, dtype="float64")
    space = {"activation": ["relu", "identity"], "lr": loguniform(1e-3, 1e-1)}
    kwargs = dict(n_iter=4, cv=2, random_state=3, scoring="neg_log_loss")
    reference = RandomizedSearchCV(estimator, space, **kwargs).fit(X, y)
    search = PopulationSearchCV(estimator, space, **kwargs).fit(X, y)
    assert {p["activation"] for p in search.cv_results_["params"]} == {"relu", "identity"}
    np.testing.assert_allclose(
        _columns(search.cv_results_, 2), _columns(reference.cv_results_, 2), rtol=1e-9
    )


def test_members_with_their_own_seeds_train_on_their_own_folds(iris):
    """Candidates with different seeds cannot share mini-batches: they train as one
    population with each member's own fold and order (PerMember), and still score as
    RandomizedSearchCV's."""
    X, y = iris
    estimator = HonedClassifier(epochs=4, batch_size=16, dtype="float64")
    space = {"lr": loguniform(1e-3, 1e-1), "random_state": list(range(20))}
    kwargs = dict(n_iter=5, cv=3, random_state=4, scoring="neg_log_loss")
    reference = RandomizedSearchCV(estimator, space, **kwargs).fit(X, y)
    search = PopulationSearchCV(estimator, space, **kwargs).fit(X, y)
    assert len({p["random_state"] for p in search.cv_results_["params"]}) > 1
    np.testing.assert_allclose(
        _columns(search.cv_results_, 3), _columns(reference.cv_results_, 3), rtol=1e-9
    )


@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
def test_a_diverging_candidate_gets_error_score_as_in_randomized_search(iris):
    from sklearn.exceptions import FitFailedWarning

    X, y = iris
    estimator = HonedClassifier(epochs=2, random_state=0)  # float32: 1e30² overflows
    space = {"lr": [1e-2, 1e30]}
    kwargs = dict(n_iter=2, cv=2, random_state=0)
    with pytest.warns(FitFailedWarning):
        reference = RandomizedSearchCV(estimator, space, **kwargs).fit(X, y)
    with pytest.warns(FitFailedWarning, match="diverged"):
        search = PopulationSearchCV(estimator, space, **kwargs).fit(X, y)
    ours, theirs = _columns(search.cv_results_, 2), _columns(reference.cv_results_, 2)
    assert np.isnan(ours).any()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_allclose(ours[~np.isnan(ours)], theirs[~np.isnan(theirs)], rtol=1e-5)
    assert search.best_params_ == {"lr": 1e-2}
    with pytest.raises(RuntimeError, match="diverged"):
        PopulationSearchCV(estimator, space, error_score="raise", **kwargs).fit(X, y)


def test_regression_candidates_score_as_randomized_search():
    from sklearn.datasets import load_diabetes

    from honed.sklearn import HonedRegressor

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    estimator = HonedRegressor(hidden=[8], epochs=4, batch_size=64, random_state=0, dtype="float64")
    space = {"lr": loguniform(1e-3, 1e-1), "loss": ["mse", "huber"], "l2": uniform(0, 1)}
    kwargs = dict(n_iter=4, cv=3, random_state=0, scoring="neg_mean_squared_error")
    reference = RandomizedSearchCV(estimator, space, **kwargs).fit(X, y)
    search = PopulationSearchCV(estimator, space, **kwargs).fit(X, y)
    assert {p["loss"] for p in search.cv_results_["params"]} == {"mse", "huber"}
    np.testing.assert_allclose(
        _columns(search.cv_results_, 3), _columns(reference.cv_results_, 3), rtol=1e-9
    )
    np.testing.assert_allclose(search.predict(X), reference.predict(X), rtol=1e-12)
