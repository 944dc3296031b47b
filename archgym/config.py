"""Sweep specifications (``configs/sweeps/*.yaml``): loaded, validated with errors naming the key, expanded into trials.

A spec::

    name: quickstart
    env:                       # an env id, or {id: ..., kwargs: {...}} (kwargs go to gym.make); the id
                               # may be a plug-in's, a short form, or "package.module:ns/Name-v0"
      id: archgym/Systolic-v0
      kwargs: {workload: resnet18}
    budget: 200                # simulator evaluations per trial
    seeds: [0, 1, 2]           # or a count n, meaning 0..n-1
    agents:
      random_walk: {}          # default hyperparameters, one setting
      ga:
        hyperparameters:       # fixed value, or a search dimension
          population: {grid: [8, 16, 32]}
          mutation_prob: {uniform: [0.05, 0.5]}
          crossover_prob: 0.7
        samples: 2             # random draws of the non-grid dimensions per grid point
    search_seed: 0             # seeds the draws of hyperparameter settings
    tune:
      max_concurrent_trials: 2
      cpus_per_trial: 1
      scheduler: null          # or {type: asha, grace_period: 50, reduction_factor: 2}
      report_every: 10         # evaluations between reports to Ray Tune (default: budget / 10)
      max_failures: 0
    run_dir: runs/quickstart   # relative paths are relative to the current directory
    optimum: false             # true: the exact optimum (enumeration or DP) for regret in the report;
                               # best-known: long searches' best design, a bound (SoC-v0)
    imports: []                # modules this spec may import (see below)

Search dimensions: ``{grid: [...]}`` (every value), ``{choice: [...]}`` (one at random),
``{uniform: [low, high]}``, ``{loguniform: [low, high]}`` (integers are rounded when the
hyperparameter is an integer). Hyperparameter names and values are checked against the agent's
declaration; every trial is one agent, one hyperparameter setting and one seed.

Code: a spec is data, but ``env.kwargs.simulator: "mylab.sims:L2Cache"`` names a simulator class,
and resolving it imports ``mylab.sims`` (running that module's code, on every Ray worker), as does an env id
written ``"mylab.envs:mylab/L2-v0"``. A spec
may do so only for modules it lists under ``imports``, so reading a spec someone handed you never
runs code you did not see named. The list imports nothing itself: a module on it that neither names is refused.
"""

from __future__ import annotations

import itertools
import math
import os
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from simulators.params import (
    MAX_SEED,
    Choice,
    FloatRange,
    Parameter,
    check_bool,
    check_int,
    check_number,
    is_integer,
)
from simulators.yamldata import load_yaml, read_text

if TYPE_CHECKING:
    from agents import Hyperparameter

__all__ = ["SearchDim", "AgentSweep", "SweepSpec", "TrialSpec", "TuneSettings", "load_sweep", "parse_sweep"]

_DIM_KINDS = ("grid", "choice", "uniform", "loguniform")
#: the most trials one spec may expand to (each is a Ray task and a record; a typo like seeds: 1000000000
#: must not allocate the machine away)
MAX_TRIALS = 100_000
MAX_RETRIES = 100
_TOP_KEYS = ("name", "env", "budget", "seeds", "agents", "search_seed", "tune", "run_dir", "optimum", "imports")
_TUNE_KEYS = ("max_concurrent_trials", "cpus_per_trial", "scheduler", "report_every", "max_failures", "num_cpus")
_SCHEDULER_KEYS = ("type", "grace_period", "reduction_factor")


class SpecError(ValueError):
    """A malformed sweep spec; the message names the key."""


def _fail(where: str, message: str) -> SpecError:
    return SpecError(f"{where}: {message}")


def _checked(where: str, check: Any, value: Any, **bounds: Any) -> Any:
    """``check(value, ...)`` of ``simulators.params`` with the error as ``"<where>: must be ..."``."""
    try:
        return check(value, "", **bounds)
    except ValueError as exc:
        raise _fail(where, str(exc).lstrip()) from None


def _int(where: str, value: Any, low: int | None = None) -> int:
    return _checked(where, check_int, value, low=low)


