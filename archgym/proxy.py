"""The XGBoost proxy cost model: trained on a trajectory dataset, it stands in for a simulator.

One ``xgboost`` regressor per metric learns ``design -> metric`` from the feasible rows of a dataset.

- **Features** come from the ``DesignSpace``: an unordered ``Choice`` is one-hot encoded, an
  ordered ``Choice`` is its ordinal position, a power-of-two ``IntRange`` is ``log2(value)``, a
  log-scaled ``FloatRange`` is ``ln(value)``, any other numeric range is its plain value.
- **Targets** are fitted in log space when every training value of the metric is positive (latency,
  energy, area, power: relative errors then weigh the same at every scale, and predictions stay
  positive) and as they are otherwise; a metric that never varies is stored as its constant. The
  choice is made per metric, can be overridden, and is recorded in the model's manifest.
- **Training**: duplicate designs are dropped (simulators are deterministic; a design on both sides
  of the split would flatter the test score), the rows are split into train/validation/test with a
  seeded permutation (by row, or by run so that whole runs are held out), boosting stops early when
  the validation RMSE has not improved for ``early_stopping_rounds`` rounds, and the trees up to the
  best round are kept. Trees of depth 4 and of depth 8 are both fitted and the one with the lower
  validation RMSE is kept, per metric.
- **Feasibility**: infeasible rows never enter a regressor. When the training rows hold both
  feasible and infeasible designs an ``xgboost`` classifier learns feasibility too, and the proxy
  reports a design infeasible (NaN metrics) when its predicted probability of feasibility is below
  0.5; when every training row was feasible the proxy reports every design feasible.
- **Report** (held-out test rows, original units): RMSE, RMSE as a percentage of the test values'
  range and of their mean, MAPE, R^2 and Kendall's tau-b (rank agreement), per metric.

``ProxySimulator`` implements the ``simulators.core.Simulator`` contract over a trained model, so
``gymnasium.make(env_id, backend="proxy", proxy=MODEL_DIR)`` runs every agent unchanged on it.
Batches are predicted by XGBoost; a handful of designs (``env.step``) by a numpy walk of the same
trees (``_TreeWalker``), which avoids XGBoost's per-call overhead and agrees with it to float32
rounding.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import archgym
from archgym.dataset import (
    MANIFEST,
    check_dataset,
    json_default,
    metrics_difference,
    parameter_indices,
    read_dataset,
    space_difference,
)
from simulators.core import (
    BatchEvaluation,
    Choice,
    DesignSpace,
    Evaluation,
    FloatRange,
    IntRange,
    Metric,
    Simulator,
)

if TYPE_CHECKING:
    import pandas
    import xgboost

__all__ = [
    "DEFAULT_XGB_PARAMS",
    "PROXY_FORMAT",
    "PROXY_VERSION",
    "TRANSFORMS",
    "FeatureEncoder",
    "MetricScore",
    "ProxyModel",
    "ProxySimulator",
    "load_proxy",
    "score_values",
    "train_proxy",
]

PROXY_FORMAT = "archgym-proxy"
PROXY_VERSION = 1
TRANSFORMS = ("log", "identity")
#: Boosting settings (any ``xgboost.XGBRegressor`` keyword may be overridden; ``n_estimators`` is the
#: cap early stopping works under). ``max_depth`` may list several depths: each is fitted and the one
#: with the lowest validation error is kept, per metric -- shallow trees suit metrics that add up
#: many knobs' contributions, deep ones metrics that multiply a few.
DEFAULT_XGB_PARAMS: dict[str, Any] = {
    "n_estimators": 2000,
    "learning_rate": 0.1,
    "max_depth": [4, 8],
    "min_child_weight": 1.0,
    "subsample": 1.0,
    "tree_method": "hist",
    "early_stopping_rounds": 50,
}
FEASIBLE_THRESHOLD = 0.5
_WORKLOAD_KEYWORDS = ("workload", "network")  # compared through Simulator.workload instead


# --------------------------------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------------------------------


class FeatureEncoder:
    """Design -> feature vector, derived from the design space alone (see the module docstring)."""

    def __init__(self, space: DesignSpace) -> None:
        self.space = space
        self.spec: list[dict[str, Any]] = []
        self._tables: list[np.ndarray | None] = []  # per parameter: (cardinality, width) features by index
        for p in space:
            if isinstance(p, FloatRange):
                kind = "log" if p.log else "identity"
                self.spec.append({"name": f"ln({p.name})" if p.log else p.name, "parameter": p.name, "kind": kind})
                self._tables.append(None)
                continue
            values = list(p.values)  # type: ignore[attr-defined]
            if isinstance(p, Choice) and not p.ordered:
                self.spec += [{"name": f"{p.name}={v}", "parameter": p.name, "kind": "onehot", "value": v}
                              for v in values]
                table = np.eye(len(values))
            elif isinstance(p, Choice):
                self.spec.append({"name": f"ord({p.name})", "parameter": p.name, "kind": "ordinal"})
                table = np.arange(len(values), dtype=np.float64)[:, None]
            elif isinstance(p, IntRange) and p.power_of_two:
                self.spec.append({"name": f"log2({p.name})", "parameter": p.name, "kind": "log2"})
                table = np.log2(np.asarray(values, dtype=np.float64))[:, None]
            else:
                self.spec.append({"name": p.name, "parameter": p.name, "kind": "identity"})
                table = np.asarray(values, dtype=np.float64)[:, None]
            self._tables.append(table.astype(np.float32))

    @property
    def names(self) -> list[str]:
        return [f["name"] for f in self.spec]

    def from_indices(self, indices: np.ndarray) -> np.ndarray:
        """Features of an ``(n, d)`` index matrix (``float32``, ``(n, features)``)."""
        parts = []
        for j, (p, table) in enumerate(zip(self.space, self._tables)):
            if table is None:
                parts.append(self._continuous(p, p.values_at(indices[:, j])))
            else:
                parts.append(table[indices[:, j]])
        return np.concatenate(parts, axis=1)

    def from_columns(self, columns: Mapping[str, Any]) -> np.ndarray:
        """Features of designs given as per-parameter value columns (any parameter kind)."""
        parts = []
        for p, table in zip(self.space, self._tables):
            if table is None:
                parts.append(self._continuous(p, columns[p.name]))
            else:
                parts.append(table[parameter_indices(p, columns[p.name])])
        return np.concatenate(parts, axis=1)

    @staticmethod
    def _continuous(p: FloatRange, values: Any) -> np.ndarray:
        col = np.asarray(values, dtype=np.float64)
        if np.any((col < p.low) | (col > p.high)) or not np.all(np.isfinite(col)):
            bad = col[~((col >= p.low) & (col <= p.high))][0]
            raise ValueError(f"parameter {p.name!r}: {bad!r} is not allowed; expected {p.domain_text()}")
        return (np.log(col) if p.log else col).astype(np.float32)[:, None]


# --------------------------------------------------------------------------------------------------
# Accuracy
# --------------------------------------------------------------------------------------------------


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
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


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


# --------------------------------------------------------------------------------------------------
# The trained model
# --------------------------------------------------------------------------------------------------

_FEASIBLE = "\0feasible"  # the classifier's key among the boosters' outputs (no metric can be named so)
_WALK_ROWS = 8  # predictions for at most this many designs walk the trees in numpy (see _TreeWalker)


class _TreeWalker:
    """The trees of several boosters as complete binary trees in numpy arrays, walked together.

    XGBoost's predictor costs about a millisecond per booster and call even for one row, which
    dominates one-design-at-a-time use (``env.step``); walking every tree at once in numpy is an
    order of magnitude faster for a handful of rows (and slower for many, where XGBoost is used).

    Each tree is laid out as a complete tree of its booster's depth (a leaf above the bottom is
    copied into every position below it), so a walk is ``depth`` steps of ``i -> 2 i + 1 + right``
    for all trees of that depth at once. A split is XGBoost's ``x < threshold`` goes left; the
    distinct (feature, threshold) conditions are evaluated once per row. Features are never missing
    here (designs are validated), so XGBoost's default branches never apply. The intercept is read
    off XGBoost's own margin, and the margins agree with ``Booster.inplace_predict(...,
    predict_type="margin")`` to XGBoost's float32 rounding (tested).
    """

    MAX_NODES = 1 << 23  # trees x 2**depth above this: too deep to lay out, XGBoost predicts instead

    def __init__(self, boosters: Sequence[xgboost.Booster], n_features: int) -> None:
        feat, split, left, right, roots, owner = [], [], [], [], [], []
        offset = 0
        for b, booster in enumerate(boosters):
            trees = json.loads(booster.save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]
            for tree in trees:
                lc = np.asarray(tree["left_children"], dtype=np.intp)
                rc = np.asarray(tree["right_children"], dtype=np.intp)
                leaf = lc < 0
                ids = np.arange(len(lc))
                roots.append(offset)
                owner.append(b)
                left.append(np.where(leaf, ids, lc) + offset)  # a leaf is its own child; its "split" is its value
                right.append(np.where(leaf, ids, rc) + offset)
                feat.append(np.where(leaf, -1, np.asarray(tree["split_indices"], dtype=np.intp)))
                split.append(np.asarray(tree["split_conditions"], dtype=np.float32))
                offset += len(lc)
        self._feat, self._split = np.concatenate(feat), np.concatenate(split)
        self._left, self._right = np.concatenate(left), np.concatenate(right)
        inner = self._feat >= 0
        pairs, inverse = np.unique(np.stack([self._feat[inner], self._split[inner].astype(np.float64)], axis=1),
                                   axis=0, return_inverse=True)
        self._cond_feat = pairs[:, 0].astype(np.intp)
        self._cond_split = pairs[:, 1].astype(np.float32)
        self._cond = np.full(len(self._feat), len(pairs), dtype=np.intp)  # len(pairs): "go left", copied leaves
        self._cond[inner] = inverse.ravel()
        self.n_boosters = len(boosters)
        roots_a, owner_a = np.asarray(roots, dtype=np.intp), np.asarray(owner, dtype=np.intp)
        depth = self._depths(roots_a)
        booster_depth = np.zeros(len(boosters), dtype=np.intp)
        np.maximum.at(booster_depth, owner_a, depth)
        self.usable = bool(np.sum(2 ** booster_depth[owner_a].astype(np.float64)) <= self.MAX_NODES)
        if not self.usable:
            return
        self._groups = [self._layout(roots_a[booster_depth[owner_a] == d], owner_a[booster_depth[owner_a] == d], d)
                        for d in np.unique(booster_depth[owner_a]).tolist()]
        probe = np.zeros((1, n_features), dtype=np.float32)
        xgb_margin = np.array([float(b.inplace_predict(probe, predict_type="margin")[0]) for b in boosters])
        self._intercept = xgb_margin - self._sum_leaves(probe)[0]

    def _depths(self, roots: np.ndarray) -> np.ndarray:
        """Depth of each tree (0 for a lone leaf), level by level over all trees at once."""
        depth = np.zeros(len(roots), dtype=np.intp)
        frontier, tree = roots, np.arange(len(roots))
        level = 0
        while frontier.size:
            split_here = self._feat[frontier] >= 0
            frontier, tree = frontier[split_here], tree[split_here]
            level += 1
            depth[tree] = level
            frontier, tree = np.concatenate([self._left[frontier], self._right[frontier]]), np.concatenate([tree, tree])
        return depth

    def _layout(self, roots: np.ndarray, owner: np.ndarray, depth: int) -> dict[str, Any]:
        """Complete-tree tables for trees of at most ``depth`` levels (trees grouped by booster, in order)."""
        level = roots[:, None]  # the original node at each position of the current level
        conds = []
        for _ in range(depth):
            is_leaf = self._feat[level] < 0
            conds.append(self._cond[level])  # a copied leaf's condition is "go left": both children are itself
            below = np.empty((len(roots), level.shape[1] * 2), dtype=np.intp)
            below[:, 0::2] = np.where(is_leaf, level, self._left[level])
            below[:, 1::2] = np.where(is_leaf, level, self._right[level])
            level = below
        cond = np.concatenate(conds, axis=1) if conds else np.zeros((len(roots), 0), dtype=np.intp)
        boosters, starts = np.unique(owner, return_index=True)
        return {"depth": depth, "cond": cond.ravel(), "cond_base": (np.arange(len(roots)) * cond.shape[1])[None, :],
                "leaf": self._split[level].astype(np.float64).ravel(),
                "leaf_base": (np.arange(len(roots)) * level.shape[1])[None, :],
                "boosters": boosters, "starts": starts}

    def _sum_leaves(self, features: np.ndarray) -> np.ndarray:
        n = features.shape[0]
        right = np.zeros((n, len(self._cond_feat) + 1), dtype=np.intp)
        right[:, :-1] = features[:, self._cond_feat] >= self._cond_split
        rows = np.arange(n)[:, None]
        out = np.zeros((n, self.n_boosters))
        for g in self._groups:
            pos = np.zeros((n, g["cond_base"].shape[1]), dtype=np.intp)
            for _ in range(g["depth"]):
                pos = 2 * pos + 1 + right[rows, g["cond"][g["cond_base"] + pos]]
            leaf = g["leaf"][g["leaf_base"] + pos - ((1 << g["depth"]) - 1)]
            out[:, g["boosters"]] = np.add.reduceat(leaf, g["starts"], axis=1)
        return out

    def margins(self, features: np.ndarray) -> np.ndarray:
        """``(rows, boosters)`` margins (the regressors' predictions before the inverse transform)."""
        return self._sum_leaves(np.asarray(features, dtype=np.float32)) + self._intercept


def _forward(transform: str, y: np.ndarray) -> np.ndarray:
    return np.log(y) if transform == "log" else y


def _inverse(transform: str, y: np.ndarray) -> np.ndarray:
    return np.exp(y) if transform == "log" else y


def _json_value(value: Any) -> Any:
    """``value`` as plain JSON data, or the marker ``{"unrecorded": type}`` when it is not JSON-able."""
    try:
        return json.loads(json.dumps(value, default=json_default))
    except (TypeError, ValueError):
        return {"unrecorded": type(value).__name__}


def simulator_settings(simulator: Simulator, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The simulator's constructor settings (given or default), as JSON, without the workload and space
    (compared on their own): what must match between a proxy and the simulator it replaces."""
    params = inspect.signature(type(simulator).__init__).parameters
    out: dict[str, Any] = {}
    for name, param in params.items():
        if name == "self" or param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        if name in kwargs:
            out[name] = _json_value(kwargs[name])
        elif param.default is not inspect.Parameter.empty:
            out[name] = _json_value(param.default)
    for name, value in kwargs.items():
        out.setdefault(name, _json_value(value))
    for name in (*_WORKLOAD_KEYWORDS, "space"):
        out.pop(name, None)
    return out


def _class_path(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


class ProxyModel:
    """A trained proxy: one booster per metric (or a constant), an optional feasibility classifier,
    and the manifest describing what it was trained for. ``save``/``load_proxy`` round-trip it."""

    def __init__(self, manifest: Mapping[str, Any], boosters: Mapping[str, xgboost.Booster | None],
                 classifier: xgboost.Booster | None = None, path: str | os.PathLike[str] | None = None) -> None:
        self.manifest = dict(manifest)
        self.space = DesignSpace.from_dict(manifest["space"])
        self.metrics = tuple(Metric(m["name"], m["unit"], m["direction"], m.get("description", ""))
                             for m in manifest["metrics"])
        self.encoder = FeatureEncoder(self.space)
        if [f["name"] for f in manifest["features"]] != self.encoder.names:
            raise ValueError(f"proxy {path or ''}: its features {[f['name'] for f in manifest['features']]} are not "
                             f"what this archgym derives from its space ({self.encoder.names}); retrain it")
        self._models = {m["metric"]: m for m in manifest["models"]}
        self._boosters = dict(boosters)
        self._classifier = classifier
        self._walker: _TreeWalker | None = None  # built on the first small prediction
        self.path = None if path is None else Path(path)

    # -- what it was trained for ---------------------------------------------------------------
    @property
    def env_id(self) -> str:
        return self.manifest["env_id"]

    @property
    def workload(self) -> str:
        return self.manifest["workload"]

    @property
    def report(self) -> dict[str, Any]:
        return self.manifest["report"]

    @property
    def transforms(self) -> dict[str, str]:
        return {m: entry["transform"] for m, entry in self._models.items()}

    def check_compatible(self, simulator: Simulator, simulator_kwargs: Mapping[str, Any] | None = None) -> None:
        """``ValueError`` naming what differs unless this proxy was trained for ``simulator``: its class,
        workload, design space, metrics and (when ``simulator_kwargs`` is given) constructor settings."""
        where = f"proxy {self.path}" if self.path else "this proxy"
        trained = self.manifest["simulator_class"]
        if _class_path(simulator) != trained:
            raise ValueError(f"{where} was trained for {self.env_id} ({trained}), not for "
                             f"{_class_path(simulator)}")
        if simulator.workload != self.workload:
            raise ValueError(f"{where} was trained for workload {self.workload!r}, this env has workload "
                             f"{simulator.workload!r}")
        diff = space_difference(self.manifest["space"], simulator.space.to_dict())
        if diff:
            raise ValueError(f"{where} was trained for a different design space: {diff} (proxy vs env)")
        diff = metrics_difference(self.manifest["metrics"], [m.to_dict() for m in simulator.metrics])
        if diff:
            raise ValueError(f"{where} predicts different metrics: {diff} (proxy vs env)")
        if simulator_kwargs is not None:
            have, want = self.manifest["simulator_settings"], simulator_settings(simulator, simulator_kwargs)
            diffs = [f"{k}={have.get(k)!r} (proxy) vs {want.get(k)!r} (env)" for k in sorted(set(have) | set(want))
                     if have.get(k) != want.get(k)]
            if diffs:
                raise ValueError(f"{where} was trained with other simulator settings: " + "; ".join(diffs))

    # -- prediction -------------------------------------------------------------------------------
    def predict(self, features: np.ndarray) -> BatchEvaluation:
        """Predicted metrics (original units; NaN for designs predicted infeasible) and feasibility for a
        feature matrix (``self.encoder`` makes one from designs)."""
        metrics, p_feasible = self._predict_all(features)
        feasible = p_feasible >= FEASIBLE_THRESHOLD
        reasons: list[str | None] = [None] * len(feasible)
        for i in np.flatnonzero(~feasible):
            reasons[i] = f"predicted infeasible by the proxy (p_feasible={p_feasible[i]:.2f})"
            for values in metrics.values():
                values[i] = math.nan
        return BatchEvaluation(metrics=metrics, feasible=feasible, reasons=reasons)

    def _predict_all(self, features: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Every metric's prediction (whatever the feasibility) and the probability of feasibility."""
        n = features.shape[0]
        names = list(self._boosters) + ([_FEASIBLE] if self._classifier is not None else [])
        if not n or not names:
            margins = {name: np.empty(n) for name in names}
        elif n <= _WALK_ROWS and self._tree_walker(names, features.shape[1]).usable:
            margins = dict(zip(names, self._walker.margins(features).T))
        else:
            margins = {name: np.asarray(self._booster(name).inplace_predict(features, predict_type="margin"),
                                        dtype=np.float64) for name in names}
        metrics = {}
        for m in self.metrics:
            entry = self._models[m.name]
            if entry["transform"] == "constant":
                metrics[m.name] = np.full(n, float(entry["value"]))
            else:
                metrics[m.name] = _inverse(entry["transform"], margins[m.name])
        p_feasible = 1 / (1 + np.exp(-margins[_FEASIBLE])) if _FEASIBLE in margins else np.ones(n)
        return metrics, p_feasible

    def _tree_walker(self, names: list[str], n_features: int) -> _TreeWalker:
        if self._walker is None:  # built on first use: parsing the trees takes a moment
            self._walker = _TreeWalker([self._booster(name) for name in names], n_features)
        return self._walker

    def _booster(self, name: str) -> xgboost.Booster:
        return self._classifier if name == _FEASIBLE else self._boosters[name]

    def score(self, data: str | os.PathLike[str] | pandas.DataFrame) -> dict[str, Any]:
        """Accuracy on the rows of a dataset that match this proxy's env and workload (one row per
        distinct design): per metric on the truly feasible rows, and of the feasibility prediction."""
        df = _rows_for(data, self.space, self.metrics, self.env_id, self.workload)
        features = self.encoder.from_columns({p: df[p].to_numpy() for p in self.space.names})
        predicted, p_feasible = self._predict_all(features)
        truth = df["feasible"].to_numpy(dtype=bool)
        out: dict[str, Any] = {"rows": len(df), "feasible_rows": int(truth.sum()), "metrics": []}
        for m in self.metrics:
            y = df[m.name].to_numpy(dtype=np.float64)
            keep = truth & np.isfinite(y)
            out["metrics"].append(MetricScore(metric=m.name, unit=m.unit, transform=self._models[m.name]["transform"],
                                              **score_values(y[keep], predicted[m.name][keep])).to_dict())
        out["feasibility"] = _feasibility_score(truth, p_feasible >= FEASIBLE_THRESHOLD, self._classifier is not None)
        return out

    # -- files ----------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the boosters (XGBoost JSON) and ``manifest.json`` (last, so a complete manifest means a
        complete model) into directory ``path``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for m in self.manifest["models"]:
            if m["transform"] != "constant":
                self._boosters[m["metric"]].save_model(path / m["file"])
        feas = self.manifest["feasibility"]
        if feas["kind"] == "classifier":
            self._classifier.save_model(path / feas["file"])
        tmp = path / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(self.manifest, indent=2, default=_json_value) + "\n")
        os.replace(tmp, path / MANIFEST)
        self.path = path
        return path


