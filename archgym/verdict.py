"""Which agent is best, by how much, and how sure: statistics over a sweep's trials.

Agents are compared as ArchGym's hyperparameter lottery suggests: each at its best hyperparameter
setting (the highest median best reward over seeds; ties broken by fewer evaluations to the target,
``archgym.report.score``/``beats``), since an agent's quality depends on its settings. Uncertainty
over seeds is a bootstrap: the seeds of a setting are resampled with replacement (``resamples``
times, a fixed generator) and the score recomputed, giving a 95% percentile interval of the median
best reward (and of the regret when the optimum is known) and, for two agents, the probability that
one beats the other (ties count half). Picking the best of several settings flatters it a little
(the winner's curse); the interval is that setting's, not a correction for the choice.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from archgym.runs import TrialRecord

__all__ = ["AgentVerdict", "SettingStats", "Verdict", "setting_stats", "verdict"]

RESAMPLES = 4000
_LEVEL = 0.95


def score(best_rewards: Sequence[float], target_met_at: Sequence[int | None], budget: int) -> tuple[float, float]:
    """(median best reward, median evaluations to the target) over runs; a run that never met the
    target counts as ``budget + 1`` evaluations."""
    return (float(np.median(best_rewards)),
            float(np.median([budget + 1 if t is None else t for t in target_met_at])))


def beats(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether score ``a`` beats ``b``: a higher median best reward, or the same ceiling (every target
    met, reward 1) reached in fewer median evaluations."""
    return a[0] > b[0] or (a[0] == b[0] == 1.0 and a[1] < b[1])


@dataclass
class SettingStats:
    """One hyperparameter setting of one agent, over its seeds."""

    agent: str
    setting: int
    hyperparameters: dict[str, Any]
    seeds: list[int]
    best_rewards: np.ndarray
    target_met_at: list[int | None]
    budget: int
    score: tuple[float, float] = (0.0, 0.0)
    interval: tuple[float, float] = (0.0, 0.0)  # 95% bootstrap interval of the median best reward
    boot: np.ndarray = field(default_factory=lambda: np.empty((0, 2)), repr=False)  # resampled scores

    @property
    def median(self) -> float:
        return self.score[0]

    @property
    def target_met_fraction(self) -> float:
        return float(np.mean([t is not None for t in self.target_met_at]))

    @property
    def median_evals_to_target(self) -> float | None:
        met = [t for t in self.target_met_at if t is not None]
        return float(np.median(met)) if met else None

    @property
    def label(self) -> str:
        """``agent#setting`` and the hyperparameters it sets (``defaults`` when none)."""
        hps = ", ".join(f"{k}={_short(v)}" for k, v in sorted(self.hyperparameters.items())) or "defaults"
        return f"{self.agent}#{self.setting} ({hps})"


@dataclass
class AgentVerdict:
    agent: str
    best: SettingStats
    settings: list[SettingStats]
    p_beats_next: float | None = None  # probability this agent beats the next one in the ranking


@dataclass
class Verdict:
    """Agents ranked by their best setting; the paragraph that opens the report."""

    ranking: list[AgentVerdict]
    optimum: float | None
    optimum_exact: bool
    text: str
    pairwise: dict[tuple[str, str], float]


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else json.dumps(value) if not isinstance(value, str) else value


def setting_stats(trials: Sequence[TrialRecord], *, resamples: int = RESAMPLES, seed: int = 0) -> list[SettingStats]:
    """Per (agent, setting): the seeds' best rewards, the score, and its bootstrap over seeds."""
    groups: dict[tuple[str, int], list[TrialRecord]] = defaultdict(list)
    for t in trials:
        groups[(t.agent, t.setting)].append(t)
    rng = np.random.default_rng(seed)
    out = []
    for (agent, setting), ts in sorted(groups.items()):
        ts = sorted(ts, key=lambda t: t.seed)
        finals = np.array([t.best_reward for t in ts], dtype=float)
        met = [t.target_met_at for t in ts]
        budget = max(t.budget for t in ts)
        stats = SettingStats(agent, setting, dict(ts[0].hyperparameters), [t.seed for t in ts], finals, met, budget)
        stats.score = score(finals, met, budget)
        pick = rng.integers(0, len(ts), size=(resamples, len(ts)))
        evals = np.array([budget + 1 if m is None else m for m in met], dtype=float)
        stats.boot = np.stack([np.median(finals[pick], axis=1), np.median(evals[pick], axis=1)], axis=1)
        lo, hi = np.quantile(stats.boot[:, 0], [(1 - _LEVEL) / 2, (1 + _LEVEL) / 2])
        stats.interval = (float(lo), float(hi))
        out.append(stats)
    return out


