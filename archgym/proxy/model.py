"""A trained proxy: boosters per metric, an optional feasibility classifier, and its manifest.

Batches are predicted by XGBoost; a handful of designs (``env.step``) by a compiled walk of the same
trees (``TreeWalker``), which avoids XGBoost's per-call overhead and gives XGBoost's margins to the
bit, so that a design's prediction does not depend on the batch it is predicted in.
``ProxyModel.save`` writes the directory, ``load_proxy`` reads it (checking the manifest strictly and
opening only the files it names inside the directory).
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
import math
import os
import shutil
import uuid
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from archgym.dataset import provenance
from archgym.dataset.schema import PART_GLOB
from archgym.io import json_default, read_json, write_json
from archgym.proxy.accuracy import MetricScore, feasibility_score, score_values
from archgym.proxy.features import FeatureEncoder
from archgym.proxy.manifest import PredictionCheck, ProxyManifest
from archgym.proxy.trees import TreeWalker
from simulators.core import BatchEvaluation, Simulator, metrics_difference, space_difference

if TYPE_CHECKING:
    import pandas
    import xgboost

__all__ = ["FEASIBLE_THRESHOLD", "MANIFEST", "ProxyModel", "ProxyRangeWarning", "check_model_dir", "class_path",
           "forward_transform", "inverse_transform", "json_value", "load_proxy", "settings_form", "simulator_settings"]

MANIFEST = "manifest.json"
FEASIBLE_THRESHOLD = 0.5
_WORKLOAD_KEYWORDS = ("workload", "network")  # compared through Simulator.workload instead
_FEASIBLE = "\0feasible"  # the classifier's key among the boosters' outputs (no metric can be named so)
_WALK_ROWS = 8  # predictions for at most this many designs walk the trees in compiled code (TreeWalker)


class ProxyRangeWarning(UserWarning):
    """A proxy was asked to predict a design outside the designs it was trained on (once per parameter)."""


def forward_transform(transform: str, y: np.ndarray) -> np.ndarray:
    """A metric's values as its booster is fitted on them."""
    return np.log(y) if transform == "log" else y


def inverse_transform(transform: str, y: np.ndarray) -> np.ndarray:
    """A booster's margins back in the metric's units."""
    return np.exp(y) if transform == "log" else y


def simulator_settings(simulator: Simulator) -> dict[str, Any]:
    """The simulator's constructor settings as a dataset records them (defaults included, files by content
    hash), without the workload and space (compared on their own): what must match between a proxy and
    the simulator it replaces."""
    return settings_form(provenance.simulator_settings(simulator))


def settings_form(record: Mapping[str, Any]) -> dict[str, Any]:
    """A recorded settings record in the form a proxy compares: without the workload and space."""
    out = dict(record)
    for name in (*_WORKLOAD_KEYWORDS, "space"):
        out.pop(name, None)
    return out


def class_path(obj: Any) -> str:
    """``module.QualName`` of an object's class (what a manifest records of the simulator)."""
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def json_value(value: Any) -> Any:
    """``value`` as plain JSON data, or the marker ``{"unrecorded": type}`` when it is not JSON-able."""
    try:
        return json.loads(json.dumps(value, default=json_default))
    except (TypeError, ValueError):
        return {"unrecorded": type(value).__name__}


