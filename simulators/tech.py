"""Technology constants shared by the simulators (45 nm unless noted), with their sources.

The systolic array uses the MAC, DRAM, PE-area and CACTI SRAM figures; the SoC model the Horowitz SRAM
energy, the per-KB SRAM area and the DRAM figures; the quantized-network model the DRAM energies. One
module, so a corrected figure reaches every simulator at once.

- MAC energy: M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014,
  45 nm / 0.9 V: int8 multiply 0.2 pJ, int32 multiply 3.1 pJ (so multiply energy scales with the
  square of the operand width: 0.2 pJ x (bits/8)^2), int32 add 0.1 pJ (accumulator of 4x the
  operand width, scaled linearly). int8 MAC = 0.3 pJ; int16 MAC = 1.0 pJ.
- SRAM energy and area per size (``sram_read_pj``, ``sram_write_pj``, ``sram_area_mm2``): CACTI 7.0 at
  45 nm, shipped as ``simulators/data/cacti_sram_45nm.csv`` (its header gives the configuration; the
  table is written by ``benchmarks/cacti_sram_table.py``). One table row per power-of-two size from
  1 KB to 4 MB, a 64-bit access; a word of ``b`` bits costs ``b / 64`` of it; other sizes interpolate
  log-log between rows.
- SRAM energy, Horowitz figure (``sram_word_energy_pj``, kept for the SoC model): Horowitz ISSCC 2014,
  64-bit access: 8 KB 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ. We fit the power law through the 8 KB and 1 MB
  points, ``10 pJ x (size / 8 KB) ** 0.4746`` (32 KB -> 19.3 pJ), and scale a word access by
  ``word_bits / 64``.
- DRAM energy per bit: Accelergy CACTI plug-in table (``cacti_wrapper.py``): LPDDR4 8, DDR3 70,
  LPDDR 40, GDDR5 14, HBM2 3.9 pJ/bit.
- PE area: BitFusion synthesis results (Sharma et al., ISCA 2018, ``results/systolic_array_synth.csv``),
  45 nm at 500 MHz, one fixed-precision PE: 8b x 8b 687.6 um^2, 16b x 16b 2203 um^2.
- SRAM area per KB (``SRAM_MM2_PER_KB``, kept for the SoC model): CACTI 28 nm, 8 KB (512-bit port)
  0.0556 mm^2, i.e. 0.00695 mm^2/KB, scaled to 45 nm by (45/28)^2: 0.01795 mm^2/KB.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

PJ = 1e-12

MULT_PJ_INT8 = 0.2
ADD_PJ_INT32 = 0.1


def mac_energy_pj(bits):
    """Energy of one multiply-accumulate at ``bits`` x ``bits`` with a ``4 * bits`` accumulator."""
    return MULT_PJ_INT8 * (bits / 8) ** 2 + ADD_PJ_INT32 * (4 * bits) / 32


SRAM_PJ_64B_AT_8KB = 10.0
SRAM_SIZE_EXPONENT = float(np.log(100.0 / 10.0) / np.log(1024.0 / 8.0))  # through 8 KB->10 pJ, 1 MB->100 pJ


def sram_word_energy_pj(size_kb, word_bits):
    """Energy of one word read or write in an SRAM of ``size_kb`` kilobytes."""
    return SRAM_PJ_64B_AT_8KB * (size_kb / 8.0) ** SRAM_SIZE_EXPONENT * (word_bits / 64.0)


DRAM_PJ_PER_BIT = {"lpddr4": 8.0, "ddr3": 70.0, "lpddr": 40.0, "gddr5": 14.0, "hbm2": 3.9}

PE_AREA_UM2 = {8: 687.6, 16: 2203.0}

SRAM_MM2_PER_KB = 0.0556 / 8 * (45 / 28) ** 2


def _load_cacti_table() -> dict[str, np.ndarray]:
    """Columns of the CACTI SRAM table (``#`` lines are its provenance header)."""
    text = resources.files("simulators").joinpath("data", "cacti_sram_45nm.csv").read_text()
    rows = [line.split(",") for line in text.splitlines() if line.strip() and not line.startswith("#")]
    header, body = rows[0], rows[1:]
    return {name: np.array([float(r[i]) for r in body]) for i, name in enumerate(header)}


CACTI_SRAM = _load_cacti_table()
CACTI_ACCESS_BITS = 64


_CACTI_ROWS = {column: dict(zip(CACTI_SRAM["size_kb"].tolist(), values.tolist()))
               for column, values in CACTI_SRAM.items()}


def _cacti_column(column: str, size_kb):
    exact = _CACTI_ROWS[column].get(size_kb) if isinstance(size_kb, (int, float)) else None
    if exact is not None:  # a table row (the common case for one design): no interpolation needed
        return exact
    sizes = CACTI_SRAM["size_kb"]
    size = np.asarray(size_kb, dtype=float)
    if np.any(size < sizes[0]) or np.any(size > sizes[-1]):
        raise ValueError(f"SRAM size must be within the CACTI table, {sizes[0]:g} to {sizes[-1]:g} KB; "
                         f"got {size_kb!r}")
    values = CACTI_SRAM[column]
    row = np.minimum(np.searchsorted(sizes, size), len(sizes) - 1)
    # a table row exactly as measured (exp(log(x)) may differ in the last bit), log-log between rows
    value = np.where(sizes[row] == size, values[row], np.exp(np.interp(np.log(size), np.log(sizes), np.log(values))))
    return float(value) if value.ndim == 0 else value


def sram_read_pj(size_kb, word_bits):
    """CACTI 45 nm energy of reading one ``word_bits`` word from an SRAM of ``size_kb`` KB."""
    return _cacti_column("read_pj", size_kb) * word_bits / CACTI_ACCESS_BITS


def sram_write_pj(size_kb, word_bits):
    """CACTI 45 nm energy of writing one ``word_bits`` word into an SRAM of ``size_kb`` KB."""
    return _cacti_column("write_pj", size_kb) * word_bits / CACTI_ACCESS_BITS


def sram_area_mm2(size_kb):
    """CACTI 45 nm area of an SRAM of ``size_kb`` KB (one bank, one port)."""
    return _cacti_column("area_mm2", size_kb)
