"""Ray Tune bridges both ways: an ask/tell agent as a Tune ``Searcher``, and a Tune ``Searcher`` as an agent.

``AgentSearcher(agent)`` lets any ask/tell agent drive a ``tune.Tuner``: every trial evaluates one
design (the trial's config *is* the design dict), so a slow simulator's evaluations spread over a
Ray cluster. It asks the agent for a batch, hands the designs out one per trial, and tells the
agent the whole batch, in the order it was asked, once every trial of it has completed; only then
does it ask for the next batch. That is the explore loop's order, so a seeded agent proposes the
same designs however the trials finish; the batch size bounds how many trials run at once.

``SearcherAgent`` goes the other way: a Ray searcher (Optuna, HyperOpt, Nevergrad) acts as an
agent. The design space becomes a Tune space of **integer indices** for discrete parameters
(``tune.randint(0, n)`` for ordered ones, so the searcher sees neighbours as neighbours, and
``tune.choice(range(n))`` for unordered ones), and of values for continuous float ranges
(``tune.uniform``/``tune.loguniform``); single-valued parameters are fixed, not searched. Indices
keep any value type (tuples, strings, mixed) out of the searcher. ``OptunaAgent`` (``"optuna"``),
``HyperOptAgent`` (``"hyperopt"``) and ``NevergradAgent`` (``"nevergrad"``) are registered when their
library is installed (see ``agents/__init__.py``).
"""

from __future__ import annotations

import math
import pickle
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from ray.tune.search import Searcher
from ray.tune.search.sample import Domain

from agents.base import Agent, Hyperparameter
from agents.spaces import float_from, nevergrad_parametrization, tune_param_space
from simulators.core import DesignSpace, Evaluation
from simulators.params import check_int, check_str, is_integer

__all__ = ["AgentSearcher", "HyperOptAgent", "NevergradAgent", "OptunaAgent", "SearcherAgent",
           "evaluation_from_result", "tune_space"]

#: what ``AgentSearcher`` passes on after each told batch: designs, rewards, evaluations (ask order)
BatchCallback = Callable[[list[dict[str, Any]], list[float], list[Evaluation]], None]

METRICS_PREFIX = "metrics/"  # Tune flattens a reported {"metrics": {...}} to "metrics/<name>" keys


def evaluation_from_result(result: Mapping[str, Any]) -> Evaluation:
    """The ``Evaluation`` in a trial result: ``metrics/<name>`` keys, ``feasible`` and ``reason`` if given."""
    metrics = {k[len(METRICS_PREFIX):]: float(v) for k, v in result.items() if k.startswith(METRICS_PREFIX)}
    reason = result.get("reason")
    return Evaluation(metrics, bool(result.get("feasible", True)), reason if reason else None)


# --------------------------------------------------------------------------------------------------
# An ask/tell agent as a Tune Searcher
# --------------------------------------------------------------------------------------------------

