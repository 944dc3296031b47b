"""ArchGym's hyperparameter lottery, read off finished study runs: one table row per env and agent.

Run the studies first (``archgym sweep configs/sweeps/archgym_ENV.yaml``, ENV in systolic, quant,
dram, soc), then::

    python benchmarks/archgym_study.py runs/archgym_systolic runs/archgym_quant ... [--markdown FILE]

The paper's finding is that "with enough samples every tuned agent meets the target": each agent's
best hyperparameter setting reaches the target, and what separates agents is how many of their
settings do (the lottery). Per env and agent this prints: settings and trials; the best setting's
median best reward over seeds and its seeds that met the target; the share of settings whose
median seed met the target ("settings that win"); the share of all trials that met it; the worst
setting's median; and the median evaluations to the target over the trials that met it. (The wall
times in docs/sweeps.md were taken around the ``archgym sweep`` commands.)
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np

from archgym.display import table
from archgym.runs import load_run_spec, read_state, read_trials

HEADER = ("env", "agent", "settings", "trials", "best setting: median best", "its seeds met",
          "settings that win", "trials that met", "worst setting: median", "median evals to target")


def rows_of(run_dir: Path) -> list[list[str]]:
    spec = load_run_spec(run_dir)
    trials = [t for t in read_trials(run_dir) if t.finished]
    by_agent: dict[str, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for t in trials:
        by_agent[t.agent][t.setting].append(t)
    rows = []
    for agent, settings in by_agent.items():
        medians = {s: float(np.median([t.best_reward for t in ts])) for s, ts in settings.items()}
        met = {s: sum(t.target_met_at is not None for t in ts) for s, ts in settings.items()}
        best = max(settings, key=lambda s: (medians[s], met[s]))
        wins = sum(2 * met[s] > len(settings[s]) for s in settings)
        all_trials = [t for ts in settings.values() for t in ts]
        reached = [t.target_met_at for t in all_trials if t.target_met_at is not None]
        rows.append([spec.env_id, agent, str(len(settings)), str(len(all_trials)), f"{medians[best]:.4f}",
                     f"{met[best]}/{len(settings[best])}", f"{wins}/{len(settings)}",
                     f"{len(reached)}/{len(all_trials)}", f"{min(medians.values()):.4f}",
                     f"{np.median(reached):.0f}" if reached else "-"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="finished study run directories")
    parser.add_argument("--markdown", type=Path, help="also write the table as markdown")
    args = parser.parse_args()
    rows = []
    for run in args.runs:
        state = read_state(run)
        rows += rows_of(run)
        print(f"{run}: {state.status}, {state.trials_finished}/{state.trials_total} trials finished")
    print(table(rows, HEADER))
    if args.markdown:
        args.markdown.write_text(table(rows, HEADER, markdown=True) + "\n")


if __name__ == "__main__":
    main()
