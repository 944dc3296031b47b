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


def bind_trace(trace: Trace, spec: MemSpec, initiator_mhz: float) -> BurstTrace:
    """Split requests into bursts, decode them with ``spec.mapping`` and convert offer times to cycles.

    A request of ``length`` bytes needs ``max(1, length / burst_bytes)`` bursts at consecutive
    burst addresses. Raises ``ValueError`` (naming the trace line) for an address outside the
    memory, a length that is not a power of two, or an address not aligned to its length.
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
    arrival = np.ceil(trace.cycle * ratio - 1e-9).astype(np.int64)
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


