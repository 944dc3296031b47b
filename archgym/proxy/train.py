"""Training a proxy: one early-stopped XGBoost regressor per metric (and a feasibility classifier).

Duplicate designs are dropped (simulators are deterministic; a design on both sides of the split
would flatter the test score), the rows are split into train/validation/test with a seeded
permutation (by row, or by run so that whole runs are held out), boosting stops early when the
validation RMSE has not improved for ``early_stopping_rounds`` rounds. Trees of each listed
``max_depth``, and for a log-fitted metric each target weighting (``TARGET_WEIGHTS``), are fitted and
the one with the lowest validation RMSE in the metric's own units is chosen, per metric; it is then
fitted again on the training and validation rows together, with its number of trees scaled to the
larger set (within ``n_estimators``; the test rows are never used). Targets are fitted in log space
when every training value of the metric is positive (relative errors then weigh the same at every
scale, and predictions stay positive) and as they are otherwise; a metric that never varies is stored as its constant.
"""

from __future__ import annotations

import inspect
import math
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

import archgym
from archgym.proxy.features import FeatureEncoder
from archgym.proxy.manifest import TRANSFORMS, FeasibilityModel, MetricModel, ProxyManifest, TrainingRange
from archgym.proxy.model import (
    FEASIBLE_THRESHOLD,
    ProxyModel,
    class_path,
    forward_transform,
    inverse_transform,
    json_value,
    settings_form,
    simulator_settings,
)
from archgym.proxy.rows import proxy_rows
from simulators.core import Simulator
from simulators.params import MAX_SEED, check_int, is_integer

if TYPE_CHECKING:
    import pandas

__all__ = ["DEFAULT_XGB_PARAMS", "MIN_HELD_OUT", "MIN_TRAIN", "train_proxy"]

#: Boosting settings (any ``xgboost.XGBRegressor`` keyword may be overridden; ``n_estimators`` is the
#: cap early stopping works under). ``max_depth`` may list several depths: each is fitted and the one
#: with the lowest validation error is kept, per metric -- shallow trees suit metrics that add up
#: many knobs' contributions, deep ones metrics that multiply a few.
DEFAULT_XGB_PARAMS: dict[str, Any] = {
    "n_estimators": 2000,
    "learning_rate": 0.1,
    "max_depth": [4, 6, 8, 10],
    "min_child_weight": 1.0,
    "subsample": 1.0,
    "tree_method": "hist",
    "early_stopping_rounds": 50,
}


#: Sample weights a log-fitted metric is tried with, as powers of ``value / mean``: 0 fits relative errors
#: evenly; 1 weighs large values more, nearer to the absolute error the RMSE reports (the squared error of
#: ``log y`` weighted by ``y**2`` would be the absolute one to first order, but overweights the extremes).
TARGET_WEIGHTS = (0, 1)

