"""Neural-network workloads as layer tables, shared by every simulator that costs a network.

A ``Layer`` is a convolution, a matrix multiplication (GEMM) or a parameter-only entry (embeddings,
layer norms). Each knows its MAC and parameter counts and its lowering to GEMM:

Convolution lowering (im2col, the standard way): an input of ``in_h x in_w x in_c`` with
``out_c`` filters of ``kernel_h x kernel_w``, stride ``s``, zero padding ``p`` and ``groups`` ``g``
produces ``out_h = floor((in_h + 2p - kernel_h) / s) + 1`` (likewise ``out_w``) and becomes ``g``
independent GEMMs of ``M = out_h * out_w`` (output pixels), ``K = kernel_h * kernel_w * in_c / g``
(the reduction) and ``N = out_c / g`` (filters). A depthwise convolution is ``g = in_c = out_c``:
``in_c`` GEMMs with ``K = kernel_h * kernel_w`` and ``N = 1``.

A GEMM layer ``O[M, N] = I[M, K] x W[K, N]`` may repeat ``repeat`` times (attention heads);
``weighted=False`` marks one whose both operands are activations (``Q K^T``), which has no parameters.

Bundled tables (``simulators/workloads/data/*.csv``): alexnet, vgg16, resnet18, resnet50 (torchvision
v1.5, stride on the 3x3), resnet50_v1 (stride on the first 1x1, as in HAWQ), mobilenet_v2, bert_base
(sequence length 128). Users pass their own as a list of ``Layer``, a CSV with the same header, or a
YAML list of layer mappings.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from simulators.params import is_integer
from simulators.yamldata import load_yaml, read_text

__all__ = ["MAX_LAYER_SIZE", "Layer", "Network", "available", "load_network"]

KINDS = ("conv", "gemm", "params")
#: the largest count of multiply-accumulates (or parameters) of one layer, about 300 times a GPT-3 layer's:
#: the costs the simulators derive from it (cycles, words moved, bits) stay well inside 64-bit integers
MAX_LAYER_SIZE = 2**48
_INT_FIELDS = ("in_h", "in_w", "in_c", "out_c", "kernel_h", "kernel_w", "stride", "padding", "groups",
               "m", "n", "k", "repeat", "extra_params")
_BOOL_FIELDS = ("bias", "norm", "weighted")


@dataclass(frozen=True)
class Layer:
    """One layer of a network; see the module docstring for the meaning of each field."""

    name: str
    kind: str
    in_h: int = 0
    in_w: int = 0
    in_c: int = 0
    out_c: int = 0
    kernel_h: int = 1
    kernel_w: int = 1
    stride: int = 1
    padding: int = 0
    groups: int = 1
    m: int = 0
    n: int = 0
    k: int = 0
    repeat: int = 1
    bias: bool = False
    norm: bool = False
    weighted: bool = True
    extra_params: int = 0

    def __post_init__(self) -> None:
        where = f"layer {self.name!r}"
        if self.kind not in KINDS:
            raise ValueError(f"{where}: kind must be one of {KINDS}, got {self.kind!r}")
        for f in _INT_FIELDS:
            v = getattr(self, f)
            if not is_integer(v) or isinstance(v, (float, np.floating)):
                raise ValueError(f"{where}: {f} must be an integer, got {v!r}")
        positive = {"conv": ("in_h", "in_w", "in_c", "out_c", "kernel_h", "kernel_w", "stride", "groups"),
                    "gemm": ("m", "n", "k", "repeat"), "params": ()}[self.kind]
        for f in positive:
            if getattr(self, f) <= 0:
                raise ValueError(f"{where}: {f} must be a positive integer, got {getattr(self, f)}")
        if self.padding < 0 or self.extra_params < 0:
            raise ValueError(f"{where}: padding and extra_params must be >= 0")
        if self.kind == "conv":
            if self.in_c % self.groups or self.out_c % self.groups:
                raise ValueError(f"{where}: groups={self.groups} must divide in_c={self.in_c} and out_c={self.out_c}")
            for size, kern, axis in ((self.in_h, self.kernel_h, "height"), (self.in_w, self.kernel_w, "width")):
                if size + 2 * self.padding < kern:
                    padded = size + 2 * self.padding
                    raise ValueError(f"{where}: kernel {axis} {kern} exceeds the padded input {padded}")
        if self.kind == "params" and self.extra_params <= 0:
            raise ValueError(f"{where}: a params entry needs extra_params > 0")
        for what, size in (("multiply-accumulates", self.macs), ("parameters", self.params)):
            if size > MAX_LAYER_SIZE:
                raise ValueError(f"{where}: {size:.3g} {what}, more than the {MAX_LAYER_SIZE:.3g} (2**48) a layer may "
                                 "have: the simulators count in 64-bit integers, which would overflow")

    # -- shapes ---------------------------------------------------------------------------------
    @property
    def out_h(self) -> int:
        return (self.in_h + 2 * self.padding - self.kernel_h) // self.stride + 1 if self.kind == "conv" else 0

    @property
    def out_w(self) -> int:
        return (self.in_w + 2 * self.padding - self.kernel_w) // self.stride + 1 if self.kind == "conv" else 0

    @property
    def gemm(self) -> tuple[int, int, int, int]:
        """``(M, N, K, count)``: ``count`` independent GEMMs of ``M x K`` times ``K x N``."""
        if self.kind == "conv":
            g = self.groups
            return (self.out_h * self.out_w, self.out_c // g, self.kernel_h * self.kernel_w * self.in_c // g, g)
        if self.kind == "gemm":
            return (self.m, self.n, self.k, self.repeat)
        return (0, 0, 0, 0)

    # -- counts ------------------------------------------------------------------------------------
    @property
    def macs(self) -> int:
        m, n, k, count = self.gemm
        return m * n * k * count

    @property
    def weights(self) -> int:
        """Number of weights (no bias, no norm): what a quantizer stores at the weight bit width."""
        if self.kind == "params" or not self.weighted:
            return 0
        _, n, k, count = self.gemm
        return k * n * count

    @property
    def outputs_per_sample(self) -> int:
        """Channels (conv) or features (GEMM) a bias or norm acts on."""
        return self.out_c if self.kind == "conv" else self.n

    @property
    def params(self) -> int:
        """Weights + bias + norm scale/shift + extra parameters."""
        total = self.weights + self.extra_params
        if self.kind != "params":
            total += self.outputs_per_sample * (int(self.bias) + 2 * int(self.norm))
        return total

    @property
    def input_activations(self) -> int:
        if self.kind == "conv":
            return self.in_h * self.in_w * self.in_c
        if self.kind == "gemm":
            # an unweighted GEMM (attention) reads both operands as activations
            return self.repeat * (self.m * self.k + (0 if self.weighted else self.k * self.n))
        return 0

    @property
    def output_activations(self) -> int:
        if self.kind == "conv":
            return self.out_h * self.out_w * self.out_c
        if self.kind == "gemm":
            return self.m * self.n * self.repeat
        return 0

    def to_row(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Network(Sequence[Layer]):
    """An ordered list of layers with a name; its cost is the sum over its layers."""

    def __init__(self, name: str, layers: Iterable[Layer], source: str = "") -> None:
        self.name = name
        self.layers: tuple[Layer, ...] = tuple(layers)
        self.source = source
        if not any(layer.macs for layer in self.layers):
            raise ValueError(f"workload {name!r} has no layer with computation")
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"workload {name!r}: layer names must be unique; repeated: {dupes}")

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i):  # type: ignore[override]
        return self.layers[i]

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def compute_layers(self) -> tuple[Layer, ...]:
        """Layers with MACs (conv and GEMM), in order."""
        return tuple(layer for layer in self.layers if layer.macs)

    def __repr__(self) -> str:
        return f"Network({self.name!r}, {len(self)} layers, {self.macs:,} MACs, {self.params:,} params)"


# --------------------------------------------------------------------------------------------------
# Reading and writing layer tables
# --------------------------------------------------------------------------------------------------

CSV_FIELDS = tuple(f.name for f in dataclasses.fields(Layer))


def _parse_value(field_name: str, raw: Any, where: str) -> Any:
    if field_name in _INT_FIELDS:
        if isinstance(raw, bool):
            raise ValueError(f"{where}: {field_name} must be an integer, got {raw!r}")
        if isinstance(raw, int):
            return raw
        text = str(raw).strip()
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{where}: {field_name} must be an integer, got {raw!r}") from None
    if field_name in _BOOL_FIELDS:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes"):
            return True
        if text in ("0", "false", "no"):
            return False
        raise ValueError(f"{where}: {field_name} must be true/false (or 1/0), got {raw!r}")
    return str(raw).strip()


def layer_from_mapping(data: Mapping[str, Any], where: str) -> Layer:
    """Build a ``Layer`` from a mapping (a CSV row or YAML entry); blank cells take defaults."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: a layer is a mapping of field to value, got {type(data).__name__}")
    unknown = [k for k in data if k not in CSV_FIELDS]
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown}; allowed: {list(CSV_FIELDS)}")
    for required in ("name", "kind"):
        if data.get(required) in (None, ""):
            raise ValueError(f"{where}: field {required!r} is required")
    kwargs = {k: _parse_value(k, v, where) for k, v in data.items() if v is not None and str(v).strip() != ""}
    try:
        return Layer(**kwargs)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def read_csv(text: str, source: str) -> list[Layer]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        raise ValueError(f"{source}: empty layer table")
    header = [h.strip() for h in reader.fieldnames]
    unknown = [h for h in header if h not in CSV_FIELDS]
    if unknown or "name" not in header or "kind" not in header:
        raise ValueError(f"{source}: header must name columns from {list(CSV_FIELDS)} including name and kind; "
                         f"bad: {unknown or header}")
    layers = []
    for lineno, row in enumerate(reader, start=2):
        if None in row:
            raise ValueError(f"{source}, line {lineno}: more cells than header columns")
        row = {k.strip(): v for k, v in row.items()}
        layers.append(layer_from_mapping(row, f"{source}, line {lineno}"))
    return layers


