"""Block characteristics of the SoC model, with their sources.

- **A53 core** (FARSI ``misc_database - Block Characteristics.csv``): Dhrystone IPC 2, 1 GHz,
  47,019,607,843 instructions per joule (21.27 pJ per instruction, so 42.5 mW while busy), area
  6.5e-7 m^2 = 0.65 mm^2. A task's instructions are its A53 cycles x IPC, as in FARSI's parser.
- **Technology node**: FARSI's accelerator and memory data are 40-45 nm figures; ArchGym's
  FARSIGym (``arch_gym/envs/FARSIEnv.py``) scales them to its target node with ``tech_node_SF``:
  non-core energy x 0.064, non-memory (accelerator) area x 0.0374, memory area x 0.07, core x 1.
  ArchGym's budgets were set against these scaled numbers, so we apply the same factors.
- **Memories** (FARSI with CACTI on, ``design.py: run_and_collect_cacti_data``): a memory is sized
  by the peak of the bytes it holds at once during the run (``simulators.soc.model``), at least
  2,048 bytes (CACTI's smallest) and rounded up to banks of 256,000 bytes; CACTI at 40 nm gives
  that size's dynamic read and write energy per access and its area (``data/cacti_farsi_40nm.csv``:
  SRAM ``ram``/``itrs-lop``, DRAM ``main memory``/``comm-dram``). FARSI divides the access energy by
  16 to get energy per byte and applies FARSIGym's scaling: energy x 0.064, area x 0.07. The DRAM
  counts as stacked DRAM in the SoC area, as in FARSI. ``dram=`` other than ``cacti`` swaps the
  DRAM's access energy for an off-chip interface figure (``simulators.tech``, the Accelergy CACTI
  plug-in table, e.g. LPDDR4 8 pJ/bit, not scaled); its area stays FARSI's.
- **Bus**: no energy and no area. With CACTI on, FARSI charges interconnects nothing
  (``collect_cacti_data`` returns zero energy and area for ``ic`` blocks).
- **Clocks and widths** (FARSI/FARSIGym): accelerators, memories and buses at 100 MHz x {1, 4, 6, 8};
  memory and bus widths 4-128 bytes; bandwidth = width x clock.

No leakage: FARSI's simulation has none, so an idle block costs area only.
"""

from __future__ import annotations

import math

from simulators.soc.cacti import farsi_table
from simulators.tech import DRAM_PJ_PER_BIT, PJ

A53_IPC = 2.0
A53_CLOCK_HZ = 1.0e9
A53_INSTRUCTIONS_PER_J = 47019607843.0
A53_AREA_MM2 = 0.65

ENERGY_SCALE = 0.064  # FARSIGym tech_node_SF energy non_gpp: accelerators and memories
ACCEL_AREA_SCALE = 0.0374  # FARSIGym tech_node_SF area non_mem
MEMORY_AREA_SCALE = 0.07  # FARSIGym tech_node_SF area mem

CLOCKS_MHZ = (100, 400, 600, 800)
WIDTHS_BYTES = (4, 8, 16, 32, 64, 128)
MEMORY_KINDS = ("sram", "dram")
CACTI_DRAM = "cacti"
DRAM_KINDS = (CACTI_DRAM, *sorted(DRAM_PJ_PER_BIT))

CACTI_MIN_BYTES = 2048  # FARSI config.cacti_min_memory_size_in_bytes
MEMORY_BANK_BYTES = 256_000  # FARSI config.min_mem_size (SRAM and DRAM)
CACTI_BYTES_PER_ACCESS = 16  # FARSI divides CACTI's energy per access by 16 for energy per byte

BUS_ENERGY_PER_BYTE_J = 0.0


def memory_size_bytes(peak_bytes: float) -> int:
    """The capacity FARSI gives a memory whose contents peak at ``peak_bytes``: whole 256,000-byte banks."""
    return math.ceil(max(math.ceil(peak_bytes), CACTI_MIN_BYTES) / MEMORY_BANK_BYTES) * MEMORY_BANK_BYTES


def max_memory_bytes() -> int:
    """The largest memory the CACTI table covers (every kind has the same sizes)."""
    table = farsi_table()
    return min(table.max_bytes(k) for k in table.kinds)


def memory_cost(kind: str, peak_bytes: float, dram: str = CACTI_DRAM) -> tuple[float, float, float]:
    """(J per byte read, J per byte written, mm^2) of a ``kind`` memory peaking at ``peak_bytes``, at
    the target node; ``dram`` picks the DRAM access energy (``cacti`` or an interface in ``DRAM_PJ_PER_BIT``)."""
    if kind not in MEMORY_KINDS:
        raise ValueError(f"memory kind must be one of {list(MEMORY_KINDS)}, got {kind!r}")
    read_nj, write_nj, area = farsi_table().row(kind, memory_size_bytes(peak_bytes))
    per_byte = 1e-9 / CACTI_BYTES_PER_ACCESS * ENERGY_SCALE
    read_j, write_j = read_nj * per_byte, write_nj * per_byte
    if kind == "dram" and dram != CACTI_DRAM:
        if dram not in DRAM_PJ_PER_BIT:
            raise ValueError(f"dram must be one of {list(DRAM_KINDS)}, got {dram!r}")
        read_j = write_j = DRAM_PJ_PER_BIT[dram] * 8 * PJ
    return read_j, write_j, area * MEMORY_AREA_SCALE
