"""Variable-precision accelerators: BitFusion-style spatial fusion and a bit-serial array.

Both run a layer as its GEMM lowering (``count`` products of ``m x k`` by ``k x n``) on a ``rows x
cols`` array of processing elements (PEs) and have the same peak of ``rows * cols * 64`` one-bit
products per cycle, so they differ in how bit widths map to time and in how the GEMM tiles.

**BitFusion** (Sharma et al., ISCA 2018): ``rows`` span the reduction ``k``, ``cols`` the outputs
``n``, and the ``m`` output pixels (tokens) stream through one per step. A PE ("fusion unit") is 16
two-bit BitBricks that fuse into one 8b x 8b multiplier, four 4b x 4b, ..., or sixteen 2b x 2b.
Operands narrower than 8 bits run
``perf_factor = floor(8 / max(b_a, 2)) * floor(8 / max(b_w, 2))`` products per PE per cycle (16 at
2/2, 4 at 4/4, 2 at 8/4, 1 at 8/8; 3 bits run at 4-bit speed, 5 and 6 at 8-bit speed). A 16-bit
operand is fused in time, two passes per operand (a quarter of the 8-bit rate at 16/16). Cycles of a
layer, in BitFusion's im2col form::

    cycles = count * m * ceil(n / cols) * ceil(k / (rows * spatial)) * temporal

**Bit-serial** (BISMO class, Umuroglu et al., FPL 2018): a ``rows x cols`` array of binary
dot-product units, ``rows`` over the output pixels ``m``, ``cols`` over the outputs ``n``; each unit
ANDs and popcounts ``lane_bits = 64`` one-bit products along ``k`` per cycle and walks the
``b_w x b_a`` bit-plane pairs one per cycle, so any width costs in proportion::

    cycles = count * ceil(m / rows) * ceil(n / cols) * ceil(k / lane_bits) * b_w * b_a

**Memory roofline**: a layer takes ``max(cycles / f, bytes / bandwidth)``, where ``bytes`` is its
compulsory DRAM traffic (operands read once, outputs written once).

**Area, energy** (45 nm, 500 MHz): BitFusion's own synthesis of one PE per (max, min) precision
(``results/systolic_array_synth.csv`` in ``hsharma35/bitfusion``), tabulated in ``PE_SYNTHESIS``. The
fusion unit is the (8, 2) entry; a fixed 8-bit PE is (8, 8). A 64-lane bit-serial PE is costed as 16
of the synthesized 2b x 2b PEs (the same 64 one-bit products) -- an estimate, as no bit-serial
synthesis figure is at hand. Dynamic energy per busy PE-cycle is the synthesized dynamic power over
the 500 MHz clock; leakage power accrues over the whole latency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulators.params import check_int, check_number

#: bit widths a layer's weights or activations may take
BIT_WIDTHS: tuple[int, ...] = (2, 3, 4, 5, 6, 8, 16)


@dataclass(frozen=True)
class PESynthesis:
    """One synthesized PE (1x1 array) at 45 nm and 500 MHz: area and power."""

    area_um2: float
    leakage_nw: float
    dynamic_nw: float


SYNTHESIS_CLOCK_HZ = 500e6

#: (max bits, min bits) -> PE synthesis; from BitFusion ``results/systolic_array_synth.csv`` (N = M = 1)
PE_SYNTHESIS: dict[tuple[int, int], PESynthesis] = {
    (2, 2): PESynthesis(124.8912, 2832.7, 28742.0),
    (4, 2): PESynthesis(431.474398, 13545.0, 78470.1),
    (4, 4): PESynthesis(282.239998, 7780.7, 60101.7),
    (8, 2): PESynthesis(1733.129989, 64314.0, 279960.0),
    (8, 8): PESynthesis(687.6072, 22952.0, 148845.0),
    (16, 2): PESynthesis(7492.413585, 274220.0, 1166200.0),
    (16, 16): PESynthesis(2203.236034, 68980.0, 473688.0),
}

#: a bit-serial PE of 64 one-bit lanes = 16 synthesized 2b x 2b PEs (estimate, see module docstring)
BITSERIAL_LANE_BITS = 64
_BITSERIAL_PE = PESynthesis(*(16 * v for v in (PE_SYNTHESIS[(2, 2)].area_um2, PE_SYNTHESIS[(2, 2)].leakage_nw,
                                                 PE_SYNTHESIS[(2, 2)].dynamic_nw)))


def pe_array_area_mm2(rows: int, cols: int, max_bits: int, min_bits: int) -> float:
    """Area of a ``rows x cols`` array of PEs that multiply ``max_bits`` operands and split down to
    ``min_bits`` (``max_bits == min_bits`` is a fixed-precision array)."""
    key = (max_bits, min_bits)
    if key not in PE_SYNTHESIS:
        raise ValueError(f"no synthesis figure for a ({max_bits}, {min_bits})-bit PE; "
                         f"available (max, min): {sorted(PE_SYNTHESIS)}")
    return rows * cols * PE_SYNTHESIS[key].area_um2 * 1e-6


def bitfusion_factors(b_w, b_a, max_bits: int = 8, min_bits: int = 2):
    """``(spatial, temporal)``: products per PE per cycle, and passes per product (``>= 1``).

    ``spatial / temporal`` is BitFusion's perf factor relative to one ``max_bits`` product per cycle.
    """
    b_w = np.asarray(b_w)
    b_a = np.asarray(b_a)
    wide_w, wide_a = b_w > max_bits, b_a > max_bits
    spatial = (np.where(wide_a, 1, max_bits // np.maximum(b_a, min_bits))
               * np.where(wide_w, 1, max_bits // np.maximum(b_w, min_bits)))
    temporal = -(-b_a // max_bits) * -(-b_w // max_bits)
    return spatial, temporal


def bitfusion_perf_factor(b_w, b_a, max_bits: int = 8, min_bits: int = 2):
    """BitFusion's throughput factor over 8b x 8b: 16 at 2/2, 4 at 4/4, 2 at 8/4, 1 at 8/8, 1/4 at 16/16."""
    spatial, temporal = bitfusion_factors(b_w, b_a, max_bits, min_bits)
    return spatial / temporal