def _feasibility_score(truth: np.ndarray, predicted: np.ndarray, classifier: bool) -> dict[str, Any]:
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


def load_proxy(path: str | os.PathLike[str], *, n_jobs: int = 1) -> ProxyModel:
    """Load a model directory written by ``ProxyModel.save`` / ``archgym proxy train`` (cached per
    directory and manifest version, so many envs share one copy)."""
    path = Path(path)
    target = path / MANIFEST
    if not target.is_file():
        raise ValueError(f"{path} is not a proxy model directory: it has no {MANIFEST} "
                         "(write one with `archgym proxy train`)")
    return _load_cached(str(path.resolve()), target.stat().st_mtime_ns, n_jobs)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int, n_jobs: int) -> ProxyModel:
    import xgboost as xgb

    directory = Path(path)
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{directory / MANIFEST}: not valid JSON ({exc})") from None
    if manifest.get("format") != PROXY_FORMAT:
        raise ValueError(f"{directory / MANIFEST}: format is {manifest.get('format')!r}, expected {PROXY_FORMAT!r} "
                         "(is this a dataset rather than a model?)")
    if manifest.get("version") != PROXY_VERSION:
        raise ValueError(f"{directory / MANIFEST}: proxy format version {manifest.get('version')!r}; this archgym "
                         f"reads version {PROXY_VERSION}")

    def booster(file: str) -> xgb.Booster:
        b = xgb.Booster()
        b.load_model(directory / file)
        b.set_param({"nthread": n_jobs})
        return b

    boosters = {m["metric"]: booster(m["file"]) for m in manifest["models"] if m["transform"] != "constant"}
    feas = manifest["feasibility"]
    classifier = booster(feas["file"]) if feas["kind"] == "classifier" else None
    return ProxyModel(manifest, boosters, classifier, path=directory)