class AgentSearcher(Searcher):
    """Any ask/tell ``Agent`` as a Ray Tune ``Searcher``: one design per trial.

    Trials report ``metric`` (default ``"reward"``; with ``mode="min"`` the agent is told its
    negation, since agents maximise; default ``"max"``). Left out here, both are taken from
    ``TuneConfig`` when Ray passes them on (it does when ``param_space`` is not empty); given both
    here and there, they must agree (``ValueError`` otherwise). Trials may report ``feasible``,
    ``reason`` and a ``metrics`` dict for the ``Evaluation`` the agent is told. ``batch_size``
    (default: the agent's) designs are asked at a time; ``budget`` caps the designs asked in all
    (then ``suggest`` says ``FINISHED``).
    ``on_batch(designs, rewards, evaluations)`` runs after each batch is told. A trial that fails is
    left out of its batch's tell.
    """

    def __init__(self, agent: Agent, *, metric: str | None = None, mode: str | None = None,
                 batch_size: int | None = None,
                 budget: int | None = None, on_batch: BatchCallback | None = None) -> None:
        if not isinstance(agent, Agent):
            raise ValueError(f"AgentSearcher needs an agents.Agent, got {type(agent).__name__}")
        if getattr(agent, "drives_env", False):
            raise ValueError(f"agent {agent.name!r} trains on the environment itself and cannot suggest "
                             "designs one trial at a time; use an ask/tell agent")
        if mode not in (None, "max", "min"):
            raise ValueError(f"AgentSearcher: mode must be 'max' or 'min', got {mode!r}")
        try:
            if metric is not None:
                check_str(metric, "metric")
            batch_size = check_int(batch_size, "batch_size", low=1, allow_none=True)
            budget = check_int(budget, "budget", low=1, allow_none=True)
        except ValueError as exc:
            raise ValueError(f"AgentSearcher: {exc}") from None
        super().__init__(metric=metric or "reward", mode=mode or "max")
        self._given = {"metric": metric, "mode": mode}  # what the user chose here (None: not chosen)
        self._told_properties = False  # Ray passed TuneConfig's metric and mode (set_search_properties)
        self.agent = agent
        self.batch_size = int(batch_size or agent.batch_size)
        self.budget = None if budget is None else int(budget)
        self.on_batch = on_batch
        self.asked = 0  # designs asked of the agent
        self.told = 0  # results told to the agent
        self._batch: list[dict[str, Any]] = []  # the batch being evaluated, in ask order
        self._unsuggested: list[int] = []  # positions in the batch not yet given to a trial
        self._trials: dict[str, int] = {}  # trial id -> position in the batch
        self._results: dict[int, tuple[float, Evaluation] | None] = {}  # position -> result (None: failed)

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec: Any) -> bool:
        if _has_search_domains(config):
            return False  # the agent's design space is the search space
        if mode and mode not in ("max", "min"):
            return False
        for name, value in (("metric", metric), ("mode", mode)):
            given = self._given[name]
            if value and given is not None and value != given:
                raise ValueError(f"AgentSearcher was made with {name}={given!r}, but TuneConfig says {name}="
                                 f"{value!r}: give it in one place, or the same in both")
        self._metric = metric or self._metric
        self._mode = mode or self._mode
        self._told_properties = True
        return True

    def suggest(self, trial_id: str) -> dict[str, Any] | str | None:
        if not self._told_properties and None in self._given.values() and not self.asked:
            warnings.warn(f"archgym: AgentSearcher ranks trials by {self.metric!r} ({self.mode}), its default: Ray "
                          "tells a searcher TuneConfig's metric and mode only when param_space is not empty, so pass "
                          "metric= and mode= to AgentSearcher itself", stacklevel=2)
        if not self._unsuggested:
            if len(self._results) < len(self._batch):
                return None  # waiting for the batch's results before asking for more
            if self.budget is not None and self.asked >= self.budget:
                return Searcher.FINISHED
            n = self.batch_size if self.budget is None else min(self.batch_size, self.budget - self.asked)
            designs = self.agent.ask(n)
            if len(designs) != n:
                raise RuntimeError(f"agent {self.agent.name!r} returned {len(designs)} designs when asked for {n}")
            self.asked += n
            self._batch = [dict(d) for d in designs]
            self._unsuggested = list(range(n))
            self._results = {}
        position = self._unsuggested.pop(0)
        self._trials[trial_id] = position
        return dict(self._batch[position])

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        position = self._trials.pop(trial_id, None)
        if position is None:
            return  # not one of ours (e.g. a trial restored from an earlier run)
        if error or not result or self.metric not in result:
            self._results[position] = None
        else:
            value = float(result[self.metric])
            self._results[position] = (value if self.mode == "max" else -value, evaluation_from_result(result))
        if not self._unsuggested and len(self._results) == len(self._batch):
            self._tell_batch()

    def _tell_batch(self) -> None:
        done = [(self._batch[i], r) for i, r in sorted(self._results.items()) if r is not None]
        designs = [d for d, _ in done]
        rewards = [r for _, (r, _) in done]
        evaluations = [e for _, (_, e) in done]
        if designs:
            self.agent.tell(designs, rewards, evaluations)
        self.told += len(designs)
        if self.on_batch is not None:
            self.on_batch(designs, rewards, evaluations)
        self._batch, self._results = [], {}

    # -- Tune pickles its searcher (experiment state, checkpoints): the batch callback is the caller's
    # and stays out; a restored searcher has none until one is set
    def get_state(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "on_batch"}

    def set_state(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("on_batch", None)

    __getstate__ = get_state
    __setstate__ = set_state

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as f:
            pickle.dump(self.get_state(), f)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as f:
            self.set_state(pickle.load(f))


def _has_search_domains(config: Any) -> bool:
    """Whether a Tune config still holds sampled values or grid searches (a search space of its own)."""
    if isinstance(config, Domain):
        return True
    if isinstance(config, Mapping):
        return "grid_search" in config or any(_has_search_domains(v) for v in config.values())
    if isinstance(config, (list, tuple)):
        return any(_has_search_domains(v) for v in config)
    return False


# --------------------------------------------------------------------------------------------------
# A Tune Searcher as an ask/tell agent
# --------------------------------------------------------------------------------------------------

def tune_space(space: DesignSpace) -> dict[str, Any]:
    """The Tune search space for ``space``: indices for discrete parameters, values for continuous ones.

    Single-valued parameters are left out (they are fixed). The converter is ``agents.spaces``'s.
    """
    return tune_param_space(space, indices=True)


class SearcherAgent(Agent):
    """A Ray Tune ``Searcher`` as an ask/tell agent (metric ``"reward"``, mode ``"max"``).

    Subclasses build their searcher in ``make_searcher``; or pass any searcher built *without* a
    space, metric and mode (``SearcherAgent(space, seed=..., searcher=MySearch())``): the agent sets
    them. Each asked design is one of the searcher's trials; ``tell`` completes it.
    """

    name = "tune_searcher"
    METRIC = "reward"

    def __init__(self, space: DesignSpace, *, seed: int | None = None, searcher: Searcher | None = None,
                 **hyperparameters: Any) -> None:
        super().__init__(space, seed=seed, **hyperparameters)
        self.tune_space = tune_space(space)
        self._fixed = {p.name: p.value_at(0) for p in space if p.discrete and p.cardinality < 2}
        if searcher is None:
            searcher = self.make_searcher(self.tune_space) if self.tune_space else None
        elif not isinstance(searcher, Searcher):
            raise ValueError(f"{self.name}: searcher must be a ray.tune.search.Searcher, got {type(searcher).__name__}")
        elif self.tune_space and not searcher.set_search_properties(self.METRIC, "max", self.tune_space):
            raise ValueError(f"{self.name}: the searcher already has a search space; build it without space, "
                             "metric and mode: the agent gives it the design space, metric 'reward', mode 'max'")
        self.searcher = searcher
        self._pending: list[tuple[str, dict[str, Any]]] = []  # (trial id, design) asked, not yet told
        self._trials = 0

    def make_searcher(self, space: dict[str, Any]) -> Searcher:
        """The searcher over ``space`` (a Tune space), seeded with ``self.seed``."""
        raise ValueError(f"{self.name}: give a searcher (SearcherAgent(space, searcher=...)) or use a "
                         "subclass such as OptunaAgent")

    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        n = self._check_ask(n)
        out = []
        for _ in range(n):
            trial_id = f"archgym_{self._trials:06d}"
            self._trials += 1
            if self.searcher is None:  # nothing to search: every parameter is fixed
                design = dict(self._fixed)
            else:
                suggestion = self.searcher.suggest(trial_id)
                if not isinstance(suggestion, Mapping):
                    raise RuntimeError(f"{self.name}: the searcher gave no design ({suggestion!r})")
                design = self._to_design(suggestion)
            self._pending.append((trial_id, design))
            out.append(dict(design))
        return out

    def tell(self, designs: Sequence[Mapping[str, Any]], rewards: Sequence[float],
             evaluations: Sequence[Evaluation]) -> None:
        for design, reward in zip(designs, rewards):
            match = next((k for k, (_, d) in enumerate(self._pending) if d == dict(design)), None)
            if match is None:
                raise ValueError(f"{self.name}: told about a design it did not ask for: {dict(design)!r}")
            trial_id, _ = self._pending.pop(match)
            reward = float(reward)
            if not math.isfinite(reward):
                raise ValueError(f"{self.name}: reward must be finite, got {reward!r}")
            if self.searcher is not None:
                self.searcher.on_trial_complete(trial_id, {self.METRIC: reward})

    def seed32(self) -> int:
        """The seed for a library that takes 32-bit seeds (Optuna's samplers, HyperOpt): the agent's own seed
        below 2**32, else one drawn from the agent's generator (so a larger seed is still reproducible)."""
        if self.seed is not None and self.seed < 2**32:
            return self.seed
        return int(self.rng.integers(2**32))

    def _to_design(self, suggestion: Mapping[str, Any]) -> dict[str, Any]:
        design = {}
        for p in self.space:
            if p.name in self._fixed:
                design[p.name] = self._fixed[p.name]
            elif p.discrete:
                index = suggestion[p.name]
                if not is_integer(index) or not 0 <= index < p.cardinality:
                    raise RuntimeError(f"{self.name}: the searcher suggested index {index!r} for {p.name!r}, "
                                       f"outside 0..{p.cardinality - 1}")
                design[p.name] = p.value_at(int(index))
            else:
                design[p.name] = p.validate(float_from(p, float(suggestion[p.name])))
        return design


class OptunaAgent(SearcherAgent):
    """Optuna through Ray Tune's ``OptunaSearch``: TPE (default) or random sampling, seeded."""

    name = "optuna"
    hyperparameters = {
        "sampler": Hyperparameter("tpe", str, choices=("tpe", "random"), doc="Optuna sampler"),
        "n_startup_trials": Hyperparameter(10, int, 0, None, doc="TPE: random designs before the model is used",
                                           acts_when={"sampler": ("tpe",)}),
        "multivariate": Hyperparameter(False, bool, doc="TPE: model the knobs jointly",
                                       acts_when={"sampler": ("tpe",)}),
    }

    def make_searcher(self, space: dict[str, Any]) -> Searcher:
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        c = self.config
        seed = None if self.seed is None else self.seed32()
        if c["sampler"] == "tpe":
            sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=c["n_startup_trials"],
                                                 multivariate=c["multivariate"])
        else:
            sampler = optuna.samplers.RandomSampler(seed=seed)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        return OptunaSearch(OptunaSearch.convert_search_space(space), metric=self.METRIC, mode="max",
                            sampler=sampler)


