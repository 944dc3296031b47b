"""RLlib PPO (new API stack, torch) trained on the design environment itself.

PPO drives the environment: ``archgym.explore`` calls ``PPOAgent.run(env, budget, record)`` instead
of ask/tell. The agent builds its own copies of the environment through gymnasium's registry (the id
and keywords of ``env.spec``; an agent never imports ``archgym``), with ``MultiDiscrete`` actions so
every value of every knob is reachable (one categorical head per knob, no binning of continuous
actions). Every step RLlib takes goes through a wrapper that reports it to ``record``.

Exact budget: sampling runs in this process (``num_env_runners=0``) over ``num_envs`` vectorised
copies, and an iteration's batch is ``train_batch_size`` rounded down to a multiple of ``num_envs``,
so ``algo.train()`` takes exactly one batch of steps. ``budget // batch`` iterations train; the
``budget % batch`` evaluations left over are sampled from the final policy (a last, partial batch
that is not trained on, since no later evaluation could use that training). The wrapper refuses any
step past the budget before it reaches the simulator.

Seeding: the seed goes to RLlib (``debugging(seed=...)``), which seeds ``random``, numpy and torch
and the environments; torch runs single-threaded during ``run``. On CPU this makes a run
reproducible: same seed, same history. The process-wide generators are restored afterwards.

Reward shaping: by default (``reward_shaping="log_gap"``) PPO trains on ``-ln(hi - r + 1e-3 (hi - lo))``,
the log of the gap to the env's highest reward (``reward_range = (lo, hi)``), instead of ``r`` itself.
Near the top a target-spec reward moves little (0.9964 for a near miss, 1 for a hit, against a mean
of 0.84), and PPO's normalised advantages then barely tell a near miss from a hit; the log gap does.
The history, the records and every reported reward stay the env's own. ``"none"`` trains on ``r``.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from agents._ray import quiet_ray_logs, start_ray
from agents.base import Agent, Hyperparameter
from simulators.core import Evaluation
from simulators.params import check_int

__all__ = ["PPOAgent", "PPOIteration", "PPOPlan"]

Recorder = Callable[[Mapping[str, Any], Evaluation, float], None]

#: one entry per running ``PPOAgent.run``: the env copies RLlib builds look their run up here (the
#: RLlib config is pickled into Ray's object store, so it carries only this token, not callbacks)
_RUNS: dict[str, _Run] = {}

#: ``log_gap`` shaping: the gap to the top reward is floored at this share of the reward range, so a
#: reward at the top trains as ``-ln(1e-3)`` (about 6.9 on a [0, 1] reward), a near miss by 0.0036 as 5.4
_GAP_FLOOR = 1e-3


@dataclass(frozen=True)
class PPOPlan:
    """How a budget is split: ``iterations`` trained batches of ``batch`` steps, then ``leftover``."""

    num_envs: int
    batch: int
    minibatch: int
    iterations: int
    leftover: int


@dataclass(frozen=True)
class PPOIteration:
    """One training iteration as the environment saw it."""

    iteration: int
    evaluations: int  # evaluations so far, this iteration's included
    mean_reward: float  # mean reward of this iteration's samples
    wall_time: float  # seconds since the run started


class _Run:
    """Shared state of one run: the recorder, the budget and the rewards seen so far."""

    def __init__(self, env_id: str, env_kwargs: dict[str, Any], budget: int, record: Recorder,
                 shaping: str) -> None:
        self.env_id = env_id
        self.env_kwargs = env_kwargs
        self.budget = budget
        self.record = record
        self.shaping = shaping
        self.reward_range: tuple[float, float] | None = None  # (lo, hi), set by the first env copy
        self.rewards: list[float] = []

    def make_env(self) -> gym.Env:
        env_id = self.env_id
        if env_id not in gym.registry and env_id.startswith("archgym/"):
            env_id = "archgym:" + env_id  # gymnasium imports archgym, which registers the ids
        return gym.make(env_id, **self.env_kwargs)

    def before_step(self) -> None:
        if len(self.rewards) >= self.budget:
            raise RuntimeError(f"ppo: RLlib asked for evaluation {len(self.rewards) + 1} "
                               f"of a budget of {self.budget}")

    def after_step(self, reward: float, info: Mapping[str, Any]) -> float:
        """Records the step; returns the reward PPO trains on (see the module doc)."""
        self.rewards.append(float(reward))
        self.record(info["design"], info["evaluation"], float(reward))
        if self.shaping == "none":
            return float(reward)
        lo, hi = self.reward_range
        if not lo <= reward <= hi:
            raise ValueError(f"ppo: reward {reward!r} lies outside the env's reward_range {(lo, hi)}, which "
                             "reward_shaping='log_gap' measures the gap to the top against")
        return -math.log(hi - reward + _GAP_FLOOR * (hi - lo))

    def check_reward_range(self, env: gym.Env) -> None:
        """``log_gap`` needs a finite reward range; every env copy must report the same one."""
        if self.shaping == "none":
            return
        given = getattr(env.unwrapped, "reward_range", None)
        try:
            lo, hi = (float(x) for x in given)
        except (TypeError, ValueError):
            lo = hi = math.nan
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"ppo: reward_shaping='log_gap' needs the env's reward_range (lowest, highest), both "
                             f"finite; {self.env_id} has {given!r}. Pass reward_shaping='none' to train on the "
                             "reward itself")
        if self.reward_range is None:
            self.reward_range = (lo, hi)
        elif self.reward_range != (lo, hi):
            raise RuntimeError(f"ppo: env copies of {self.env_id} report reward ranges {self.reward_range} "
                               f"and {(lo, hi)}")


class _RecordingEnv(gym.Wrapper):
    """The env RLlib builds (``config.env``): a registry-made design env reporting every step."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        token = config["archgym_run"]
        if token not in _RUNS:
            raise RuntimeError("ppo: this environment copy belongs to a run that has ended")
        self._run = _RUNS[token]
        super().__init__(self._run.make_env())
        self._run.check_reward_range(self.env)

    def step(self, action: Any):
        self._run.before_step()
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, self._run.after_step(reward, info), terminated, truncated, info


