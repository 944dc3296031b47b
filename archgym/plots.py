"""Report figures (matplotlib, PNG): best-so-far curves, the hyperparameter lottery, regret, Pareto fronts.

Each function takes the rows ``archgym.report`` also writes as CSV, so a figure and its data agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["best_so_far", "lottery", "pareto", "regret"]


def _by_agent(rows: Sequence[Sequence[Any]]) -> dict[str, np.ndarray]:
    groups: dict[str, list[Sequence[Any]]] = defaultdict(list)
    for r in rows:
        groups[r[0]].append(r[1:5])
    return {a: np.asarray(v, dtype=float) for a, v in groups.items()}


def _curves(path: Path, rows, ylabel: str, title: str, log: bool = False) -> Path:
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for agent, data in _by_agent(rows).items():
        x, med, q1, q3 = data.T
        (line,) = ax.plot(x, med, label=agent, lw=1.6)
        ax.fill_between(x, q1, q3, color=line.get_color(), alpha=0.2, lw=0)
    ax.set_xlabel("simulator evaluations")
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("symlog", linthresh=1e-4)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def best_so_far(path: str | Path, rows: Sequence[Sequence[Any]]) -> Path:
    """Median best-so-far reward per agent over its trials, with the interquartile band."""
    return _curves(Path(path), rows, "best reward so far", "Best-so-far reward (median, quartiles over trials)")


def regret(path: str | Path, rows: Sequence[Sequence[Any]]) -> Path:
    """Median regret against the exact optimum (symmetric log scale: zero is reachable)."""
    return _curves(Path(path), rows, "regret (optimum - best so far)", "Regret against the exact optimum", log=True)


def lottery(path: str | Path, settings: Mapping[str, Sequence[tuple[int, Any, float, int]]]) -> Path:
    """The hyperparameter lottery as ArchGym draws it: per agent, the spread of final quality over its
    hyperparameter settings (a box over the settings' median best rewards, one dot per setting)."""
    path = Path(path)
    agents = list(settings)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    rng = np.random.default_rng(0)
    data = [[s[2] for s in settings[a]] for a in agents]
    ax.boxplot(data, showfliers=False, widths=0.5)
    for i, values in enumerate(data, start=1):
        ax.scatter(i + rng.uniform(-0.12, 0.12, len(values)), values, s=14, alpha=0.8, zorder=3)
    ax.axhline(1.0, color="grey", lw=0.8, ls="--", zorder=1)
    ax.set_xticks(range(1, len(agents) + 1), [f"{a}\n({len(v)} settings)" for a, v in zip(agents, data)])
    ax.set_ylabel("final best reward (median over seeds)")
    ax.set_title("Hyperparameter lottery: one dot per setting (dashed: every target met)")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def pareto(path: str | Path, data: Mapping[str, Any], pair: tuple[int, int] = (0, 1)) -> Path:
    """Each agent's non-dominated designs in two of the objective's metrics (``pair``), and the true
    front there when it is known."""
    path = Path(path)
    i, j = pair
    names = [data["metrics"][i], data["metrics"][j]]
    directions = [data["directions"][i], data["directions"][j]]
    fig, ax = plt.subplots(figsize=(6.4, 4.6), dpi=120)
    from archgym.objective import pareto_mask

    def front2(points):
        pts = np.asarray(points, dtype=float).reshape(-1, len(data["metrics"]))[:, [i, j]]
        if not len(pts):
            return pts
        pts = pts[pareto_mask(pts, directions)]
        return pts[np.argsort(pts[:, 0])]

    shown = []
    if data.get("true_front"):
        tf = front2(data["true_front"])
        ax.step(tf[:, 0], tf[:, 1], where="post", color="black", lw=1.2, label="true front")
        shown.append(tf)
    fraction = data.get("hypervolume_fraction") or {}
    for agent, pts in data["fronts"].items():
        f = front2(pts)
        hv = f"{fraction[agent]:.0%} of true HV" if agent in fraction else f"HV {data['hypervolume'][agent]:.3f}"
        (line,) = ax.step(f[:, 0], f[:, 1], where="post", lw=0.9, label=f"{agent} ({hv}, all metrics)")
        ax.plot(f[:, 0], f[:, 1], "o", ms=3.5, color=line.get_color())
        shown.append(f)
    targets = data.get("targets") or {}
    if names[0] in targets:
        ax.axvline(targets[names[0]], color="grey", lw=0.8, ls="--")
    if names[1] in targets:
        ax.axhline(targets[names[1]], color="grey", lw=0.8, ls="--", label="targets")
    shown = np.concatenate([f for f in shown if len(f)])
    for axis, values in ((ax.set_xscale, shown[:, 0]), (ax.set_yscale, shown[:, 1])):
        if values.min() > 0 and values.max() / values.min() > 20:  # log only when the values span decades
            axis("log")
    units = data.get("units", {})
    ax.set_xlabel(f"{names[0]} ({units.get(names[0], '')})".replace(" ()", ""))
    ax.set_ylabel(f"{names[1]} ({units.get(names[1], '')})".replace(" ()", ""))
    ax.set_title(f"Pareto fronts: {names[0]} vs {names[1]}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