# --------------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------------


def _rows_for(data: str | os.PathLike[str] | pandas.DataFrame, space: DesignSpace, metrics: Sequence[Metric],
              env_id: str, workload: str) -> pandas.DataFrame:
    """The dataset rows of ``env_id``/``workload``, one per distinct design, checked against the space."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        df = data
        missing = [c for c in (*space.names, *(m.name for m in metrics), "env_id", "workload", "feasible")
                   if c not in df.columns]
        if missing:
            raise ValueError(f"the table has no column(s) {missing}")
    else:
        check_dataset(data, space, metrics)
        df = read_dataset(data)
    rows = df[(df["env_id"] == env_id) & (df["workload"] == workload)]
    if rows.empty:
        held = df.groupby(["env_id", "workload"]).size()
        listed = ", ".join(f"{e} / {w} ({n} rows)" for (e, w), n in held.items()) or "no rows at all"
        raise ValueError(f"the dataset has no rows for {env_id} with workload {workload!r}; it holds {listed}")
    return rows.drop_duplicates(subset=list(space.names), keep="first").reset_index(drop=True)


def _split(n: int, rng: np.random.Generator, test: float, val: float, groups: np.ndarray | None,
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded train/validation/test row indices; with ``groups`` whole groups (runs) go to one side."""
    for label, f in (("test_fraction", test), ("val_fraction", val)):
        if not 0 < f < 1:
            raise ValueError(f"{label} must lie in (0, 1), got {f!r}")
    if test + val >= 1:
        raise ValueError(f"test_fraction + val_fraction must be below 1, got {test + val}")
    if groups is None:
        order = rng.permutation(n)
        n_test, n_val = max(1, round(n * test)), max(1, round(n * val))
        parts = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    else:
        names, codes = np.unique(groups, return_inverse=True)
        sizes = np.bincount(codes)
        side = np.full(len(names), 2)  # 0 test, 1 validation, 2 train; runs in random order fill test, then val
        filled = [0, 0]
        for g in rng.permutation(len(names)):
            s = 0 if filled[0] < test * n else 1 if filled[1] < val * n else 2
            if s < 2:
                side[g] = s
                filled[s] += sizes[g]
        parts = tuple(np.flatnonzero(side[codes] == s) for s in (0, 1, 2))
    test_rows, val_rows, train_rows = parts
    if len(train_rows) < 2 or not len(val_rows) or not len(test_rows):
        unit = "distinct designs" if groups is None else f"distinct designs in {len(np.unique(groups))} runs"
        raise ValueError(f"too few rows to train and test a proxy: {n} {unit} "
                         f"({len(train_rows)} train, {len(val_rows)} validation, {len(test_rows)} test)")
    return np.sort(train_rows), np.sort(val_rows), np.sort(test_rows)