#: plausibility bounds on the accelerator (well beyond any built one; past them a number means a typo)
MAX_ARRAY_SIDE = 4096
MAX_CLOCK_HZ = 10e9
MAX_BANDWIDTH = 10e12


def _ceil_div(a, b):
    return -(-a // b)


@dataclass(frozen=True)
class Accelerator:
    """A ``rows x cols`` PE array at ``clock_hz`` with a DRAM link of ``bandwidth`` bytes/s."""

    kind: str
    rows: int
    cols: int
    clock_hz: float
    bandwidth: float

    def __post_init__(self) -> None:
        if self.kind not in ACCELERATORS:
            raise ValueError(f"unknown accelerator {self.kind!r}; choose one of {list(ACCELERATORS)}")
        for name in ("rows", "cols"):  # a PE array of up to 4096 x 4096 (the synthesis data is for 16 x 32)
            object.__setattr__(self, name, check_int(getattr(self, name), name, low=1, high=MAX_ARRAY_SIDE))
        object.__setattr__(self, "clock_hz", check_number(self.clock_hz, "clock_hz", low=0, low_open=True,
                                                          high=MAX_CLOCK_HZ))
        object.__setattr__(self, "bandwidth", check_number(self.bandwidth, "bandwidth", low=0, low_open=True,
                                                           high=MAX_BANDWIDTH))

    @property
    def pe(self) -> PESynthesis:
        return PE_SYNTHESIS[(8, 2)] if self.kind == "bitfusion" else _BITSERIAL_PE

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    @property
    def area_mm2(self) -> float:
        """Area of the PE (multiplier) array."""
        return self.pes * self.pe.area_um2 * 1e-6

    @property
    def energy_per_cycle(self) -> float:
        """Dynamic energy of the whole array per busy cycle, J."""
        return self.pes * self.pe.dynamic_nw * 1e-9 / SYNTHESIS_CLOCK_HZ

    @property
    def leakage_power(self) -> float:
        """Leakage power of the array, W."""
        return self.pes * self.pe.leakage_nw * 1e-9

    def cycles(self, m, n, k, count, b_w, b_a):
        """Compute cycles of GEMM layers (all arguments broadcast together; integer arrays)."""
        if self.kind == "bitfusion":
            spatial, temporal = bitfusion_factors(b_w, b_a)
            return count * m * _ceil_div(n, self.cols) * _ceil_div(k, self.rows * spatial) * temporal
        return (count * _ceil_div(m, self.rows) * _ceil_div(n, self.cols) * _ceil_div(k, BITSERIAL_LANE_BITS)
                * b_w * b_a)


ACCELERATORS = ("bitfusion", "bitserial")
