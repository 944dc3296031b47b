"""DRAM memory controller over address traces, with DRAMSys's knobs and DRAMPower energy.

``DRAMSimulator`` is the ``Simulator`` behind ``archgym/DRAM-v0``; ``load_memspec`` reads a bundled or
user memory spec, ``synthetic_trace``/``load_trace`` build workloads, ``simulate`` runs the
controller model (documented in ``simulators.dram.controller``) and ``energy`` applies DRAMPower's
equations (``simulators.dram.energy``).
"""

from __future__ import annotations

from simulators.dram.controller import ControllerConfig, ControllerRun, UnrealisableError, simulate
from simulators.dram.energy import EnergyBreakdown, command_energy, energy
from simulators.dram.mapping import bind_trace
from simulators.dram.simulator import (
    DEFAULT_TARGET_FACTORS,
    KNOBS,
    METRICS,
    REFERENCE_DESIGN,
    TARGET_FACTORS,
    DRAMSimulator,
    default_space,
)
from simulators.dram.specs import BUNDLED_SPECS, MemSpec, load_memspec, parse_memspec
from simulators.dram.traces import SYNTHETIC_WORKLOADS, Trace, load_trace, save_stl, synthetic_trace

__all__ = ["BUNDLED_SPECS", "DEFAULT_TARGET_FACTORS", "KNOBS", "METRICS", "REFERENCE_DESIGN", "SYNTHETIC_WORKLOADS",
           "TARGET_FACTORS", "ControllerConfig", "ControllerRun", "DRAMSimulator", "EnergyBreakdown", "MemSpec",
           "Trace", "UnrealisableError", "bind_trace", "command_energy", "default_space", "energy", "load_memspec",
           "load_trace", "parse_memspec", "save_stl", "simulate", "synthetic_trace"]