def _choose_transform(metric: str, y: np.ndarray, requested: str | None) -> str:
    if requested is not None:
        if requested not in TRANSFORMS:
            raise ValueError(f"transform for {metric!r} must be one of {list(TRANSFORMS)}, got {requested!r}")
        if requested == "log" and np.any(y <= 0):
            raise ValueError(f"metric {metric!r} has values <= 0: a log transform is impossible")
        return requested
    return "log" if np.all(y > 0) else "identity"


def train_proxy(
    data: str | os.PathLike[str] | pandas.DataFrame,
    simulator: Simulator,
    *,
    env_id: str,
    env_kwargs: Mapping[str, Any] | None = None,
    seed: int = 0,
    test_fraction: float = 0.15,
    val_fraction: float = 0.15,
    split: str = "row",
    transforms: Mapping[str, str] | None = None,
    xgb_params: Mapping[str, Any] | None = None,
    n_jobs: int = 1,
) -> ProxyModel:
    """Fit a proxy for ``simulator`` (built with ``env_kwargs`` for env ``env_id``) on a dataset's rows
    of that env and workload; the returned model's ``report`` scores it on the held-out test rows."""
    import xgboost as xgb

    from archgym.envs import _ENV_KWARGS

    if split not in ("row", "run"):
        raise ValueError(f"split must be 'row' or 'run', got {split!r}")
    params = {**DEFAULT_XGB_PARAMS, **(xgb_params or {})}
    for key in ("n_jobs", "random_state", "seed", "nthread"):
        if key in params:
            raise ValueError(f"xgboost parameter {key!r} is set by the seed and n_jobs arguments")
    if "objective" in params:
        raise ValueError("the proxy fits squared error on the (transformed) metric; choose a transform, not an "
                         "xgboost objective")
    depths = params.pop("max_depth")
    depths = list(depths) if isinstance(depths, (list, tuple)) else [depths]
    if not depths or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in depths):
        raise ValueError(f"max_depth must be a positive integer or a list of them, got {depths!r}")
    unknown = sorted(set(transforms or {}) - set(simulator.metric_names))
    if unknown:
        raise ValueError(f"transforms name unknown metric(s) {unknown}; metrics are {list(simulator.metric_names)}")
    started = time.perf_counter()
    space, metrics = simulator.space, simulator.metrics
    df = _rows_for(data, space, metrics, env_id, simulator.workload)
    encoder = FeatureEncoder(space)
    features = encoder.from_columns({p: df[p].to_numpy() for p in space.names})
    feasible = df["feasible"].to_numpy(dtype=bool)
    rng = np.random.default_rng(seed)
    groups = df["run_id"].to_numpy() if split == "run" else None
    train, val, test = _split(len(df), rng, test_fraction, val_fraction, groups)

    def fit(model_cls: Any, rows_fit: np.ndarray, y_fit: np.ndarray, rows_val: np.ndarray, y_val: np.ndarray,
            ) -> tuple[xgb.Booster, dict[str, Any]]:
        """The best of one early-stopped model per depth, by validation score (RMSE or log-loss)."""
        best, scores = None, {}
        for depth in depths:
            model = model_cls(**params, max_depth=depth, n_jobs=n_jobs, random_state=seed)
            model.fit(features[rows_fit], y_fit, eval_set=[(features[rows_val], y_val)], verbose=False)
            scores[str(depth)] = float(model.best_score)
            if best is None or model.best_score < best.best_score:
                best = model
        booster = best.get_booster()[: best.best_iteration + 1]
        return booster, {"max_depth": best.max_depth, "trees": booster.num_boosted_rounds(),
                         "validation_score_by_depth": scores}

    boosters: dict[str, xgb.Booster] = {}
    entries = []
    for i, m in enumerate(metrics):
        y = df[m.name].to_numpy(dtype=np.float64)
        usable = feasible & np.isfinite(y)
        tr, va, te = (rows[usable[rows]] for rows in (train, val, test))
        if len(tr) < 2 or not len(va):
            raise ValueError(f"metric {m.name!r}: too few feasible rows to train on ({len(tr)} train, "
                             f"{len(va)} validation)")
        if np.ptp(y[tr]) == 0:
            entry = {"metric": m.name, "transform": "constant", "value": float(y[tr][0])}
        else:
            transform = _choose_transform(m.name, y[np.concatenate([tr, va])], (transforms or {}).get(m.name))
            t0 = time.perf_counter()
            boosters[m.name], chosen = fit(xgb.XGBRegressor, tr, _forward(transform, y[tr]), va,
                                           _forward(transform, y[va]))
            entry = {"metric": m.name, "transform": transform, "file": f"metric-{i:02d}.json", **chosen,
                     "fit_seconds": time.perf_counter() - t0}
        entry.update(rows_train=len(tr), rows_val=len(va))
        entries.append(entry)

    classifier = None
    if feasible[train].all():
        feas_entry: dict[str, Any] = {"kind": "all-feasible"}
    elif not feasible[train].any():
        raise ValueError("every training row is infeasible: nothing to learn the metrics from")
    else:
        classifier, chosen = fit(xgb.XGBClassifier, train, feasible[train].astype(int), val,
                                 feasible[val].astype(int))
        feas_entry = {"kind": "classifier", "file": "feasible.json", "threshold": FEASIBLE_THRESHOLD, **chosen}

    sim_kwargs = {k: v for k, v in (env_kwargs or {}).items() if k not in _ENV_KWARGS}
    manifest: dict[str, Any] = {
        "format": PROXY_FORMAT,
        "version": PROXY_VERSION,
        "env_id": env_id,
        "env_kwargs": {k: _json_value(v) for k, v in (env_kwargs or {}).items()},
        "simulator_class": _class_path(simulator),
        "simulator_settings": simulator_settings(simulator, sim_kwargs),
        "workload": simulator.workload,
        "space": space.to_dict(),
        "metrics": [m.to_dict() for m in metrics],
        "features": encoder.spec,
        "models": entries,
        "feasibility": feas_entry,
        "default_targets": _json_value(simulator.default_targets()),
        "training": {
            "dataset": str(data) if not hasattr(data, "columns") else "<table>",
            "distinct_designs": len(df), "feasible_designs": int(feasible.sum()),
            "rows_train": len(train), "rows_val": len(val), "rows_test": len(test),
            "seed": seed, "split": split, "test_fraction": test_fraction, "val_fraction": val_fraction,
            "xgboost_params": {**params, "max_depth": depths}, "n_jobs": n_jobs,
            "xgboost_version": xgb.__version__, "archgym_version": archgym.__version__,
        },
    }
    model = ProxyModel(json.loads(json.dumps(manifest, default=json_default)), boosters, classifier)
    model.manifest["report"] = {"split": "test", **model.score(df.iloc[test])}
    model.manifest["training"]["seconds"] = time.perf_counter() - started
    return model


