"""``PopulationSearchCV``: ``RandomizedSearchCV``'s interface; every candidate × fold trains as
one member of a population.

``RandomizedSearchCV(HonedClassifier(), ...)`` fits n_iter × n_splits models one after another.
Here the same draws (scikit-learn's ``ParameterSampler``, so the same ``random_state`` gives
the same candidates) become the members of :class:`honed.population.Population` s: member
(c, f) has candidate c's hyperparameters and trains on fold f's training rows
(:class:`honed.population.PerMember`), with the seed and mini-batch order its standalone
``fit`` would have. Candidates that differ in what a population shares (architecture, batch
size, epochs, early stopping; folds of different sizes) train in separate populations, as
``honed tune`` groups trials. Each member is then scored on its fold's test rows by the
search's scorer, exactly as ``RandomizedSearchCV`` scores its fitted estimators, so
``cv_results_`` has the same columns and, to floating-point rounding, the same numbers.

With ``halving=True`` the search is ``HalvingRandomSearchCV`` with the epochs as the resource:
all candidates train ``min_resources`` epochs, the best ``1/factor`` (by mean CV score) go on
to ``factor`` times as many, and so on up to the estimator's ``epochs``. Survivors continue
where they were, which is what a fresh fit with more epochs computes (the same mini-batch
order and schedule), so nothing is trained twice.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import ParameterSampler, check_cv
from sklearn.model_selection._search import BaseSearchCV
from sklearn.model_selection._validation import _score, _warn_or_raise_about_fit_failures
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_random_state, indexable

from honed.sklearn.estimators import HonedClassifier, HonedRegressor, _seed
from honed.train import TrainingDiverged


class HonedScale:
    """A honed search-space distribution (:mod:`honed.tune.space`) as scikit-learn samples
    it (``rvs``): uniform on the distribution's own scale, e.g. for β in 0.9..0.999 ``r``
    uniform in [-3, -1] and ``β = 1 - 10^r`` (the notes' 1-β scale).

    Args:
        dist: a :class:`honed.tune.space.Distribution`, or its TOML form such as
            ``{"log": [1e-4, 1e-1]}`` or ``{"one_minus_log": [0.9, 0.999]}``.
    """

    def __init__(self, dist, name: str = "parameter"):
        from honed.tune.space import Distribution, distribution_from_json

        self.dist = dist if isinstance(dist, Distribution) else distribution_from_json(dist, name)

    def rvs(self, random_state=None):
        lo, hi = self.dist.internal_bounds
        return self.dist.from_internal(float(check_random_state(random_state).uniform(lo, hi)))

    def __repr__(self) -> str:
        return f"HonedScale({self.dist!r})"


def _distributions(param_distributions):
    """scikit-learn's form: honed distributions (objects or TOML tables) wrapped."""
    from honed.tune.space import Distribution

    def convert(space):
        if not isinstance(space, Mapping):
            raise TypeError(f"param_distributions must be a dict or a list of dicts, got {space!r}")
        out = {}
        for name, value in space.items():
            if isinstance(value, (Distribution, Mapping)):
                value = HonedScale(value, name)
            out[name] = value
        return out

    if isinstance(param_distributions, Mapping):
        return convert(param_distributions)
    return [convert(space) for space in param_distributions]


def _n_outputs(estimator, y) -> int:
    """The model's outputs: the classes, or the targets of a regression."""
    return len(estimator.classes_) if isinstance(estimator, HonedClassifier) else y.shape[1]


def _one_blas_thread():
    """BLAS on one thread while populations train (threadpoolctl: the tune extra)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - then BLAS keeps its own setting
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


class _Fit:
    """One candidate × fold: its estimator, config, data, and where it trains."""

    __slots__ = (
        "candidate",
        "config",
        "data",
        "dev",
        "error",
        "estimator",
        "fold",
        "member",
        "train",
    )

    def __init__(self, candidate, fold, estimator, config, data, train, dev):
        self.candidate, self.fold, self.estimator = candidate, fold, estimator
        self.config, self.data, self.train, self.dev = config, data, train, dev
        self.member = None  # (population group, member index), or (None, seconds) alone
        self.error = None  # why training failed (a diverged member), as fit_error


class _Group:
    """One population: the fits that share everything but per-member hyperparameters.

    Fits on the same fold with the same seed (a fixed ``random_state``) see the same
    mini-batches: they train on the fold's rows in that seed's common order, the first layer
    one wide matrix product for all members. Others train on their own fold's rows
    (:class:`PerMember`), each in its own seed's order.
    """

    def __init__(self, fits, dtype):
        from honed.experiment.population_tuning import member
        from honed.population import PerMember, Population, PopulationTrainer

        self.fits = fits
        base = fits[0]
        config = base.config
        n_features = base.train[0].shape[1]
        n_out = 1 if config.model.output == "sigmoid" else _n_outputs(base.estimator, base.train[1])
        arch = {
            "sizes": [n_features, *config.model.hidden_sizes(), n_out],
            "activation": config.model.activation,
            "init": config.model.init,
            "batch_norm": config.model.batch_norm,
            "output": config.model.output,
        }
        self.population = Population(
            arch, [member(f.config, f.config.seed) for f in fits], dtype=dtype
        )
        for k, f in enumerate(fits):
            f.member = (self, k)
        batch = config.train.batch_size
        es = config.train.early_stopping or None
        shared = len({(f.fold, f.config.seed) for f in fits}) == 1
        self.trainer = PopulationTrainer(
            self.population,
            loss=config.train.loss_name(config.model.output),
            loss_args=config.train.loss_args,
            batch_size=len(base.train[0]) if batch == "full" else int(batch),
            seed=config.seed,  # the order of Trainer(seed=seed), as the standalone fit's
            common_order=shared,
            patience=es["patience"] if es else None,
            min_delta=es["min_delta"] if es else 0.0,
            monitor=es["monitor"] if es else "dev_error",
        )
        if shared:
            self.train, self.dev = base.train, base.dev
        else:
            self.train = PerMember([f.train for f in fits])
            self.dev = PerMember([f.dev for f in fits]) if base.dev is not None else None
        self.seconds = 0.0

    def fit(self, epochs: int) -> None:
        if not self.trainer.alive:
            return
        started = time.perf_counter()
        self.trainer.fit(self.train, self.dev, epochs=epochs)
        self.seconds = (time.perf_counter() - started) / max(len(self.trainer.alive), 1)

    def drop(self, fits) -> None:
        """Stop training these members (candidates halving dropped)."""
        ids = [f.member[1] for f in fits if f.member[1] in self.trainer.alive]
        self.trainer.stop(ids, status="pruned")


class PopulationSearchCV(BaseSearchCV):
    """Randomized search over a :class:`HonedClassifier`'s (or :class:`HonedRegressor`'s)
    hyperparameters, every candidate ×
    fold trained as one population.

    The interface of ``RandomizedSearchCV`` (``cv_results_``, ``best_params_``,
    ``best_score_``, ``best_index_``, ``best_estimator_``, ``refit``, ``predict``, ``score``,
    ...), plus successive halving over epochs.

    Args:
        estimator: a :class:`HonedClassifier` or :class:`HonedRegressor`: the hyperparameters
            not searched.
        param_distributions: parameter name → list of values, a scipy.stats distribution
            (``loguniform(1e-4, 1e-1)``), or a honed distribution
            (``honed.tune.space.OneMinusLogUniform(0.9, 0.999)`` or its TOML form
            ``{"one_minus_log": [0.9, 0.999]}``); or a list of such dicts.
        n_iter: candidates drawn.
        scoring, refit, cv, verbose, error_score, return_train_score: as
            ``RandomizedSearchCV``.
        random_state: seeds the draws (``ParameterSampler``).
        n_jobs: threads that train populations at the same time (None: 1; -1: one per
            core); the members are split into at least this many populations. Each thread
            runs its matrix products on one BLAS thread: a population's matrices are small,
            and on a busy machine more BLAS threads made a step several times slower.
        halving: successive halving over epochs (``HalvingRandomSearchCV``'s semantics with
            ``resource="epochs"``).
        factor: halving: 1/factor of the candidates go on, with factor times the epochs.
        min_resources: halving: epochs of the first iteration; ``"exhaust"`` (default) picks
            it so that the last iteration trains the estimator's ``epochs``.

    Attributes (halving): ``n_resources_``, ``n_candidates_``, ``n_iterations_``,
    ``min_resources_``, ``max_resources_``; ``cv_results_`` has ``iter`` and
    ``n_resources`` columns.
    """

    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        n_iter=10,
        scoring=None,
        refit=True,
        cv=None,
        verbose=0,
        random_state=None,
        error_score=np.nan,
        return_train_score=False,
        n_jobs=None,
        halving=False,
        factor=3,
        min_resources="exhaust",
    ):
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            error_score=error_score,
            return_train_score=return_train_score,
        )
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.random_state = random_state
        self.halving = halving
        self.factor = factor
        self.min_resources = min_resources

    def _run_search(self, evaluate_candidates):  # pragma: no cover - fit is our own
        raise NotImplementedError("PopulationSearchCV trains in fit")

    # -- checks ---------------------------------------------------------------------------
    def _check_arguments(self) -> None:
        if not isinstance(self.estimator, (HonedClassifier, HonedRegressor)):
            raise ValueError(
                f"estimator must be a honed.sklearn.HonedClassifier or HonedRegressor, got "
                f"{type(self.estimator).__name__}"
            )
        if isinstance(self.n_iter, bool) or not isinstance(self.n_iter, int) or self.n_iter < 1:
            raise ValueError(f"n_iter must be an integer >= 1, got {self.n_iter!r}")
        n_jobs = self.n_jobs
        if n_jobs is not None and (
            isinstance(n_jobs, bool)
            or not isinstance(n_jobs, int)
            or not (n_jobs >= 1 or n_jobs == -1)
        ):
            raise ValueError(f"n_jobs must be None, -1 or an integer >= 1, got {n_jobs!r}")
        if not self.halving:
            return
        if isinstance(self.factor, bool) or not isinstance(self.factor, int) or self.factor < 2:
            raise ValueError(f"factor must be an integer >= 2, got {self.factor!r}")
        ok = self.min_resources == "exhaust" or (
            isinstance(self.min_resources, int)
            and not isinstance(self.min_resources, bool)
            and self.min_resources >= 1
        )
        if not ok:
            raise ValueError(
                f'min_resources must be "exhaust" or an integer >= 1, got {self.min_resources!r}'
            )
        spaces = (
            [self.param_distributions]
            if isinstance(self.param_distributions, Mapping)
            else self.param_distributions
        )
        if any("epochs" in space for space in spaces):
            raise ValueError(
                "param_distributions: epochs is the resource of halving=True; search it "
                "without halving, or set the estimator's epochs (the most any candidate trains)"
            )

    # -- fit ------------------------------------------------------------------------------
    def fit(self, X, y):
        """Draw the candidates, train every candidate × fold as populations, score them on
        their folds, and refit the best on all of ``X`` (``refit=True``)."""
        self._check_arguments()
        scorers, refit_metric = self._get_scorers()
        X, y = indexable(X, y)
        cv = check_cv(self.cv, y, classifier=isinstance(self.estimator, HonedClassifier))
        splits = list(cv.split(X, y))
        self.n_splits_ = len(splits)
        candidates = list(
            ParameterSampler(
                _distributions(self.param_distributions),
                self.n_iter,
                random_state=self.random_state,
            )
        )
        folds = [self._fold(X, y, train, test) for train, test in splits]
        fits, groups, alone = self._plan(candidates, folds)
        if self.verbose:
            sizes = ", ".join(str(len(g.fits)) for g in groups)
            print(
                f"Fitting {self.n_splits_} folds for each of {len(candidates)} candidates, "
                f"totalling {len(fits)} fits, as populations of {sizes or 'none'}"
                + (f" and {len(alone)} alone" if alone else ""),
                flush=True,
            )
        if self.halving:
            all_params, all_out, more = self._halving(candidates, fits, groups, folds, scorers)
        else:
            epochs = self.estimator.epochs
            self._train(groups, alone, epochs)
            all_out = [self._result(f, folds[f.fold], scorers) for f in fits]
            all_params, more = candidates, None
        _warn_or_raise_about_fit_failures(all_out, self.error_score)
        results = self._format_results(all_params, self.n_splits_, all_out, more)
        first = all_out[0]["test_scores"]
        self.multimetric_ = isinstance(first, dict)
        if self.refit or not self.multimetric_:
            self.best_index_ = self._select_best_index(self.refit, refit_metric, results)
            if not callable(self.refit):
                self.best_score_ = results[f"mean_test_{refit_metric}"][self.best_index_]
            self.best_params_ = results["params"][self.best_index_]
        if self.refit:
            self.best_estimator_ = clone(self.estimator).set_params(
                **clone(self.best_params_, safe=False)
            )
            started = time.time()
            with _one_blas_thread():
                self.best_estimator_.fit(X, y)
            self.refit_time_ = time.time() - started
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        self.scorer_ = getattr(scorers, "_scorers", scorers)
        self.cv_results_ = results
        return self

    def _select_best_index(self, refit, refit_metric, results):
        if not self.halving:
            return BaseSearchCV._select_best_index(refit, refit_metric, results)
        last = np.flatnonzero(results["iter"] == np.max(results["iter"]))
        scores = results[f"mean_test_{refit_metric}"][last]
        return int(last[0 if np.isnan(scores).all() else np.nanargmax(scores)])

    def _fold(self, X, y, train, test) -> dict:
        """Fold f's rows, validated once as each candidate's fit would validate them."""
        template = clone(self.estimator)
        X_train, encoded = template._prepare(_safe_indexing(X, train), _safe_indexing(y, train))
        return {
            "template": template,
            "X": X_train,
            "y": encoded,
            "X_test": _safe_indexing(X, test),
            "y_test": _safe_indexing(y, test),
            "X_train_raw": _safe_indexing(X, train),
            "y_train_raw": _safe_indexing(y, train),
        }

    def _plan(self, candidates, folds):
        """Every candidate × fold as a :class:`_Fit`, grouped into populations (fits a
        population cannot train, e.g. an activation it lacks, train alone)."""
        from honed.experiment.population_tuning import population_key

        fits, by_key, alone = [], {}, []
        for c, params in enumerate(candidates):
            for f, fold in enumerate(folds):
                est = clone(self.estimator).set_params(**params)
                fitted = ("n_features_in_", "feature_names_in_", "encoder_")
                fitted += ("classes_", "target_scaler_", "_one_target")
                for name in fitted:
                    if hasattr(fold["template"], name):
                        setattr(est, name, getattr(fold["template"], name))
                config = est._config(_seed(est.random_state))
                X = fold["X"].astype(est.dtype, copy=False)
                train, dev = est._split(X, fold["y"], config)
                fit = _Fit(c, f, est, config, (X, fold["y"]), train, dev)
                fits.append(fit)
                try:
                    shared = population_key(config)
                except ValueError:
                    alone.append(fit)
                    continue
                key = (
                    shared,
                    est.dtype,
                    _n_outputs(est, train[1]),
                    train[0].shape,
                    None if dev is None else dev[0].shape,
                )
                by_key.setdefault(key, []).append(fit)
        lists = []
        for same in by_key.values():
            by_data: dict[tuple, list[_Fit]] = {}
            for fit in same:
                by_data.setdefault((fit.fold, fit.config.seed), []).append(fit)
            lists += [g for g in by_data.values() if len(g) > 1]
            rest = [f for g in by_data.values() if len(g) == 1 for f in g]
            if rest:
                lists.append(rest)
        threads = self._threads()
        while (
            lists
            and max(len(g) for g in lists) > 1
            and (len(lists) < threads or (len(lists) % threads and len(lists) < 4 * threads))
        ):
            big = max(range(len(lists)), key=lambda i: len(lists[i]))
            half = len(lists[big]) // 2  # members are independent: any split computes the same
            lists[big : big + 1] = [lists[big][:half], lists[big][half:]]
        groups = [_Group(group, np.dtype(group[0].estimator.dtype)) for group in lists]
        return fits, groups, alone

    def _threads(self) -> int:
        return (os.cpu_count() or 1) if self.n_jobs == -1 else (self.n_jobs or 1)

    def _train(self, groups, alone, epochs: int) -> None:
        with _one_blas_thread():
            if self._threads() > 1 and len(groups) > 1:
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(self._threads()) as pool:
                    # the largest first: the threads finish together
                    ordered = sorted(groups, key=lambda g: -len(g.trainer.alive))
                    list(pool.map(lambda g: g.fit(epochs), ordered))
            else:
                for group in groups:
                    group.fit(epochs)
        for fit in alone:  # a fresh fit with this many epochs, as scikit-learn's halving does
            est = fit.estimator
            started = time.perf_counter()
            try:
                n_out = _n_outputs(est, fit.data[1])
                est.set_params(epochs=epochs)._fit_arrays(*fit.data, n_out)
            except TrainingDiverged as err:
                fit.error = str(err)
            fit.member = (None, time.perf_counter() - started)

    def _fitted(self, fit: _Fit):
        """Fit (c, f)'s estimator, fitted: its population member's weights and history."""
        group, k = fit.member
        est = fit.estimator
        if group is None:  # trained alone
            return est, k
        pop = group.population
        if pop.status[k] == "diverged":
            fit.error = pop.histories[k].message or "training diverged"
            return est, group.seconds
        est._adopt(
            fit.config,
            *fit.train,
            _n_outputs(est, fit.train[1]),
            pop.member(k).state_dict(),
            pop.histories[k],
            fit.dev,
        )
        return est, group.seconds

    def _result(self, fit: _Fit, fold: dict, scorers) -> dict:
        """What scikit-learn's ``_fit_and_score`` returns for this candidate and fold."""
        est, seconds = self._fitted(fit)
        if fit.error is not None:  # as _fit_and_score records a fit that raised
            if self.error_score == "raise":
                raise TrainingDiverged(fit.error, 0, 0)
            names = getattr(scorers, "_scorers", None)
            failed = self.error_score if names is None else dict.fromkeys(names, self.error_score)
            out = {"fit_error": fit.error, "test_scores": failed}
            out["n_test_samples"] = len(fold["y_test"])
            if self.return_train_score:
                out["train_scores"] = failed
            return {**out, "fit_time": seconds, "score_time": 0.0}
        started = time.perf_counter()
        out = {
            "fit_error": None,
            "test_scores": _score(est, fold["X_test"], fold["y_test"], scorers, None, "raise"),
            "n_test_samples": len(fold["y_test"]),
            "fit_time": seconds,
        }
        if self.return_train_score:
            out["train_scores"] = _score(
                est, fold["X_train_raw"], fold["y_train_raw"], scorers, None, "raise"
            )
        out["score_time"] = time.perf_counter() - started
        return out

    # -- successive halving over epochs ---------------------------------------------------
    def _halving(self, candidates, fits, groups, folds, scorers):
        max_epochs = int(self.estimator.epochs)
        n = len(candidates)
        self.n_required_iterations_ = 1 + int(math.floor(math.log(n) / math.log(self.factor)))
        if self.min_resources == "exhaust":
            self.min_resources_ = max(
                1, max_epochs // self.factor ** (self.n_required_iterations_ - 1)
            )
        else:
            self.min_resources_ = int(self.min_resources)
        if self.min_resources_ > max_epochs:
            raise ValueError(
                f"min_resources must be <= the estimator's epochs ({max_epochs}), got "
                f"{self.min_resources_}"
            )
        self.max_resources_ = max_epochs
        self.n_possible_iterations_ = 1 + int(
            math.floor(math.log(max_epochs // self.min_resources_) / math.log(self.factor))
        )
        self.n_iterations_ = min(self.n_possible_iterations_, self.n_required_iterations_)
        self.n_resources_, self.n_candidates_ = [], []
        by_candidate: dict[int, list[_Fit]] = {}
        for fit in fits:
            by_candidate.setdefault(fit.candidate, []).append(fit)
        alive = list(range(n))
        all_params, all_out, more = [], [], {"iter": [], "n_resources": []}
        metric = self.refit if isinstance(self.refit, str) else "score"
        for it in range(self.n_iterations_):
            epochs = min(max_epochs, self.min_resources_ * self.factor**it)
            self.n_resources_.append(epochs)
            self.n_candidates_.append(len(alive))
            alone = [
                f for c in alive for f in by_candidate[c] if f.member is None or f.member[0] is None
            ]
            self._train(groups, alone, epochs)
            outs = {
                c: [self._result(f, folds[f.fold], scorers) for f in by_candidate[c]] for c in alive
            }
            means = {}
            for c in alive:
                all_params.append(candidates[c])
                all_out.extend(outs[c])
                more["iter"].append(it)
                more["n_resources"].append(epochs)
                scores = [o["test_scores"] for o in outs[c]]
                scores = [s[metric] if isinstance(s, dict) else s for s in scores]
                means[c] = float(np.mean(scores))
            if it == self.n_iterations_ - 1:
                break
            keep = max(1, math.ceil(len(alive) / self.factor))
            order = sorted(alive, key=lambda c: (-np.nan_to_num(means[c], nan=-np.inf), c))
            dropped = order[keep:]
            for group in groups:
                group.drop([f for c in dropped for f in by_candidate[c] if f.member[0] is group])
            alive = sorted(order[:keep])
        return all_params, all_out, more


__all__ = ["HonedScale", "PopulationSearchCV"]
