"""Proxy accuracy: how held-out predictions compare with the simulator's values."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from archgym.io import nan_to_none

__all__ = ["MetricScore", "feasibility_score", "score_values"]


@dataclass(frozen=True)
class MetricScore:
    """Accuracy of one metric's predictions on held-out rows (original units; NaN where undefined)."""

    metric: str
    unit: str
    transform: str
    rows: int
    rmse: float
    rmse_pct_range: float
    rmse_pct_mean: float
    mape_pct: float
    r2: float
    kendall_tau: float

    def to_dict(self) -> dict[str, Any]:
        return nan_to_none(self)


def score_values(true: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """RMSE, RMSE as % of the range and of the mean of ``true``, MAPE (%, over nonzero ``true``),
    R^2 and Kendall's tau-b of predictions ``pred`` against ``true``."""
    from scipy.stats import kendalltau

    true, pred = np.asarray(true, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    n = len(true)
    nan = math.nan
    if n == 0:
        return {"rows": 0, "rmse": nan, "rmse_pct_range": nan, "rmse_pct_mean": nan, "mape_pct": nan, "r2": nan,
                "kendall_tau": nan}
    err = pred - true
    rmse = float(np.sqrt(np.mean(err ** 2)))
    spread = float(true.max() - true.min())
    mean = float(abs(true.mean()))
    nonzero = true != 0
    ss_tot = float(np.sum((true - true.mean()) ** 2))
    tau = nan
    if n > 1 and spread > 0 and np.ptp(pred) > 0:
        tau = float(kendalltau(true, pred).statistic)
    return {
        "rows": n,
        "rmse": rmse,
        "rmse_pct_range": 100 * rmse / spread if spread > 0 else nan,
        "rmse_pct_mean": 100 * rmse / mean if mean > 0 else nan,
        "mape_pct": float(100 * np.mean(np.abs(err[nonzero] / true[nonzero]))) if nonzero.any() else nan,
        "r2": 1 - float(np.sum(err ** 2)) / ss_tot if ss_tot > 0 else nan,
        "kendall_tau": tau,
    }


def feasibility_score(truth: np.ndarray, predicted: np.ndarray, classifier: bool) -> dict[str, Any]:
    if not len(truth):
        return {"kind": "classifier" if classifier else "all-feasible", "accuracy": None}
    infeasible = ~truth
    caught = int(np.count_nonzero(infeasible & ~predicted))
    return {
        "kind": "classifier" if classifier else "all-feasible",
        "accuracy": float(np.mean(truth == predicted)),
        "infeasible_rows": int(infeasible.sum()),
        "infeasible_recall": caught / int(infeasible.sum()) if infeasible.any() else None,
    }
