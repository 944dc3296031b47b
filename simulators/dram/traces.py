"""Address traces: seeded synthetic workloads and user files (DRAMSys ``.stl`` or plain CSV).

A ``Trace`` holds, per request, the initiator cycle at which it is offered, read/write, byte address
and length. The initiator issues in order, one request after the controller (or arbiter) accepted
the previous one, never before its cycle: ArchGym's traces offer one request per cycle of an
800 MHz player, four times what a DDR3-1600 channel can serve, so the channel saturates.

Synthetic workloads (one request per initiator cycle, 64-byte lines, ``write_fraction`` of them
writes, chosen independently with the seeded generator):

- ``stream``: lines ``0, 64, 128, ...``;
- ``random``: lines drawn uniformly from the address space;
- ``cloud-1``: alternating phases of sequential lines from a pointer that starts at 0 and resumes
  where the previous sequential phase stopped (50-300 lines, a multiple of 50) and uniformly random
  lines (50 or 100), starting with a sequential phase -- the shape of ArchGym's ``cloud-1.stl``;
- ``cloud-2``: the same mixture starting with a random phase.

File formats (``#`` starts a comment line, blank lines are skipped, a bad line is a ``ValueError``
naming its line number):

- ``.stl`` (DRAMSys): ``<cycle>: [(<bytes>)] read|write <hex address> [data]``;
- ``.csv``: ``cycle,read|write,address`` (address decimal or ``0x`` hex; ``r``/``w`` accepted; an
  optional header line ``cycle,command,address``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulators.params import check_int, check_number
from simulators.yamldata import read_text

__all__ = ["LINE_BYTES", "SYNTHETIC_WORKLOADS", "Trace", "load_trace", "save_stl", "synthetic_trace"]

LINE_BYTES = 64
SYNTHETIC_WORKLOADS = ("stream", "random", "cloud-1", "cloud-2")
#: the longest synthetic trace (10^7 requests: seconds to minutes per evaluation, ~320 MB of trace arrays)
MAX_REQUESTS = 10_000_000
TRACE_BYTES_PER_REQUEST = 32
_COMMANDS = {"read": False, "write": True, "r": False, "w": True}


@dataclass(frozen=True, eq=False)
class Trace:
    """Requests in issue order: initiator ``cycle``, ``is_write``, byte ``address``, ``length`` in bytes.

    ``line`` holds the source line of each request for file traces (for error messages), else None.
    """

    name: str
    cycle: np.ndarray
    is_write: np.ndarray
    address: np.ndarray
    length: np.ndarray
    line: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.cycle)
        for field in ("is_write", "address", "length"):
            if len(getattr(self, field)) != n:
                raise ValueError(f"trace {self.name!r}: {field} has {len(getattr(self, field))} entries, expected {n}")
        if n == 0:
            raise ValueError(f"trace {self.name!r} has no requests")
        back = np.flatnonzero(np.diff(np.asarray(self.cycle)) < 0)
        if back.size:  # requests are issued in order: a cycle that goes back is a broken or shuffled trace
            i = int(back[0]) + 1
            raise ValueError(f"trace {self.name!r}, {self.where(i)}: cycle {int(self.cycle[i])} is earlier than the "
                             f"previous request's {int(self.cycle[i - 1])}; requests must be in time order")

    def __len__(self) -> int:
        return len(self.cycle)

    def where(self, i: int) -> str:
        """'line N' for file traces, 'request i' for synthetic ones (used in error messages)."""
        return f"line {int(self.line[i])}" if self.line is not None else f"request {i}"


def _positive_int(name: str, value: object) -> int:
    return check_int(value, name, low=1)


def synthetic_trace(
    name: str,
    *,
    requests: int = 10_000,
    write_fraction: float = 0.0,
    seed: int = 0,
    address_space: int = 1 << 30,
) -> Trace:
    """One of ``SYNTHETIC_WORKLOADS`` (see the module docstring) over ``address_space`` bytes."""
    if name not in SYNTHETIC_WORKLOADS:
        raise ValueError(f"unknown synthetic workload {name!r}; choose one of {list(SYNTHETIC_WORKLOADS)}")
    n = _positive_int("requests", requests)
    if n > MAX_REQUESTS:
        raise ValueError(f"requests must be at most {MAX_REQUESTS:,} (a synthetic trace is held in memory, "
                         f"~{TRACE_BYTES_PER_REQUEST} bytes a request), got {n:,}")
    check_number(write_fraction, "write_fraction", low=0.0, high=1.0)
    check_int(seed, "seed", low=0)
    lines = _positive_int("address_space", address_space) // LINE_BYTES
    rng = np.random.default_rng(seed)
    if name == "stream":
        if n > lines:
            raise ValueError(f"requests ({n}) exceed the {lines} lines of the address space")
        line_ids = np.arange(n, dtype=np.int64)
    elif name == "random":
        line_ids = rng.integers(0, lines, size=n, dtype=np.int64)
    else:
        line_ids = _cloud_lines(rng, n, lines, sequential_first=(name == "cloud-1"))
    is_write = rng.random(n) < write_fraction
    return Trace(name=name, cycle=np.arange(n, dtype=np.int64), is_write=is_write,
                 address=line_ids * LINE_BYTES, length=np.full(n, LINE_BYTES, dtype=np.int64))


def _cloud_lines(rng: np.random.Generator, n: int, lines: int, *, sequential_first: bool) -> np.ndarray:
    out = np.empty(n, dtype=np.int64)
    pos, pointer, sequential = 0, 0, sequential_first
    while pos < n:
        if sequential:
            length = min(n - pos, 50 * int(rng.integers(1, 7)))
            out[pos:pos + length] = (pointer + np.arange(length)) % lines
            pointer = (pointer + length) % lines
        else:
            length = min(n - pos, 50 * int(rng.integers(1, 3)))
            out[pos:pos + length] = rng.integers(0, lines, size=length, dtype=np.int64)
        pos += length
        sequential = not sequential
    return out


def _parse_int(token: str, base: int, what: str) -> int:
    """A non-negative integer, or ``ValueError(what, token)``."""
    try:
        value = int(token, base)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"{what}, got {token!r}")
    return value


def load_trace(path: str | os.PathLike[str]) -> Trace:
    """Read a ``.stl`` (DRAMSys) or ``.csv`` trace; see the module docstring for the formats."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".stl", ".csv"):
        raise ValueError(f"trace file {str(p)!r}: unknown format; use a .stl (DRAMSys) or .csv file, "
                         f"or a synthetic workload {list(SYNTHETIC_WORKLOADS)}")
    if not p.is_file():
        raise ValueError(f"trace file {str(p)!r} does not exist")
    cycles: list[int] = []
    writes: list[bool] = []
    addresses: list[int] = []
    lengths: list[int] = []
    line_numbers: list[int] = []
    parse = _parse_stl_line if suffix == ".stl" else _parse_csv_line
    try:
        with p.open(encoding="utf-8") as handle:
            for number, raw in enumerate(handle, start=1):
                text = raw.strip()
                if not text or text.startswith("#"):
                    continue
                if suffix == ".csv" and not cycles and text.replace(" ", "").lower() == "cycle,command,address":
                    continue
                try:
                    cycle, write, address, length = parse(text)
                except ValueError as exc:
                    raise ValueError(f"trace {p.name} line {number}: {exc}: {text!r}") from None
                cycles.append(cycle)
                writes.append(write)
                addresses.append(address)
                lengths.append(length)
                line_numbers.append(number)
    except UnicodeDecodeError:
        read_text(p, "trace file")  # raises, saying where the file stops being UTF-8
        raise
    if not cycles:
        raise ValueError(f"trace file {str(p)!r} has no requests")
    return Trace(name=p.name, cycle=np.array(cycles, dtype=np.int64), is_write=np.array(writes, dtype=bool),
                 address=np.array(addresses, dtype=np.int64), length=np.array(lengths, dtype=np.int64),
                 line=np.array(line_numbers, dtype=np.int64))


