"""Bayesian optimization with scikit-optimize's ``Optimizer`` in native ask/tell form.

ArchGym drove scikit-optimize through ``BayesSearchCV`` with a dummy dataset and two-fold cross
validation, which simulated every candidate twice. Here each asked design is one evaluation.

Encoding: an unordered choice is a ``Categorical`` over its value indices, an ordered discrete
parameter (integer range, powers of two, ordered choice) an ``Integer`` over its indices, a float
range a ``Real`` (log-uniform when the range is log-scaled). Parameters with a single value are not
searched. The optimizer minimises, so it is told ``-reward``.

Acquisition maximisation: scikit-optimize scores ``n_points`` uniformly sampled candidates
(``acq_optimizer="sampling"``). In spaces of dozens of discrete knobs uniform samples rarely land
near the good region, so the default ``"local"`` scores half uniform samples and half mutations
(one to three knobs re-drawn) of the five best designs so far, as SMAC does, with the same
scikit-optimize surrogate; designs already evaluated are skipped. Also as in SMAC, a fraction
``random_fraction`` of the asked designs are plain uniform samples, which keeps the search from
settling on a plateau of equally good designs.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from agents.base import Agent, Hyperparameter
from simulators.core import Evaluation


class BayesOpt(Agent):
    """A surrogate model (GP, random forest, extra trees or gradient boosting) plus an acquisition function.

    Defaults: extra-trees surrogate and expected improvement over 1,000 candidates, half of them local
    moves around the best designs. On our discrete spaces of 9 to 100 knobs a GP surrogate costs
    several seconds per evaluation by a few hundred evaluations (refitting its kernel) and
    ``gp_hedge`` triples the prediction work, for no better designs in our benchmark; both remain
    hyperparameters.
    """

    name = "bayesopt"
    hyperparameters = {
        "base_estimator": Hyperparameter("ET", str, choices=("GP", "RF", "ET", "GBRT"), doc="surrogate model"),
        "acq_func": Hyperparameter("EI", str, choices=("gp_hedge", "EI", "PI", "LCB"),
                                   doc="acquisition function"),
        "n_initial_points": Hyperparameter(10, int, 1, None, doc="random designs before the surrogate is used"),
        "acq_optimizer": Hyperparameter("local", str, choices=("local", "sampling", "lbfgs", "auto"),
                                        doc="how the acquisition function is maximised"),
        "n_points": Hyperparameter(1000, int, 10, None, doc="candidates scored per ask (sampling optimizer)"),
        "random_fraction": Hyperparameter(0.2, float, 0.0, 1.0,
                                          doc="chance an asked design is a uniform sample (local optimizer)"),
        "xi": Hyperparameter(0.01, float, 0.0, None, doc="EI/PI exploration margin"),
        "kappa": Hyperparameter(1.96, float, 0.0, None, doc="LCB exploration weight"),
    }

    def __init__(self, space, *, seed=None, **hyperparameters: Any) -> None:
        super().__init__(space, seed=seed, **hyperparameters)
        from skopt import Optimizer
        from skopt.space import Categorical, Integer, Real

        if self.config["acq_optimizer"] == "lbfgs" and self.config["base_estimator"] != "GP":
            raise ValueError("bayesopt: acq_optimizer 'lbfgs' needs base_estimator 'GP' (the others are not smooth)")
        if self.config["acq_optimizer"] == "local" and self.config["acq_func"] == "gp_hedge":
            raise ValueError("bayesopt: acq_optimizer 'local' scores one acquisition function; choose EI, PI or LCB")
        self._local = self.config["acq_optimizer"] == "local"
        self._searched: list[int] = []
        dimensions = []
        for j, p in enumerate(space.parameters):
            if p.discrete:
                n = p.cardinality
                if n == 1:
                    continue
                dimensions.append(Integer(0, n - 1, name=p.name) if p.ordered
                                  else Categorical(list(range(n)), name=p.name))
            else:
                dimensions.append(Real(p.low, p.high, prior="log-uniform" if p.log else "uniform", name=p.name))
            self._searched.append(j)
        self._fixed = {p.name: p.value_at(0) for j, p in enumerate(space.parameters) if j not in self._searched}
        self._optimizer = None
        if dimensions:
            self._optimizer = Optimizer(
                dimensions,
                base_estimator=self.config["base_estimator"],
                n_initial_points=self.config["n_initial_points"],
                acq_func=self.config["acq_func"],
                # with "local" we only use the fitted surrogate: keep skopt's own candidate scoring tiny
                acq_optimizer="sampling" if self._local else self.config["acq_optimizer"],
                acq_optimizer_kwargs={"n_points": 10 if self._local else self.config["n_points"]},
                acq_func_kwargs={"xi": self.config["xi"], "kappa": self.config["kappa"]},
                random_state=int(self.rng.integers(2**31 - 1)),
            )

    def _to_design(self, point: Sequence[Any]) -> dict[str, Any]:
        design = dict(self._fixed)
        for j, x in zip(self._searched, point):
            p = self.space.parameters[j]
            design[p.name] = p.value_at(int(x)) if p.discrete else p.validate(float(x))
        return {name: design[name] for name in self.space.names}

    def _to_point(self, design: Mapping[str, Any]) -> list[Any]:
        point = []
        for j in self._searched:
            p = self.space.parameters[j]
            point.append(p.index_of(design[p.name]) if p.discrete else float(design[p.name]))
        return point

    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        n = self._check_ask(n)
        if self._optimizer is None:
            return [dict(self._fixed) for _ in range(n)]
        if self._local and self._optimizer.models:
            explore = int((self.rng.random(n) < self.config["random_fraction"]).sum())
            points = self._local_candidates(n - explore) if explore < n else []
            if explore:
                seed = int(self.rng.integers(2**31 - 1))
                points += [list(p) for p in self._optimizer.space.rvs(n_samples=explore, random_state=seed)]
            return [self._to_design(p) for p in points]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "The objective has been evaluated at this point before."
            points = self._optimizer.ask(n_points=n) if n > 1 else [self._optimizer.ask()]
        return [self._to_design(p) for p in points]

    def _local_candidates(self, n: int) -> list[list[Any]]:
        """The ``n`` best candidates by acquisition: uniform samples plus mutations of the best designs."""
        from skopt.acquisition import gaussian_ei, gaussian_lcb, gaussian_pi

        opt = self._optimizer
        space, total = opt.space, self.config["n_points"]
        seed = int(self.rng.integers(2**31 - 1))
        candidates = [list(x) for x in space.rvs(n_samples=total - total // 2, random_state=seed)]
        order = sorted(range(len(opt.yi)), key=opt.yi.__getitem__)[:5]
        dims = space.dimensions
        for k in range(total // 2):
            point = list(opt.Xi[order[k % len(order)]])
            for j in self.rng.choice(len(dims), size=min(len(dims), int(self.rng.integers(1, 4))), replace=False):
                point[j] = dims[j].rvs(n_samples=1, random_state=int(self.rng.integers(2**31 - 1)))[0]
            candidates.append(point)
        seen = {tuple(x) for x in opt.Xi}
        fresh, keys = [], set()
        for point in candidates:
            key = tuple(point)
            if key not in seen and key not in keys:
                keys.add(key)
                fresh.append(point)
        if not fresh:
            return [list(x) for x in space.rvs(n_samples=n, random_state=seed)]
        features = space.transform(fresh)
        model, y_opt = opt.models[-1], min(opt.yi)
        func = self.config["acq_func"]
        if func == "EI":
            score = gaussian_ei(features, model, y_opt=y_opt, xi=self.config["xi"])
        elif func == "PI":
            score = gaussian_pi(features, model, y_opt=y_opt, xi=self.config["xi"])
        else:
            score = -gaussian_lcb(features, model, kappa=self.config["kappa"])
        best = sorted(range(len(fresh)), key=lambda i: -score[i])[:n]
        picks = [fresh[i] for i in best]
        while len(picks) < n:  # fewer fresh candidates than asked for
            picks.append(list(space.rvs(n_samples=1, random_state=int(self.rng.integers(2**31 - 1)))[0]))
        return picks

    def tell(self, designs: Sequence[Mapping[str, Any]], rewards: Sequence[float],
             evaluations: Sequence[Evaluation]) -> None:
        if self._optimizer is None or not designs:
            return
        points = [self._to_point(d) for d in designs]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._optimizer.tell(points, [-float(r) for r in rewards])

    @property
    def result_points(self) -> int:
        """How many evaluations the surrogate has seen."""
        return 0 if self._optimizer is None else len(self._optimizer.Xi)
