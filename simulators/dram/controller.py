"""Event-driven memory controller over a burst trace, in integer clock cycles (DRAMSys semantics).

One loop advances through three kinds of events in time order (ties in this order):

1. **admission** of the next request into the scheduler buffer. The initiator offers requests in
   order, each no earlier than its cycle and no earlier than the acceptance of the previous one.
   With the ``Simple`` arbiter a request is accepted when the controller has buffer room for all its
   bursts (back-pressure reaches the initiator); the ``Fifo``/``Reorder`` arbiters accept it at once
   while fewer than ``MaxActiveTransactions`` requests are outstanding (an outstanding request ends
   with its response) and queue it towards the controller. One request enters the controller per
   cycle, ``FRONTEND_CYCLES`` after acceptance. Buffer room: ``Bankwise`` = per bank,
   ``ReadWrite`` = per direction, ``Shared`` = in total, each ``RequestBufferSize`` bursts; a slot
   frees when the burst's RD/WR command issues. With ``buffer_admission="dramsys"`` (DRAMSys v5.1's
   counters) ``Bankwise`` asks the bank of the last burst stored instead of the request's own, and
   ``ReadWrite`` needs room in both directions.
2. **refresh trigger** every tREFI (all-bank refresh), handled by DRAMSys's flexibility counter:
   postpone while requests are buffered (up to ``RefreshMaxPostponed``), then force (block the banks,
   precharge all, refresh); when idle, refresh and pull in up to ``RefreshMaxPulledin`` more.
3. **one command per cycle** on the command bus: every bank machine proposes its next command for
   its current request (PRE on a row miss, ACT on a closed bank, RD/WR on a hit); the one that can
   issue earliest under the JEDEC constraints wins, the oldest request on a tie (the refresh
   manager counts as oldest). The scheduler picks each bank's request: ``Fifo`` the oldest,
   ``FrFcfs`` the oldest row hit else the oldest, ``FrFcfsGrp`` a row hit in the direction of the
   last RD/WR first. Once a bank activated a row for a request it keeps that request (or a hit).
   The page policy decides auto-precharge after RD/WR: ``Open`` never, ``Closed`` always,
   ``OpenAdaptive`` when more requests wait for the bank and none hits the open row,
   ``ClosedAdaptive`` unless another waiting request hits the open row.

JEDEC constraints (cycles): ACT->RD/WR tRCD, ACT->PRE tRAS, ACT->ACT same bank tRC, PRE->ACT tRP
(tRPab after a precharge-all), ACT->ACT tRRD_S (tRRD_L same bank group), at most four ACT per tFAW,
RD->RD and WR->WR tCCD_S (tCCD_L same bank group), RD->PRE tRTP, WR->PRE WL+BL/2+tWR,
WR->RD WL+BL/2+tWTR_S/L, RD->WR RL+BL/2+2-WL, REF->ACT tRFC. Read data ends at RD+RL+BL/2,
write data at WR+WL+BL/2; that is when the burst's response is ready. Responses leave the
controller one per cycle, in command order (``RespQueue: Fifo``) or request order (``Reorder``);
the ``Reorder`` arbiter returns them to the initiator in request order as well.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

import numpy as np

from simulators.dram.specs import MemSpec
from simulators.jit import filled, jit, loop_input

__all__ = ["ADMISSIONS", "FRONTEND_CYCLES", "ArbiterKind", "BufferKind", "BurstTrace", "ControllerConfig",
           "ControllerRun", "PagePolicy", "SchedulerKind", "UnrealisableError", "simulate"]

#: cycles between the arbiter accepting a request and the controller seeing it (one think delay)
FRONTEND_CYCLES = 1

PAGE_POLICIES = ("Open", "OpenAdaptive", "Closed", "ClosedAdaptive")
SCHEDULERS = ("Fifo", "FrFcfs", "FrFcfsGrp")
BUFFERS = ("Bankwise", "ReadWrite", "Shared")
ARBITERS = ("Simple", "Fifo", "Reorder")
#: how a request's buffer room is checked: ``incoming`` (its own banks' / direction's slots) or ``dramsys``
#: (DRAMSys v5.1's counters: ``Bankwise`` asks the bank of the last burst stored, ``ReadWrite`` needs room
#: in both directions; a request needs room for all its bursts at once either way)
ADMISSIONS = ("incoming", "dramsys")

PagePolicy = str
SchedulerKind = str
BufferKind = str
ArbiterKind = str

_OPEN, _OPEN_ADAPTIVE, _CLOSED, _CLOSED_ADAPTIVE = range(4)
_FIFO, _FRFCFS, _GRP = range(3)
_BANKWISE, _READWRITE, _SHARED = range(3)
_SIMPLE, _ARB_FIFO, _ARB_REORDER = range(3)
_ACT, _RD, _WR, _PRE = range(4)
_INF = 1 << 62
_NEVER = _INF + 1  # later than any event, even "no event"


class UnrealisableError(Exception):
    """The design cannot serve the trace (e.g. a request needs more buffer slots than exist)."""


@dataclass(frozen=True)
class ControllerConfig:
    """The ten controller knobs (DRAMSys/ArchGym names and values), and how buffer room is checked."""

    page_policy: str = "Open"
    scheduler: str = "FrFcfs"
    scheduler_buffer: str = "Bankwise"
    request_buffer_size: int = 8
    resp_queue: str = "Fifo"
    refresh_policy: str = "AllBank"
    refresh_max_postponed: int = 8
    refresh_max_pulledin: int = 8
    arbiter: str = "Simple"
    max_active_transactions: int = 128
    buffer_admission: str = "incoming"  # not a knob: ``ADMISSIONS``, set by the simulator


@dataclass(frozen=True, eq=False)
class BurstTrace:
    """A trace decoded for one memspec: one entry per burst, plus per-request (parent) arrays.

    ``arrival`` is the request's offer time in controller cycles; bursts of a request are
    consecutive (``first[p] .. first[p] + bursts[p] - 1``).
    """

    bank: np.ndarray
    row: np.ndarray
    column: np.ndarray
    is_write: np.ndarray
    parent: np.ndarray
    arrival: np.ndarray
    first: np.ndarray
    bursts: np.ndarray
    nbytes: np.ndarray

    def __post_init__(self) -> None:
        # read-only copies, so that what is derived from them once (below) stays true
        for f in fields(self):
            a = np.array(getattr(self, f.name), dtype=np.bool_ if f.name == "is_write" else np.int64)
            a.flags.writeable = False
            object.__setattr__(self, f.name, a)

    @cached_property
    def loop_arrays(self) -> tuple[Any, ...]:
        """The arrays the controller loop reads, in its argument order (lists when not compiled)."""
        return tuple(loop_input(a) for a in (self.bank, self.row, self.column, self.is_write, self.parent,
                                             self.arrival, self.first, self.bursts))

    @cached_property
    def n_columns(self) -> int:
        return int(self.column.max()) + 1 if len(self.column) else 1

    def slots_needed(self, banks: int, bankwise: bool) -> int:
        """Buffer slots the largest request takes at once: its bursts, or (``bankwise``) the most
        of its bursts on any one of ``banks`` banks."""
        key = (banks, bankwise)
        cache = self.__dict__.setdefault("_slots", {})
        if key not in cache:
            kmax = int(self.bursts.max()) if len(self.bursts) else 0
            if bankwise and kmax > 1:
                keys = self.parent * banks + self.bank
                kmax = int(np.unique(keys, return_counts=True)[1].max())
            cache[key] = kmax
        return cache[key]


@dataclass(frozen=True, eq=False)
class ControllerRun:
    """What one simulation produced, in cycles: per request issue/response times, command counts,
    bank-open intervals and refresh start times (for the background energy). ``n_miss`` counts the
    bursts that needed an activate (an ACT repeated after a refresh closed the row counts once);
    ``n_pulled_in`` the refreshes issued ahead of time while idle (0 means ``RefreshMaxPulledin``
    had no effect on this run)."""

    issue: np.ndarray
    response: np.ndarray
    end: int
    n_act: int
    n_miss: int
    n_pre: int
    n_rd: int
    n_wr: int
    n_ref: int
    n_pulled_in: int
    open_start: np.ndarray
    open_end: np.ndarray
    ref_start: np.ndarray


def _code(name: str, value: str, allowed: tuple[str, ...]) -> int:
    if value not in allowed:
        raise ValueError(f"{name}: {value!r} is not allowed; expected one of {list(allowed)}")
    return allowed.index(value)


def simulate(trace: BurstTrace, spec: MemSpec, cfg: ControllerConfig) -> ControllerRun:
    """Run the controller over ``trace``; raises ``UnrealisableError`` when the design cannot serve it."""
    policy = _code("PagePolicy", cfg.page_policy, PAGE_POLICIES)
    sched = _code("Scheduler", cfg.scheduler, SCHEDULERS)
    bufkind = _code("SchedulerBuffer", cfg.scheduler_buffer, BUFFERS)
    arb = _code("Arbiter", cfg.arbiter, ARBITERS)
    admission = _code("buffer_admission", cfg.buffer_admission, ADMISSIONS)
    buf_size = cfg.request_buffer_size

    # A request must fit the buffer at once, as DRAMSys admits all its bursts together (DRAMSys's
    # Bankwise counter asks one bank for room for all of them).
    kmax = trace.slots_needed(spec.banks, bufkind == _BANKWISE and admission == 0)
    if kmax > buf_size:
        raise UnrealisableError(f"a request needs {kmax} buffer slots ({spec.burst_bytes}-byte bursts) but "
                                f"RequestBufferSize is {buf_size} ({cfg.scheduler_buffer})")

    t = spec.timing
    timing = [spec.burst_cycles, t.RCD, t.RP, t.RPab, t.RAS, t.RC, t.RL, t.WL, t.RTP, t.FAW, t.RFC, t.REFI,
              t.RRD_S, t.RRD_L, t.CCD_S, t.CCD_L, t.WTR_S, t.WTR_L, t.WR]
    # a command waits at most the longest constraint after the current cycle; the scan packs that wait
    # with a burst id into one int64 key
    if (sum(timing) + 2) >> (61 - _id_bits(len(trace.bank))):
        raise ValueError(f"memspec {spec.name!r}: timing constraints of {sum(timing)} cycles in all are too "
                         f"long for a trace of {len(trace.bank)} bursts")
    config = [policy, sched, bufkind, arb, int(cfg.resp_queue == "Reorder"), int(cfg.refresh_policy == "AllBank"),
              buf_size, cfg.max_active_transactions if arb != _SIMPLE else 0,
              cfg.refresh_max_postponed, cfg.refresh_max_pulledin, admission]
    # one machine type per argument: the loop compiles once
    timing, config = (loop_input(np.array(a, dtype=np.int64)) for a in (timing, config))
    bank, row, column, is_write, parent, arrival, first, bursts = trace.loop_arrays
    n_columns = trace.n_columns

    def run(open_cap: int, ref_cap: int) -> tuple:
        return _run(bank, row, column, is_write, parent, arrival, first, bursts, spec.banks, spec.bank_groups,
                    n_columns, timing, config, open_cap, ref_cap)

    # room for two bank-open intervals per burst (+ the banks left open: with Closed pages, refreshes
    # closing rows add to one per burst) and a refresh per 4 bursts; a run that needed more (a sparse
    # trace) is repeated with room for all
    open_cap, ref_cap = 2 * len(trace.bank) + spec.banks, len(trace.bank) // 4 + 64
    out = run(open_cap, ref_cap)
    if out[10] > open_cap or out[8] > ref_cap:
        out = run(max(open_cap, out[10]), max(ref_cap, out[8]))
    (issue, resp, end, n_act, n_miss, n_pre, n_rd, n_wr, n_ref, n_pulled, _, open_s, open_e, ref_s) = out

    def ints(a: Any) -> np.ndarray:
        return np.array(a, dtype=np.int64)  # a copy: the loop's arrays are not kept

    return ControllerRun(
        issue=ints(issue), response=ints(resp), end=int(end), n_act=int(n_act), n_miss=int(n_miss),
        n_pre=int(n_pre), n_rd=int(n_rd), n_wr=int(n_wr), n_ref=int(n_ref), n_pulled_in=int(n_pulled),
        open_start=ints(open_s), open_end=ints(open_e), ref_start=ints(ref_s),
    )


# -- the event loop (compiled by numba; plain Python with NUMBA_DISABLE_JIT=1) ------------------------------
# State lives in flat numpy arrays so that numba compiles it: a bank's buffered bursts are a row of
# ``queue`` (``qlen`` long, in admission order), ``hitcnt`` counts those of them in the open row. The
# loop is one function on purpose: a compiled call that passes arrays pays atomic reference counting
# per array, which cost more than the work of a bank machine.


@jit
def _id_bits(n_bursts):
    """Bits that hold a burst id + 1 (0 is the refresh manager)."""
    bits = 1
    while (1 << bits) <= n_bursts:
        bits += 1
    return bits


@jit
def _run(bank_of, row_of, col_of, wr_of, par_of, arr, first, nburst,  # noqa: C901
         n_banks, n_groups, n_columns, timing, config, open_cap, ref_cap):
    """The event loop of the module docstring over one decoded trace (arrays of ``BurstTrace``)."""
    (t_burst, t_rcd, t_rp, t_rpab, t_ras, t_rc, t_rl, t_wl, t_rtp, t_faw, t_rfc, t_refi,
     t_rrd_s, t_rrd_l, t_ccd_s, t_ccd_l, t_wtr_s, t_wtr_l, t_wr) = (
        timing[0], timing[1], timing[2], timing[3], timing[4], timing[5], timing[6], timing[7], timing[8],
        timing[9], timing[10], timing[11], timing[12], timing[13], timing[14], timing[15], timing[16],
        timing[17], timing[18])
    policy, sched, bufkind, arb = config[0], config[1], config[2], config[3]
    ctrl_reorder, ref_on, buf_size, max_active = config[4] != 0, config[5] != 0, config[6], config[7]
    max_post, max_pull = config[8], -config[9]
    dramsys_room = config[10] != 0
    arb_reorder = arb == _ARB_REORDER
    t_rdwr = t_rl + t_burst + 2 - t_wl
    t_wrrd_s, t_wrrd_l = t_wl + t_burst + t_wtr_s, t_wl + t_burst + t_wtr_l
    t_wrpre = t_wl + t_burst + t_wr
    grouped = n_groups > 1
    per_group = n_banks // n_groups
    n_req = len(arr)
    n_bursts = len(bank_of)
    id_bits = _id_bits(n_bursts)
    id_mask = (1 << id_bits) - 1

    # -- state ------------------------------------------------------------------------------------
    qcap = 2 * buf_size  # a bank buffers at most this many bursts (ReadWrite: buf_size per direction)
    if dramsys_room and bufkind == _BANKWISE:
        # DRAMSys's counter asks only the last burst's bank: a bank that a request's other bursts land
        # on can fill past RequestBufferSize. With one burst a request it cannot: every bank is asked
        # (as the last one) at the admission after its own last burst entered.
        for p in range(n_req):
            if nburst[p] > 1:
                qcap = n_bursts
                break
    last_bank = 0  # the bank of the last burst stored (DRAMSys starts it at bank 0)
    queue = filled(n_banks * qcap, 0)  # bank b's bursts: queue[b * qcap : b * qcap + qlen[b]]
    qlen = filled(n_banks, 0)
    hitcnt = filled(n_banks, 0)
    open_row = filled(n_banks, -1)
    keep = filled(n_banks, False)
    cur = filled(n_banks, -1)
    dirty = filled(n_banks, True)
    ncmd = filled(n_banks, _ACT)
    npay = filled(n_banks, -1)
    nauto = filled(n_banks, False)
    # the banks with buffered bursts (in no particular order: npay breaks every tie), and the banks an
    # admission changed since the last scan: lists of n_active / n_touched banks, with flags
    active = filled(n_banks, 0)
    active_at = filled(n_banks, -1)  # position of a bank in ``active``, -1 when it has no bursts
    n_active = 0
    touched = filled(n_banks, 0)
    is_touched = filled(n_banks, False)
    n_touched = 0
    need = filled(n_banks, 0)
    seen = filled(n_columns, 0)  # FrFcfsGrp: seen[c] == stamp for the columns passed over
    stamp = 0
    stale = True  # a command issued since the last full scan: every candidate must be recomputed
    best_t, best_b, best_id = _INF, -1, _INF
    # per command c and bank b, the earliest cycle the bank allows it: nbt[c * n_banks + b]
    nbt = filled(4 * n_banks, 0)
    o_act, o_rd, o_wr, o_pre = _ACT * n_banks, _RD * n_banks, _WR * n_banks, _PRE * n_banks
    rsel = filled(4, 0)  # per command, the earliest cycle the rank and the buses allow it
    act_t = filled(n_banks, 0)
    nr_act = nr_rd = nr_wr = 0
    faw = filled(4, -_INF)
    fi = 0
    bus = 0
    now = 0
    last_dir = False
    nbuf = nrd_buf = nwr_buf = 0

    # refresh manager (DRAMSys all-bank flexibility counter)
    t_trigger = t_refi if ref_on else _INF
    flex = 0
    pulled = False
    blocked = False

    # admission
    admit_next = False
    adm_dirty = True
    adm_ready = _INF
    iss = acc = 0
    p = 0
    prev_endreq = 0
    prev_adm = -1
    issue = filled(n_req, 0)

    # responses
    left = nburst.copy()
    strobe = filled(n_bursts, -1)  # when each burst's data is done
    next_burst = 0
    ctrl_resp = filled(n_req, -1)
    resp = filled(n_req, 0)
    last_ctrl = -1
    last_arb = -1
    next_parent = 0
    done = filled(n_req, 0)
    ndone = 0

    n_act = n_pre = n_rd = n_wr = n_miss = n_pulled = 0
    activated = filled(n_bursts, False)  # bursts an ACT was issued for: the row misses
    open_s = filled(open_cap, 0)  # bank-open intervals and refresh starts: counted
    open_e = filled(open_cap, 0)  # always, recorded while they fit (the caller runs
    n_open = 0  # again with room for all when they did not)
    ref_s = filled(ref_cap, 0)
    n_ref = 0
    cas_done = 0

    while cas_done < n_bursts:
        # -- admission candidate (it only changes after an admission or a RD/WR) ---------------------
        if adm_dirty:
            adm_dirty = False
            adm_ready = _INF
            if p < n_req:
                iss = arr[p] if arr[p] > prev_endreq else prev_endreq
                acc = iss
                if max_active and p >= max_active:
                    j = p - max_active
                    acc = (done[j] if done[j] > iss else iss) if j < ndone else _INF
                if acc < _INF:
                    k = nburst[p]
                    x = first[p]
                    if bufkind == _SHARED:
                        room = nbuf + k <= buf_size
                    elif bufkind == _READWRITE:
                        if dramsys_room:
                            room = nrd_buf + k <= buf_size and nwr_buf + k <= buf_size
                        else:
                            room = (nwr_buf if wr_of[x] else nrd_buf) + k <= buf_size
                    elif dramsys_room:
                        room = qlen[last_bank] + k <= buf_size
                    elif k == 1:
                        room = qlen[bank_of[x]] < buf_size
                    else:
                        for y in range(x, x + k):
                            need[bank_of[y]] += 1
                        room = True
                        for y in range(x, x + k):
                            if qlen[bank_of[y]] + need[bank_of[y]] > buf_size:
                                room = False
                        for y in range(x, x + k):
                            need[bank_of[y]] = 0
                    if room:
                        adm_ready = acc + FRONTEND_CYCLES
                        if adm_ready <= prev_adm:
                            adm_ready = prev_adm + 1
        t_adm = adm_ready if adm_ready > now else now
        if adm_ready <= now or (adm_ready < _INF and admit_next):
            # admission (due now it precedes every other event of this cycle)
            admit_next = False
            now = t_adm
            adm_dirty = True
            issue[p] = iss
            prev_adm = now
            prev_endreq = now if arb == _SIMPLE else acc
            x = first[p]
            for y in range(x, x + nburst[p]):
                b = bank_of[y]
                if qlen[b] >= qcap:
                    raise RuntimeError("controller invariant broken: a bank buffer overflowed (please report "
                                       "this design)")
                queue[b * qcap + qlen[b]] = y
                qlen[b] += 1
                if row_of[y] == open_row[b]:
                    hitcnt[b] += 1
                dirty[b] = True
                if active_at[b] < 0:
                    active_at[b] = n_active
                    active[n_active] = b
                    n_active += 1
                if not is_touched[b]:
                    is_touched[b] = True
                    touched[n_touched] = b
                    n_touched += 1
                if wr_of[y]:
                    nwr_buf += 1
                else:
                    nrd_buf += 1
            nbuf += nburst[p]
            last_bank = bank_of[x + nburst[p] - 1]
            p += 1
            continue

        # -- refresh manager --------------------------------------------------------------------
        ref_cmd = 0
        if t_trigger <= now:
            if now >= t_trigger + t_refi:
                t_trigger += t_refi
                pulled = False
            if not pulled:
                go = True
                if flex == max_post:
                    blocked = True
                elif nbuf > 0:
                    go = False
                    flex += 1
                    t_trigger += t_refi
                if go:
                    ref_cmd = 2
                    for b in range(n_banks):
                        if open_row[b] >= 0:
                            ref_cmd = 1
            elif nbuf > 0:
                pulled = False
                t_trigger += t_refi
            else:
                ref_cmd = 2

        t_trig = t_trigger if t_trigger > now else _INF

        # -- best command: a full scan after a command, else only the banks an admission touched ----
        if ref_cmd or stale or best_b < 0 or is_touched[best_b]:
            best_t = _INF
            best_b = -1
            best_id = _INF
            if ref_cmd:
                tr = bus if bus > now else now
                for b in range(n_banks):
                    v = nbt[o_pre + b] if ref_cmd == 1 else nbt[o_act + b]
                    if (ref_cmd == 2 or open_row[b] >= 0) and v > tr:
                        tr = v
                best_t, best_b, best_id = tr, -2, -1
            scan = 0 if blocked else 1  # 1: the active banks
            stale = False
        else:
            scan = 2  # the banks an admission touched
        if scan:
            banks = touched if scan == 2 else active
            n_scan = n_touched if scan == 2 else n_active
            for k in range(n_scan):
                b = banks[k]
                if dirty[b]:
                    # bank machine b: its request and next command (DRAMSys BankMachine::evaluate)
                    dirty[b] = False
                    orow = open_row[b]
                    n = qlen[b]
                    qbase = b * qcap
                    x = queue[qbase]
                    if orow < 0:
                        cur[b] = x
                        ncmd[b] = _ACT
                        npay[b] = x
                    else:
                        hits = hitcnt[b]
                        if hits > 0 and sched == _FRFCFS:  # the oldest row hit
                            for i in range(n):
                                x = queue[qbase + i]
                                if row_of[x] == orow:
                                    break
                        elif hits > 0 and sched == _GRP:  # the oldest row hit in the last direction
                            x = -1  # whose column no older row hit uses, else the oldest row hit
                            fallback = -1
                            stamp += 1
                            for i in range(n):
                                y = queue[qbase + i]
                                if row_of[y] != orow:
                                    continue
                                if fallback < 0:
                                    fallback = y
                                if wr_of[y] == last_dir and seen[col_of[y]] != stamp:
                                    x = y
                                    break
                                seen[col_of[y]] = stamp
                            if x < 0:
                                x = fallback
                        if keep[b] and row_of[x] != orow:
                            x = cur[b]
                        cur[b] = x
                        npay[b] = x
                        if row_of[x] != orow:
                            ncmd[b] = _PRE
                        else:
                            ncmd[b] = _WR if wr_of[x] else _RD
                            if policy == _OPEN:
                                nauto[b] = False
                            elif policy == _CLOSED:
                                nauto[b] = True
                            else:
                                if sched == _FIFO:
                                    further_hit = n >= 2 and row_of[queue[qbase + 1]] == orow
                                else:
                                    further_hit = hits >= 2
                                if policy == _OPEN_ADAPTIVE:
                                    nauto[b] = n >= 2 and not further_hit
                                else:
                                    nauto[b] = not further_hit
            base = bus if bus > now else now
            v = faw[fi] + t_faw
            v = nr_act if nr_act > v else v
            rsel[_ACT] = v if v > base else base
            rsel[_RD] = nr_rd if nr_rd > base else base
            rsel[_WR] = nr_wr if nr_wr > base else base
            rsel[_PRE] = base
            # the command that can issue first, the oldest request on a tie, in one pass: a key packs
            # (cycles after now, request id + 1; the refresh manager is 0, the oldest) into one integer
            mk = ((best_t - now) << id_bits) | (best_id + 1) if best_t < _INF else _INF
            for k in range(n_scan):
                b = banks[k]
                c = ncmd[b]
                tb = nbt[c * n_banks + b]
                r = rsel[c]
                tb = tb if tb > r else r
                key = ((tb - now) << id_bits) | (npay[b] + 1)
                mk = key if key < mk else mk
            if mk < 0:  # every candidate is at or after now; a negative key would pick the wrong command
                raise RuntimeError("controller invariant broken: a command before the current cycle "
                                   "(please report this design)")
            if mk < _INF:
                best_t = now + (mk >> id_bits)
                best_id = (mk & id_mask) - 1
                best_b = -2 if best_id < 0 else bank_of[best_id]
        for k in range(n_touched):
            is_touched[touched[k]] = False
        n_touched = 0

        # -- pick the earliest event ------------------------------------------------------------------
        if adm_ready < _INF and t_adm <= best_t and t_adm <= t_trig:
            admit_next = True  # the next pass admits at t_adm
            continue
        if t_trig < _INF and t_trig <= best_t:
            now = t_trig
            stale = True
            continue
        if best_t == _INF:
            raise RuntimeError("controller deadlock: no event can happen (please report this design)")

        now = best_t
        bus = now + 1
        stale = True
        if best_b == -2:  # refresh manager: precharge-all or refresh
            if ref_cmd == 1:
                for b in range(n_banks):
                    if open_row[b] >= 0:
                        if n_open < open_cap:
                            open_s[n_open] = act_t[b]
                            open_e[n_open] = now
                        n_open += 1
                        n_pre += 1
                        open_row[b] = -1
                        hitcnt[b] = 0
                        keep[b] = False
                        if nbt[o_act + b] < now + t_rpab:
                            nbt[o_act + b] = now + t_rpab
            else:
                if n_ref < ref_cap:
                    ref_s[n_ref] = now
                n_ref += 1
                blocked = False
                for b in range(n_banks):
                    if nbt[o_act + b] < now + t_rfc:
                        nbt[o_act + b] = now + t_rfc
                if pulled:
                    n_pulled += 1
                    flex -= 1
                else:
                    pulled = True
                if flex == max_pull:
                    pulled = False
                    t_trigger += t_refi
            for b in range(n_banks):
                dirty[b] = True
            continue

        b = best_b
        c = ncmd[b]
        x = npay[b]
        dirty[b] = True
        if c == _ACT:
            n_act += 1
            if not activated[x]:
                activated[x] = True
                n_miss += 1
            orow = row_of[x]
            open_row[b] = orow
            if sched != _FIFO:  # (Fifo never looks at the count)
                h = 0
                qbase = b * qcap
                for i in range(qlen[b]):
                    if row_of[queue[qbase + i]] == orow:
                        h += 1
                hitcnt[b] = h
            keep[b] = True
            act_t[b] = now
            v = now + t_rcd
            if nbt[o_rd + b] < v:
                nbt[o_rd + b] = v
            if nbt[o_wr + b] < v:
                nbt[o_wr + b] = v
            if nbt[o_pre + b] < now + t_ras:
                nbt[o_pre + b] = now + t_ras
            if nbt[o_act + b] < now + t_rc:
                nbt[o_act + b] = now + t_rc
            nr_act = now + t_rrd_s
            if grouped:
                v = now + t_rrd_l
                g0 = b // per_group * per_group
                for o in range(g0, g0 + per_group):
                    if nbt[o_act + o] < v:
                        nbt[o_act + o] = v
            faw[fi] = now
            fi = (fi + 1) & 3
            continue
        if c == _PRE:
            n_pre += 1
            if n_open < open_cap:
                open_s[n_open] = act_t[b]
                open_e[n_open] = now
            n_open += 1
            open_row[b] = -1
            hitcnt[b] = 0
            keep[b] = False
            if nbt[o_act + b] < now + t_rp:
                nbt[o_act + b] = now + t_rp
            continue

        # RD or WR: the burst leaves the buffer
        n = qlen[b]
        qbase = b * qcap
        i = 0
        while queue[qbase + i] != x:
            i += 1
        for j in range(i, n - 1):
            queue[qbase + j] = queue[qbase + j + 1]
        qlen[b] = n - 1
        if n == 1:  # the bank has no bursts left: swap the last active bank into its place
            k = active_at[b]
            n_active -= 1
            o = active[n_active]
            active[k] = o
            active_at[o] = k
            active_at[b] = -1
        if row_of[x] == open_row[b]:
            hitcnt[b] -= 1
        nbuf -= 1
        keep[b] = False
        cas_done += 1
        adm_dirty = True
        if c == _RD:
            n_rd += 1
            nrd_buf -= 1
            v = now + t_rtp
            if nbt[o_pre + b] < v:
                nbt[o_pre + b] = v
            if nr_rd < now + t_ccd_s:
                nr_rd = now + t_ccd_s
            if nr_wr < now + t_rdwr:
                nr_wr = now + t_rdwr
            if grouped:
                v = now + t_ccd_l
                g0 = b // per_group * per_group
                for o in range(g0, g0 + per_group):
                    if nbt[o_rd + o] < v:
                        nbt[o_rd + o] = v
            s = now + t_rl + t_burst
        else:
            n_wr += 1
            nwr_buf -= 1
            v = now + t_wrpre
            if nbt[o_pre + b] < v:
                nbt[o_pre + b] = v
            if nr_wr < now + t_ccd_s:
                nr_wr = now + t_ccd_s
            if nr_rd < now + t_wrrd_s:
                nr_rd = now + t_wrrd_s
            if grouped:
                v = now + t_ccd_l
                v2 = now + t_wrrd_l
                g0 = b // per_group * per_group
                for o in range(g0, g0 + per_group):
                    if nbt[o_wr + o] < v:
                        nbt[o_wr + o] = v
                    if nbt[o_rd + o] < v2:
                        nbt[o_rd + o] = v2
            s = now + t_wl + t_burst
        if sched == _GRP:
            last_dir = wr_of[x]
            for k in range(n_active):
                dirty[active[k]] = True
        if nauto[b]:  # auto-precharge once the precharge constraints allow
            tp = nbt[o_pre + b]
            n_pre += 1
            if n_open < open_cap:
                open_s[n_open] = act_t[b]
                open_e[n_open] = tp
            n_open += 1
            open_row[b] = -1
            hitcnt[b] = 0
            if nbt[o_act + b] < tp + t_rp:
                nbt[o_act + b] = tp + t_rp

        # response path: the burst's data is done at s; in RespQueue Fifo order it leaves next, in
        # Reorder order it waits for the bursts before it. A request's response leaves with its last
        # burst, to the initiator at once or (Reorder arbiter) once the requests before it have left.
        strobe[x] = s
        y = next_burst if ctrl_reorder else x
        while y < n_bursts and strobe[y] >= 0:
            r = strobe[y] if strobe[y] > last_ctrl else last_ctrl + 1
            last_ctrl = r
            par = par_of[y]
            left[par] -= 1
            if left[par] == 0:
                if not arb_reorder:
                    resp[par] = r
                    done[ndone] = r
                    ndone += 1
                else:
                    ctrl_resp[par] = r
                    while next_parent < n_req and ctrl_resp[next_parent] >= 0:
                        r2 = ctrl_resp[next_parent]
                        if r2 <= last_arb:
                            r2 = last_arb + 1
                        last_arb = r2
                        resp[next_parent] = r2
                        done[ndone] = r2
                        ndone += 1
                        next_parent += 1
            if not ctrl_reorder:
                break
            next_burst += 1
            y = next_burst

    end = 0
    for r in resp:
        if r > end:
            end = r
    for b in range(n_banks):
        if open_row[b] >= 0:
            if n_open < open_cap:
                open_s[n_open] = act_t[b]
                open_e[n_open] = end
            n_open += 1
    return (issue, resp, end, n_act, n_miss, n_pre, n_rd, n_wr, n_ref, n_pulled, n_open,
            open_s[:n_open], open_e[:n_open], ref_s[:n_ref])