@dataclass(frozen=True)
class SearchDim:
    """One searched hyperparameter: how it is drawn (``kind``) and the domain it is drawn from.

    ``grid`` (every value) and ``choice`` (one at random) search a ``Choice`` of values; ``uniform``
    searches a ``FloatRange`` and ``loguniform`` a log-scaled one (``simulators.params``, the domain
    types of design knobs and hyperparameters). Every value and bound is one the hyperparameter allows.
    """

    kind: str
    domain: Parameter

    @property
    def values(self) -> tuple[Any, ...]:
        """The listed values (grid, choice) or the bounds ``(low, high)`` (uniform, loguniform)."""
        if isinstance(self.domain, Choice):
            return self.domain.values
        return (self.domain.low, self.domain.high)

    def draw(self, rng: np.random.Generator, kind_of: type) -> Any:
        x = self.domain.sample(rng)
        if isinstance(self.domain, Choice):
            return x
        return int(round(x)) if kind_of is int else float(x)


@dataclass(frozen=True)
class AgentSweep:
    """Which hyperparameters of one agent are fixed and which are searched."""

    name: str
    fixed: dict[str, Any]
    search: dict[str, SearchDim]
    samples: int = 1

    def count(self) -> int:
        """How many settings ``settings`` gives, without making them."""
        grid = [len(d.values) for d in self.search.values() if d.kind == "grid"]
        draws = self.samples if any(d.kind != "grid" for d in self.search.values()) else 1
        return math.prod(grid) * draws

    def settings(self, rng: np.random.Generator) -> list[dict[str, Any]]:
        """Every hyperparameter setting: grid points x ``samples`` draws of the random dimensions."""
        from agents import get

        declared = get(self.name).hyperparameters
        ordered = sorted(self.search.items())  # draws must not depend on the order keys were written in
        grid = {k: d.values for k, d in ordered if d.kind == "grid"}
        random_dims = {k: d for k, d in ordered if d.kind != "grid"}
        draws = self.samples if random_dims else 1
        out = []
        for point in itertools.product(*grid.values()) if grid else [()]:
            for _ in range(draws):
                setting = dict(self.fixed)
                setting.update(zip(grid, point))
                for k, d in random_dims.items():
                    setting[k] = d.draw(rng, declared[k].kind)
                out.append(dict(sorted(setting.items())))
        return out


@dataclass(frozen=True)
class TuneSettings:
    max_concurrent_trials: int | None = None
    cpus_per_trial: float = 1.0
    scheduler: dict[str, Any] | None = None
    report_every: int | None = None
    max_failures: int = 0
    num_cpus: int | None = None  # CPUs of the embedded Ray (default: this machine's)


@dataclass(frozen=True)
class TrialSpec:
    """One Ray Tune trial: an agent, a hyperparameter setting and a seed."""

    trial_id: str
    agent: str
    setting: int
    hyperparameters: dict[str, Any]
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {"trial_id": self.trial_id, "agent": self.agent, "setting": self.setting,
                "hyperparameters": dict(self.hyperparameters), "seed": self.seed}


