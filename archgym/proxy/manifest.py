"""The proxy model directory's ``manifest.json`` as typed records, checked strictly when read.

A model directory holds one XGBoost JSON file per fitted metric, ``feasible.json`` when a
feasibility classifier was trained, and ``manifest.json``: what the proxy stands in for (env id,
simulator class and settings, workload, space, metrics), how each metric is predicted
(``MetricModel``), how feasibility is (``FeasibilityModel``), the training record and the held-out
report. Each model file's SHA-256 is recorded next to its name (and checked on load), which binds the
files to the manifest: a booster from another training never loads under this manifest. Manifests
written before the digests were recorded have none and load unchecked. A digest binds a file, not
its role: ``check`` (``PredictionCheck``) holds a few training rows' features and what the proxy
predicted for them when it was trained, predicted again on load, so a manifest whose entries were
edited (two files or metric names swapped, a transform or constant changed) is refused rather than
predicting one metric as another. ``training_range`` (``TrainingRange``) holds each feature's lowest
and highest value over the rows the proxy was fitted on, so that a prediction outside them is
reported rather than passed off as one from data. ``ProxyManifest.from_dict``
refuses anything else: a missing or unknown field, an unknown transform, a file name that would leave
the directory, a malformed digest, a metric without a model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import PurePosixPath
from typing import Any

from archgym.io import check_format
from simulators.core import DesignSpace, Metric
from simulators.params import is_integer, is_number

__all__ = ["FORMAT", "TRANSFORMS", "VERSION", "FeasibilityModel", "MetricModel", "PredictionCheck", "ProxyManifest",
           "TrainingRange"]

FORMAT = "archgym-proxy"
VERSION = 1
#: How a metric is fitted: on ``log`` of its values, on its values (``identity``), or stored as a constant.
TRANSFORMS = ("log", "identity")
_KINDS = (*TRANSFORMS, "constant")
FEASIBILITY_KINDS = ("classifier", "all-feasible")


def _fields(where: str, data: Any, cls: type, required: tuple[str, ...]) -> dict[str, Any]:
    """``data`` as keyword arguments of ``cls``: a mapping with the required fields and no unknown ones."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected an object, got {data!r}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(known)}")
    missing = [k for k in required if k not in data]
    if missing:
        raise ValueError(f"{where}: missing field(s) {missing}")
    return dict(data)


def _file_name(where: str, name: Any) -> str:
    """A model file's name: a plain ``*.json`` name inside the model directory, never a path out of it."""
    path = PurePosixPath(name) if isinstance(name, str) else None
    if path is None or path.name != name or name.startswith(".") or "\\" in name or not name.endswith(".json"):
        raise ValueError(f"{where}: file must be a plain '*.json' file name inside the model directory, "
                         f"got {name!r}")
    return name


def _sha256(where: str, value: Any) -> str | None:
    """A file's recorded SHA-256 (64 lowercase hex digits), or ``None`` (models saved before it was recorded)."""
    if value is not None and not (isinstance(value, str) and len(value) == 64
                                  and all(c in "0123456789abcdef" for c in value)):
        raise ValueError(f"{where} must be a SHA-256 digest (64 lowercase hex digits), got {value!r}")
    return value


def _optional_int(where: str, value: Any) -> int | None:
    if value is not None and (not is_integer(value) or value < 0):
        raise ValueError(f"{where} must be a non-negative integer, got {value!r}")
    return None if value is None else int(value)