#: The smallest training split, and validation and test splits, a proxy is fitted and scored on: fewer
#: validation rows make early stopping and the depth choice noise, fewer test rows make the report noise.
MIN_TRAIN, MIN_HELD_OUT = 20, 5


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
        if len(names) < 3:
            raise ValueError(f"split by run puts whole runs in the train, validation and test sets, so it needs "
                             f"at least 3 runs; the rows come from {len(names)} (split by row instead)")
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
    if len(train_rows) < MIN_TRAIN or len(val_rows) < MIN_HELD_OUT or len(test_rows) < MIN_HELD_OUT:
        unit = "distinct designs" if groups is None else f"distinct designs in {len(np.unique(groups))} runs"
        needed = next(k for k in range(1, 10 ** 6) if round(k * test) >= MIN_HELD_OUT and round(k * val) >= MIN_HELD_OUT
                      and k - round(k * test) - round(k * val) >= MIN_TRAIN)
        raise ValueError(f"too few rows to train and test a proxy: {n} {unit} ({len(train_rows)} train, "
                         f"{len(val_rows)} validation, {len(test_rows)} test); a proxy needs at least {MIN_TRAIN} "
                         f"train, {MIN_HELD_OUT} validation and {MIN_HELD_OUT} test designs (at least {needed} "
                         "distinct designs with these fractions)")
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
    """Fit a proxy for ``simulator`` (of env ``env_id``, made with the ``gym.make`` keywords ``env_kwargs``,
    which are recorded for reuse) on a dataset's rows of that env and workload; the returned model's
    ``report`` scores it on the held-out test rows."""
    import xgboost as xgb

    if split not in ("row", "run"):
        raise ValueError(f"split must be 'row' or 'run', got {split!r}")
    n_jobs = check_int(n_jobs, "n_jobs", low=1)
    seed = check_int(seed, "seed", low=0, high=MAX_SEED)
    params = {**DEFAULT_XGB_PARAMS, **(xgb_params or {})}
    known = set(xgb.XGBRegressor().get_params())
    unknown = sorted(set(params) - known - {"seed", "nthread"})
    if unknown:  # xgboost itself only warns that they "are not used", and fits without them
        raise ValueError(f"unknown xgboost parameter(s) {unknown}; XGBRegressor takes {sorted(known)}")
    for key in ("n_jobs", "random_state", "seed", "nthread"):
        if key in params:
            raise ValueError(f"xgboost parameter {key!r} is set by the seed and n_jobs arguments")
    if "objective" in params:
        raise ValueError("the proxy fits squared error on the (transformed) metric; choose a transform, not an "
                         "xgboost objective")
    for key in ("n_estimators", "early_stopping_rounds"):  # the fit needs both (best_iteration)
        if not is_integer(params[key]) or params[key] < 1:
            raise ValueError(f"xgboost parameter {key!r} must be a positive integer, got {params[key]!r}")
        params[key] = int(params[key])
    # xgboost takes True for a number (n_estimators=True is one tree) and a NaN or infinite setting (NaN
    # trees); booleans are for the keywords it types as bool, NaN only for ``missing``
    # (and a string for a number, which it parses: learning_rate='nan' trained NaN trees, exit 0)
    typed = {name: str(p.annotation) for name, p in inspect.signature(xgb.XGBModel.__init__).parameters.items()}
    takes_bool = {name for name, kind in typed.items() if "bool" in kind}
    numeric = {name for name, kind in typed.items() if ("float" in kind or "int" in kind) and "str" not in kind}
    for key, value in params.items():
        if isinstance(value, (bool, np.bool_)) and key not in takes_bool:
            raise ValueError(f"xgboost parameter {key!r} is {value!r}: give a number or a name, not a boolean")
        if isinstance(value, str) and key in numeric:
            raise ValueError(f"xgboost parameter {key!r} must be a number, got the string {value!r}")
        if isinstance(value, (float, np.floating)) and not math.isfinite(value) and key != "missing":
            raise ValueError(f"xgboost parameter {key!r} must be finite, got {value!r}")
    if params.get("booster", "gbtree") != "gbtree":
        raise ValueError(f"xgboost parameter 'booster' is {params['booster']!r}: the proxy is made of trees "
                         "(booster 'gbtree', the default)")
    depths = params.pop("max_depth")
    depths = list(depths) if isinstance(depths, (list, tuple)) else [depths]
    if not depths or any(not is_integer(d) or d < 1 for d in depths):
        raise ValueError(f"max_depth must be a positive integer or a list of them, got {depths!r}")
    depths = [int(d) for d in depths]
    unknown = sorted(set(transforms or {}) - set(simulator.metric_names))
    if unknown:
        raise ValueError(f"transforms name unknown metric(s) {unknown}; metrics are {list(simulator.metric_names)}")
    started = time.perf_counter()
    space, metrics = simulator.space, simulator.metrics
    selected = proxy_rows(data, space, metrics, env_id, simulator.workload, simulator_settings(simulator),
                          settings_form=settings_form)
    df = selected.rows
    canonical = simulator.canonical_indices if simulator.declares_equivalences and space.indexable else None
    encoder = FeatureEncoder(space, canonical=canonical)
    features = encoder.from_columns({p: df[p].to_numpy() for p in space.names})
    feasible = df["feasible"].to_numpy(dtype=bool)
    rng = np.random.default_rng(seed)
    groups = df["run_id"].to_numpy() if split == "run" else None
    train, val, test = _split(len(df), rng, test_fraction, val_fraction, groups)

    def fit_classifier(rows_fit: np.ndarray, y_fit: np.ndarray, rows_val: np.ndarray, y_val: np.ndarray,
                       ) -> tuple[xgb.Booster, dict[str, Any]]:
        """The best of one early-stopped classifier per depth, by validation log-loss."""
        best, scores = None, {}
        for depth in depths:
            model = xgb.XGBClassifier(**params, max_depth=depth, n_jobs=n_jobs, random_state=seed)
            model.fit(features[rows_fit], y_fit, eval_set=[(features[rows_val], y_val)], verbose=False)
            scores[str(depth)] = float(model.best_score)
            if best is None or model.best_score < best.best_score:
                best = model
        booster = best.get_booster()[: best.best_iteration + 1]
        return booster, {"max_depth": best.max_depth, "trees": booster.num_boosted_rounds(),
                         "validation_score_by_depth": scores}

    def fit_regressor(tr: np.ndarray, va: np.ndarray, y: np.ndarray, transform: str,
                      ) -> tuple[xgb.Booster, dict[str, Any]]:
        """Every depth x target weighting early-stopped on the validation rows; the one with the lowest
        validation RMSE in the metric's own units is refitted on the training and validation rows, with
        its number of trees scaled to the larger set."""
        with np.errstate(invalid="ignore", divide="ignore"):  # on rows this metric is not fitted on (-inf, ...)
            target = forward_transform(transform, y)
        best, scores = None, {}
        for depth in depths:
            for power in (TARGET_WEIGHTS if transform == "log" else (0,)):
                weight = (y / np.mean(y[tr])) ** power
                model = xgb.XGBRegressor(**params, max_depth=depth, n_jobs=n_jobs, random_state=seed)
                model.fit(features[tr], target[tr], sample_weight=weight[tr], eval_set=[(features[va], target[va])],
                          sample_weight_eval_set=[weight[va]], verbose=False)
                trees = model.best_iteration + 1
                predicted = inverse_transform(transform, model.predict(features[va], iteration_range=(0, trees)))
                rmse = float(np.sqrt(np.mean((predicted - y[va]) ** 2)))
                scores[str(depth)] = min(rmse, scores.get(str(depth), math.inf))
                if best is None or rmse < best[0]:
                    best = (rmse, depth, power, trees)
        _, depth, power, trees = best
        both = np.concatenate([tr, va])
        trees = max(1, min(int(params["n_estimators"]), round(trees * len(both) / len(tr))))
        fixed = {k: v for k, v in params.items() if k not in ("early_stopping_rounds", "n_estimators")}
        final = xgb.XGBRegressor(**fixed, n_estimators=trees, max_depth=depth, n_jobs=n_jobs, random_state=seed)
        final.fit(features[both], target[both], sample_weight=((y / np.mean(y[tr])) ** power)[both], verbose=False)
        return final.get_booster(), {"max_depth": depth, "trees": trees, "target_weight": power,
                                     "validation_score_by_depth": scores, "rows_fit": len(both)}

    boosters: dict[str, xgb.Booster] = {}
    entries = []
    for i, m in enumerate(metrics):
        y = df[m.name].to_numpy(dtype=np.float64)
        usable = feasible & np.isfinite(y)
        tr, va, te = (rows[usable[rows]] for rows in (train, val, test))
        if len(tr) < MIN_TRAIN // 2 or len(va) < MIN_HELD_OUT // 2:
            raise ValueError(f"metric {m.name!r}: too few feasible rows to train on ({len(tr)} train, "
                             f"{len(va)} validation; at least {MIN_TRAIN // 2} and {MIN_HELD_OUT // 2} are needed)")
        if np.ptp(y[tr]) == 0:
            entry = {"metric": m.name, "transform": "constant", "value": float(y[tr][0])}
        else:
            transform = _choose_transform(m.name, y[np.concatenate([tr, va])], (transforms or {}).get(m.name))
            t0 = time.perf_counter()
            boosters[m.name], chosen = fit_regressor(tr, va, y, transform)
            entry = {"metric": m.name, "transform": transform, "file": f"metric-{i:02d}.json", **chosen,
                     "fit_seconds": time.perf_counter() - t0}
        entry.update(rows_train=len(tr), rows_val=len(va))
        entries.append(entry)

    fitted = np.concatenate([train, val])
    classifier = None
    if feasible[train].all():
        feas_entry: dict[str, Any] = {"kind": "all-feasible"}
    elif not feasible[train].any():
        raise ValueError("every training row is infeasible: nothing to learn the metrics from")
    else:
        classifier, chosen = fit_classifier(train, feasible[train].astype(int), val, feasible[val].astype(int))
        feas_entry = {"kind": "classifier", "file": "feasible.json", "threshold": FEASIBLE_THRESHOLD, **chosen}

    manifest = ProxyManifest(
        env_id=env_id,
        env_kwargs={k: json_value(v) for k, v in (env_kwargs or {}).items()},
        simulator_class=class_path(simulator),
        simulator_settings=simulator_settings(simulator),
        workload=simulator.workload,
        space=json_value(space.to_dict()),
        metrics=[m.to_dict() for m in metrics],
        features=json_value(encoder.spec),
        models=[MetricModel(**json_value(e)) for e in entries],
        feasibility=FeasibilityModel(**json_value(feas_entry)),
        default_targets=json_value(simulator.default_targets()),
        canonical=encoder.canonical is not None,
        # what the fitted (training and validation) rows span: a prediction beyond it is reported
        training_range=TrainingRange(low=features[fitted].min(axis=0).astype(float).tolist(),
                                     high=features[fitted].max(axis=0).astype(float).tolist()),
        training=json_value({
            "dataset": str(data) if not hasattr(data, "columns") else "<table>",
            "distinct_designs": len(df), "feasible_designs": int(feasible.sum()),
            "rows_train": len(train), "rows_val": len(val), "rows_test": len(test),
            "rows_other_settings": selected.other_settings_rows, "other_settings": list(selected.other_settings),
            "rows_repeated": selected.repeated_rows, "rows_other_workloads": selected.other_workloads_rows,
            "rows_nonfinite": selected.nonfinite, "left_out": selected.left_out(),
            # the runs the fitted (training and validation) rows came from: a score on them flatters the proxy
            "fitted_runs": sorted(set(df["run_id"].iloc[fitted].astype(str))),
            "seed": seed, "split": split, "test_fraction": test_fraction, "val_fraction": val_fraction,
            "xgboost_params": {**params, "max_depth": depths}, "n_jobs": n_jobs,
            "xgboost_version": xgb.__version__, "archgym_version": archgym.__version__,
        }),
    )
    model = ProxyModel(manifest, boosters, classifier)
    model.bind(simulator)
    # rows predicted again whenever the model is loaded: a manifest edited after training is refused then
    manifest.check = model.prediction_check(features[train[np.linspace(0, len(train) - 1, min(8, len(train))
                                                                        ).astype(int)]])
    manifest.report = {"split": "test", **model.score_rows(df.iloc[test])}
    manifest.training["seconds"] = time.perf_counter() - started
    return model
