"""CACTI memory figures shipped as package data, and the loader that reads them.

``data/cacti_farsi_40nm.csv`` holds what FARSI's bundled CACTI (``Project_FARSI/cacti_for_FARSI``
of github.com/srivatsankrishnan/oss-arch-gym, its configuration ``farsi_gen.cfg``: 40 nm, 32-byte
blocks, 128-bit port, one bank) prints for an SRAM (``ram``, ``itrs-lop`` cells) and a DRAM
(``main memory``, ``comm-dram`` cells) of every size FARSI can ask for: ``n x 256,000`` bytes. The
columns are CACTI's raw outputs -- dynamic read and write energy per access (nJ) and area (mm^2) --
and the file header says how they were produced. FARSI's rules for turning them into a memory's
energy per byte and area live in ``simulators.soc.tech``.

The loader is generic over such tables (one row per kind and size); it may merge with a shared
technology-table loader once other simulators ship CACTI data too.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np

__all__ = ["CactiTable", "farsi_table"]

COLUMNS = ("kind", "bytes", "read_nj", "write_nj", "area_mm2")


@dataclass(frozen=True)
class CactiTable:
    """Per memory kind, CACTI's figures at sizes ``step, 2 step, ..., len x step`` bytes."""

    source: str
    step_bytes: int
    read_nj: dict[str, np.ndarray]
    write_nj: dict[str, np.ndarray]
    area_mm2: dict[str, np.ndarray]

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self.read_nj)

    def max_bytes(self, kind: str) -> int:
        return self.step_bytes * len(self.read_nj[kind])

    def row(self, kind: str, size_bytes: int) -> tuple[float, float, float]:
        """(read nJ, write nJ, area mm^2) of a ``kind`` memory of exactly ``size_bytes`` (a table size)."""
        if kind not in self.read_nj:
            raise ValueError(f"{self.source}: no memory kind {kind!r}; the table has {list(self.kinds)}")
        n, rest = divmod(int(size_bytes), self.step_bytes)
        if rest or not 1 <= n <= len(self.read_nj[kind]):
            raise ValueError(f"{self.source}: {kind} memories of {size_bytes} bytes are not in the table "
                             f"(multiples of {self.step_bytes} up to {self.max_bytes(kind)} bytes)")
        i = n - 1
        return float(self.read_nj[kind][i]), float(self.write_nj[kind][i]), float(self.area_mm2[kind][i])


def parse(text: str, source: str) -> CactiTable:
    """Read a table: ``#`` comment lines, then CSV with ``COLUMNS``, every kind at the same sizes."""
    rows = list(csv.DictReader(io.StringIO("".join(line for line in text.splitlines(True)
                                                   if not line.startswith("#")))))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise ValueError(f"{source}: expected columns {list(COLUMNS)}")
    by_kind: dict[str, list[tuple[int, float, float, float]]] = {}
    for r in rows:
        by_kind.setdefault(r["kind"], []).append(
            (int(r["bytes"]), float(r["read_nj"]), float(r["write_nj"]), float(r["area_mm2"])))
    step = min(b for v in by_kind.values() for b, *_ in v)
    out: dict[str, dict[str, np.ndarray]] = {"read": {}, "write": {}, "area": {}}
    for kind, values in by_kind.items():
        values.sort()
        sizes = [b for b, *_ in values]
        if sizes != [step * (i + 1) for i in range(len(sizes))]:
            raise ValueError(f"{source}: {kind} sizes must be {step}, {2 * step}, ... without gaps")
        for j, name in enumerate(("read", "write", "area")):
            out[name][kind] = np.array([v[j + 1] for v in values])
    return CactiTable(source, step, out["read"], out["write"], out["area"])


@functools.cache
def farsi_table() -> CactiTable:
    """FARSI's CACTI SRAM and DRAM figures (``simulators/soc/data/cacti_farsi_40nm.csv``)."""
    name = "cacti_farsi_40nm.csv"
    return parse(resources.files("simulators.soc").joinpath(f"data/{name}").read_text(), name)