@dataclass(frozen=True)
class SweepSpec:
    name: str
    env_id: str
    env_kwargs: dict[str, Any]
    budget: int
    seeds: tuple[int, ...]
    agents: tuple[AgentSweep, ...]
    search_seed: int = 0
    tune: TuneSettings = field(default_factory=TuneSettings)
    run_dir: Path = Path("runs")
    optimum: bool | str = False  # True, False or "best-known"
    source: str = "<spec>"
    imports: tuple[str, ...] = ()
    env_module: str | None = None  # the module of a "module:ns/Name-v0" id (Ray workers import it too)

    def trials(self) -> list[TrialSpec]:
        """The deterministic list of trials (same spec, same trials, whatever the order of the agents)."""
        out = []
        for sweep in self.agents:
            rng = np.random.default_rng([self.search_seed, zlib.crc32(sweep.name.encode())])
            for k, setting in enumerate(sweep.settings(rng)):
                for seed in self.seeds:
                    out.append(TrialSpec(f"{sweep.name}-{k:03d}-s{seed}", sweep.name, k, setting, seed))
        return out

    @property
    def env_reference(self) -> str:
        """The id as another process must be given it: with its module when it was written ``module:id``."""
        return f"{self.env_module}:{self.env_id}" if self.env_module else self.env_id

    @property
    def report_every(self) -> int:
        return self.tune.report_every or max(1, self.budget // 10)

    def to_dict(self) -> dict[str, Any]:
        """The spec as YAML-able data (what the run directory keeps, with ``run_dir`` absolute)."""
        return {
            "name": self.name, "env": {"id": self.env_reference, "kwargs": self.env_kwargs}, "budget": self.budget,
            "seeds": list(self.seeds), "search_seed": self.search_seed,
            "agents": {a.name: {"hyperparameters": {**a.fixed, **{k: {d.kind: list(d.values)}
                                                                    for k, d in a.search.items()}},
                                "samples": a.samples} for a in self.agents},
            "tune": {k: getattr(self.tune, k) for k in _TUNE_KEYS}, "run_dir": str(self.run_dir),
            "optimum": self.optimum, "imports": list(self.imports),
        }


def _parse_dim(where: str, name: str, raw: Any, hp: Hyperparameter) -> SearchDim | Any:
    """A fixed value (checked) or a search dimension (its values checked)."""
    if not isinstance(raw, Mapping):
        return _check_value(where, name, raw, hp)
    if len(raw) != 1 or next(iter(raw)) not in _DIM_KINDS:
        raise _fail(where, f"a search dimension is one of {{{', '.join(k + ': ...' for k in _DIM_KINDS)}}}, "
                           f"got {dict(raw)!r}")
    kind, values = next(iter(raw.items()))
    if kind in ("grid", "choice"):
        if not isinstance(values, list) or not values:
            raise _fail(f"{where}.{kind}", "must be a non-empty list of values")
        checked = [_check_value(f"{where}.{kind}", name, v, hp) for v in values]
        try:
            return SearchDim(kind, Choice(name, checked, label="hyperparameter"))
        except ValueError as exc:
            raise _fail(f"{where}.{kind}", str(exc)) from None
    if not (isinstance(values, list) and len(values) == 2):
        raise _fail(f"{where}.{kind}", f"must be [low, high], got {values!r}")
    if hp.kind not in (int, float) or hp.choices is not None:
        raise _fail(f"{where}.{kind}", f"needs a numeric hyperparameter; this one is {hp.describe()}")
    low, high = (_check_value(f"{where}.{kind}", name, v, hp) for v in values)
    if not low < high:
        raise _fail(f"{where}.{kind}", f"needs low < high, got [{low}, {high}]")
    if kind == "loguniform" and low <= 0:
        raise _fail(f"{where}.{kind}", f"needs low > 0, got {low}")
    return SearchDim(kind, FloatRange(name, low, high, log=kind == "loguniform", label="hyperparameter"))


def _check_value(where: str, name: str, value: Any, hp: Hyperparameter) -> Any:
    try:
        return hp.domain(name).validate(value)
    except ValueError as exc:
        raise _fail(where, str(exc)) from None


def _parse_agent(where: str, name: str, raw: Any) -> AgentSweep:
    from agents import available, get

    if name not in available():
        raise _fail(where, f"unknown agent {name!r}; available: {list(available())}")
    raw = {} if raw is None else raw
    if not isinstance(raw, Mapping):
        raise _fail(where, f"must be a mapping with 'hyperparameters' and 'samples', got {raw!r}")
    unknown = sorted(set(raw) - {"hyperparameters", "samples"})
    if unknown:
        raise _fail(where, f"unknown key(s) {unknown}; allowed: hyperparameters, samples")
    declared = get(name).hyperparameters
    hps = raw.get("hyperparameters") or {}
    if not isinstance(hps, Mapping):
        raise _fail(f"{where}.hyperparameters", f"must be a mapping, got {hps!r}")
    fixed, search = {}, {}
    for key, value in hps.items():
        if key not in declared:
            raise _fail(f"{where}.hyperparameters", f"unknown hyperparameter {key!r} for {name}; "
                                                   f"allowed: {sorted(declared)}")
        parsed = _parse_dim(f"{where}.hyperparameters.{key}", key, value, declared[key])
        (search if isinstance(parsed, SearchDim) else fixed)[key] = parsed
    samples = _int(f"{where}.samples", raw.get("samples", 1), low=1)
    if samples > 1 and not any(d.kind != "grid" for d in search.values()):
        raise _fail(f"{where}.samples", f"draws the random dimensions (uniform, loguniform, choice), and {name} "
                                        f"has none here: {samples} samples would run the same settings once")
    return AgentSweep(name, fixed, search, samples)


def _parse_tune(where: str, raw: Any) -> TuneSettings:
    raw = {} if raw is None else raw
    if not isinstance(raw, Mapping):
        raise _fail(where, f"must be a mapping, got {raw!r}")
    unknown = sorted(set(raw) - set(_TUNE_KEYS))
    if unknown:
        raise _fail(where, f"unknown key(s) {unknown}; allowed: {list(_TUNE_KEYS)}")
    mct = raw.get("max_concurrent_trials")
    if mct is not None:
        _int(f"{where}.max_concurrent_trials", mct, low=1)
    cpus = _checked(f"{where}.cpus_per_trial", check_number, raw.get("cpus_per_trial", 1.0), low=0, low_open=True,
                    high=64)
    scheduler = raw.get("scheduler")
    if scheduler is not None:
        if not isinstance(scheduler, Mapping) or scheduler.get("type") != "asha":
            raise _fail(f"{where}.scheduler", f"must be null or {{type: asha, ...}}, got {scheduler!r}")
        bad = sorted(set(scheduler) - set(_SCHEDULER_KEYS))
        if bad:
            raise _fail(f"{where}.scheduler", f"unknown key(s) {bad}; allowed: {list(_SCHEDULER_KEYS)}")
        if "grace_period" in scheduler:
            _int(f"{where}.scheduler.grace_period", scheduler["grace_period"], low=1)
        if "reduction_factor" in scheduler:
            # a factor above the trial count keeps the same one trial per rung as the trial count does
            _checked(f"{where}.scheduler.reduction_factor", check_number, scheduler["reduction_factor"], low=1,
                     low_open=True, high=MAX_TRIALS)
        scheduler = dict(scheduler)
    every = raw.get("report_every")
    if every is not None:
        _int(f"{where}.report_every", every, low=1)
    num_cpus = raw.get("num_cpus")
    if num_cpus is not None:
        _int(f"{where}.num_cpus", num_cpus, low=1)
    # a trial is retried after a failure; one that failed this often fails for a reason retries only hide
    failures = _checked(f"{where}.max_failures", check_int, raw.get("max_failures", 0), low=0, high=MAX_RETRIES)
    return TuneSettings(mct, float(cpus), scheduler, every, failures, num_cpus)


def parse_sweep(data: Any, source: str = "<spec>", base_dir: Path | None = None, *,
                own_imports: bool = True, resuming: bool = False) -> SweepSpec:
    """Validate spec data (as loaded from YAML) into a ``SweepSpec``; errors name ``source`` and the key.

    ``own_imports=False`` reads a spec that someone else's ``imports`` list may not vouch for (a run
    directory's ``spec.yaml``, possibly handed over): a module it names must be one
    ``archgym.registry.trusted_module`` allows, e.g. imported first (``archgym report --import``).
    ``resuming=True`` reads a spec for ``--resume``: one that an earlier archgym ran is taken as it was (its
    ``imports`` may list a module that nothing imports, which a new sweep refuses)."""
    where = source
    if not isinstance(data, Mapping):
        raise _fail(where, "a sweep spec is a mapping (see archgym/config.py)")
    unknown = sorted(set(data) - set(_TOP_KEYS))
    if unknown:
        raise _fail(where, f"unknown key(s) {unknown}; allowed: {list(_TOP_KEYS)}")
    for key in ("env", "budget", "agents"):
        if key not in data:
            raise _fail(where, f"missing required key {key!r}")
    if "name" in data and not (isinstance(data["name"], str) and data["name"]):
        raise _fail(f"{where}: name", f"must be a non-empty name (or left out: the file's stem), got {data['name']!r}")
    name = data.get("name") or Path(source).stem
    if not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
        raise _fail(f"{where}: name", f"must be letters, digits, '-' or '_', got {name!r}")

    env = data["env"]
    if isinstance(env, str):
        env_id, env_kwargs = env, {}
    elif isinstance(env, Mapping) and set(env) <= {"id", "kwargs"} and "id" in env:
        kwargs = env.get("kwargs") or {}
        if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
            raise _fail(f"{where}: env.kwargs", f"must map keyword names to values (gym.make's keywords), got "
                                               f"{kwargs!r}")
        env_id, env_kwargs = env["id"], dict(kwargs)
    else:
        raise _fail(f"{where}: env", f"must be an env id or {{id: ..., kwargs: {{...}}}}, got {env!r}")
    imports = data.get("imports", [])
    if not isinstance(imports, list) or not all(isinstance(m, str) and m for m in imports):
        raise _fail(f"{where}: imports", f"must be a list of module names, got {imports!r}")
    vouched = imports if own_imports else []
    sim_module = _check_code(f"{where}: env.kwargs.simulator", env_kwargs.get("simulator"), vouched, own_imports)
    import gymnasium

    from archgym.catalog import resolve_env_id, split_env_module

    if not isinstance(env_id, str):
        raise _fail(f"{where}: env.id", f"must be an env id, got {env_id!r}")
    try:
        env_module = split_env_module(env_id)[0]
    except ValueError as exc:
        raise _fail(f"{where}: env.id", str(exc)) from None
    if env_module is not None and not _allowed(env_module, vouched, own_imports):
        raise _fail(f"{where}: env.id", f"{env_id!r} imports {env_module!r}, which runs that module's code; "
                                        + _how_to_allow(env_module, own_imports))
    used = [m for m in (env_module, sim_module) if m is not None]
    unused = [m for m in imports if m not in used]
    if unused and own_imports and not resuming:  # (a spec that already ran is resumed as it was)
        raise _fail(f"{where}: imports", f"{unused} would not be imported: the list allows the modules env.id or "
                                         "env.kwargs.simulator name, here "
                                         + (f"{used}" if used else "none (the spec needs no imports list)"))
    try:
        env_id = resolve_env_id(env_id)
    except ValueError as exc:
        raise _fail(f"{where}: env.id", str(exc)) from None
    try:
        gymnasium.make(env_id, **env_kwargs)  # catches bad workloads, targets, keywords before Ray starts
    except ValueError as exc:
        raise _fail(f"{where}: env.kwargs", str(exc)) from None

    from archgym.explore import check_budget

    budget = _int(f"{where}: budget", data["budget"], low=1)
    try:
        check_budget(budget)
    except ValueError as exc:
        raise _fail(f"{where}: budget", str(exc)) from None
    seeds_raw = data.get("seeds", 1)
    if is_integer(seeds_raw):
        n = _int(f"{where}: seeds", seeds_raw, low=1)
        if n > MAX_TRIALS:
            raise _fail(f"{where}: seeds", f"{n} seeds is more trials than a sweep runs (at most {MAX_TRIALS:,})")
        seeds = tuple(range(n))
    elif isinstance(seeds_raw, list) and seeds_raw:
        seeds = tuple(_int(f"{where}: seeds[{i}]", s, low=0) for i, s in enumerate(seeds_raw))
        if any(s > MAX_SEED for s in seeds):
            raise _fail(f"{where}: seeds", f"must be at most {MAX_SEED} (2**63 - 1: what a seed column holds)")
        if len(set(seeds)) != len(seeds):
            raise _fail(f"{where}: seeds", f"must be distinct, got {seeds_raw}")
    else:
        raise _fail(f"{where}: seeds", f"must be a count or a non-empty list of integers, got {seeds_raw!r}")

    agents_raw = data["agents"]
    if not isinstance(agents_raw, Mapping) or not agents_raw:
        raise _fail(f"{where}: agents", "must map agent names to their sweep (at least one agent)")
    sweeps = tuple(_parse_agent(f"{where}: agents.{n}", n, raw) for n, raw in agents_raw.items())
    trials = sum(a.count() for a in sweeps) * len(seeds)
    if trials > MAX_TRIALS:
        raise _fail(f"{where}: agents", f"the spec expands to {trials:,} trials (settings x seeds), more than a sweep "
                                        f"runs (at most {MAX_TRIALS:,}): narrow the grids, samples or seeds")
    tune_settings = _parse_tune(f"{where}: tune", data.get("tune"))
    grace = (tune_settings.scheduler or {}).get("grace_period")
    if grace is not None and grace >= budget:
        raise _fail(f"{where}: tune.scheduler.grace_period", f"{grace} is not below the budget ({budget}): the "
                                                            "scheduler could never stop a trial early")
    every = tune_settings.report_every
    if tune_settings.scheduler is not None and every is not None and every >= budget:
        raise _fail(f"{where}: tune.report_every", f"{every} is not below the budget ({budget}): a trial reports only "
                                                  "when it ends, so the scheduler could never stop one early")
    search_seed = _int(f"{where}: search_seed", data.get("search_seed", 0), low=0)

    run_dir_raw = data.get("run_dir", f"runs/{name}")
    if not isinstance(run_dir_raw, str) or not run_dir_raw:
        raise _fail(f"{where}: run_dir", f"must be a path, got {run_dir_raw!r}")
    run_dir = Path(os.path.expanduser(run_dir_raw))
    run_dir = (base_dir or Path.cwd()) / run_dir if not run_dir.is_absolute() else run_dir
    optimum = data.get("optimum", False)
    if optimum != "best-known":
        optimum = _checked(f"{where}: optimum", check_bool, optimum)
    return SweepSpec(name, env_id, env_kwargs, budget, seeds, sweeps, search_seed, tune_settings,
                     run_dir.resolve(), optimum, source, tuple(imports), env_module)


def _allowed(module: str, imports: list[str], own_imports: bool) -> bool:
    """A module a spec may make archgym import: one it lists under ``imports``, or a trusted one (a spec
    file of your own: not merely because this process imported it, as the Ray workers have not)."""
    from archgym.registry import trusted_module

    return module in imports or trusted_module(module, imported=not own_imports, plugins=not own_imports)


def _how_to_allow(module: str, own_imports: bool) -> str:
    if own_imports:
        return f"list it under 'imports: [{module}]' in the spec to allow it"
    return (f"a run directory's spec cannot vouch for its own code: if you trust it, pass --import {module} "
            "(or import it first in Python)")


def _check_code(where: str, target: Any, imports: list[str], own_imports: bool = True) -> str | None:
    """A ``"module:Class"`` string is allowed only for a module the spec lists under ``imports`` (or a
    trusted one: ``archgym.registry.trusted_module``); its module, or ``None`` for anything else."""
    if not isinstance(target, str):
        return None
    from simulators.loading import split_target

    try:
        module, _ = split_target(target, "simulator")
    except ValueError as exc:
        raise _fail(where, str(exc)) from None
    if not _allowed(module, imports, own_imports):
        raise _fail(where, f"{target!r} imports {module!r}, which runs that module's code; "
                           + _how_to_allow(module, own_imports))
    return module


def check_trial_agents(spec: SweepSpec) -> None:
    """``SpecError`` for a trial whose agent would refuse its hyperparameters together (``ga``: a
    ``tournament_size`` above ``population``, ``nsga2``: a population it cannot split), found by building
    each setting's agent on the env's space once, before a run directory or Ray exists. (Each value alone
    was checked when the spec was read.)"""
    from agents import get, unused_hyperparameters
    from archgym.catalog import make_env
    from archgym.explore import explorable

    try:
        space = explorable(make_env(spec.env_id, spec.env_kwargs)).space
    except ValueError as exc:
        raise _fail(f"{spec.source}: env", str(exc)) from None
    seen: set[tuple[str, int]] = set()
    ignored: dict[str, dict[str, list[str]]] = {}  # agent -> hyperparameter -> why, per setting that ignores it
    settings: dict[str, int] = {}
    for trial in spec.trials():
        if (trial.agent, trial.setting) in seen:
            continue
        seen.add((trial.agent, trial.setting))
        cls = get(trial.agent)
        try:
            cls(space, seed=trial.seed, **trial.hyperparameters)
        except ValueError as exc:
            raise _fail(f"{spec.source}: agents.{trial.agent}", f"setting {trial.setting} "
                                                                 f"{trial.hyperparameters}: {exc}") from None
        settings[trial.agent] = settings.get(trial.agent, 0) + 1
        for why in unused_hyperparameters(cls.hyperparameters, trial.hyperparameters):
            ignored.setdefault(trial.agent, {}).setdefault(why.split(" ", 1)[0], []).append(why)
    for agent, names in ignored.items():  # one that acts in some settings may be fixed across all of them
        for name, whys in names.items():
            if len(whys) == settings[agent]:
                raise _fail(f"{spec.source}: agents.{agent}.hyperparameters.{name}",
                            f"the agent ignores it in every setting of this sweep: {whys[0].split(' ', 1)[1]}; "
                            f"its settings would differ in name only")


def load_sweep(path: str | os.PathLike[str], *, resuming: bool = False) -> SweepSpec:
    """Read and validate a sweep YAML file (``run_dir`` relative to the current directory); ``resuming``
    as ``parse_sweep`` takes it."""
    path = Path(path)
    if path.is_dir():
        hint = (" (a sweep's run directory: continue it with --resume)" if (path / "spec.yaml").is_file()
                else "")
        raise SpecError(f"sweep spec {str(path)!r} is a directory, not a YAML file{hint}")
    if not path.is_file():
        raise SpecError(f"sweep spec {str(path)!r} " + ("is not a regular file" if path.exists() else "does not exist"))
    try:
        data = load_yaml(read_text(path, "sweep spec"))
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML ({exc})") from None
    return parse_sweep(data, source=str(path), resuming=resuming)
