"""Address decoding and trace binding: byte addresses -> (bank, row, column) bursts in controller cycles."""

from __future__ import annotations

import numpy as np

from simulators.dram.controller import BurstTrace
from simulators.dram.specs import AddressMapping, MemSpec
from simulators.dram.traces import Trace

__all__ = ["bind_trace", "decode_field"]


def decode_field(address: np.ndarray, bits: tuple[int, ...]) -> np.ndarray:
    """The value of one mapping field: address bit ``bits[k]`` becomes bit ``k`` of the result."""
    out = np.zeros(address.shape, dtype=np.int64)
    for k, bit in enumerate(bits):
        out |= ((address >> bit) & 1) << k
    return out


def _flat_bank(address: np.ndarray, mapping: AddressMapping, banks_per_group: int) -> np.ndarray:
    return decode_field(address, mapping.bankgroup) * banks_per_group + decode_field(address, mapping.bank)


#: latest offer time, in controller cycles, a trace may have (float64 counts cycles exactly up to here)
_MAX_CYCLE = float(2**52)


def bind_trace(trace: Trace, spec: MemSpec, initiator_mhz: float) -> BurstTrace:
    """Split requests into bursts, decode them with ``spec.mapping`` and convert offer times to cycles.

    A request of ``length`` bytes needs ``max(1, length / burst_bytes)`` bursts at consecutive
    burst addresses. Raises ``ValueError`` (naming the trace line) for an address outside the
    memory, a length that is not a power of two, an address not aligned to its length, or an offer
    time beyond ``_MAX_CYCLE`` controller cycles (2^52, 52 days at 1 GHz).
    """
    length = trace.length
    bad = (length < 1) | ((length & (length - 1)) != 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"trace {trace.name} {trace.where(i)}: length {int(length[i])} is not a power of two")
    bad = (trace.address % length) != 0
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"trace {trace.name} {trace.where(i)}: address {int(trace.address[i]):#x} is not aligned to "
                         f"its {int(length[i])}-byte length")
    bad = trace.address + length > spec.capacity_bytes
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"trace {trace.name} {trace.where(i)}: address {int(trace.address[i]):#x} is outside the "
                         f"{spec.capacity_bytes} bytes of memspec {spec.name}")
    bursts = np.maximum(1, length // spec.burst_bytes)
    first = np.concatenate(([0], np.cumsum(bursts)[:-1])).astype(np.int64)
    parent = np.repeat(np.arange(len(trace), dtype=np.int64), bursts)
    offset = np.arange(int(bursts.sum()), dtype=np.int64) - first[parent]
    start = trace.address - trace.address % spec.burst_bytes  # a short request still moves a whole burst
    address = start[parent] + offset * spec.burst_bytes
    m = spec.mapping
    ratio = (1000.0 / initiator_mhz) / spec.tck_ns  # controller cycles per initiator cycle
    scaled = trace.cycle * ratio
    bad = ~(scaled < _MAX_CYCLE)  # also inf and NaN: cast to int64 they would be garbage
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"trace {trace.name} {trace.where(i)}: initiator cycle {int(trace.cycle[i])} at "
                         f"initiator_mhz={initiator_mhz:g} is controller cycle {scaled[i]:.3g}, beyond the "
                         f"{_MAX_CYCLE:.3g} a run can count; give a higher initiator_mhz or a shorter trace")
    arrival = np.ceil(scaled - 1e-9).astype(np.int64)
    return BurstTrace(
        bank=_flat_bank(address, m, spec.banks // spec.bank_groups),
        row=decode_field(address, m.row),
        column=decode_field(address, m.column),
        is_write=trace.is_write[parent],
        parent=parent,
        arrival=arrival,
        first=first,
        bursts=bursts.astype(np.int64),
        nbytes=length.astype(np.int64),
    )