class HyperOptAgent(SearcherAgent):
    """HyperOpt's tree-structured Parzen estimator through Ray Tune's ``HyperOptSearch``, seeded."""

    name = "hyperopt"
    hyperparameters = {
        "n_initial_points": Hyperparameter(20, int, 1, None, doc="random designs before TPE is used"),
        "gamma": Hyperparameter(0.25, float, 1e-6, 1.0, doc="TPE: fraction of designs counted as good"),
    }

    def make_searcher(self, space: dict[str, Any]) -> Searcher:
        from ray.tune.search.hyperopt import HyperOptSearch

        seed = self.seed32() if self.seed is not None else int(self.rng.integers(2**31 - 1))
        return HyperOptSearch(HyperOptSearch.convert_search_space(space), metric=self.METRIC, mode="max",
                              n_initial_points=self.config["n_initial_points"], random_state_seed=seed,
                              gamma=self.config["gamma"])


class NevergradAgent(SearcherAgent):
    """A Nevergrad optimizer through Ray Tune's ``NevergradSearch``, seeded."""

    name = "nevergrad"
    hyperparameters = {
        "optimizer": Hyperparameter("NGOpt", str, choices=("NGOpt", "OnePlusOne", "DE", "TwoPointsDE", "PSO",
                                                            "RandomSearch"),
                                    doc="Nevergrad optimizer (from nevergrad.optimizers.registry)"),
        "budget_hint": Hyperparameter(1000, int, 1, None,
                                      doc="evaluations the optimizer plans for (NGOpt picks its method by it)"),
    }

    def make_searcher(self, space: dict[str, Any]) -> Searcher:
        import nevergrad as ng
        from ray.tune.search.nevergrad import NevergradSearch

        searcher = NevergradSearch(ng.optimizers.registry[self.config["optimizer"]],
                                   optimizer_kwargs={"budget": self.config["budget_hint"]},
                                   space=nevergrad_parametrization(self.space, indices=True),
                                   metric=self.METRIC, mode="max")
        # NevergradSearch takes no seed: seed the parametrization its optimizer samples from
        optimizer = getattr(searcher, "_nevergrad_opt", None)
        if optimizer is None:
            raise RuntimeError("nevergrad: this Ray version's NevergradSearch cannot be seeded by archgym")
        optimizer.parametrization.random_state = np.random.RandomState(int(self.rng.integers(2**31 - 1)))
        return searcher
