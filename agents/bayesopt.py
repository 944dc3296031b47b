"""Bayesian optimization: a scikit-optimize surrogate and acquisition function, driven in numpy.

ArchGym drove scikit-optimize through ``BayesSearchCV`` with a dummy dataset and two-fold cross
validation, which simulated every candidate twice. Here each asked design is one evaluation.

The engine is scikit-optimize's: its surrogates (``skopt.utils.cook_estimator``: the extra-trees,
random-forest, gradient-boosting-quantile or Gaussian-process regressor its ``Optimizer`` uses) and
its acquisition functions (``skopt.acquisition``). What this module does itself, in numpy, is the
bookkeeping that made ``skopt.Optimizer`` cost 0.2-0.4 s per evaluation on our spaces:

- **Designs as rows**: one row per design, an index per discrete knob and the unit value of a float
  range; features are computed for a whole candidate matrix at once (ordered knobs scaled to [0, 1],
  unordered ones one-hot, float ranges on their unit, log when log-scaled: the normalised encoding
  scikit-optimize gives its GP). Single-valued knobs are not searched.
- **Candidates**: ``n_points`` per ask. With the default ``acq_optimizer="local"`` half are uniform
  samples and half mutations of the five best designs so far (one to three knobs changed), as SMAC
  does: in spaces of dozens of discrete knobs uniform samples alone rarely land near the good region.
  ``"sampling"`` scores uniform samples only. Designs already evaluated or asked are skipped, and a
  fraction ``random_fraction`` of the asked designs are plain uniform samples (as in SMAC), which
  keeps the search from settling on a plateau of equally good designs.
- **Refits on a schedule**: the surrogate is refitted once the evaluations have grown by
  ``refit_growth`` since the last fit (after every evaluation while that is less than one), so a run
  of ``N`` evaluations fits about ``ln(N / n_initial_points) / refit_growth`` times instead of ``N``.
  Between refits each ask still draws fresh candidates around the current best designs and scores
  them against the current best reward.
- **Forest predictions**: the mean and spread of a random-forest or extra-trees surrogate are
  scikit-optimize's (the law of total variance over trees, arXiv:1211.0906 section 4.3.2, as
  ``skopt.learning.forest`` computes them), read with one leaf lookup per tree.

``acq_optimizer="lbfgs"`` or ``"auto"`` (GP only) and ``acq_func="gp_hedge"`` need scikit-optimize's
own ``Optimizer``, which then runs as it is: refitted and re-sampled after every evaluation (slow).
The optimizer minimises, so it is told ``-reward``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from agents.base import Agent, Hyperparameter
from simulators.core import Evaluation

_ORDERED, _BINARY, _ONEHOT, _UNIT = range(4)  # how a searched knob becomes features
_TOP = 5  # best designs whose mutations are candidates (local optimizer)


class BayesOpt(Agent):
    """A surrogate model (extra trees, random forest, gradient boosting or GP) plus an acquisition function.

    Defaults: five random designs, then an extra-trees surrogate refitted after every 10% more
    evaluations, expected improvement over 1,000 candidates per ask, half of them local moves around
    the best designs, and one asked design in ten a uniform sample (measured grids: docs/agents.md).
    A GP surrogate costs seconds per fit by a few hundred evaluations and ``gp_hedge`` triples the
    prediction work, for no better designs in our benchmark; both remain hyperparameters.
    """

    name = "bayesopt"
    hyperparameters = {
        "base_estimator": Hyperparameter("ET", str, choices=("GP", "RF", "ET", "GBRT"), doc="surrogate model"),
        "acq_func": Hyperparameter("EI", str, choices=("gp_hedge", "EI", "PI", "LCB"),
                                   doc="acquisition function"),
        "n_initial_points": Hyperparameter(5, int, 1, None, doc="random designs before the surrogate is used"),
        "acq_optimizer": Hyperparameter("local", str, choices=("local", "sampling", "lbfgs", "auto"),
                                        doc="how the acquisition function is maximised"),
        "n_points": Hyperparameter(1000, int, 10, 1_000_000, doc="candidates scored per ask"),
        "local_fraction": Hyperparameter(0.5, float, 0.0, 1.0,
                                         doc="share of the candidates that are mutations of the best designs (local)"),
        "random_fraction": Hyperparameter(0.1, float, 0.0, 1.0,
                                          doc="chance an asked design is a uniform sample (local, sampling)"),
        "refit_growth": Hyperparameter(0.1, float, 0.0, None,
                                       doc="refit once the evaluations grew by this fraction since the last fit "
                                           "(0: after every evaluation; local, sampling)"),
        "n_trees": Hyperparameter(100, int, 1, 10_000, doc="trees of an ET or RF surrogate",
                                  acts_when={"base_estimator": ("ET", "RF")}),
        "xi": Hyperparameter(0.01, float, 0.0, None, doc="EI/PI exploration margin",
                             acts_when={"acq_func": ("EI", "PI", "gp_hedge")}),
        "kappa": Hyperparameter(1.96, float, 0.0, None, doc="LCB exploration weight",
                                acts_when={"acq_func": ("LCB", "gp_hedge")}),
    }

    def __init__(self, space, *, seed=None, **hyperparameters: Any) -> None:
        super().__init__(space, seed=seed, **hyperparameters)
        from skopt.space import Categorical, Integer, Real

        c = self.config
        if c["acq_optimizer"] == "lbfgs" and c["base_estimator"] != "GP":
            raise ValueError("bayesopt: acq_optimizer 'lbfgs' needs base_estimator 'GP' (the others are not smooth)")
        if c["acq_optimizer"] == "local" and c["acq_func"] == "gp_hedge":
            raise ValueError("bayesopt: acq_optimizer 'local' scores one acquisition function; choose EI, PI or LCB")
        self._searched = [j for j, p in enumerate(space.parameters) if not (p.discrete and p.cardinality == 1)]
        self._fixed = {p.name: p.value_at(0) for j, p in enumerate(space.parameters) if j not in self._searched}
        params = [space.parameters[j] for j in self._searched]
        dimensions = []
        for p in params:
            if p.discrete:
                n = p.cardinality
                dimensions.append(Integer(0, n - 1, name=p.name) if p.ordered
                                  else Categorical(list(range(n)), name=p.name))
            else:
                dimensions.append(Real(p.low, p.high, prior="log-uniform" if p.log else "uniform", name=p.name))
        self._dimensions = dimensions
        self._params = params
        self._skopt = None  # scikit-optimize's own Optimizer, for the settings only it implements
        self._told = 0
        if not params:
            return
        model_seed = int(self.rng.integers(2**31 - 1))
        if c["acq_optimizer"] in ("lbfgs", "auto") or c["acq_func"] == "gp_hedge":
            if c["base_estimator"] == "GBRT":
                raise ValueError("bayesopt: base_estimator 'GBRT' with acq_optimizer 'lbfgs'/'auto' or acq_func "
                                 "'gp_hedge' needs scikit-optimize's own Optimizer, whose GBRT predictions fail on "
                                 "numpy 2 (np.in1d); use acq_optimizer 'local' or 'sampling' with EI, PI or LCB")
            from skopt import Optimizer

            self._skopt = Optimizer(dimensions, base_estimator=c["base_estimator"],
                                    n_initial_points=c["n_initial_points"], acq_func=c["acq_func"],
                                    acq_optimizer=c["acq_optimizer"], acq_optimizer_kwargs={"n_points": c["n_points"]},
                                    acq_func_kwargs={"xi": c["xi"], "kappa": c["kappa"]}, random_state=model_seed)
            return
        from skopt.utils import cook_estimator

        trees = {"n_estimators": c["n_trees"]} if c["base_estimator"] in ("ET", "RF") else {}
        self._estimator = cook_estimator(c["base_estimator"], space=dimensions, random_state=model_seed, n_jobs=1,
                                         **trees)
        self._local = c["acq_optimizer"] == "local"
        self._discrete = np.array([p.discrete for p in params])
        self._card = np.array([p.cardinality if p.discrete else 0 for p in params], dtype=np.int64)
        kinds = np.array([_UNIT if not p.discrete else _ORDERED if p.ordered else
                          _BINARY if p.cardinality == 2 else _ONEHOT for p in params])
        self._linear = np.flatnonzero(kinds != _ONEHOT)  # one feature column each, row value * scale
        self._scale = np.where(kinds == _ORDERED, 1.0 / np.maximum(self._card - 1, 1), 1.0)[self._linear]
        self._onehot = np.flatnonzero(kinds == _ONEHOT)
        self._offsets = len(self._linear) + np.concatenate(([0], np.cumsum(self._card[self._onehot])[:-1]))
        self._width = len(self._linear) + int(self._card[self._onehot].sum())
        self._rows = np.empty((64, len(params)))  # told designs, in the order told
        self._y = np.empty(64)  # their -reward
        self._seen: set[bytes] = set()  # rows told or asked
        self._model = None
        self._fitted_at = 0  # evaluations the model was fitted on
        self.fits = 0  # surrogate refits so far

    # -- rows: one per design, an index per discrete knob, the unit value of a float range --------------
    def _to_design(self, row: np.ndarray) -> dict[str, Any]:
        design = dict(self._fixed)
        for p, x in zip(self._params, row):
            design[p.name] = p.value_at(int(x)) if p.discrete else p.from_unit(float(x))
        return {name: design[name] for name in self.space.names}

    def _to_row(self, design: Mapping[str, Any]) -> np.ndarray:
        return np.array([p.index_of(design[p.name]) if p.discrete else p.to_unit(design[p.name])
                         for p in self._params], dtype=np.float64)

    def _uniform(self, n: int) -> np.ndarray:
        upper = np.where(self._discrete, self._card, 1)
        draws = self.rng.random((n, len(self._params)))
        return np.where(self._discrete, np.floor(draws * upper), draws)

    def _mutants(self, n: int) -> np.ndarray:
        """``n`` copies of the best designs so far, each with one to three knobs changed."""
        d = len(self._params)
        top = np.argsort(self._y[: self._told], kind="stable")[:_TOP]
        rows = self._rows[top[np.arange(n) % len(top)]]
        most = min(d, 3)
        changes = self.rng.integers(1, most + 1, size=n)
        knobs = np.argpartition(self.rng.random((n, d)), most - 1, axis=1)[:, :most]  # distinct random knobs
        chosen = np.zeros((n, d), dtype=bool)
        lines = np.arange(n)[:, None]
        chosen[lines, knobs] = np.arange(most)[None, :] < changes[:, None]  # the first `changes` of them
        shift = np.floor(self.rng.random((n, d)) * np.maximum(self._card - 1, 1)) + 1  # another value, never the same
        new = np.where(self._discrete, (rows + shift) % np.maximum(self._card, 1), self.rng.random((n, d)))
        return np.where(chosen, new, rows)

    def _features(self, rows: np.ndarray) -> np.ndarray:
        out = np.zeros((len(rows), self._width), dtype=np.float32)  # what sklearn's trees split on
        out[:, : len(self._linear)] = rows[:, self._linear] * self._scale
        if len(self._onehot):
            cols = self._offsets + rows[:, self._onehot].astype(np.int64)
            out[np.arange(len(rows))[:, None], cols] = 1.0
        return out

    def _fresh(self, rows: np.ndarray, limit: int) -> list[np.ndarray]:
        """Up to ``limit`` rows not evaluated or asked before (and not repeated), marked as asked."""
        out: list[np.ndarray] = []
        if limit <= 0:
            return out
        for row in rows:
            key = row.tobytes()
            if key not in self._seen:
                self._seen.add(key)
                out.append(row)
                if len(out) == limit:
                    break
        return out

    # -- ask / tell ---------------------------------------------------------------------------------------
    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        n = self._check_ask(n)
        if not self._params:
            return [dict(self._fixed) for _ in range(n)]
        if self._skopt is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "The objective has been evaluated at this point before."
                points = self._skopt.ask(n_points=n) if n > 1 else [self._skopt.ask()]
            return [self._to_design(np.array(p, dtype=np.float64) if self._all_discrete else
                                    self._row_from_skopt(p)) for p in points]
        if self._told < self.config["n_initial_points"]:
            uniform = n
        else:
            uniform = int((self.rng.random(n) < self.config["random_fraction"]).sum())
        rows = self._by_acquisition(n - uniform) if uniform < n else []
        rows += self._fresh(self._uniform(max(4 * (n - len(rows)), 16)), n - len(rows))
        while len(rows) < n:  # a (nearly) exhausted space: repeats are allowed rather than none
            rows.append(self._uniform(1)[0])
        return [self._to_design(r) for r in rows]

    def _by_acquisition(self, n: int) -> list[np.ndarray]:
        """The ``n`` fresh candidates the acquisition function scores best."""
        from skopt.acquisition import gaussian_ei, gaussian_lcb, gaussian_pi

        self._refit_if_due()
        total = self.config["n_points"]
        if self._local:
            local = int(round(total * self.config["local_fraction"]))
            candidates = np.concatenate([self._uniform(total - local), self._mutants(local)])
        else:
            candidates = self._uniform(total)
        keys = [row.tobytes() for row in candidates]
        unique = dict.fromkeys(k for k in keys if k not in self._seen)
        if not unique:
            return []
        first = {k: i for i, k in reversed(list(enumerate(keys)))}
        fresh = candidates[[first[k] for k in unique]]
        features = self._features(fresh)
        y_opt = float(self._y[: self._told].min())
        func, c = self.config["acq_func"], self.config
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if func == "EI":
                score = gaussian_ei(features, self._model, y_opt=y_opt, xi=c["xi"])
            elif func == "PI":
                score = gaussian_pi(features, self._model, y_opt=y_opt, xi=c["xi"])
            else:
                score = -gaussian_lcb(features, self._model, kappa=c["kappa"])
        best = np.argsort(-score, kind="stable")[:n]
        for i in best:
            self._seen.add(fresh[i].tobytes())
        return [fresh[i] for i in best]

    def _refit_if_due(self) -> None:
        due = max(1, math.ceil(self.config["refit_growth"] * self._fitted_at))
        if self._model is not None and self._told - self._fitted_at < due:
            return
        from sklearn.base import clone

        estimator = clone(self._estimator)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.fit(self._features(self._rows[: self._told]), self._y[: self._told])
        if hasattr(estimator, "estimators_") and hasattr(estimator, "min_variance"):  # ET, RF
            self._model = _ForestPredictor(estimator)
        elif hasattr(estimator, "regressors_"):  # GBRT
            self._model = _QuantilePredictor(estimator)
        else:  # GP
            self._model = estimator
        self._fitted_at = self._told
        self.fits += 1

    def tell(self, designs: Sequence[Mapping[str, Any]], rewards: Sequence[float],
             evaluations: Sequence[Evaluation]) -> None:
        if not self._params or not designs:
            return
        if self._skopt is not None:
            points = [self._skopt_point(d) for d in designs]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._skopt.tell(points, [-float(r) for r in rewards])
            self._told += len(designs)
            return
        for design, reward in zip(designs, rewards):
            if self._told == len(self._y):
                self._rows = np.concatenate([self._rows, np.empty_like(self._rows)])
                self._y = np.concatenate([self._y, np.empty_like(self._y)])
            row = self._to_row(design)
            self._rows[self._told] = row
            self._y[self._told] = -float(reward)
            self._seen.add(row.tobytes())
            self._told += 1
        if isinstance(self._model, _ForestPredictor):  # the leaves learn now, the structure at the next refit
            first = self._told - len(designs)
            self._model.update(self._features(self._rows[first: self._told]), self._y[first: self._told])

    # -- scikit-optimize's own Optimizer speaks values of Real dimensions, indices of discrete ones ------
    @property
    def _all_discrete(self) -> bool:
        return all(p.discrete for p in self._params)

    def _row_from_skopt(self, point: Sequence[Any]) -> np.ndarray:
        return np.array([float(x) if p.discrete else p.to_unit(float(x)) for p, x in zip(self._params, point)])

    def _skopt_point(self, design: Mapping[str, Any]) -> list[Any]:
        return [p.index_of(design[p.name]) if p.discrete else float(design[p.name]) for p in self._params]

    @property
    def result_points(self) -> int:
        """How many evaluations the agent has been told."""
        return self._told


class _ForestPredictor:
    """A fitted scikit-optimize forest whose leaves keep learning between refits.

    ``predict(X, return_std=True)`` gives scikit-optimize's numbers (``skopt.learning.forest``): the
    mean of the trees' leaf means, and the standard deviation by the law of total variance over trees
    (each leaf's variance floored at ``min_variance``), read with one leaf lookup per tree instead of
    two validated calls (about 100x faster at 1,000 rows). ``update(X, y)`` drops new evaluations into
    the leaves they fall in, so leaf means and variances cover every evaluation told since the fit
    while the tree structure waits for the next refit.
    """

    def __init__(self, forest: Any) -> None:
        self.trees = [tree.tree_ for tree in forest.estimators_]
        self.min_variance = float(forest.min_variance)
        # every tree's nodes in one flat array (tree k's node i at offsets[k] + i): the (weighted) count,
        # sum and sum of squares of the targets each leaf holds
        sizes = [t.node_count for t in self.trees]
        self.offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        self.count = np.concatenate([t.weighted_n_node_samples for t in self.trees]).astype(np.float64)
        value = np.concatenate([t.value[:, 0, 0] for t in self.trees])
        self.total = value * self.count
        self.squares = (np.concatenate([t.impurity for t in self.trees]) + value**2) * self.count
        self._summarise()

    def _summarise(self) -> None:
        with np.errstate(divide="ignore", invalid="ignore"):  # split nodes hold no targets of their own here
            self.mean = self.total / self.count
            variance = np.maximum(self.squares / self.count - self.mean**2, 0.0)
        self.second = np.maximum(variance, self.min_variance) + self.mean**2

    def _leaves(self, features: np.ndarray) -> np.ndarray:
        rows = np.ascontiguousarray(features, dtype=np.float32)  # sklearn trees split on float32 features
        return np.stack([tree.apply(rows) for tree in self.trees]) + self.offsets[:, None]

    def update(self, features: np.ndarray, y: np.ndarray) -> None:
        leaves = self._leaves(features)
        np.add.at(self.count, leaves, 1.0)
        np.add.at(self.total, leaves, np.broadcast_to(y, leaves.shape))
        np.add.at(self.squares, leaves, np.broadcast_to(y * y, leaves.shape))
        self._summarise()

    def predict(self, features: np.ndarray, return_std: bool = False):
        leaves = self._leaves(features)
        mean = self.mean[leaves].mean(axis=0)
        if not return_std:
            return mean
        return mean, np.sqrt(np.maximum(self.second[leaves].mean(axis=0) - mean**2, 0.0))


class _QuantilePredictor:
    """A fitted scikit-optimize GBRT surrogate's ``predict(X, return_std=True)``: the median as the mean
    and half the 16%-84% quantile spread as the standard deviation, as ``skopt.learning.gbrt``
    computes them (whose own ``predict`` calls ``np.in1d``, gone in numpy 2.4)."""

    def __init__(self, model: Any) -> None:
        self.regressors = dict(zip(model.quantiles, model.regressors_))
        missing = {0.16, 0.5, 0.84} - set(self.regressors)
        if missing:
            raise ValueError(f"bayesopt: a GBRT surrogate needs the quantiles 0.16, 0.5 and 0.84 (missing {missing})")

    def predict(self, features: np.ndarray, return_std: bool = False):
        mean = self.regressors[0.5].predict(features)
        if not return_std:
            return mean
        return mean, (self.regressors[0.84].predict(features) - self.regressors[0.16].predict(features)) / 2.0
