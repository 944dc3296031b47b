"""Agents x environments with default hyperparameters: best reward, evaluations to target, agent time.

Run by hand::

    python benchmarks/bench_agents.py [--budget 500] [--seeds 5] [--agents ...] [--envs ...]
                                      [--json runs.json] [--markdown table.md] [--update-docs]
    python benchmarks/bench_agents.py --render a.json b.json [--markdown ...] [--update-docs]

For each environment (default task, default kwargs) and agent, over seeds 0..N-1: the median best
reward in ``budget`` evaluations (and at the ``--checkpoints``, read off the same runs' best-so-far
histories: an agent does not know its budget), the seeds that met every target, the median
evaluations to the target (a seed that never met it counts as budget + 1), whether the agent beats
random sampling (``archgym.report.beats``), the agent's CPU time per evaluation and the wall time per
run. Agent time is the process CPU time spent in ``ask`` and ``tell`` (CPU time, so a busy machine
does not inflate it); for ``ppo``, which drives the environment, it is the run's CPU time minus the
environment's CPU time per step measured by random sampling of the same environment.

``--json`` keeps every run, so several benchmark processes (e.g. one per agent group on a machine
with cores to spare) can be merged with ``--render``; ``--update-docs`` writes the table into
docs/agents.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import agents
import archgym
from archgym.display import table
from archgym.report import beats, score

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AGENTS = ("random_walk", "bayesopt", "ga", "aco", "nsga2", "ppo", "optuna", "hyperopt", "nevergrad")
HEADER = ("env", "agent", "median best", "range", "beats random", "met target", "evals to target",
          "agent ms/eval", "s/run")


def run_agent(env: gym.Env, name: str, budget: int, seed: int,
              hyperparameters: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One search with the agent's ask/tell (or the whole run, for agents driving the env) CPU-timed."""
    agent = agents.get(name)(env.unwrapped.space, seed=seed, **dict(hyperparameters or {}))
    spent = [0.0]
    drives = getattr(agent, "drives_env", False)
    if not drives:
        ask, tell = agent.ask, agent.tell

        def timed_ask(n: int = 1) -> list[dict[str, Any]]:
            start = time.process_time()
            try:
                return ask(n)
            finally:
                spent[0] += time.process_time() - start

        def timed_tell(*args: Any) -> None:
            start = time.process_time()
            try:
                tell(*args)
            finally:
                spent[0] += time.process_time() - start

        agent.ask, agent.tell = timed_ask, timed_tell  # type: ignore[method-assign]
    cpu = time.process_time()
    result = archgym.explore(env, agent, budget=budget, seed=seed, progress=False)
    cpu = time.process_time() - cpu
    return {"env": env.spec.id, "agent": name, "seed": seed, "budget": budget,
            "history": result.history.tolist(), "target_met_at": result.target_met_at,
            "agent_cpu": None if drives else spent[0], "run_cpu": cpu, "wall": result.wall_time,
            "hyperparameters": dict(hyperparameters or {})}


def run_all(env_ids: Sequence[str], names: Sequence[str], budget: int, seeds: Sequence[int],
            hyperparameters: Mapping[str, Mapping[str, Any]] | None = None, out: Path | None = None,
            ) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    for env_id in env_ids:
        env = gym.make(env_id)
        for name in names:
            for seed in seeds:
                runs.append(run_agent(env, name, budget, seed, (hyperparameters or {}).get(name)))
                r = runs[-1]
                print(f"{env_id} {name} seed {seed}: best {r['history'][-1]:.4f}, target at {r['target_met_at']}, "
                      f"{r['wall']:.1f} s", file=sys.stderr, flush=True)
                if out is not None:
                    out.write_text(json.dumps(runs))
    return runs


def summarise(runs: Sequence[Mapping[str, Any]], budget: int) -> tuple[float, float]:
    """``archgym.report.score`` of runs read at ``budget`` evaluations (their histories may be longer)."""
    best = [r["history"][budget - 1] for r in runs]
    met = [t if t is not None and t <= budget else None for t in (r["target_met_at"] for r in runs)]
    return score(best, met, budget)


def agent_ms(runs: Sequence[Mapping[str, Any]], env_cpu_per_step: float | None) -> float | None:
    """Mean agent CPU milliseconds per evaluation over runs."""
    values = []
    for r in runs:
        if r["agent_cpu"] is not None:
            values.append(r["agent_cpu"] / r["budget"])
        elif env_cpu_per_step is not None:
            values.append(max(0.0, r["run_cpu"] / r["budget"] - env_cpu_per_step))
    return 1000 * float(np.mean(values)) if values else None