# --------------------------------------------------------------------------------------------------
# The simulator contract over a proxy
# --------------------------------------------------------------------------------------------------


class ProxySimulator(Simulator):
    """A ``Simulator`` whose costs are a trained proxy's predictions.

    ``proxy`` is a model directory (or a loaded ``ProxyModel``). Given the real ``simulator`` (and
    the ``simulator_kwargs`` it was built with), the proxy is first checked to have been trained for
    it -- same class, workload, space, metrics and settings -- and takes its default design and
    targets from it; the real simulator is never asked to evaluate anything else.
    """

    def __init__(self, proxy: str | os.PathLike[str] | ProxyModel, *, simulator: Simulator | None = None,
                 simulator_kwargs: Mapping[str, Any] | None = None, n_jobs: int = 1) -> None:
        self.model = proxy if isinstance(proxy, ProxyModel) else load_proxy(proxy, n_jobs=n_jobs)
        if simulator is not None:
            self.model.check_compatible(simulator, simulator_kwargs)
        self.simulator = simulator
        self.space = simulator.space if simulator is not None else self.model.space
        self.metrics = tuple(simulator.metrics) if simulator is not None else self.model.metrics
        self.workload = self.model.workload

    def _evaluate(self, design: dict[str, Any]) -> Evaluation:
        encoder = self.model.encoder
        if self.space.discrete:  # the fast path: dict lookups instead of column searches
            features = encoder.from_indices(self.space.encode_indices(design)[None, :])
        else:
            features = encoder.from_columns({k: [v] for k, v in design.items()})
        evaluation = self.model.predict(features)[0]
        if not evaluation.feasible:  # metrics left out rather than NaN, which would break gymnasium's
            return Evaluation(metrics={}, feasible=False, reason=evaluation.reason)  # determinism check
        return evaluation

    def _evaluate_batch(self, indices: np.ndarray) -> BatchEvaluation:
        return self.model.predict(self.model.encoder.from_indices(indices))

    def default_design(self) -> dict[str, Any]:
        return self.simulator.default_design() if self.simulator is not None else super().default_design()

    def default_targets(self) -> dict[str, float]:
        if self.simulator is not None:
            return self.simulator.default_targets()
        return dict(self.model.manifest.get("default_targets") or {})

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "backend": "proxy", "proxy": str(self.model.path or ""),
                "env_id": self.model.env_id}