def p_beats(a: SettingStats, b: SettingStats) -> float:
    """Probability that ``a`` beats ``b`` under the seeds' bootstrap (ties count half)."""
    n = min(len(a.boot), len(b.boot))
    ra, rb = a.boot[:n], b.boot[:n]
    win = (ra[:, 0] > rb[:, 0]) | ((ra[:, 0] == rb[:, 0]) & (ra[:, 0] == 1.0) & (ra[:, 1] < rb[:, 1]))
    lose = (rb[:, 0] > ra[:, 0]) | ((ra[:, 0] == rb[:, 0]) & (rb[:, 0] == 1.0) & (rb[:, 1] < ra[:, 1]))
    return float(np.mean(win) + 0.5 * np.mean(~win & ~lose))


def _best(settings: Sequence[SettingStats]) -> SettingStats:
    best = settings[0]
    for s in settings[1:]:
        if beats(s.score, best.score):
            best = s
    return best


def verdict(stats: Sequence[SettingStats], *, env_id: str = "", optimum: float | None = None,
            optimum_exact: bool = True) -> Verdict:
    """Rank the agents by their best setting and say, in a paragraph, who wins, by how much and how surely."""
    by_agent: dict[str, list[SettingStats]] = defaultdict(list)
    for s in stats:
        by_agent[s.agent].append(s)
    ranking = [AgentVerdict(a, _best(ss), ss) for a, ss in by_agent.items()]
    order = []
    for v in ranking:  # insertion by beats(): a total order up to ties
        k = next((i for i, w in enumerate(order) if beats(v.best.score, w.best.score)), len(order))
        order.insert(k, v)
    pairwise = {(x.agent, y.agent): p_beats(x.best, y.best) for x in order for y in order if x is not y}
    for v, nxt in zip(order, order[1:]):
        v.p_beats_next = pairwise[(v.agent, nxt.agent)]
    text = _paragraph(order, pairwise, env_id, optimum, optimum_exact)
    return Verdict(order, optimum, optimum_exact, text, pairwise)


def _paragraph(order: list[AgentVerdict], pairwise: Mapping[tuple[str, str], float], env_id: str,
               optimum: float | None, exact: bool) -> str:
    top = order[0]
    b = top.best
    seeds = len(b.seeds)
    head = (f"**{top.agent}** is the best agent{f' on `{env_id}`' if env_id else ''}: at its best setting "
            f"({b.label.split(' ', 1)[1][1:-1]}) its median best reward over {seeds} seed(s) is {b.median:.4f} "
            f"(95% interval {b.interval[0]:.4f}-{b.interval[1]:.4f})")
    if b.median == 1.0 and b.median_evals_to_target is not None:
        head += f", every target met in a median of {b.score[1]:.0f} evaluations"
    parts = [head + "."]
    if len(order) > 1:
        others = []
        for v in order[1:]:
            gap = b.median - v.best.median
            others.append(f"{v.agent} {v.best.median:.4f} ({gap:+.4f} behind; P({top.agent} beats {v.agent}) = "
                          f"{pairwise[(top.agent, v.agent)]:.2f})")
        parts.append("Next: " + "; ".join(others) + ".")
        runner = order[1]
        p = pairwise[(top.agent, runner.agent)]
        if p < 0.9:
            parts.append(f"With {seeds} seed(s) the lead over {runner.agent} is not clear-cut (P < 0.9): more seeds "
                         "would be needed to separate them.")
    if optimum is not None:
        regret = optimum - b.median
        kind = "exact optimum" if exact else "best known design (a bound)"
        parts.append(f"Against the {kind} ({optimum:.4f}) its median regret is {regret:.4g}.")
    spread = [v for v in order if len(v.settings) > 1]
    if spread:
        widest = max(spread, key=lambda v: max(s.median for s in v.settings) - min(s.median for s in v.settings))
        lo = min(s.median for s in widest.settings)
        hi = max(s.median for s in widest.settings)
        parts.append(f"Hyperparameters matter most for {widest.agent}: its {len(widest.settings)} settings range "
                     f"from {lo:.4f} to {hi:.4f} (the lottery figure).")
    return " ".join(parts)
