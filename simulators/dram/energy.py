"""DRAMPower energy equations (per device, summed over supply rails, times devices per rank).

With ``V`` a rail's voltage, currents of that rail, ``tCK`` the clock period and ``BL/dr`` the
burst's bus cycles::

    E_ACT = V (IDD0 - IDD3N) tRAS tCK          per activate
    E_PRE = V (IDD0 - IDD2N) (tRC - tRAS) tCK  per precharge (explicit, auto or one bank of a PREA)
    E_RD  = V (IDD4R - IDD3N) (BL/dr) tCK      per read burst;  E_WR likewise with IDD4W
    E_REF = V (IDD5 - IDD3N) tRFC tCK          per all-bank refresh
    E_BG  = V (IDD3N t_active + IDD2N t_precharged)

``t_active`` is the time at least one bank is open, refresh windows included (the ``- IDD3N`` of
E_REF pairs with it); ``t_precharged`` is the rest of the run. No power-down is modelled
(ArchGym fixed ``PowerDownPolicy: NoPowerDown``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulators.dram.controller import ControllerRun
from simulators.dram.specs import MemSpec
from simulators.jit import jit

__all__ = ["CommandEnergy", "EnergyBreakdown", "active_cycles", "command_energy", "energy"]

_MA = 1e-3


@dataclass(frozen=True)
class CommandEnergy:
    """Energy of one command for the whole rank (J), and standby powers of the rank (W)."""

    act: float
    pre: float
    rd: float
    wr: float
    ref: float
    active_standby: float
    precharged_standby: float


@dataclass(frozen=True)
class EnergyBreakdown:
    """Rank energy of a run by component (J); ``total`` is their sum."""

    act: float
    pre: float
    rd: float
    wr: float
    ref: float
    background: float

    @property
    def total(self) -> float:
        return self.act + self.pre + self.rd + self.wr + self.ref + self.background

    def as_dict(self) -> dict[str, float]:
        return {"act": self.act, "pre": self.pre, "rd": self.rd, "wr": self.wr, "ref": self.ref,
                "background": self.background, "total": self.total}


def command_energy(spec: MemSpec) -> CommandEnergy:
    """Per-command energies and standby powers of a rank (all devices) by the equations above."""
    t = spec.timing
    tck = spec.tck_s
    burst = spec.burst_cycles
    parts = np.zeros(7)
    for rail in spec.rails:
        v = rail.voltage * _MA
        parts += (
            v * (rail.idd0 - rail.idd3n) * t.RAS * tck,
            v * (rail.idd0 - rail.idd2n) * (t.RC - t.RAS) * tck,
            v * (rail.idd4r - rail.idd3n) * burst * tck,
            v * (rail.idd4w - rail.idd3n) * burst * tck,
            v * (rail.idd5 - rail.idd3n) * t.RFC * tck,
            v * rail.idd3n,
            v * rail.idd2n,
        )
    return CommandEnergy(*(float(x) * spec.devices for x in parts))


def active_cycles(run: ControllerRun, refresh_cycles: int) -> int:
    """Cycles in ``[0, run.end]`` with at least one bank open or a refresh in progress."""
    start = np.concatenate((run.open_start, run.ref_start))
    stop = np.concatenate((run.open_end, run.ref_start + refresh_cycles))
    # a stable sort is fast here: the loop records intervals nearly in order
    return int(_union_length(start, stop, np.argsort(start, kind="stable"), run.end))


@jit
def _union_length(start, stop, order, end):
    """Length of the union of the intervals ``[start, stop)`` clipped to ``[0, end]``, visited in
    ``order`` (by start)."""
    total = 0
    covered = 0  # the furthest stop so far
    for i in order:
        a = min(max(start[i], 0), end)
        b = min(max(stop[i], 0), end)
        lo = a if a > covered else covered
        if b > lo:
            total += b - lo
        if b > covered:
            covered = b
    return total


def energy(run: ControllerRun, spec: MemSpec) -> EnergyBreakdown:
    """DRAMPower energy of a controller run (J, whole rank)."""
    e = command_energy(spec)
    active = active_cycles(run, spec.timing.RFC) * spec.tck_s
    precharged = run.end * spec.tck_s - active
    return EnergyBreakdown(
        act=e.act * run.n_act,
        pre=e.pre * run.n_pre,
        rd=e.rd * run.n_rd,
        wr=e.wr * run.n_wr,
        ref=e.ref * run.n_ref,
        background=e.active_standby * active + e.precharged_standby * precharged,
    )
