"""Block characteristics of the SoC model, with their sources.

- **A53 core** (FARSI ``misc_database - Block Characteristics.csv``): Dhrystone IPC 2, 1 GHz,
  47,019,607,843 instructions per joule (21.27 pJ per instruction, so 42.5 mW while busy), area
  6.5e-7 m^2 = 0.65 mm^2. A task's instructions are its A53 cycles x IPC, as in FARSI's parser.
- **Technology node**: FARSI's accelerator, memory and bus data are 40-45 nm figures; ArchGym's
  FARSIGym (``arch_gym/envs/FARSIEnv.py``) scales them to its target node with ``tech_node_SF``:
  non-core energy x 0.064, non-memory (accelerator) area x 0.0374, memory area x 0.07, core x 1.
  ArchGym's budgets were set against these scaled numbers, so we apply the same factors. Off-chip
  DRAM energy is a present-day interface figure and is not scaled.
- **SRAM** (reused from ``simulators.tech``): 45 nm area 0.01795 mm^2/KB (CACTI 28 nm scaled
  by (45/28)^2); access energy per byte from Horowitz (ISSCC 2014) 64-bit accesses, 8 KB 10 pJ ...
  1 MB 100 pJ, as a power law of the memory's capacity, divided by 8 bytes per word.
- **DRAM** (reused from ``simulators.tech``, the Accelergy CACTI plug-in table): pJ per bit
  by technology, LPDDR4 8 pJ/bit by default. Off-chip, so it adds no SoC area.
- **Bus**: 1 pJ per byte (0.125 pJ/bit) per bus crossed at 45 nm. This is our assumption, of the
  order of on-die wire energy over about a millimetre (Borkar & Chien, "The future of
  microprocessors", CACM 2011, fig. 11, plots on-die interconnect energy per bit against length);
  FARSI's own ``Byte_per_joul`` for buses is a placeholder. Buses add no area (FARSI gives them none).
- **Clocks and widths** (FARSI/FARSIGym): accelerators, memories and buses at 100 MHz x {1, 4, 6, 8};
  memory and bus widths 4-128 bytes; bandwidth = width x clock.

No leakage: FARSI's simulation has none, so an idle block costs area only.
"""

from __future__ import annotations

from simulators.tech import DRAM_PJ_PER_BIT, PJ, SRAM_MM2_PER_KB, sram_word_energy_pj

A53_IPC = 2.0
A53_CLOCK_HZ = 1.0e9
A53_INSTRUCTIONS_PER_J = 47019607843.0
A53_AREA_MM2 = 0.65

ENERGY_SCALE = 0.064  # FARSIGym tech_node_SF energy non_gpp: accelerators, SRAM, buses
ACCEL_AREA_SCALE = 0.0374  # FARSIGym tech_node_SF area non_mem
MEMORY_AREA_SCALE = 0.07  # FARSIGym tech_node_SF area mem

BUS_PJ_PER_BYTE_45NM = 1.0

CLOCKS_MHZ = (100, 400, 600, 800)
WIDTHS_BYTES = (4, 8, 16, 32, 64, 128)
MEMORY_KINDS = ("sram", "dram")
DRAM_KINDS = tuple(sorted(DRAM_PJ_PER_BIT))

KB = 1024.0


def sram_area_mm2(capacity_bytes: float) -> float:
    """On-chip SRAM area for ``capacity_bytes`` at the target node."""
    return capacity_bytes / KB * SRAM_MM2_PER_KB * MEMORY_AREA_SCALE


def sram_energy_per_byte_j(capacity_bytes: float) -> float:
    """Energy to read or write one byte of an SRAM holding ``capacity_bytes`` (target node)."""
    return sram_word_energy_pj(capacity_bytes / KB, 8) * PJ * ENERGY_SCALE


def dram_energy_per_byte_j(kind: str) -> float:
    """Energy to read or write one byte of off-chip DRAM of technology ``kind``."""
    return DRAM_PJ_PER_BIT[kind] * 8 * PJ


BUS_ENERGY_PER_BYTE_J = BUS_PJ_PER_BYTE_45NM * PJ * ENERGY_SCALE