class ProxyModel:
    """A trained proxy: one booster per metric (or a constant), an optional feasibility classifier,
    and the manifest describing what it was trained for. ``save``/``load_proxy`` round-trip it."""

    def __init__(self, manifest: ProxyManifest, boosters: Mapping[str, xgboost.Booster],
                 classifier: xgboost.Booster | None = None, path: str | os.PathLike[str] | None = None) -> None:
        if not isinstance(manifest, ProxyManifest):
            raise ValueError(f"manifest must be a ProxyManifest, got {type(manifest).__name__}")
        self.manifest = manifest
        self.space = manifest.design_space
        self.metrics = manifest.metric_list
        self._encoder = FeatureEncoder(self.space)
        if [f.get("name") for f in manifest.features] != self._encoder.names:
            raise ValueError(f"proxy {path or ''}: its features {[f.get('name') for f in manifest.features]} are not "
                             f"what this archgym derives from its space ({self._encoder.names}); retrain it")
        self._models = {m.metric: m for m in manifest.models}
        missing = [m for m, entry in self._models.items() if entry.transform != "constant" and m not in boosters]
        if missing or (manifest.feasibility.kind == "classifier") != (classifier is not None):
            raise ValueError(f"proxy {path or ''}: boosters do not match the manifest (missing {missing})")
        self._boosters = dict(boosters)
        self._classifier = classifier
        self._walker: TreeWalker | None = None  # built on the first small prediction
        trained = manifest.training_range
        self._bounds = None if trained is None else (np.array(trained.low), np.array(trained.high))
        self._warned: set[str] = set()  # parameters a ProxyRangeWarning was given for
        self.path = None if path is None else Path(path)

    @property
    def encoder(self) -> FeatureEncoder:
        """Designs -> this proxy's features. A proxy trained on canonical designs (``manifest.canonical``)
        needs its simulator's ``canonical_indices``: given by ``bind`` (``ProxySimulator`` does), or
        else made here once from the manifest's env id and keywords."""
        if self.manifest.canonical and self._encoder.canonical is None:
            from archgym.catalog import make_env, split_env_module
            from archgym.registry import trusted_module

            module = split_env_module(self.env_id)[0]
            if module is not None and not trusted_module(module):  # a model directory is data, like a dataset
                raise ValueError(f"proxy {self.path or ''}: its manifest's env id {self.env_id!r} would import "
                                 f"{module!r}, which runs that module's code; import it yourself if you trust it, "
                                 "or pass the simulator: ProxySimulator(model, simulator=...)")
            try:
                simulator = make_env(self.env_id, self.manifest.env_kwargs).simulator
            except ValueError as exc:
                raise ValueError(f"proxy {self.path or ''} computes its features from {self.env_id}'s canonical "
                                 f"designs, and that env cannot be made here ({exc}); pass the simulator: "
                                 "ProxySimulator(model, simulator=...)") from None
            self.bind(simulator)
        return self._encoder

    def bind(self, simulator: Simulator) -> None:
        """Check that this proxy was trained for ``simulator`` (``check_compatible``) and, if its features
        are canonical, take the simulator's ``canonical_indices`` for them."""
        self.check_compatible(simulator)
        if self.manifest.canonical:
            self._encoder.canonical = simulator.canonical_indices

    # -- what it was trained for ---------------------------------------------------------------
    @property
    def env_id(self) -> str:
        return self.manifest.env_id

    @property
    def workload(self) -> str:
        return self.manifest.workload

    @property
    def report(self) -> dict[str, Any]:
        return self.manifest.report or {}

    @property
    def transforms(self) -> dict[str, str]:
        return {m: entry.transform for m, entry in self._models.items()}

    def check_compatible(self, simulator: Simulator) -> None:
        """``ValueError`` naming what differs unless this proxy was trained for ``simulator``: its class,
        workload, design space, metrics and constructor settings."""
        where = f"proxy {self.path}" if self.path else "this proxy"
        trained = self.manifest.simulator_class
        if class_path(simulator) != trained:
            raise ValueError(f"{where} was trained for {self.env_id} ({trained}), not for "
                             f"{class_path(simulator)}")
        if simulator.workload != self.workload:
            raise ValueError(f"{where} was trained for workload {self.workload!r}, this env has workload "
                             f"{simulator.workload!r}")
        diff = space_difference(self.manifest.space, simulator.space.to_dict())
        if diff:
            raise ValueError(f"{where} was trained for a different design space: {diff} (proxy vs env)")
        diff = metrics_difference(self.manifest.metrics, [m.to_dict() for m in simulator.metrics])
        if diff:
            raise ValueError(f"{where} predicts different metrics: {diff} (proxy vs env)")
        diff = provenance.record_difference(self.manifest.simulator_settings, simulator_settings(simulator),
                                            ("proxy", "env"))
        if diff:
            raise ValueError(f"{where} was trained with other simulator settings: {diff}")

    # -- prediction -------------------------------------------------------------------------------
    def predict(self, features: np.ndarray) -> BatchEvaluation:
        """Predicted metrics (original units; NaN for designs predicted infeasible) and feasibility for a
        feature matrix (``self.encoder`` makes one from designs)."""
        outside = self._outside(features)
        if outside is not None and outside.any():
            self._warn_outside(features[outside.any(axis=1)], outside[outside.any(axis=1)])
        metrics, p_feasible = self._predict_all(features)
        feasible = p_feasible >= self._threshold
        reasons: list[str | None] = [None] * len(feasible)
        for i in np.flatnonzero(~feasible):
            reasons[i] = f"predicted infeasible by the proxy (p_feasible={p_feasible[i]:.2f})"
            for values in metrics.values():
                values[i] = math.nan
        return BatchEvaluation(metrics=metrics, feasible=feasible, reasons=reasons)

    def outside_training_range(self, features: np.ndarray) -> np.ndarray:
        """Per feature row, whether some feature lies outside its range over the rows the proxy was fitted on
        (a parameter value beyond those trained on, or a choice none of them had): the trees' predictions
        there carry the edge of their data over, unfounded. All false for a model saved without the range."""
        outside = self._outside(features)
        return np.zeros(len(features), dtype=bool) if outside is None else outside.any(axis=1)

    def _outside(self, features: np.ndarray) -> np.ndarray | None:
        if self._bounds is None:
            return None
        low, high = self._bounds
        return (features < low) | (features > high)

    def _warn_outside(self, features: np.ndarray, outside: np.ndarray) -> None:
        """One ``ProxyRangeWarning`` per parameter, the first time a design outside its trained values is
        predicted: which value, and the values the training designs had."""
        encoder, spec = self._encoder, self.manifest.features
        low, high = self._bounds
        for j in np.flatnonzero(outside.any(axis=0)):
            name = spec[j]["parameter"]
            if name in self._warned:
                continue
            self._warned.add(name)
            row = features[np.flatnonzero(outside[:, j])[0]]
            if spec[j]["kind"] == "onehot":  # the design's value is the column set to 1
                columns = [k for k, f in enumerate(spec) if f["parameter"] == name]
                value = encoder.parameter_value(next(k for k in columns if row[k] > 0), 1.0)
                trained = "one of " + ", ".join(repr(encoder.parameter_value(k, 1.0)) for k in columns if high[k] > 0)
            else:
                value = encoder.parameter_value(j, row[j])
                trained = f"from {encoder.parameter_value(j, low[j])!r} to {encoder.parameter_value(j, high[j])!r}"
            warnings.warn(ProxyRangeWarning(
                f"proxy {self.path or ''}: {name}={value!r} is outside the designs it was "
                f"trained on ({name} {trained}); its predictions there are extrapolated, not learnt from data: "
                "check such designs on the simulator, or train on data that covers them (said once per parameter)"),
                stacklevel=4)

    @property
    def _threshold(self) -> float:
        return self.manifest.feasibility.threshold or FEASIBLE_THRESHOLD

    def _predict_all(self, features: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Every metric's prediction (whatever the feasibility) and the probability of feasibility."""
        n = features.shape[0]
        names = list(self._boosters) + ([_FEASIBLE] if self._classifier is not None else [])
        if not n or not names:
            margins = {name: np.empty(n) for name in names}
        elif n <= _WALK_ROWS and self._tree_walker(names, features.shape[1]).exact:
            margins = dict(zip(names, self._walker.margins(features).T))
        else:
            margins = {name: np.asarray(self._booster(name).inplace_predict(features, predict_type="margin"),
                                        dtype=np.float64) for name in names}
        metrics = {}
        for m in self.metrics:
            entry = self._models[m.name]
            if entry.transform == "constant":
                metrics[m.name] = np.full(n, float(entry.value))
            else:
                metrics[m.name] = inverse_transform(entry.transform, margins[m.name])
        p_feasible = 1 / (1 + np.exp(-margins[_FEASIBLE])) if _FEASIBLE in margins else np.ones(n)
        return metrics, p_feasible

    def prediction_check(self, features: np.ndarray) -> PredictionCheck:
        """What this proxy predicts for feature rows ``features`` (at most a few), as a manifest's ``check``."""
        metrics, p_feasible = self._predict_all(np.asarray(features, dtype=np.float64))
        return PredictionCheck(features=np.asarray(features, dtype=np.float64).tolist(),
                               metrics={name: values.tolist() for name, values in metrics.items()},
                               p_feasible=p_feasible.tolist())

    def verify(self) -> None:
        """``ValueError`` when this proxy does not predict its manifest's ``check`` rows as it did when it was
        trained: a manifest entry was edited (files or metric names swapped, a transform or constant changed),
        so it would predict one metric as another, or in the wrong units."""
        check = self.manifest.check
        if check is None:
            return
        again = self.prediction_check(np.array(check.features, dtype=np.float64))
        recorded = {**check.metrics, "p_feasible": check.p_feasible}
        for name, values in {**again.metrics, "p_feasible": again.p_feasible}.items():
            want, got = np.array(recorded[name], dtype=np.float64), np.array(values, dtype=np.float64)
            bad = ~np.isclose(got, want, rtol=1e-6, atol=1e-12, equal_nan=True)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                what = "the probability of feasibility" if name == "p_feasible" else f"metric {name!r}"
                raise ValueError(f"proxy {self.path or ''}: {what} is predicted {got[i]:.6g} for check row {i} of its "
                                 f"manifest, which recorded {want[i]:.6g} when the model was trained: an entry of "
                                 "the manifest was edited (a file, metric name, transform or value); train it again")

    def _tree_walker(self, names: list[str], n_features: int) -> TreeWalker:
        if self._walker is None:  # built on first use: parsing the trees takes a moment
            self._walker = TreeWalker([self._booster(name) for name in names], n_features)
        return self._walker

    def _booster(self, name: str) -> xgboost.Booster:
        return self._classifier if name == _FEASIBLE else self._boosters[name]

    def score(self, data: str | os.PathLike[str] | pandas.DataFrame) -> dict[str, Any]:
        """Accuracy on the rows of a dataset that match this proxy's env, workload and settings (one row per
        distinct design): per metric on the truly feasible rows, and of the feasibility prediction. The
        report also counts the rows from runs the proxy was fitted on (``rows_of_fitted_runs``: a score
        on them flatters it) and says what was left out."""
        from archgym.proxy.rows import proxy_rows

        selected = proxy_rows(data, self.space, self.metrics, self.env_id, self.workload,
                              self.manifest.simulator_settings, settings_form=settings_form,
                              hint="Score the proxy on rows recorded with the settings it was trained on")
        report = self.score_rows(selected.rows)
        fitted = set(self.manifest.training.get("fitted_runs", ()))
        report["rows_of_fitted_runs"] = int(selected.rows["run_id"].astype(str).isin(fitted).sum())
        report["rows_other_settings"] = selected.other_settings_rows
        report["rows_nonfinite"] = selected.nonfinite
        report["left_out"] = selected.left_out()
        return report

    def score_rows(self, df: pandas.DataFrame) -> dict[str, Any]:
        """``score`` on rows already selected (one per distinct design)."""
        features = self.encoder.from_columns({p: df[p].to_numpy() for p in self.space.names})
        predicted, p_feasible = self._predict_all(features)
        truth = df["feasible"].to_numpy(dtype=bool)
        out: dict[str, Any] = {"rows": len(df), "feasible_rows": int(truth.sum()),
                               "rows_outside_training_range": int(self.outside_training_range(features).sum()),
                               "metrics": []}
        for m in self.metrics:
            y = df[m.name].to_numpy(dtype=np.float64)
            keep = truth & np.isfinite(y)
            out["metrics"].append(MetricScore(metric=m.name, unit=m.unit, transform=self._models[m.name].transform,
                                              **score_values(y[keep], predicted[m.name][keep])).to_dict())
        out["feasibility"] = feasibility_score(truth, p_feasible >= self._threshold, self._classifier is not None)
        return out

    # -- files ----------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model to directory ``path`` as a whole: its boosters (XGBoost JSON) and ``manifest.json``
        (with each booster's SHA-256) go into a fresh sibling directory, which is then renamed to ``path``,
        replacing the proxy model there. A reader sees the old complete model or the new one, never a mix;
        a crash leaves at most a hidden ``.NAME.partial-*`` sibling, which nothing reads. An empty directory
        (``.`` included) is written in place, its manifest last: until it is there, nothing loads it.
        ``path`` must be new, empty or a proxy model directory (``check_model_dir``)."""
        path = check_model_dir(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        in_place = path.is_dir() and not any(path.iterdir())
        staging = path if in_place else _sibling(path, "partial")
        if not in_place:
            staging.mkdir()
        retired = None
        try:
            named = [(m.file, self._boosters[m.metric]) for m in self.manifest.models if m.transform != "constant"]
            if self.manifest.feasibility.kind == "classifier":
                named.append((self.manifest.feasibility.file, self._classifier))
            digests = {}
            for file, booster in named:
                booster.save_model(staging / file)
                digests[file] = _digest_synced(staging / file)
            self.manifest.record_digests(digests)
            write_json(staging / MANIFEST, self.manifest.to_dict())
            _sync_directory(staging)
            if in_place:
                pass
            elif path.is_dir():  # a proxy model (checked above), replaced whole: moved aside, then deleted
                retired = _sibling(path, "replaced")
                os.rename(path, retired)
                os.rename(staging, path)
                shutil.rmtree(retired, ignore_errors=True)
            else:
                os.rename(staging, path)
            _sync_directory(path.parent)
        except BaseException:
            if in_place:  # back to empty
                for entry in list(path.iterdir()):
                    entry.unlink(missing_ok=True)
            else:
                if retired is not None and retired.is_dir() and not path.exists():  # stopped between the renames
                    os.rename(retired, path)
                shutil.rmtree(staging, ignore_errors=True)
            raise
        self.path = path
        return path


def _sibling(path: Path, kind: str) -> Path:
    """A fresh hidden sibling of ``path`` named for what it is (``partial``: a save under way; ``replaced``:
    the model a save is replacing)."""
    return path.with_name(f".{path.name}.{kind}-{uuid.uuid4().hex[:8]}")


def _digest_synced(file: Path) -> str:
    """The SHA-256 of ``file``, after flushing it to disk."""
    with open(file, "rb+") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
        os.fsync(f.fileno())
    return digest


def _sync_directory(directory: Path) -> None:
    """Flush a directory's entries to disk (where the platform allows opening a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def check_model_dir(path: str | os.PathLike[str]) -> Path:
    """``path`` as a ``Path`` if a proxy model can be saved there, else a ``ValueError`` saying why: it must
    be a new directory, an empty one, or a proxy model directory holding nothing but its model (a save
    replaces the whole directory), somewhere this process may write. ``save`` checks it; ``archgym proxy
    train`` checks it before training."""
    if isinstance(path, str) and not path.strip():
        raise ValueError("proxy: the model directory is an empty path (write . for the current directory)")
    path = Path(os.path.abspath(path))  # ('.' and '..' named: a save renames beside the directory)
    if path.is_symlink():
        path = path.resolve()
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path} is a file: a proxy model is written to a directory")
    if path.is_dir():
        entries = sorted(p.name for p in path.iterdir())
        if any(fnmatch.fnmatch(e, PART_GLOB) for e in entries):
            raise ValueError(f"{path} is a trajectory dataset (it holds {PART_GLOB} files): write the proxy model to "
                             "a directory of its own, e.g. --out MODEL_DIR")
        if entries:
            if MANIFEST not in entries:
                raise ValueError(f"{path} is not a proxy model directory (it holds {_names(entries)} and no "
                                 f"{MANIFEST}): a proxy model is written to a new or empty directory, or replaces a "
                                 "proxy model")
            try:
                own = {MANIFEST, *ProxyManifest.from_dict(read_json(path / MANIFEST, "proxy manifest"),
                                                          str(path / MANIFEST)).files}
            except ValueError as exc:
                raise ValueError(f"{path} cannot be replaced: it is not a proxy model directory this archgym reads "
                                 f"({exc})") from None
            # (a save before saves replaced the whole directory left the boosters it no longer needed: its own)
            extra = [e for e in entries if e not in own and not fnmatch.fnmatch(e, "metric-[0-9][0-9].json")
                     and e != "feasible.json"]
            if extra:
                raise ValueError(f"{path} holds {_names(extra)} besides its proxy model; saving replaces the whole "
                                 "directory, so move them away or write the model to another directory")
        cwd, real = Path.cwd().resolve(), path.resolve()  # (physical paths: a symlinked $PWD is the same place)
        if entries and (real == cwd or real in cwd.parents):
            raise ValueError(f"the proxy model {path} holds the current directory, and a save replaces the model's "
                             "directory whole: run it from outside (e.g. --out ../" + path.name + ")")
        if not os.access(path, os.W_OK | os.X_OK):
            raise ValueError(f"cannot write the proxy model {path}: no permission to replace the files in it")
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ValueError(f"cannot write the proxy model {path}: {ancestor} is a file, not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):  # the model is written next to it, then renamed
        raise ValueError(f"cannot write the proxy model {path}: no permission to write in {ancestor}")
    return path


def _names(entries: list[str], shown: int = 5) -> str:
    return ", ".join(entries[:shown]) + (f" and {len(entries) - shown} more" if len(entries) > shown else "")


def load_proxy(path: str | os.PathLike[str], *, n_jobs: int = 1, env_id: str | None = None) -> ProxyModel:
    """Load a model directory written by ``ProxyModel.save`` / ``archgym proxy train`` (cached per
    directory and manifest version, so many envs share one copy). The manifest is checked strictly
    and only the files it names inside the directory are opened; with ``env_id``, a proxy trained for
    another env is a ``ValueError`` naming both."""
    if isinstance(path, str) and not path.strip():  # Path("") is the current directory
        raise ValueError("proxy: the model directory is an empty path (write . for the current directory)")
    path = Path(path)
    if path.is_file():
        raise ValueError(f"{path} is a file: a proxy model is a directory written by `archgym proxy train`")
    target = path / MANIFEST
    if not target.is_file() and any(path.glob("part-*.parquet")):
        raise ValueError(f"{path} is a trajectory dataset, not a proxy model directory (train one on it with "
                         "`archgym proxy train`)")
    if not target.is_file():
        aside = sorted(path.parent.glob(f".{path.name}.replaced-*")) if not path.exists() else []
        raise ValueError(f"{path} is not a proxy model directory: it has no {MANIFEST} "
                         "(write one with `archgym proxy train`)"
                         + (f"; a save into it was interrupted, and the model it replaced is in {aside[0]}"
                            if aside else ""))
    stat = target.stat()  # a save replaces the manifest file, so a new model is never served from the cache
    model = _load_cached(str(path.resolve()), (stat.st_ino, stat.st_mtime_ns, stat.st_size), n_jobs)
    if env_id is not None and model.env_id != env_id:
        raise ValueError(f"proxy {path} was trained for {model.env_id}, not for {env_id}")
    return model


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, version: tuple[int, int, int], n_jobs: int) -> ProxyModel:
    import xgboost as xgb

    directory = Path(path)
    manifest = ProxyManifest.from_dict(read_json(directory / MANIFEST, "proxy manifest"), str(directory / MANIFEST))

    def booster(file: str, sha256: str | None) -> xgb.Booster:
        target = directory / file
        if not target.is_file():
            raise ValueError(f"proxy {directory}: its manifest names {file}, which is not in the directory")
        content = target.read_bytes()  # parsed and checked from the same bytes
        b = xgb.Booster()
        try:
            b.load_model(bytearray(content))
        except xgb.core.XGBoostError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(f"proxy {directory}: {file} is not a readable XGBoost model ({first[:200]})") from None
        found = hashlib.sha256(content).hexdigest()
        if sha256 is not None and found != sha256:
            raise ValueError(f"proxy {directory}: {file} is not the file its manifest was saved with (sha256 "
                             f"{sha256[:12]}... recorded, {found[:12]}... found); save the model again, or train it "
                             "again")
        b.set_param({"nthread": n_jobs})
        return b

    boosters = {m.metric: booster(m.file, m.sha256) for m in manifest.models if m.transform != "constant"}
    feas = manifest.feasibility
    classifier = booster(feas.file, feas.sha256) if feas.kind == "classifier" else None
    model = ProxyModel(manifest, boosters, classifier, path=directory)
    model.verify()
    return model
