"""Memory specifications: device geometry, JEDEC timings, IDD currents and the address mapping.

A spec is data (``simulators/dram/data/*.yaml``, or a user's YAML/JSON file with the same fields),
loaded and validated by ``load_memspec``. Timings are integers in clock cycles of ``tck_ns``;
currents are mA per device and per supply rail; ``mapping`` lists, for each address field, the
address bits that form it, least significant first.

Shorthands: ``CCD``, ``RRD`` and ``WTR`` stand for equal ``_S``/``_L`` pairs (one bank group);
``RPab`` (the all-bank precharge before a refresh) defaults to ``RP``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from simulators.yamldata import load_yaml, read_text

__all__ = ["BUNDLED_SPECS", "AddressMapping", "MemSpec", "Rail", "Timing", "load_memspec"]

#: bundled spec name -> data file
BUNDLED_SPECS = {"ddr3_1600": "ddr3_1600.yaml", "ddr4_2400": "ddr4_2400.yaml", "lpddr4_3200": "lpddr4_3200.yaml"}

_ARCH_FIELDS = ("width", "devices", "banks", "bank_groups", "rows", "columns", "burst_length", "data_rate")
_TIMING_FIELDS = ("RCD", "RP", "RPab", "RAS", "RC", "RL", "WL", "CCD_S", "CCD_L", "RRD_S", "RRD_L", "FAW", "WR",
                  "WTR_S", "WTR_L", "RTP", "REFI", "RFC")
_PAIRS = ("CCD", "RRD", "WTR")
_CURRENTS = ("idd0", "idd2n", "idd3n", "idd4r", "idd4w", "idd5")
_MAPPING_FIELDS = ("byte", "column", "bank", "bankgroup", "row")
_TOP_FIELDS = ("name", "memory_type", "architecture", "tck_ns", "timing", "power", "mapping")


@dataclass(frozen=True)
class Timing:
    """JEDEC timing constraints in clock cycles (``_S``: other bank group, ``_L``: same bank group)."""

    RCD: int
    RP: int
    RPab: int
    RAS: int
    RC: int
    RL: int
    WL: int
    CCD_S: int
    CCD_L: int
    RRD_S: int
    RRD_L: int
    FAW: int
    WR: int
    WTR_S: int
    WTR_L: int
    RTP: int
    REFI: int
    RFC: int


@dataclass(frozen=True)
class Rail:
    """One supply rail: voltage (V) and the DRAMPower currents (mA per device)."""

    name: str
    voltage: float
    idd0: float
    idd2n: float
    idd3n: float
    idd4r: float
    idd4w: float
    idd5: float


@dataclass(frozen=True)
class AddressMapping:
    """Address bits (least significant first) of each field; ``bankgroup`` is empty with one group."""

    byte: tuple[int, ...]
    column: tuple[int, ...]
    bank: tuple[int, ...]
    bankgroup: tuple[int, ...]
    row: tuple[int, ...]

    @property
    def address_bits(self) -> int:
        """Number of address bits the mapping covers (the memory holds ``2**address_bits`` bytes)."""
        return sum(len(getattr(self, f)) for f in _MAPPING_FIELDS)


@dataclass(frozen=True)
class MemSpec:
    """A memory rank: geometry, timings, power rails and address mapping (see the module docstring)."""

    name: str
    memory_type: str
    width: int
    devices: int
    banks: int
    bank_groups: int
    rows: int
    columns: int
    burst_length: int
    data_rate: int
    tck_ns: float
    timing: Timing
    rails: tuple[Rail, ...]
    mapping: AddressMapping

    @property
    def bus_bytes(self) -> int:
        """Bytes per beat on the rank's data bus."""
        return self.width * self.devices // 8

    @property
    def burst_bytes(self) -> int:
        """Bytes one RD/WR command moves."""
        return self.bus_bytes * self.burst_length

    @property
    def burst_cycles(self) -> int:
        """Clock cycles a burst occupies the data bus (BL / data rate)."""
        return self.burst_length // self.data_rate

    @property
    def capacity_bytes(self) -> int:
        return 1 << self.mapping.address_bits

    @property
    def tck_s(self) -> float:
        return self.tck_ns * 1e-9

    @property
    def peak_bandwidth(self) -> float:
        """Data-bus peak in bytes/s: bus bytes x data rate / tCK."""
        return self.bus_bytes * self.data_rate / self.tck_s


def _err(where: str, field: str, message: str) -> ValueError:
    return ValueError(f"memspec {where}: {field}: {message}")