def save_stl(trace: Trace, path: str | os.PathLike[str]) -> Path:
    """Write ``trace`` as a DRAMSys ``.stl`` file (every line with its length), which ``load_trace``
    and DRAMSys's trace player both read back as the same requests."""
    p = Path(path)
    if p.suffix.lower() != ".stl":
        raise ValueError(f"save_stl writes .stl files, got {str(p)!r}")
    commands = np.where(trace.is_write, "write", "read")
    with p.open("w") as handle:
        for cycle, length, command, address in zip(trace.cycle.tolist(), trace.length.tolist(), commands.tolist(),
                                                   trace.address.tolist()):
            handle.write(f"{cycle}:\t({length})\t{command}\t{address:#x}\n")
    return p


def _command(token: str) -> bool:
    try:
        return _COMMANDS[token.lower()]
    except KeyError:
        raise ValueError(f"command must be read or write, got {token!r}") from None


def _parse_stl_line(text: str) -> tuple[int, bool, int, int]:
    tokens = text.split()
    if len(tokens) < 3:
        raise ValueError("expected '<cycle>: [(<bytes>)] read|write <hex address>'")
    stamp = tokens[0][:-1] if tokens[0].endswith(":") else tokens[0]
    cycle = _parse_int(stamp, 10, "timestamp must be a non-negative integer cycle")
    rest = tokens[1:]
    length = LINE_BYTES
    if rest[0].startswith("("):
        length = _parse_int(rest[0].strip("()"), 10, "length must be '(<bytes>)'")
        rest = rest[1:]
        if len(rest) < 2:
            raise ValueError("expected a command and an address after the length")
    write = _command(rest[0])
    address = _parse_int(rest[1], 16, "address must be hexadecimal")
    return cycle, write, address, length


def _parse_csv_line(text: str) -> tuple[int, bool, int, int]:
    fields = [f.strip() for f in text.split(",")]
    if len(fields) != 3:
        raise ValueError(f"expected 3 fields 'cycle,read|write,address', got {len(fields)}")
    cycle = _parse_int(fields[0], 10, "cycle must be a non-negative integer")
    write = _command(fields[1])
    address = _parse_int(fields[2], 0, "address must be a decimal or 0x-hex integer")
    return cycle, write, address, LINE_BYTES
