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
   frees when the burst's RD/WR command issues.
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

from dataclasses import dataclass

import numpy as np

from simulators.dram.specs import MemSpec

__all__ = ["FRONTEND_CYCLES", "ArbiterKind", "BufferKind", "BurstTrace", "ControllerConfig", "ControllerRun",
           "PagePolicy", "SchedulerKind", "UnrealisableError", "simulate"]

#: cycles between the arbiter accepting a request and the controller seeing it (one think delay)
FRONTEND_CYCLES = 1

PAGE_POLICIES = ("Open", "OpenAdaptive", "Closed", "ClosedAdaptive")
SCHEDULERS = ("Fifo", "FrFcfs", "FrFcfsGrp")
BUFFERS = ("Bankwise", "ReadWrite", "Shared")
ARBITERS = ("Simple", "Fifo", "Reorder")

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


class UnrealisableError(Exception):
    """The design cannot serve the trace (e.g. a request needs more buffer slots than exist)."""


@dataclass(frozen=True)
class ControllerConfig:
    """The ten controller knobs (DRAMSys/ArchGym names and values)."""

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


def simulate(trace: BurstTrace, spec: MemSpec, cfg: ControllerConfig) -> ControllerRun:  # noqa: C901
    """Run the controller over ``trace``; raises ``UnrealisableError`` when the design cannot serve it."""
    policy = _code("PagePolicy", cfg.page_policy, PAGE_POLICIES)
    sched = _code("Scheduler", cfg.scheduler, SCHEDULERS)
    bufkind = _code("SchedulerBuffer", cfg.scheduler_buffer, BUFFERS)
    arb = _code("Arbiter", cfg.arbiter, ARBITERS)
    ctrl_reorder = cfg.resp_queue == "Reorder"
    arb_reorder = arb == _ARB_REORDER
    ref_on = cfg.refresh_policy == "AllBank"
    buf_size = cfg.request_buffer_size
    max_active = cfg.max_active_transactions if arb != _SIMPLE else 0
    max_post, max_pull = cfg.refresh_max_postponed, -cfg.refresh_max_pulledin

    t = spec.timing
    n_banks, n_groups = spec.banks, spec.bank_groups
    t_burst = spec.burst_cycles
    t_rcd, t_rp, t_rpab, t_ras, t_rc, t_rl, t_wl = t.RCD, t.RP, t.RPab, t.RAS, t.RC, t.RL, t.WL
    t_rtp, t_faw, t_rfc, t_refi = t.RTP, t.FAW, t.RFC, t.REFI
    t_rrd_s, t_rrd_l, t_ccd_s, t_ccd_l = t.RRD_S, t.RRD_L, t.CCD_S, t.CCD_L
    t_rdwr = t_rl + t_burst + 2 - t_wl
    t_wrrd_s, t_wrrd_l = t_wl + t_burst + t.WTR_S, t_wl + t_burst + t.WTR_L
    t_wrpre = t_wl + t_burst + t.WR
    grouped = n_groups > 1
    per_group = n_banks // n_groups
    same_group = [[g * per_group + i for i in range(per_group)] for g in range(n_groups)]
    group_of = [b // per_group for b in range(n_banks)]

    bank_of = trace.bank.tolist()
    row_of = trace.row.tolist()
    col_of = trace.column.tolist()
    wr_of = trace.is_write.tolist()
    par_of = trace.parent.tolist()
    arr = trace.arrival.tolist()
    first = trace.first.tolist()
    nburst = trace.bursts.tolist()
    n_req = len(arr)
    n_bursts = len(bank_of)

    # A request must fit the buffer at once, as DRAMSys admits all its bursts together.
    kmax = max(nburst)
    if bufkind == _BANKWISE and kmax > 1:
        keys = trace.parent.astype(np.int64) * n_banks + trace.bank
        per_bank = np.unique(keys, return_counts=True)[1]
        kmax = int(per_bank.max())
    if kmax > buf_size:
        raise UnrealisableError(f"a request needs {kmax} buffer slots ({spec.burst_bytes}-byte bursts) but "
                                f"RequestBufferSize is {buf_size} ({cfg.scheduler_buffer})")

    # -- state ------------------------------------------------------------------------------------
    queues: list[list[int]] = [[] for _ in range(n_banks)]
    rowcnt: list[dict[int, int]] = [{} for _ in range(n_banks)]
    open_row = [-1] * n_banks
    keep = [False] * n_banks
    cur = [-1] * n_banks
    dirty = [True] * n_banks
    ncmd = [_ACT] * n_banks
    npay = [-1] * n_banks
    nauto = [False] * n_banks
    active: set[int] = set()
    touched: set[int] = set()  # banks an admission changed since the last scan
    stale = True  # a command issued since the last full scan: every candidate must be recomputed
    best_t, best_b, best_id = _INF, -1, _INF
    nb_act = [0] * n_banks
    nb_pre = [0] * n_banks
    nb_rd = [0] * n_banks
    nb_wr = [0] * n_banks
    act_t = [0] * n_banks
    nbt = (nb_act, nb_rd, nb_wr, nb_pre)
    nr_act = nr_rd = nr_wr = 0
    faw = [-_INF] * 4
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
    issue = [0] * n_req

    # responses
    left = list(nburst)
    strobe = [-1] * n_bursts if ctrl_reorder else None
    next_burst = 0
    ctrl_resp = [-1] * n_req
    resp = [0] * n_req
    last_ctrl = -1
    last_arb = -1
    next_parent = 0
    done: list[int] = []

    n_act = n_pre = n_rd = n_wr = n_miss = n_pulled = 0
    activated = bytearray(n_bursts)  # bursts an ACT was issued for: the row misses
    open_s: list[int] = []
    open_e: list[int] = []
    ref_s: list[int] = []
    cas_done = 0

    def choose(b: int) -> None:
        """Bank machine ``b``: its request and next command (DRAMSys BankMachine::evaluate)."""
        q = queues[b]
        orow = open_row[b]
        dirty[b] = False
        if orow < 0:
            x = q[0]
            cur[b] = x
            ncmd[b] = _ACT
            npay[b] = x
            return
        hits = rowcnt[b].get(orow, 0)
        if sched == _FIFO or hits == 0:
            x = q[0]
        elif sched == _FRFCFS:
            for x in q:
                if row_of[x] == orow:
                    break
        else:
            x = -1
            seen: set[int] = set()
            fallback = -1
            for y in q:
                if row_of[y] != orow:
                    continue
                if fallback < 0:
                    fallback = y
                if wr_of[y] == last_dir and col_of[y] not in seen:
                    x = y
                    break
                seen.add(col_of[y])
            if x < 0:
                x = fallback
        if keep[b] and row_of[x] != orow:
            x = cur[b]
        cur[b] = x
        npay[b] = x
        if row_of[x] != orow:
            ncmd[b] = _PRE
            return
        ncmd[b] = _WR if wr_of[x] else _RD
        if policy == _OPEN:
            nauto[b] = False
        elif policy == _CLOSED:
            nauto[b] = True
        else:
            if sched == _FIFO:
                further_hit = len(q) >= 2 and row_of[q[1]] == orow
            else:
                further_hit = hits >= 2
            if policy == _OPEN_ADAPTIVE:
                nauto[b] = len(q) >= 2 and not further_hit
            else:
                nauto[b] = not further_hit

    def emit(par: int, r: int) -> None:
        """Arbiter stage: the response of request ``par`` left the controller at ``r``."""
        nonlocal last_arb, next_parent
        if not arb_reorder:
            resp[par] = r
            done.append(r)
            return
        ctrl_resp[par] = r
        while next_parent < n_req and ctrl_resp[next_parent] >= 0:
            r2 = ctrl_resp[next_parent]
            if r2 <= last_arb:
                r2 = last_arb + 1
            last_arb = r2
            resp[next_parent] = r2
            done.append(r2)
            next_parent += 1

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
                    acc = (done[j] if done[j] > iss else iss) if j < len(done) else _INF
                if acc < _INF:
                    k = nburst[p]
                    x = first[p]
                    if bufkind == _SHARED:
                        room = nbuf + k <= buf_size
                    elif bufkind == _READWRITE:
                        room = (nwr_buf if wr_of[x] else nrd_buf) + k <= buf_size
                    elif k == 1:
                        room = len(queues[bank_of[x]]) < buf_size
                    else:
                        need: dict[int, int] = {}
                        for y in range(x, x + k):
                            need[bank_of[y]] = need.get(bank_of[y], 0) + 1
                        room = all(len(queues[b]) + c <= buf_size for b, c in need.items())
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
                queues[b].append(y)
                rc = rowcnt[b]
                rc[row_of[y]] = rc.get(row_of[y], 0) + 1
                dirty[b] = True
                active.add(b)
                touched.add(b)
                if wr_of[y]:
                    nwr_buf += 1
                else:
                    nrd_buf += 1
            nbuf += nburst[p]
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
                    ref_cmd = 1 if any(r >= 0 for r in open_row) else 2
            elif nbuf > 0:
                pulled = False
                t_trigger += t_refi
            else:
                ref_cmd = 2

        t_trig = t_trigger if t_trigger > now else _INF

        # -- best command: a full scan after a command, else only the banks an admission touched ----
        if ref_cmd or stale or best_b < 0 or best_b in touched:
            best_t = _INF
            best_b = -1
            best_id = _INF
            if ref_cmd:
                base = bus if bus > now else now
                if ref_cmd == 1:
                    tr = max(max(nb_pre[b] for b in range(n_banks) if open_row[b] >= 0), base)
                else:
                    tr = max(max(nb_act), base)
                best_t, best_b, best_id = tr, -2, -1
            scan = active if not blocked else ()
            stale = False
        else:
            scan = touched
        if scan:
            base = bus if bus > now else now
            ra = max(base, nr_act, faw[fi] + t_faw)
            rsel = (ra, nr_rd if nr_rd > base else base, nr_wr if nr_wr > base else base, base)
            for b in scan:
                if dirty[b]:
                    choose(b)
                c = ncmd[b]
                tb = nbt[c][b]
                r = rsel[c]
                if tb < r:
                    tb = r
                if tb < best_t or (tb == best_t and npay[b] < best_id):
                    best_t, best_b, best_id = tb, b, npay[b]
        touched.clear()

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
                        open_s.append(act_t[b])
                        open_e.append(now)
                        n_pre += 1
                        open_row[b] = -1
                        keep[b] = False
                        if nb_act[b] < now + t_rpab:
                            nb_act[b] = now + t_rpab
            else:
                ref_s.append(now)
                blocked = False
                for b in range(n_banks):
                    if nb_act[b] < now + t_rfc:
                        nb_act[b] = now + t_rfc
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
                activated[x] = 1
                n_miss += 1
            open_row[b] = row_of[x]
            keep[b] = True
            act_t[b] = now
            v = now + t_rcd
            if nb_rd[b] < v:
                nb_rd[b] = v
            if nb_wr[b] < v:
                nb_wr[b] = v
            if nb_pre[b] < now + t_ras:
                nb_pre[b] = now + t_ras
            if nb_act[b] < now + t_rc:
                nb_act[b] = now + t_rc
            nr_act = now + t_rrd_s
            if grouped:
                v = now + t_rrd_l
                for o in same_group[group_of[b]]:
                    if nb_act[o] < v:
                        nb_act[o] = v
            faw[fi] = now
            fi = (fi + 1) & 3
            continue
        if c == _PRE:
            n_pre += 1
            open_s.append(act_t[b])
            open_e.append(now)
            open_row[b] = -1
            keep[b] = False
            if nb_act[b] < now + t_rp:
                nb_act[b] = now + t_rp
            continue

        # RD or WR: the burst leaves the buffer
        q = queues[b]
        if q[0] == x:
            del q[0]
        else:
            q.remove(x)
        rc = rowcnt[b]
        rv = row_of[x]
        if rc[rv] == 1:
            del rc[rv]
        else:
            rc[rv] -= 1
        if not q:
            active.discard(b)
        nbuf -= 1
        keep[b] = False
        cas_done += 1
        adm_dirty = True
        if c == _RD:
            n_rd += 1
            nrd_buf -= 1
            v = now + t_rtp
            if nb_pre[b] < v:
                nb_pre[b] = v
            if nr_rd < now + t_ccd_s:
                nr_rd = now + t_ccd_s
            if nr_wr < now + t_rdwr:
                nr_wr = now + t_rdwr
            if grouped:
                v = now + t_ccd_l
                for o in same_group[group_of[b]]:
                    if nb_rd[o] < v:
                        nb_rd[o] = v
            s = now + t_rl + t_burst
        else:
            n_wr += 1
            nwr_buf -= 1
            v = now + t_wrpre
            if nb_pre[b] < v:
                nb_pre[b] = v
            if nr_wr < now + t_ccd_s:
                nr_wr = now + t_ccd_s
            if nr_rd < now + t_wrrd_s:
                nr_rd = now + t_wrrd_s
            if grouped:
                v = now + t_ccd_l
                v2 = now + t_wrrd_l
                for o in same_group[group_of[b]]:
                    if nb_wr[o] < v:
                        nb_wr[o] = v
                    if nb_rd[o] < v2:
                        nb_rd[o] = v2
            s = now + t_wl + t_burst
        if sched == _GRP:
            last_dir = wr_of[x]
            for o in active:
                dirty[o] = True
        if nauto[b]:  # auto-precharge once the precharge constraints allow
            tp = nb_pre[b]
            n_pre += 1
            open_s.append(act_t[b])
            open_e.append(tp)
            open_row[b] = -1
            if nb_act[b] < tp + t_rp:
                nb_act[b] = tp + t_rp

        # response path
        if not ctrl_reorder:
            r = s if s > last_ctrl else last_ctrl + 1
            last_ctrl = r
            par = par_of[x]
            left[par] -= 1
            if left[par] == 0:
                emit(par, r)
        else:
            strobe[x] = s
            while next_burst < n_bursts and strobe[next_burst] >= 0:
                s2 = strobe[next_burst]
                r = s2 if s2 > last_ctrl else last_ctrl + 1
                last_ctrl = r
                par = par_of[next_burst]
                left[par] -= 1
                if left[par] == 0:
                    emit(par, r)
                next_burst += 1

    end = max(resp)
    for b in range(n_banks):
        if open_row[b] >= 0:
            open_s.append(act_t[b])
            open_e.append(end)
    return ControllerRun(
        issue=np.array(issue, dtype=np.int64), response=np.array(resp, dtype=np.int64), end=end,
        n_act=n_act, n_miss=n_miss, n_pre=n_pre, n_rd=n_rd, n_wr=n_wr, n_ref=len(ref_s), n_pulled_in=n_pulled,
        open_start=np.array(open_s, dtype=np.int64), open_end=np.array(open_e, dtype=np.int64),
        ref_start=np.array(ref_s, dtype=np.int64),
    )