def _int_field(where: str, field: str, value: Any, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _err(where, field, f"must be an integer >= {minimum}, got {value!r}")
    return value


def _number_field(where: str, field: str, value: Any, *, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _err(where, field, f"must be a finite number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise _err(where, field, f"must be {'> 0' if positive else '>= 0'}, got {value!r}")
    return float(value)


def _mapping(where: str, data: Any, section: str = "(top level)") -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise _err(where, section, f"expected a mapping, got {type(data).__name__}")
    return dict(data)


def _check_keys(where: str, section: str, data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise _err(where, section, f"unknown field(s) {unknown}; allowed are {list(allowed)}")


def _power_of_two(where: str, field: str, value: int) -> None:
    if value & (value - 1):
        raise _err(where, field, f"must be a power of two, got {value}")


def _parse_timing(where: str, data: Any) -> Timing:
    data = _mapping(where, data, "timing")
    allowed = _TIMING_FIELDS + _PAIRS
    _check_keys(where, "timing", data, allowed)
    values: dict[str, int] = {}
    for pair in _PAIRS:
        short, s, l_ = pair, f"{pair}_S", f"{pair}_L"
        if short in data:
            if s in data or l_ in data:
                raise _err(where, f"timing.{short}", f"give either {short} or both {s} and {l_}, not both forms")
            values[s] = values[l_] = _int_field(where, f"timing.{short}", data[short])
        elif s in data and l_ in data:
            values[s] = _int_field(where, f"timing.{s}", data[s])
            values[l_] = _int_field(where, f"timing.{l_}", data[l_])
        else:
            raise _err(where, f"timing.{short}", f"missing: give {short}, or {s} and {l_}")
    for name in _TIMING_FIELDS:
        if name in values:
            continue
        if name == "RPab" and name not in data:
            continue
        if name not in data:
            raise _err(where, f"timing.{name}", "missing")
        values[name] = _int_field(where, f"timing.{name}", data[name])
    values.setdefault("RPab", values["RP"])
    t = Timing(**values)
    checks = [
        (t.RC >= t.RAS + t.RP, "RC", f"must be >= RAS + RP ({t.RAS + t.RP}), got {t.RC}"),
        (t.RAS >= t.RCD, "RAS", f"must be >= RCD ({t.RCD}), got {t.RAS}"),
        (t.CCD_L >= t.CCD_S, "CCD_L", f"must be >= CCD_S ({t.CCD_S}), got {t.CCD_L}"),
        (t.RRD_L >= t.RRD_S, "RRD_L", f"must be >= RRD_S ({t.RRD_S}), got {t.RRD_L}"),
        (t.WTR_L >= t.WTR_S, "WTR_L", f"must be >= WTR_S ({t.WTR_S}), got {t.WTR_L}"),
        (t.FAW >= t.RRD_S, "FAW", f"must be >= RRD_S ({t.RRD_S}), got {t.FAW}"),
        (t.REFI > t.RFC, "REFI", f"must be > RFC ({t.RFC}), got {t.REFI}"),
    ]
    for ok, name, message in checks:
        if not ok:
            raise _err(where, f"timing.{name}", message)
    return t


def _parse_rails(where: str, data: Any) -> tuple[Rail, ...]:
    data = _mapping(where, data, "power")
    if not data:
        raise _err(where, "power", "needs at least one rail, e.g. vdd: {voltage: 1.5, idd0: 70, ...}")
    rails = []
    for name, rail in data.items():
        rail = _mapping(where, rail, f"power.{name}")
        _check_keys(where, f"power.{name}", rail, ("voltage", *_CURRENTS))
        missing = [k for k in ("voltage", *_CURRENTS) if k not in rail]
        if missing:
            raise _err(where, f"power.{name}", f"missing field(s) {missing}")
        voltage = _number_field(where, f"power.{name}.voltage", rail["voltage"])
        currents = {k: _number_field(where, f"power.{name}.{k}", rail[k], positive=False) for k in _CURRENTS}
        # DRAMPower charges (IDDx - IDD3N) or (IDD0 - IDD2N): a negative difference is a broken spec.
        for hi, lo in (("idd0", "idd3n"), ("idd0", "idd2n"), ("idd4r", "idd3n"), ("idd4w", "idd3n"),
                       ("idd5", "idd3n")):
            if currents[hi] < currents[lo]:
                raise _err(where, f"power.{name}.{hi}", f"must be >= {lo} ({currents[lo]}), got {currents[hi]}")
        rails.append(Rail(name=str(name), voltage=voltage, **currents))
    return tuple(rails)


def _parse_mapping(where: str, data: Any, arch: Mapping[str, int]) -> AddressMapping:
    data = _mapping(where, data, "mapping")
    _check_keys(where, "mapping", data, _MAPPING_FIELDS)
    expected = {
        "byte": arch["width"] * arch["devices"] // 8,
        "column": arch["columns"],
        "bank": arch["banks"] // arch["bank_groups"],
        "bankgroup": arch["bank_groups"],
        "row": arch["rows"],
    }
    fields: dict[str, tuple[int, ...]] = {}
    seen: dict[int, str] = {}
    for name in _MAPPING_FIELDS:
        bits = data.get(name, [])
        if name != "bankgroup" and name not in data:
            raise _err(where, f"mapping.{name}", "missing (a list of address bit positions)")
        if not isinstance(bits, list):
            raise _err(where, f"mapping.{name}", f"must be a list of bit positions, got {bits!r}")
        for bit in bits:
            if isinstance(bit, bool) or not isinstance(bit, int) or not 0 <= bit < 63:
                raise _err(where, f"mapping.{name}", f"bit positions must be integers in 0..62, got {bit!r}")
            if bit in seen:
                raise _err(where, f"mapping.{name}", f"bit {bit} is already used by {seen[bit]}")
            seen[bit] = name
        need = expected[name].bit_length() - 1
        if len(bits) != need:
            raise _err(where, f"mapping.{name}",
                       f"needs {need} bits for {expected[name]} {'bytes per beat' if name == 'byte' else 'values'}, "
                       f"got {len(bits)}")
        fields[name] = tuple(bits)
    top = len(seen)
    if sorted(seen) != list(range(top)):
        raise _err(where, "mapping", f"the bits must cover 0..{top - 1} without gaps, got {sorted(seen)}")
    return AddressMapping(**fields)


def parse_memspec(data: Any, where: str = "<dict>") -> MemSpec:
    """Validate a spec given as a mapping (the parsed YAML/JSON) and build a ``MemSpec``."""
    data = _mapping(where, data)
    _check_keys(where, "(top level)", data, _TOP_FIELDS + ("source",))
    for name in _TOP_FIELDS:
        if name not in data:
            raise _err(where, name, "missing")
    arch_data = _mapping(where, data["architecture"], "architecture")
    _check_keys(where, "architecture", arch_data, _ARCH_FIELDS)
    arch = {}
    for name in _ARCH_FIELDS:
        if name not in arch_data:
            raise _err(where, f"architecture.{name}", "missing")
        arch[name] = _int_field(where, f"architecture.{name}", arch_data[name])
        if name != "data_rate":
            _power_of_two(where, f"architecture.{name}", arch[name])
    if arch["banks"] % arch["bank_groups"]:
        raise _err(where, "architecture.bank_groups", f"must divide banks ({arch['banks']})")
    if (arch["width"] * arch["devices"]) % 8:
        raise _err(where, "architecture.width", "width x devices must be a whole number of bytes")
    if arch["burst_length"] % arch["data_rate"]:
        raise _err(where, "architecture.burst_length", f"must be a multiple of data_rate ({arch['data_rate']})")
    timing = _parse_timing(where, data["timing"])
    burst_cycles = arch["burst_length"] // arch["data_rate"]
    if burst_cycles > timing.CCD_S:
        raise _err(where, "timing.CCD_S", f"must be >= the burst's bus time BL/data_rate ({burst_cycles})")
    name = data["name"]
    if not isinstance(name, str) or not name:
        raise _err(where, "name", f"must be a non-empty string, got {name!r}")
    memory_type = data["memory_type"]
    if not isinstance(memory_type, str) or not memory_type:
        raise _err(where, "memory_type", f"must be a non-empty string, got {memory_type!r}")
    return MemSpec(
        name=name,
        memory_type=memory_type,
        tck_ns=_number_field(where, "tck_ns", data["tck_ns"]),
        timing=timing,
        rails=_parse_rails(where, data["power"]),
        mapping=_parse_mapping(where, data["mapping"], arch),
        **arch,
    )


def load_memspec(memspec: str | os.PathLike[str] | MemSpec) -> MemSpec:
    """A bundled spec by name (``ddr3_1600``, ``ddr4_2400``, ``lpddr4_3200``), a YAML/JSON file, or a ``MemSpec``."""
    if isinstance(memspec, MemSpec):
        return memspec
    if isinstance(memspec, str) and memspec in BUNDLED_SPECS:
        text = resources.files("simulators.dram").joinpath("data").joinpath(BUNDLED_SPECS[memspec]).read_text()
        return parse_memspec(load_yaml(text), where=memspec)
    if not isinstance(memspec, (str, os.PathLike)):
        raise ValueError(f"memspec must be one of {sorted(BUNDLED_SPECS)}, a .yaml/.json path or a MemSpec, "
                         f"got {type(memspec).__name__}")
    path = Path(memspec)
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise ValueError(f"unknown memspec {str(memspec)!r}; choose one of {sorted(BUNDLED_SPECS)} "
                         "or give a .yaml/.yml/.json spec file")
    if not path.is_file():
        raise ValueError(f"memspec file {str(path)!r} does not exist")
    text = read_text(path, "memspec file")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else load_yaml(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"memspec {path}: cannot parse: {exc}") from None
    return parse_memspec(data, where=str(path))