@dataclass(frozen=True)
class MetricModel:
    """How one metric is predicted: a booster on the transformed metric, or a constant."""

    metric: str
    transform: str
    rows_train: int
    rows_val: int
    file: str | None = None
    value: float | None = None
    max_depth: int | None = None
    trees: int | None = None
    validation_score_by_depth: dict[str, float] | None = None
    fit_seconds: float | None = None
    target_weight: int | None = None
    rows_fit: int | None = None
    #: SHA-256 of ``file`` as saved, checked on load (absent in models saved before it was recorded)
    sha256: str | None = None

    @classmethod
    def from_dict(cls, data: Any, where: str) -> MetricModel:
        args = _fields(where, data, cls, ("metric", "transform", "rows_train", "rows_val"))
        if not isinstance(args["metric"], str):
            raise ValueError(f"{where}.metric must be a metric name, got {args['metric']!r}")
        if args["transform"] not in _KINDS:
            raise ValueError(f"{where}: transform {args['transform']!r} is unknown; allowed: {list(_KINDS)}")
        for key in ("rows_train", "rows_val", "max_depth", "trees", "target_weight", "rows_fit"):
            args[key] = _optional_int(f"{where}.{key}", args.get(key))
        args["sha256"] = _sha256(f"{where}.sha256", args.get("sha256"))
        if args["transform"] == "constant":
            if (not is_number(args.get("value")) or not math.isfinite(args["value"]) or args.get("file") is not None
                    or args["sha256"] is not None):
                raise ValueError(f"{where}: a constant model needs a finite 'value' and no file (nor sha256)")
        else:
            args["file"] = _file_name(f"{where}.file", args.get("file"))
            if args.get("value") is not None:
                raise ValueError(f"{where}: only a constant model has a 'value'")
        return cls(**args)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class FeasibilityModel:
    """How feasibility is predicted: a classifier (infeasible below ``threshold``), or every design feasible."""

    kind: str
    file: str | None = None
    threshold: float | None = None
    max_depth: int | None = None
    trees: int | None = None
    validation_score_by_depth: dict[str, float] | None = None
    #: SHA-256 of ``file`` as saved, checked on load (absent in models saved before it was recorded)
    sha256: str | None = None

    @classmethod
    def from_dict(cls, data: Any, where: str) -> FeasibilityModel:
        args = _fields(where, data, cls, ("kind",))
        if args["kind"] not in FEASIBILITY_KINDS:
            raise ValueError(f"{where}: kind {args['kind']!r} is unknown; allowed: {list(FEASIBILITY_KINDS)}")
        for key in ("max_depth", "trees"):
            args[key] = _optional_int(f"{where}.{key}", args.get(key))
        args["sha256"] = _sha256(f"{where}.sha256", args.get("sha256"))
        if args["kind"] == "classifier":
            args["file"] = _file_name(f"{where}.file", args.get("file"))
            t = args.get("threshold")
            if not is_number(t) or not 0 < t < 1:
                raise ValueError(f"{where}.threshold must be a number in (0, 1), got {t!r}")
        elif args.get("file") is not None or args.get("threshold") is not None or args["sha256"] is not None:
            raise ValueError(f"{where}: an 'all-feasible' model has no file, threshold or sha256")
        return cls(**args)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class PredictionCheck:
    """A few feature rows and the proxy's predictions for them as trained (every metric in its unit, before
    feasibility masks it, and the probability of feasibility), predicted again on load."""

    features: list[list[float]]
    metrics: dict[str, list[float]]
    p_feasible: list[float]

    @classmethod
    def from_dict(cls, data: Any, where: str, metrics: list[str], n_features: int) -> PredictionCheck:
        args = _fields(where, data, cls, ("features", "metrics", "p_feasible"))
        rows = args["features"]
        if not isinstance(rows, list) or not rows or not all(
                isinstance(r, list) and len(r) == n_features and all(is_number(x) for x in r) for r in rows):
            raise ValueError(f"{where}.features must be a non-empty list of rows of {n_features} numbers")
        if not isinstance(args["metrics"], Mapping) or sorted(args["metrics"]) != sorted(metrics):
            raise ValueError(f"{where}.metrics must give a prediction list for each metric {metrics}")
        for name, values in (*args["metrics"].items(), ("p_feasible", args["p_feasible"])):
            if not isinstance(values, list) or len(values) != len(rows) or not all(is_number(v) for v in values):
                raise ValueError(f"{where}: {name} must be a list of {len(rows)} numbers")
        return cls(**args)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrainingRange:
    """Per feature (in the manifest's feature order), the lowest and highest value among the rows the proxy
    was fitted on: a one-hot column whose ``high`` is 0 is a value no fitted design had."""

    low: list[float]
    high: list[float]

    @classmethod
    def from_dict(cls, data: Any, where: str, names: list[Any]) -> TrainingRange:
        args = _fields(where, data, cls, ("low", "high"))
        n_features = len(names)
        for key in ("low", "high"):
            values = args[key]
            if not isinstance(values, list) or len(values) != n_features or not all(
                    is_number(v) and math.isfinite(v) for v in values):
                raise ValueError(f"{where}.{key} must be a list of {n_features} finite numbers (one per feature)")
        bad = [i for i, (lo, hi) in enumerate(zip(args["low"], args["high"])) if lo > hi]
        if bad:
            raise ValueError(f"{where}: feature {names[bad[0]]!r} has low {args['low'][bad[0]]!r} above high "
                             f"{args['high'][bad[0]]!r}")
        return cls(low=[float(v) for v in args["low"]], high=[float(v) for v in args["high"]])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ProxyManifest:
    """What a trained proxy stands in for, how it predicts, how it was trained, and how well it did."""

    env_id: str
    env_kwargs: dict[str, Any]
    simulator_class: str
    simulator_settings: dict[str, Any]
    workload: str
    space: dict[str, Any]
    metrics: list[dict[str, Any]]
    features: list[dict[str, Any]]
    models: list[MetricModel]
    feasibility: FeasibilityModel
    default_targets: dict[str, float]
    training: dict[str, Any]
    report: dict[str, Any] | None = None
    #: features are computed from each design's canonical representative (``Simulator.canonical_indices``)
    canonical: bool = False
    #: rows predicted again on load (absent in models saved before it was recorded, which load unchecked)
    check: PredictionCheck | None = None
    #: the fitted rows' feature ranges (absent in models saved before it was recorded: nothing is reported)
    training_range: TrainingRange | None = None
    design_space: DesignSpace = field(init=False, repr=False, compare=False)
    metric_list: tuple[Metric, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.design_space = DesignSpace.from_dict(self.space)
        self.metric_list = tuple(Metric(m["name"], m["unit"], m["direction"], m.get("description", ""))
                                 for m in self.metrics)

    def model(self, metric: str) -> MetricModel:
        return next(m for m in self.models if m.metric == metric)

    @property
    def files(self) -> list[str]:
        """The model files this manifest names (boosters, then the feasibility classifier's)."""
        return [m.file for m in (*self.models, self.feasibility) if m.file]

    def record_digests(self, digests: Mapping[str, str]) -> None:
        """Record each model file's SHA-256 (``digests`` by file name, one for every file it names)."""
        self.models = [replace(m, sha256=digests[m.file]) if m.file else m for m in self.models]
        if self.feasibility.file:
            self.feasibility = replace(self.feasibility, sha256=digests[self.feasibility.file])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": FORMAT, "version": VERSION}
        for f in fields(self):
            if not f.init:
                continue
            value = getattr(self, f.name)
            if f.name == "models":
                value = [m.to_dict() for m in value]
            elif f.name in ("feasibility", "check", "training_range") and value is not None:
                value = value.to_dict()
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "manifest.json") -> ProxyManifest:
        """The manifest in ``data`` (as read from JSON), or ``ValueError`` naming the first problem."""
        check_format(data, where, fmt=FORMAT, version=VERSION,
                     hint=" (is this a dataset rather than a model?)")
        args = {k: v for k, v in data.items() if k not in ("format", "version")}
        optional = ("report", "canonical", "check", "training_range")
        init = tuple(f.name for f in fields(cls) if f.init and f.name not in optional)
        args = _fields(where, args, cls, init)
        for key in ("env_id", "simulator_class", "workload"):
            if not isinstance(args[key], str):
                raise ValueError(f"{where}: {key} must be a string, got {args[key]!r}")
        for key in ("env_kwargs", "simulator_settings", "default_targets", "training", "space"):
            if not isinstance(args[key], Mapping):
                raise ValueError(f"{where}: {key} must be an object, got {args[key]!r}")
        if not isinstance(args.get("canonical", False), bool):
            raise ValueError(f"{where}: canonical must be true or false, got {args['canonical']!r}")
        if args.get("report") is not None and not isinstance(args["report"], Mapping):
            raise ValueError(f"{where}: report must be an object, got {args['report']!r}")
        for key in ("metrics", "features", "models"):
            if not isinstance(args[key], list) or not all(isinstance(x, Mapping) for x in args[key]):
                raise ValueError(f"{where}: {key} must be a list of objects")
        try:
            space = DesignSpace.from_dict(args["space"])
            metrics = [Metric(m["name"], m["unit"], m["direction"], m.get("description", "")) for m in args["metrics"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{where}: its space or metrics cannot be read ({exc})") from None
        del space
        names = [m.name for m in metrics]
        args["models"] = [MetricModel.from_dict(m, f"{where}: models[{i}]") for i, m in enumerate(args["models"])]
        modelled = [m.metric for m in args["models"]]
        if sorted(modelled) != sorted(names):
            raise ValueError(f"{where}: models cover metric(s) {modelled}, but the metrics are {names}")
        files = [m.file for m in args["models"] if m.file]
        if len(set(files)) != len(files):
            raise ValueError(f"{where}: two models share a file ({files})")
        args["feasibility"] = FeasibilityModel.from_dict(args["feasibility"], f"{where}: feasibility")
        if args.get("check") is not None:
            args["check"] = PredictionCheck.from_dict(args["check"], f"{where}: check", names, len(args["features"]))
        if args.get("training_range") is not None:
            args["training_range"] = TrainingRange.from_dict(args["training_range"], f"{where}: training_range",
                                                             [f.get("name") for f in args["features"]])
        for metric, value in args["default_targets"].items():
            if metric not in names or not is_number(value) or not value > 0:
                raise ValueError(f"{where}: default_targets entry {metric!r}: {value!r} is not a positive target "
                                 f"on one of the metrics {names}")
        return cls(**args)
