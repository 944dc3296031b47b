"""Design-by-steps (``episode="sequential"``) against one design per step, at equal numbers of evaluations.

Run by hand: ``python benchmarks/bench_sequential.py [--designs 600] [--seeds 0 1] [--envs SoC-v0 Systolic-v0]``
(needs the ``clients`` extra). Per env it prints

1. uniformly random designs: the share that can be built and the best reward among ``--designs`` of them,
   one-step (uniform MultiDiscrete actions) against sequential (uniform among the masked choices), and
   the wall time per design of each form (the sequential one asks the mask at every knob);
2. learners at the same budget of evaluations (designs), stopped at exactly that count: SB3 PPO on
   the one-step form against sb3-contrib MaskablePPO and SB3 DQN on the sequential form: best reward,
   share of evaluations that could be built, refused (masked) actions DQN took, and wall time. A run
   also stops after ``--step-cap`` x designs env steps (DQN refuses its way through many episodes
   without an evaluation); then it shows the evaluations it reached.

Torch runs on one thread (tiny networks; the machine's other core is often busy).
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

import archgym  # noqa: F401  (registers the ids)
from archgym.display import table


class Count(gym.Wrapper):
    """Records the reward and feasibility of every evaluation, and refused actions, of every copy."""

    def __init__(self, env: gym.Env, log: dict) -> None:
        super().__init__(env)
        self.log = log

    def step(self, action):
        out = self.env.step(action)
        info = out[4]
        if "evaluation" in info:
            self.log["rewards"].append(float(out[1]))
            self.log["feasible"].append(bool(info["feasible"]))
        elif info.get("invalid_action"):
            self.log["refused"] += 1
        return out


def random_designs(env_id: str, n: int, seed: int) -> list[tuple]:
    rows = []
    rng = np.random.default_rng(seed)
    for episode in ("one-step", "sequential"):
        env = gym.make(env_id, episode=episode)
        env.action_space.seed(seed)
        rewards, feasible = [], []
        start = time.perf_counter()
        for _ in range(n):
            env.reset(seed=int(rng.integers(1 << 30)))
            while True:
                if episode == "one-step":
                    action = env.action_space.sample()
                else:
                    action = int(rng.choice(np.flatnonzero(env.unwrapped.action_masks())))
                _, reward, terminated, truncated, info = env.step(action)
                if terminated or truncated:
                    break
            rewards.append(reward)
            feasible.append(info["feasible"])
        ms = (time.perf_counter() - start) / n * 1e3
        rows.append((env_id, f"random, {episode}", f"{np.mean(feasible):.1%}", f"{max(rewards):.4f}", "-",
                     f"{ms:.2f} ms/design"))
    return rows


def learner(env_id: str, algo: str, designs: int, seed: int, step_cap: int) -> tuple:
    from stable_baselines3 import DQN, PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    sequential = algo != "PPO"
    log = {"rewards": [], "feasible": [], "refused": 0}
    vec = make_vec_env(env_id, n_envs=1 if algo == "DQN" else 4, seed=seed,
                       env_kwargs={"episode": "sequential"} if sequential else None,
                       wrapper_class=Count, wrapper_kwargs={"log": log})

    class Stop(BaseCallback):
        def _on_step(self) -> bool:
            return len(log["rewards"]) < designs and self.num_timesteps < step_cap * designs

    if algo == "MaskablePPO":
        from sb3_contrib import MaskablePPO

        model = MaskablePPO("MlpPolicy", vec, n_steps=256, batch_size=64, seed=seed, verbose=0)
    elif algo == "DQN":
        model = DQN("MlpPolicy", vec, learning_starts=500, train_freq=4, exploration_fraction=0.3, seed=seed,
                    verbose=0)
    else:
        model = PPO("MlpPolicy", vec, n_steps=64, batch_size=64, seed=seed, verbose=0)
    start = time.perf_counter()
    model.learn(total_timesteps=10**9, callback=Stop())
    seconds = time.perf_counter() - start
    rewards, feasible = log["rewards"][:designs], log["feasible"][:designs]
    form = "sequential" if sequential else "one-step"
    reached = "" if len(rewards) >= designs else f" ({len(rewards)} evaluations)"
    best = f"{max(rewards):.4f}" if rewards else "-"
    share = f"{np.mean(feasible):.1%}" if feasible else "-"
    return (env_id, f"{algo}, {form}{reached}", share, best, str(log["refused"]), f"{seconds:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--designs", type=int, default=600, help="evaluations per run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--envs", nargs="+", default=["archgym/SoC-v0", "archgym/Systolic-v0"])
    parser.add_argument("--algos", nargs="+", default=["PPO", "MaskablePPO", "DQN"])
    parser.add_argument("--step-cap", type=int, default=100, help="env steps per design before a run stops")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    header = ("env", "designs by", "buildable", "best reward", "refused actions", "time")
    for env_id in args.envs:
        rows = random_designs(env_id, args.designs, args.seeds[0])
        for algo in args.algos:
            for seed in args.seeds:
                rows.append(learner(env_id, algo, args.designs, seed, args.step_cap) + (f"seed {seed}",))
        print(table([r + ("",) * (len(header) + 1 - len(r)) for r in rows], header + ("",)))
        print()


if __name__ == "__main__":
    main()