def write_csv(layers: Iterable[Layer], path: str | os.PathLike[str]) -> None:
    """Write layers as CSV, leaving fields at their default blank so tables stay readable."""
    defaults = {f.name: f.default for f in dataclasses.fields(Layer) if f.default is not dataclasses.MISSING}
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS, lineterminator="\n")
        w.writeheader()
        for layer in layers:
            row = layer.to_row()
            w.writerow({k: ("" if k in defaults and v == defaults[k] else (int(v) if isinstance(v, bool) else v))
                        for k, v in row.items()})


def read_yaml(text: str, source: str) -> tuple[str | None, list[Layer]]:
    import yaml

    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML ({exc})") from None
    name = None
    if isinstance(data, Mapping):
        name = data.get("name")
        data = data.get("layers")
    if not isinstance(data, list) or not data:
        raise ValueError(f"{source}: expected a list of layers (or a mapping with a 'layers' list)")
    return name, [layer_from_mapping(entry, f"{source}, layer {i}") for i, entry in enumerate(data)]


def available() -> tuple[str, ...]:
    """Names of the bundled networks."""
    folder = resources.files(__package__).joinpath("data")
    return tuple(sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".csv")))


def load_network(workload: str | os.PathLike[str] | Network | Iterable[Layer]) -> Network:
    """A bundled network by name, a CSV/YAML file path, a ``Network``, or an iterable of ``Layer``."""
    if isinstance(workload, Network):
        return workload
    if isinstance(workload, (str, os.PathLike)):
        text_name = str(workload)
        if text_name in available():
            data = resources.files(__package__).joinpath("data", f"{text_name}.csv").read_text()
            return Network(text_name, read_csv(data, f"{text_name}.csv"), source="bundled")
        path = Path(text_name)
        if path.suffix.lower() in (".csv", ".yaml", ".yml"):
            if not path.is_file():
                raise ValueError(f"workload file {text_name!r} does not exist")
            text = read_text(path, "workload file")
            if path.suffix.lower() == ".csv":
                return Network(path.stem, read_csv(text, str(path)), source=str(path))
            name, layers = read_yaml(text, str(path))
            return Network(name or path.stem, layers, source=str(path))
        raise ValueError(f"unknown workload {text_name!r}; bundled: {list(available())}, "
                         "or a path to a .csv/.yaml layer table")
    if not isinstance(workload, Iterable) or isinstance(workload, (bytes, Mapping)):
        raise ValueError(f"workload must be a bundled network name ({', '.join(available())}), a .csv/.yaml "
                         f"layer table path, a Network or a list of Layer objects; got {workload!r}")
    layers = list(workload)
    if not layers or not all(isinstance(x, Layer) for x in layers):
        raise ValueError("a workload given as a list must hold Layer objects")
    return Network("custom", layers, source="user")
