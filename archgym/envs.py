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

``episode="sequential"`` builds one design over several steps instead, one knob per step in the
space's order (ArchGym's time-division-multiplexed form, for RL clients such as DQN and MaskablePPO):

- the action is ``Discrete(largest knob cardinality)``: the index of the current knob's value;
- the observation is ``2 * d`` numbers in ``[0, 1]``: per knob, the centre of its chosen index's bin
  (``(index + 0.5) / n``, as the unit encoding of a discrete knob) or 0 while unset, then a one-hot
  of the knob set now (all zero once the design is complete);
- ``info["action_mask"]`` (and ``env.action_masks()``, which sb3-contrib's ``MaskablePPO`` calls)
  allows the current knob's indices that the simulator's ``allowed_values`` accepts given the knobs
  set so far: every index on most simulators, only structurally valid choices on SoC-v0 (no task on
  an unallocated core, no memory on no bus, ...), so a masked episode always ends in a design the
  simulator can build;
- the steps before the last give reward 0; setting the last knob evaluates the design (the only
  simulator evaluation of the episode), gives its reward, terminates, and ``info`` is the one-step
  ``info``. An index the mask refuses ends the episode at once with the objective's
  ``infeasible_reward`` and ``info["invalid_action"]`` true, without an evaluation.

``archgym.explore`` and the agents run the one-step form (one design per ``env.step``, the unit their
budgets count); they refuse a sequential env.

Rendering: ``render_mode="ansi"`` gives text, ``"rgb_array"`` a small picture (``uint8``, height x
width x 3) of the last design's metrics against the objective's targets, drawn with matplotlib's Agg
backend (no display needed).
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
from simulators.core import Evaluation, FloatRange, Simulator
from simulators.loading import load_object
from simulators.params import check_int

__all__ = ["ACTION_TYPES", "BACKENDS", "ENV_KEYWORDS", "EPISODE_TYPES", "OBSERVATION_TYPES", "DesignEnv",
           "make_design_env", "resolve_simulator"]

ACTION_TYPES = ("multidiscrete", "dict", "box")
OBSERVATION_TYPES = ("raw", "log")
EPISODE_TYPES = ("one-step", "sequential")
_FMAX = float(np.finfo(np.float32).max)
_LOG_LOW = -45.0  # log10 of the smallest positive float32 is about -44.85


class DesignEnv(gym.Env):
    """Design-space exploration over any ``Simulator`` with any ``Objective``."""

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    _spec: Any = None

    @property
    def spec(self) -> Any:
        """The gymnasium ``EnvSpec`` this env was made from (``gymnasium.make`` sets it); a built-in id
        set on an env of another simulator is refused (``archgym.registry.check_builtin_simulator``)."""
        return self._spec

    @spec.setter
    def spec(self, value: Any) -> None:
        if value is not None:
            from archgym.registry import check_builtin_simulator

            check_builtin_simulator(value.id, self.simulator)
        self._spec = value

    def __init__(
        self,
        simulator: Simulator,
        objective: Objective | str | Mapping[str, Any] | None = None,
        *,
        targets: Mapping[str, Any] | None = None,
        action_type: str = "multidiscrete",
        observation: str = "raw",
        max_steps: int = 1,
        episode: str = "one-step",
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(simulator, Simulator):
            raise ValueError(f"simulator must be a simulators.core.Simulator, got {type(simulator).__name__}")
        if action_type not in ACTION_TYPES:
            raise ValueError(f"unknown action_type {action_type!r}; choose one of {list(ACTION_TYPES)}")
        if observation not in OBSERVATION_TYPES:
            raise ValueError(f"unknown observation {observation!r}; choose one of {list(OBSERVATION_TYPES)}")
        max_steps = check_int(max_steps, "max_steps", low=1)
        if episode not in EPISODE_TYPES:
            raise ValueError(f"unknown episode {episode!r}; choose one of {list(EPISODE_TYPES)}")
        if episode == "sequential":
            if action_type != "multidiscrete":
                raise ValueError(f"episode='sequential' takes one Discrete action per knob; action_type="
                                 f"{action_type!r} applies to one-step episodes")
            if max_steps != 1:
                raise ValueError(f"episode='sequential' builds one design per episode; max_steps={max_steps} "
                                 "applies to one-step episodes")
            if not simulator.space.indexable:
                raise ValueError("episode='sequential' picks each knob's value by index: every parameter needs an "
                                 "index encoding (give float ranges levels=N)")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise _unknown_render_mode(render_mode)
        self.simulator = simulator
        self.space = simulator.space
        defaults = None if isinstance(objective, Objective) else simulator.default_targets()
        self.objective = build_objective(objective, simulator.metrics, targets=targets, default_targets=defaults)
        self.action_type = action_type
        self.observation_type = observation
        self.max_steps = max_steps
        self.episode = episode
        self.render_mode = render_mode
        self.metric_names = simulator.metric_names

        if episode == "sequential":
            self.action_space = spaces.Discrete(int(self.space.nvec.max()))
        elif action_type == "multidiscrete":
            self.action_space = spaces.MultiDiscrete(self.space.nvec)
        elif action_type == "dict":
            self.action_space = spaces.Dict({p.name: spaces.Discrete(p.cardinality) for p in self.space})
        else:
            self.action_space = spaces.Box(0.0, 1.0, shape=(len(self.space),), dtype=np.float32)
        low = -_FMAX if observation == "raw" else _LOG_LOW
        n = len(self.metric_names)
        obs_low = np.array([low] * n + [0.0], dtype=np.float32)
        obs_high = np.array([_FMAX] * n + [1.0], dtype=np.float32)
        if episode == "sequential":
            self.observation_space = spaces.Box(0.0, 1.0, shape=(2 * len(self.space),), dtype=np.float32)
        else:
            self.observation_space = spaces.Box(obs_low, obs_high, dtype=np.float32)
        self.reward_range = self.objective.reward_range

        self._steps = 0
        self._over = False  # the episode has ended (a sequential one can end before max_steps)
        self._last: dict[str, Any] | None = None
        self._expected: tuple[dict[str, Any], dict[str, Any]] | None = None  # (what an action decodes to, design)
        self._chosen: dict[str, Any] = {}  # sequential: the knobs set so far, in the space's order
        self._indices: list[int] = []
        self._mask = np.ones(self.action_space.n if episode == "sequential" else 0, dtype=bool)

    # -- encodings ------------------------------------------------------------------------------
    def action_to_design(self, action: Any) -> dict[str, Any]:
        """The design an action stands for (``ValueError`` when the action is outside the space)."""
        self._need_one_step("action_to_design")
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is outside the action space {self.action_space}"
                             f"{_why_outside(self.action_space, action)}")
        if self.action_type == "multidiscrete":
            return self.space.decode_indices(np.asarray(action, dtype=np.int64))
        if self.action_type == "dict":
            return self.space.decode_indices(np.array([int(action[name]) for name in self.space.names]))
        return self.space.decode_unit(np.asarray(action, dtype=np.float64))

    def design_to_action(self, design: Mapping[str, Any]) -> Any:
        """The action that stands for ``design`` (validated). It evaluates ``design`` itself unless a float
        knob is off its encoding's grid: index encodings hold a ``FloatRange``'s ``levels``, the box float32
        (``expect_design`` evaluates such a design exactly)."""
        self._need_one_step("design_to_action")
        if self.action_type == "multidiscrete":
            return self.space.encode_indices(design)
        if self.action_type == "dict":
            idx = self.space.encode_indices(design)
            return {name: np.int64(i) for name, i in zip(self.space.names, idx)}
        return self.space.encode_unit(design).astype(np.float32)

    def expect_design(self, design: Mapping[str, Any]) -> Any:
        """The action for ``design``, with the promise that the next ``step`` given that action evaluates
        ``design`` itself rather than what the action decodes to (they differ only for a float knob off
        the encoding's grid). A driver that proposes designs (``archgym.explore``) steps this way, so an
        agent is told the reward of exactly what it asked for; a step with another action, or after a
        ``reset``, is unaffected."""
        action = self.design_to_action(design)
        if any(isinstance(p, FloatRange) for p in self.space):  # (other knobs' encodings are exact)
            self._expected = (self.action_to_design(action), self.space.validate(design))
        return action

    def _need_one_step(self, what: str) -> None:
        if self.episode != "one-step":
            raise ValueError(f"{what} encodes a whole design as one action (episode='one-step'); a sequential "
                             "episode sets one knob per step (see action_masks())")

    def action_masks(self) -> np.ndarray:
        """Which actions are allowed now (``bool``), as sb3-contrib's ``MaskablePPO`` asks.

        Sequential episodes: one entry per ``Discrete`` action, true for the current knob's allowed
        indices (every action once the episode is over: nothing is decided by it). One-step episodes
        with ``MultiDiscrete`` actions: every index of every knob (``sum(nvec)`` entries).
        """
        if self.episode == "sequential":
            return self._mask.copy()
        if self.action_type != "multidiscrete":
            raise ValueError(f"action masks are for discrete actions; this env's action_type is {self.action_type!r}")
        return np.ones(int(self.space.nvec.sum()), dtype=bool)

    def _knob_mask(self) -> np.ndarray:
        """The mask of the knob to set next (sequential episodes), from the simulator's ``allowed_values``."""
        p = self.space.parameters[len(self._indices)]
        allowed = np.asarray(self.simulator.allowed_values(p.name, dict(self._chosen)), dtype=bool)
        if allowed.shape != (p.cardinality,):
            raise ValueError(f"simulator {type(self.simulator).__name__}: allowed_values({p.name!r}) returned "
                             f"shape {allowed.shape}, expected ({p.cardinality},)")
        if not allowed.any():
            raise RuntimeError(f"simulator {type(self.simulator).__name__} allows no value of {p.name!r} after "
                               f"{self._chosen}: allowed_values must leave a value for every prefix it allowed")
        mask = np.zeros(self.action_space.n, dtype=bool)
        mask[: p.cardinality] = allowed
        return mask

    def _observe_knobs(self) -> np.ndarray:
        d = len(self.space)
        obs = np.zeros(2 * d, dtype=np.float32)
        k = len(self._indices)
        if k:
            obs[:k] = (np.asarray(self._indices) + 0.5) / self.space.nvec[:k]
        if k < d:
            obs[d + k] = 1.0
        return obs

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
        self._over = False
        self._last = None
        self._expected = None
        if self.episode == "one-step":
            return self.observe(None), {}
        self._chosen, self._indices = {}, []
        self._mask = self._knob_mask()
        return self._observe_knobs(), {"action_mask": self._mask.copy()}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._over:
            raise RuntimeError("episode is over: call reset() before step()")
        if self.episode == "sequential":
            return self._step_knob(action)
        design = self.action_to_design(action)
        expected, self._expected = self._expected, None
        if expected is not None and expected[0] == design:
            design = expected[1]
        self._steps += 1
        reward, info = self._evaluate(design)
        at_limit = self._steps >= self.max_steps
        terminated = at_limit and self.max_steps == 1
        truncated = at_limit and self.max_steps > 1
        self._over = at_limit
        return self.observe(info["evaluation"]), reward, terminated, truncated, info

    def _step_knob(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """A sequential step: set the current knob; evaluate once the last one is set."""
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is outside the action space {self.action_space}"
                             f"{_why_outside(self.action_space, action)}")
        p = self.space.parameters[len(self._indices)]
        index = int(action)
        self._steps += 1
        if not self._mask[index]:
            allowed = np.flatnonzero(self._mask).tolist()
            self._over = True
            self._mask = np.ones_like(self._mask)
            info = {"knob": p.name, "invalid_action": True, "step": self._steps, "action_mask": self._mask.copy(),
                    "reason": f"index {index} is not allowed for {p.name!r} now; allowed: {allowed}"}
            return self._observe_knobs(), float(self.objective.infeasible_reward), True, False, info
        self._indices.append(index)
        self._chosen[p.name] = p.value_at(index)
        if len(self._indices) < len(self.space):
            self._mask = self._knob_mask()
            return self._observe_knobs(), 0.0, False, False, {"knob": p.name, "step": self._steps,
                                                               "action_mask": self._mask.copy()}
        self._over = True
        self._mask = np.ones_like(self._mask)
        reward, info = self._evaluate(dict(self._chosen))
        info["action_mask"] = self._mask.copy()
        return self._observe_knobs(), reward, True, False, info

    def _evaluate(self, design: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        """One simulator evaluation of ``design``: the reward and the step's ``info``."""
        evaluation = self.simulator.evaluate(design)
        reward = float(self.objective(evaluation))
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
        return reward, info

    def render(self) -> str | np.ndarray | None:
        if self.render_mode == "ansi":
            return self._render_text()
        if self.render_mode == "rgb_array":
            return self._render_picture()
        return None

    def _render_text(self) -> str:
        if self._last is None:
            if self.episode == "sequential" and self._chosen:
                return "\n".join([f"{len(self._chosen)} of {len(self.space)} knobs set"] +
                                 [f"  {k} = {v!r}" for k, v in self._chosen.items()])
            return "no design evaluated yet"
        parts = [f"step {self._last['step']}: reward {self._last['reward']:.4f}"]
        parts += [f"  {k} = {v!r}" for k, v in self._last["design"].items()]
        parts += [f"  {k}: {v:.6g} {self.simulator.metric(k).unit}" for k, v in self._last["metrics"].items()]
        if not self._last["feasible"]:
            parts.append(f"  infeasible: {self._last['reason']}")
        return "\n".join(parts)

    def _render_picture(self) -> np.ndarray:
        """The last design's metrics over their targets (log scale; green: met), as an RGB array."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(4.0, 3.0), dpi=80)
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        last = self._last
        if last is None:
            ax.axis("off")
            ax.text(0.5, 0.5, self._render_text().splitlines()[0], ha="center", va="center")
        else:
            references = _references(self.objective)
            names = [m for m in (references or self.metric_names) if m in last["metrics"]]
            ratios, colors = [], []
            for m in names:
                value = last["metrics"][m]
                ratio = value / references[m] if references else value
                ratios.append(math.log10(ratio) if ratio > 0 else 0.0)
                better = self.simulator.metric(m).sign * (ratio - 1.0 if references else 0.0)
                colors.append("tab:green" if references and better >= 0 else "tab:red" if references else "tab:blue")
            ax.barh(names, ratios, color=colors)
            ax.axvline(0.0, color="black", linewidth=0.8)
            ax.set_xlabel("log10(metric / target)" if references else "log10(metric in SI units)")
            title = f"step {last['step']}: reward {last['reward']:.3f}"
            ax.set_title(title if last["feasible"] else title + " (infeasible)", fontsize=9)
            ax.tick_params(labelsize=8)
        fig.tight_layout()
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _references(objective: Objective) -> dict[str, float]:
    """The value each metric is compared with in a picture: the targets, or a weighted sum's references."""
    targets = getattr(objective, "targets", None)
    if targets:
        return {t.metric: t.value for t in targets}
    return dict(getattr(objective, "references", {}) or {})


# --------------------------------------------------------------------------------------------------
# Factory used by the registered env ids
# --------------------------------------------------------------------------------------------------

#: ``gym.make`` keywords the environment takes; every other keyword goes to the simulator.
ENV_KEYWORDS = ("objective", "targets", "action_type", "observation", "max_steps", "episode", "render_mode")


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


def _unknown_render_mode(mode: Any) -> ValueError:
    return ValueError(f"unknown render_mode {mode!r}; choose one of {DesignEnv.metadata['render_modes']} "
                      "(gymnasium.make also takes 'ansi_list' and 'rgb_array_list', and 'human', by wrapping the env)")


class _RenderModes(list):
    """DesignEnv's render modes as ``gymnasium.make`` reads them off the entry point: with them it wraps
    ``*_list`` modes in ``RenderCollection`` and ``human`` in ``HumanRendering``, as for any env class. It
    asks whether a mode is one of them first; a mode it could not wrap either (not a string, which it
    would call ``.endswith`` on, or an unknown name, which it would only warn about) is refused then."""

    def __contains__(self, mode: object) -> bool:
        known = super().__contains__(mode)
        if mode is not None and not known and not (
                mode == "human" or isinstance(mode, str) and mode.endswith("_list") and mode[:-5] in self):
            raise _unknown_render_mode(mode)
        return known


make_design_env.metadata = {**DesignEnv.metadata,  # type: ignore[attr-defined]
                            "render_modes": _RenderModes(DesignEnv.metadata["render_modes"])}


def _why_outside(space: Any, action: Any) -> str:
    """Why gymnasium's ``space.contains(action)`` said no, when it is one of the common reasons: a NumPy
    array of another dtype or shape, or the first element out of range (else '')."""
    if not isinstance(space, (spaces.Box, spaces.MultiDiscrete)) or not isinstance(action, np.ndarray):
        return ""
    if action.shape != space.shape:
        return f": its shape is {action.shape}, the space's {space.shape}"
    if not np.can_cast(action.dtype, space.dtype):
        return (f": a {action.dtype} array, which gymnasium does not accept for a {space.dtype} space (cast it, "
                f"e.g. action.astype(np.{space.dtype}))")
    if isinstance(space, spaces.Box):
        low, high = space.low, space.high
    else:
        low, high = space.start, space.start + space.nvec - 1
    bad = np.flatnonzero(~((action >= low) & (action <= high)))
    if len(bad):
        i = int(bad[0])
        return f": element {i} is {action.flat[i].item()!r}, outside [{low.flat[i].item()!r}, {high.flat[i].item()!r}]"
    return ""
