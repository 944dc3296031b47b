"""``DesignEnv``: one gymnasium environment for every simulator, and the factory behind the env ids.

A step evaluates one design. The action is the design, encoded as

- ``"multidiscrete"`` (default): one index per parameter, ``MultiDiscrete(space.nvec)``;
- ``"dict"``: ``Dict({name: Discrete(n)})``, the same indices by name;
- ``"box"``: a unit vector in ``[0, 1]^d`` (each discrete value owns an equal bin; see
  ``simulators.core``), for continuous-action agents.

The observation is the metric vector of the last evaluated design followed by a feasibility flag
(1.0 feasible, 0.0 not or nothing evaluated yet), as ``float32``. ``observation="log"`` gives
``log10`` of each metric instead (metrics must then be positive; a non-positive or missing value
reads as the box's lower bound). Metrics an infeasible design cannot have read 0.

The reward comes from an ``Objective`` (``archgym.objective``): bounded, higher is better.
``info`` carries ``design``, ``metrics`` (without the ones an infeasible design cannot have),
``feasible``, ``reason``, ``distance`` (per target), ``step`` and ``evaluation`` (the simulator's
``Evaluation`` itself).

Episodes: an episode is ``max_steps`` evaluations. With ``max_steps=1`` (the default: bandit-style
design-space exploration, as in ArchGym) the one decision is the whole task, so the step
*terminates* the episode (there is no future to bootstrap). With ``max_steps > 1`` the designs of an
episode are independent tries and nothing ends the task, so reaching the limit is a time limit:
``truncated`` is true and ``terminated`` false, and a learner bootstraps the value of the last
observation as gymnasium's semantics ask.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from archgym.objective import Objective, build_objective
from simulators.core import Evaluation, Simulator
from simulators.loading import load_object
from simulators.params import check_int

__all__ = ["ACTION_TYPES", "BACKENDS", "ENV_KEYWORDS", "OBSERVATION_TYPES", "DesignEnv", "make_design_env",
           "resolve_simulator"]

ACTION_TYPES = ("multidiscrete", "dict", "box")
OBSERVATION_TYPES = ("raw", "log")
_FMAX = float(np.finfo(np.float32).max)
_LOG_LOW = -45.0  # log10 of the smallest positive float32 is about -44.85


class DesignEnv(gym.Env):
    """Design-space exploration over any ``Simulator`` with any ``Objective``."""

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        simulator: Simulator,
        objective: Objective | str | Mapping[str, Any] | None = None,
        *,
        targets: Mapping[str, Any] | None = None,
        action_type: str = "multidiscrete",
        observation: str = "raw",
        max_steps: int = 1,
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(simulator, Simulator):
            raise ValueError(f"simulator must be a simulators.core.Simulator, got {type(simulator).__name__}")
        if action_type not in ACTION_TYPES:
            raise ValueError(f"unknown action_type {action_type!r}; choose one of {list(ACTION_TYPES)}")
        if observation not in OBSERVATION_TYPES:
            raise ValueError(f"unknown observation {observation!r}; choose one of {list(OBSERVATION_TYPES)}")
        max_steps = check_int(max_steps, "max_steps", low=1)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"unknown render_mode {render_mode!r}; choose one of {self.metadata['render_modes']}")
        self.simulator = simulator
        self.space = simulator.space
        defaults = None if isinstance(objective, Objective) else simulator.default_targets()
        self.objective = build_objective(objective, simulator.metrics, targets=targets, default_targets=defaults)
        self.action_type = action_type
        self.observation_type = observation
        self.max_steps = max_steps
        self.render_mode = render_mode
        self.metric_names = simulator.metric_names

        if action_type == "multidiscrete":
            self.action_space = spaces.MultiDiscrete(self.space.nvec)
        elif action_type == "dict":
            self.action_space = spaces.Dict({p.name: spaces.Discrete(p.cardinality) for p in self.space})
        else:
            self.action_space = spaces.Box(0.0, 1.0, shape=(len(self.space),), dtype=np.float32)
        low = -_FMAX if observation == "raw" else _LOG_LOW
        n = len(self.metric_names)
        obs_low = np.array([low] * n + [0.0], dtype=np.float32)
        obs_high = np.array([_FMAX] * n + [1.0], dtype=np.float32)
        self.observation_space = spaces.Box(obs_low, obs_high, dtype=np.float32)
        self.reward_range = self.objective.reward_range

        self._steps = 0
        self._last: dict[str, Any] | None = None

    # -- encodings ------------------------------------------------------------------------------
    def action_to_design(self, action: Any) -> dict[str, Any]:
        """The design an action stands for (``ValueError`` when the action is outside the space)."""
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is outside the action space {self.action_space}")
        if self.action_type == "multidiscrete":
            return self.space.decode_indices(np.asarray(action, dtype=np.int64))
        if self.action_type == "dict":
            return self.space.decode_indices(np.array([int(action[name]) for name in self.space.names]))
        return self.space.decode_unit(np.asarray(action, dtype=np.float64))

    def design_to_action(self, design: Mapping[str, Any]) -> Any:
        """The action that evaluates ``design`` (validated)."""
        if self.action_type == "multidiscrete":
            return self.space.encode_indices(design)
        if self.action_type == "dict":
            idx = self.space.encode_indices(design)
            return {name: np.int64(i) for name, i in zip(self.space.names, idx)}
        return self.space.encode_unit(design).astype(np.float32)

    def observe(self, evaluation: Evaluation | None) -> np.ndarray:
        """The observation vector for an evaluation (all zeros before the first step)."""
        obs = np.zeros(len(self.metric_names) + 1, dtype=np.float32)
        if evaluation is None:
            if self.observation_type == "log":
                obs[:-1] = _LOG_LOW
            return obs
        values = np.array([evaluation.metrics.get(m, math.nan) for m in self.metric_names], dtype=np.float64)
        if self.observation_type == "log":
            with np.errstate(divide="ignore", invalid="ignore"):
                logged = np.log10(values)
            values = np.where(np.isfinite(logged), logged, _LOG_LOW)
        values = np.where(np.isnan(values), 0.0, values)
        obs[:-1] = np.clip(values, self.observation_space.low[:-1], self.observation_space.high[:-1])
        obs[-1] = 1.0 if evaluation.feasible else 0.0
        return obs

    # -- gymnasium API --------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None,
              ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if options:
            raise ValueError(f"DesignEnv.reset takes no options, got {sorted(options)}")
        self._steps = 0
        self._last = None
        return self.observe(None), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._steps >= self.max_steps:
            raise RuntimeError("episode is over: call reset() before step()")
        design = self.action_to_design(action)
        evaluation = self.simulator.evaluate(design)
        reward = float(self.objective(evaluation))
        self._steps += 1
        info = {
            "design": design,
            "metrics": {k: v for k, v in evaluation.metrics.items() if not math.isnan(v)},
            "feasible": evaluation.feasible,
            "reason": evaluation.reason,
            "distance": self.objective.distances(evaluation.metrics) if evaluation.feasible else {},
            "step": self._steps,
            "evaluation": evaluation,
        }
        self._last = {"reward": reward, **info}
        at_limit = self._steps >= self.max_steps
        terminated = at_limit and self.max_steps == 1
        truncated = at_limit and self.max_steps > 1
        return self.observe(evaluation), reward, terminated, truncated, info

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        if self._last is None:
            return "no design evaluated yet"
        parts = [f"step {self._last['step']}: reward {self._last['reward']:.4f}"]
        parts += [f"  {k} = {v!r}" for k, v in self._last["design"].items()]
        parts += [f"  {k}: {v:.6g} {self.simulator.metric(k).unit}" for k, v in self._last["metrics"].items()]
        if not self._last["feasible"]:
            parts.append(f"  infeasible: {self._last['reason']}")
        return "\n".join(parts)


# --------------------------------------------------------------------------------------------------
# Factory used by the registered env ids
# --------------------------------------------------------------------------------------------------

#: ``gym.make`` keywords the environment takes; every other keyword goes to the simulator.
ENV_KEYWORDS = ("objective", "targets", "action_type", "observation", "max_steps", "render_mode")


def resolve_simulator(simulator: str | type[Simulator] | Simulator, kwargs: Mapping[str, Any]) -> Simulator:
    """Build a simulator from ``"module:Class"``, a class, or pass an instance through.

    A ``"module:Class"`` string imports that module (it runs code: use it for simulators you trust).
    """
    if isinstance(simulator, Simulator):
        if kwargs:
            raise ValueError(f"simulator kwargs {sorted(kwargs)} given with an already built simulator")
        return simulator
    if isinstance(simulator, str):
        simulator = load_object(simulator, "simulator")
    if not (isinstance(simulator, type) and issubclass(simulator, Simulator)):
        raise ValueError(f"simulator must be a Simulator subclass, instance or 'module:Class', got {simulator!r}")
    params = inspect.signature(simulator.__init__).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    allowed = [n for n, p in params.items() if n != "self" and p.kind in
               (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    unknown = [k for k in kwargs if k not in allowed]
    if unknown and not accepts_any:
        raise ValueError(f"unknown keyword(s) {unknown} for {simulator.__name__}; environment keywords are "
                         f"{list(ENV_KEYWORDS) + ['backend', 'proxy']}, simulator keywords are {allowed}")
    try:
        return simulator(**kwargs)
    except (TypeError, AttributeError, KeyError, IndexError, OverflowError) as exc:
        # a keyword of the wrong type got past the simulator's own checks: say which call failed
        shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        raise ValueError(f"{simulator.__name__}({shown}): a keyword has a value it cannot take "
                         f"({type(exc).__name__}: {exc})") from None


BACKENDS = ("sim", "proxy")


def make_design_env(simulator: str | type[Simulator] | Simulator, *, backend: str = "sim", proxy: Any = None,
                    **kwargs: Any) -> DesignEnv:
    """Build a ``DesignEnv``: environment keywords go to the env, the rest to the simulator.

    ``backend="sim"`` evaluates with the simulator itself. ``backend="proxy"`` evaluates with the
    trained proxy ``proxy`` (a directory written by ``archgym proxy train``, or a loaded
    ``archgym.proxy.ProxyModel``): the simulator is still built from the keywords, to check that the
    proxy was trained for the same simulator, workload, space, metrics and settings (``ValueError``
    naming what differs) and to supply the default design and targets.
    """
    env_kwargs = {k: kwargs.pop(k) for k in ENV_KEYWORDS if k in kwargs}
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {list(BACKENDS)}")
    if backend == "proxy" and proxy is None:
        raise ValueError("backend='proxy' needs proxy=MODEL_DIR, a directory written by `archgym proxy train`")
    if backend == "sim" and proxy is not None:
        raise ValueError(f"proxy={proxy!r} is only used with backend='proxy' (backend is 'sim')")
    sim = resolve_simulator(simulator, kwargs)
    if backend == "proxy":
        from archgym.proxy import ProxySimulator

        sim = ProxySimulator(proxy, simulator=sim)
    return DesignEnv(sim, **env_kwargs)