class PPOAgent(Agent):
    """Proximal policy optimisation over the design env, one categorical head per knob."""

    name = "ppo"
    drives_env: ClassVar[bool] = True
    hyperparameters = {
        "lr": Hyperparameter(0.005, float, 1e-7, 1.0, doc="Adam learning rate"),
        "entropy_coeff": Hyperparameter(0.005, float, 0.0, None, doc="entropy bonus (keeps exploring)"),
        "clip_param": Hyperparameter(0.2, float, 1e-6, None, doc="PPO ratio clipping epsilon"),
        "kl_coeff": Hyperparameter(0.0, float, 0.0, None, doc="initial KL penalty coefficient (0: none)"),
        "vf_loss_coeff": Hyperparameter(0.5, float, 0.0, None, doc="weight of the value-function loss"),
        "train_batch_size": Hyperparameter(64, int, 1, None,
                                           doc="env steps per training iteration (rounded down to a "
                                               "multiple of num_envs)"),
        "minibatch_size": Hyperparameter(32, int, 1, None, doc="samples per SGD minibatch"),
        "num_epochs": Hyperparameter(4, int, 1, 1_000, doc="passes over each batch"),
        "hidden_width": Hyperparameter(64, int, 1, 4_096, doc="units per hidden layer"),
        "hidden_layers": Hyperparameter(2, int, 1, 64,
                                        doc="hidden layers of policy and value nets (RLlib needs one)"),
        "activation": Hyperparameter("tanh", str, choices=("tanh", "relu"), doc="hidden-layer activation"),
        "gamma": Hyperparameter(0.99, float, 0.0, 1.0, doc="discount (matters only when max_steps > 1)"),
        "gae_lambda": Hyperparameter(0.95, float, 0.0, 1.0, doc="GAE lambda (matters only when max_steps > 1)"),
        "num_envs": Hyperparameter(16, int, 1, 1_024, doc="vectorised env copies sampled together (speed)"),
        "reward_shaping": Hyperparameter("log_gap", str, choices=("log_gap", "none"),
                                         doc="what PPO trains on: the log of the gap to the env's top reward, "
                                             "or the reward itself (records keep the env's reward)"),
    }

    def __init__(self, space, *, seed=None, **hyperparameters: Any) -> None:
        super().__init__(space, seed=seed, **hyperparameters)
        if not space.indexable:
            raise ValueError("ppo: needs a discrete design space (a float range needs levels=N)")
        c = self.config
        if c["minibatch_size"] > c["train_batch_size"]:
            raise ValueError(f"ppo: minibatch_size ({c['minibatch_size']}) must be <= train_batch_size "
                             f"({c['train_batch_size']})")
        if c["num_envs"] > c["train_batch_size"]:
            raise ValueError(f"ppo: num_envs ({c['num_envs']}) must be <= train_batch_size "
                             f"({c['train_batch_size']})")
        self.iterations: list[PPOIteration] = []

    # -- ask/tell do not apply ------------------------------------------------------------------------
    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        raise RuntimeError("ppo trains RLlib PPO on the environment itself and cannot be asked for designs: "
                           "run it with archgym.explore(env, 'ppo', budget=..., seed=...)")

    def tell(self, designs: Sequence[Mapping[str, Any]], rewards: Sequence[float],
             evaluations: Sequence[Evaluation]) -> None:
        raise RuntimeError("ppo trains on the environment itself and takes no tell(): "
                           "run it with archgym.explore(env, 'ppo', budget=..., seed=...)")

    # -- the run --------------------------------------------------------------------------------------
    def plan(self, budget: int) -> PPOPlan:
        """How ``budget`` evaluations split into trained iterations and a leftover (see the module doc)."""
        try:
            budget = check_int(budget, "budget", low=1)
        except ValueError as exc:
            raise ValueError(f"ppo: {exc}") from None
        c = self.config
        num_envs = c["num_envs"]
        batch = c["train_batch_size"] // num_envs * num_envs
        iterations, leftover = divmod(int(budget), batch)
        return PPOPlan(num_envs, batch, min(c["minibatch_size"], batch), iterations, leftover)

    def run(self, env: gym.Env, budget: int, record: Recorder) -> None:
        """Train PPO on copies of ``env`` for exactly ``budget`` steps, each reported to ``record``."""
        plan = self.plan(budget)
        spec = env.spec
        if spec is None:
            raise ValueError("ppo: the environment has no spec; make it with gymnasium.make('archgym/...') "
                             "so the agent can build its own copies from the id and keywords")
        env_kwargs = {**spec.kwargs, "action_type": "multidiscrete"}
        run = _Run(spec.id, env_kwargs, int(budget), record, self.config["reward_shaping"])
        run.check_reward_range(env)  # before Ray and RLlib start: a refusal comes at once
        token = uuid.uuid4().hex
        _RUNS[token] = run
        self.iterations = []
        start = time.perf_counter()
        # imported before the logs are hushed: importing RLlib sets its loggers' levels
        from ray.rllib.algorithms.ppo import PPOConfig

        try:
            with quiet_ray_logs(), _preserved_global_rngs(), _torch_threads(1), warnings.catch_warnings():
                # RLlib re-registers its env id on every build ("Overriding environment ...")
                warnings.filterwarnings("ignore", message=".*Overriding environment")
                start_ray()  # RLlib puts its config in Ray's object store, so Ray must run
                algo = self._build(PPOConfig, token, plan)
                try:
                    for i in range(plan.iterations):
                        before = len(run.rewards)
                        algo.train()
                        self._log_iteration(i + 1, run.rewards, before, start)
                    if plan.leftover:
                        before = len(run.rewards)
                        _sample_with_policy(algo, token, plan.leftover)
                        self._log_iteration(plan.iterations + 1, run.rewards, before, start)
                finally:
                    algo.stop()
        finally:
            del _RUNS[token]
        if len(run.rewards) != budget:
            raise RuntimeError(f"ppo: took {len(run.rewards)} evaluations for a budget of {budget}")

    def _log_iteration(self, iteration: int, rewards: list[float], before: int, start: float) -> None:
        self.iterations.append(PPOIteration(iteration, len(rewards), float(np.mean(rewards[before:])),
                                            time.perf_counter() - start))

    def _build(self, config_cls: type, token: str, plan: PPOPlan):
        c = self.config
        config = (
            config_cls()
            .environment(env=_RecordingEnv, env_config={"archgym_run": token})
            .framework("torch")
            .env_runners(num_env_runners=0, num_envs_per_env_runner=plan.num_envs, rollout_fragment_length="auto")
            .learners(num_learners=0)
            .training(
                lr=c["lr"], entropy_coeff=c["entropy_coeff"], clip_param=c["clip_param"],
                kl_coeff=c["kl_coeff"], use_kl_loss=c["kl_coeff"] > 0, vf_loss_coeff=c["vf_loss_coeff"],
                gamma=c["gamma"], lambda_=c["gae_lambda"], train_batch_size_per_learner=plan.batch,
                minibatch_size=plan.minibatch, num_epochs=c["num_epochs"],
            )
            .rl_module(model_config={"fcnet_hiddens": [c["hidden_width"]] * c["hidden_layers"],
                                     "fcnet_activation": c["activation"]})
            .reporting(metrics_num_episodes_for_smoothing=1)
            .debugging(seed=self.seed, log_level="ERROR")
        )
        return config.build_algo()


def _sample_with_policy(algo: Any, token: str, steps: int) -> None:
    """``steps`` evaluations with actions drawn from the current (exploring) policy, one env copy."""
    import torch

    module = algo.get_module()
    dist_cls = module.get_exploration_action_dist_cls()
    env = _RecordingEnv({"archgym_run": token})
    try:
        obs, _ = env.reset()
        for _ in range(steps):
            with torch.no_grad():
                out = module.forward_exploration({"obs": torch.as_tensor(obs[None], dtype=torch.float32)})
                action = dist_cls.from_logits(out["action_dist_inputs"]).sample()[0].numpy()
            obs, _, terminated, truncated, _ = env.step(action.astype(np.int64))
            if terminated or truncated:
                obs, _ = env.reset()
    finally:
        env.close()


@contextlib.contextmanager
def _preserved_global_rngs() -> Iterator[None]:
    """RLlib seeds ``random``, numpy's and torch's global generators: give the caller its own back."""
    import torch

    saved = random.getstate(), np.random.get_state(), torch.random.get_rng_state()
    try:
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        torch.random.set_rng_state(saved[2])


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Tiny networks run fastest (and reproducibly) on one thread, above all on a busy machine."""
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(saved)