def grouped(runs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, list[Mapping[str, Any]]]]:
    out: dict[str, dict[str, list[Mapping[str, Any]]]] = {}
    for r in runs:
        out.setdefault(r["env"], {}).setdefault(r["agent"], []).append(r)
    return out


def main_rows(runs: Sequence[Mapping[str, Any]], budget: int) -> list[list[str]]:
    rows = []
    for env_id, by_agent in grouped(runs).items():
        random = by_agent.get("random_walk")
        random_score = summarise(random, budget) if random else None
        env_cpu = None
        if random:  # the environment's CPU per step: random sampling's run CPU minus its (tiny) agent CPU
            env_cpu = float(np.mean([(r["run_cpu"] - r["agent_cpu"]) / r["budget"] for r in random]))
        for name, rs in by_agent.items():
            result = summarise(rs, budget)
            best = np.array([r["history"][budget - 1] for r in rs])
            met = sum(r["target_met_at"] is not None and r["target_met_at"] <= budget for r in rs)
            verdict = "" if name == "random_walk" or random_score is None else \
                "yes" if beats(result, random_score) else "**no**"
            ms = agent_ms(rs, env_cpu)
            rows.append([env_id, name, f"{result[0]:.4f}", f"{best.min():.4f}-{best.max():.4f}", verdict,
                         f"{met}/{len(rs)}", f"{result[1]:.0f}" if met else "-",
                         "-" if ms is None else f"{ms:.2f}" if ms < 10 else f"{ms:.0f}",
                         f"{np.mean([r['wall'] for r in rs]):.1f}"])
    return rows


def checkpoint_rows(runs: Sequence[Mapping[str, Any]], checkpoints: Sequence[int],
                    names: Sequence[str]) -> list[list[str]]:
    """Median best reward (median evaluations to the target when met) of the named agents at each checkpoint."""
    rows = []
    for env_id, by_agent in grouped(runs).items():
        for name in names:
            if name not in by_agent:
                continue
            cells = [env_id, name]
            for b in checkpoints:
                best, evals = summarise(by_agent[name], b)
                cells.append(f"{best:.4f}" + (f" ({evals:.0f})" if best == 1.0 else ""))
            rows.append(cells)
    return rows


def markdown(runs: Sequence[Mapping[str, Any]], budget: int) -> str:
    return table(main_rows(runs, budget), HEADER, markdown=True)


def update_docs(tables: Sequence[str], path: Path = ROOT / "docs" / "agents.md") -> None:
    """Replace the quality tables (each the one starting with the same header) in docs/agents.md."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from update_doc_tables import _replace_table  # the docs' one table replacer

    text = path.read_text()
    for text_table in tables:
        text, _ = _replace_table(text, text_table.split("\n", 1)[0], text_table)
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--agents", nargs="+", default=[a for a in DEFAULT_AGENTS if a in agents.available()])
    parser.add_argument("--envs", nargs="+", default=list(archgym.ENVIRONMENTS))
    parser.add_argument("--checkpoints", nargs="+", type=int, default=[100, 200],
                        help="also print the median best reward at these evaluations")
    parser.add_argument("--json", type=Path, help="write every run to this file (as it goes)")
    parser.add_argument("--render", nargs="+", type=Path, help="merge runs from these --json files instead of running")
    parser.add_argument("--markdown", type=Path, help="write the markdown table to this file")
    parser.add_argument("--update-docs", action="store_true", help="write the table into docs/agents.md")
    args = parser.parse_args()

    start = time.perf_counter()
    if args.render:
        runs = [r for path in args.render for r in json.loads(path.read_text())]
    else:
        runs = run_all(args.envs, args.agents, args.budget, range(args.seeds), out=args.json)
    budget = min(r["budget"] for r in runs)
    print(table(main_rows(runs, budget), HEADER))
    checkpoints = [b for b in args.checkpoints if b < budget] + [budget]
    names = list(dict.fromkeys(r["agent"] for r in runs))
    print()
    checkpoint_header = ("env", "agent", *(f"best at {b}" for b in checkpoints))
    print(table(checkpoint_rows(runs, checkpoints, names), checkpoint_header))
    tables = [markdown(runs, budget),
              table(checkpoint_rows(runs, checkpoints, names), checkpoint_header, markdown=True)]
    if args.markdown:
        args.markdown.write_text("\n\n".join(tables) + "\n")
    if args.update_docs:
        update_docs(tables)
    print(f"\n{len(runs)} runs, {time.perf_counter() - start:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
