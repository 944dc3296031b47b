"""Memory specs, traces and per-command energies of the DRAM simulator.

Reference figures: timings and currents are the DRAMSys memspecs as tabulated in the project's
research notes (MICRON_1Gb_DDR3-1600_8bit_G, JEDEC_4Gb_DDR4-2400_8bit_A, JEDEC_8Gb_LPDDR4-3200_16bit);
per-command DDR3 energies are the notes' hand evaluation of DRAMPower's equations (ACT 1312.5 pJ,
PRE 468.8 pJ, RD 712.5 pJ, WR 750 pJ, REF 20.6 nJ, active standby 67.5 mW per device).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.dram import (
    DRAMSimulator,
    Trace,
    bind_trace,
    command_energy,
    load_memspec,
    load_trace,
    parse_memspec,
    save_stl,
    synthetic_trace,
)
from simulators.dram.specs import BUNDLED_SPECS


def _spec_dict(name: str = "ddr3_1600") -> dict:
    from importlib import resources
    return yaml.safe_load(resources.files("simulators.dram").joinpath("data").joinpath(BUNDLED_SPECS[name])
                          .read_text())


# -- specs ----------------------------------------------------------------------------------------------
def test_ddr3_spec_matches_the_micron_part_archgym_used():
    s = load_memspec("ddr3_1600")
    t = s.timing
    assert (s.tck_ns, s.banks, s.rows, s.columns, s.burst_length, s.devices, s.width) == (1.25, 8, 16384, 1024, 8, 8, 8)
    assert (t.RCD, t.RP, t.RAS, t.RC, t.RL, t.WL, t.CCD_S, t.RRD_S, t.FAW) == (10, 10, 28, 38, 10, 8, 4, 5, 24)
    assert (t.WR, t.WTR_S, t.RTP, t.REFI, t.RFC, t.RPab) == (12, 6, 6, 6240, 88, 10)
    assert s.capacity_bytes == 1 << 30  # 8 x 1 Gb
    assert s.peak_bandwidth == pytest.approx(12.8e9)
    # rbc mapping: byte 0-2, column 3-12, bank 13-15, row 16-29
    assert s.mapping.column == tuple(range(3, 13)) and s.mapping.bank == (13, 14, 15)
    assert s.mapping.row == tuple(range(16, 30))


def test_ddr4_and_lpddr4_specs():
    d4 = load_memspec("ddr4_2400")
    assert (d4.banks, d4.bank_groups, d4.timing.CCD_S, d4.timing.CCD_L, d4.timing.RRD_L, d4.timing.RFC) == \
        (16, 4, 4, 6, 6, 312)
    assert d4.capacity_bytes == 4 << 30 and d4.peak_bandwidth == pytest.approx(19.2e9, rel=1e-3)
    lp = load_memspec("lpddr4_3200")
    assert (lp.timing.RL, lp.timing.WL, lp.timing.RPab, lp.timing.RC, lp.timing.REFI, lp.timing.RFC) == \
        (28, 14, 34, 97, 6246, 448)
    assert lp.burst_bytes == 32 and lp.capacity_bytes == 1 << 30
    assert [r.name for r in lp.rails] == ["vdd1", "vdd2"]


def test_refresh_overheads_match_the_notes():
    # tRFC / tREFI: DDR3 1Gb 1.4 %, DDR4 4Gb 3.3 %, LPDDR4 8Gb all-bank 7.2 %
    for name, share in (("ddr3_1600", 0.0141), ("ddr4_2400", 0.0333), ("lpddr4_3200", 0.0717)):
        t = load_memspec(name).timing
        assert pytest.approx(share, abs=5e-4) == t.RFC / t.REFI


def test_user_spec_round_trips_through_yaml_and_json(tmp_path):
    data = _spec_dict("ddr4_2400")
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "s.json").write_text(json.dumps(data))
    assert load_memspec(tmp_path / "s.yaml") == load_memspec("ddr4_2400")
    assert load_memspec(str(tmp_path / "s.json")) == load_memspec("ddr4_2400")


@pytest.mark.parametrize(("edit", "match"), [
    (lambda d: d["timing"].pop("RCD"), r"timing\.RCD: missing"),
    (lambda d: d["timing"].update(RC=30), r"timing\.RC: must be >= RAS \+ RP"),
    (lambda d: d["timing"].update(CCD=2), r"timing\.CCD_S: must be >= the burst's bus time"),
    (lambda d: d["timing"].update(CCD_S=4, CCD_L=6), r"timing\.CCD: give either CCD or both"),
    (lambda d: d["timing"].update(RFC=-1), r"timing\.RFC: must be an integer >= 1"),
    (lambda d: d["architecture"].update(banks=6), r"architecture\.banks: must be a power of two"),
    (lambda d: d["power"]["vdd"].update(idd0=10.0), r"power\.vdd\.idd0: must be >= idd3n"),
    (lambda d: d["power"]["vdd"].pop("idd5"), r"power\.vdd: missing field\(s\) \['idd5'\]"),
    (lambda d: d["mapping"].update(bank=[13, 14]), r"mapping\.bank: needs 3 bits"),
    (lambda d: d["mapping"].update(bank=[12, 14, 15]), r"mapping\.bank: bit 12 is already used by column"),
    (lambda d: d.update(speed=3), r"unknown field\(s\) \['speed'\]"),
    (lambda d: d["power"].update(vdd=-5), r"power\.vdd: expected a mapping, got int"),
    (lambda d: d.update(timing=[1]), r"timing: expected a mapping, got list"),
])
def test_bad_specs_name_the_field(edit, match):
    data = _spec_dict()
    edit(data)
    with pytest.raises(ValueError, match=match):
        parse_memspec(data)


def test_unknown_memspec_names_the_choices(tmp_path):
    with pytest.raises(ValueError, match="ddr3_1600"):
        load_memspec("ddr5")
    with pytest.raises(ValueError, match="does not exist"):
        load_memspec(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("name: [unclosed")
    with pytest.raises(ValueError, match="cannot parse"):
        load_memspec(tmp_path / "bad.yaml")


# -- DRAMPower per-command energies -------------------------------------------------------------------
def test_ddr3_command_energies_match_drampower_by_hand():
    e = command_energy(load_memspec("ddr3_1600"))
    per_device = 8
    assert e.act / per_device == pytest.approx(1312.5e-12)   # 1.5 V x 25 mA x 28 x 1.25 ns
    assert e.pre / per_device == pytest.approx(468.75e-12)   # 1.5 V x 25 mA x 10 x 1.25 ns
    assert e.rd / per_device == pytest.approx(712.5e-12)     # 1.5 V x 95 mA x 4 x 1.25 ns
    assert e.wr / per_device == pytest.approx(750e-12)       # 1.5 V x 100 mA x 4 x 1.25 ns
    assert e.ref / per_device == pytest.approx(20.625e-9)    # 1.5 V x 125 mA x 88 x 1.25 ns
    assert e.active_standby / per_device == pytest.approx(67.5e-3)
    assert e.precharged_standby / per_device == pytest.approx(67.5e-3)


def test_two_rail_energies_add_up():
    lp = load_memspec("lpddr4_3200")
    e = command_energy(lp)
    tck = 0.625e-9
    act = (1.8 * (3.5 - 2.25) + 1.1 * (45 - 30)) * 1e-3 * 68 * tck
    rd = (1.8 * 0 + 1.1 * (275 - 30)) * 1e-3 * 8 * tck
    assert e.act == pytest.approx(act) and e.rd == pytest.approx(rd)
    d4 = command_energy(load_memspec("ddr4_2400"))
    assert d4.act / 8 == pytest.approx((1.2 * (60.75 - 44) + 2.5 * 4.05) * 1e-3 * 39 * 0.833e-9)


# -- traces ---------------------------------------------------------------------------------------------
def test_synthetic_traces_shape_and_determinism():
    s = synthetic_trace("stream", requests=1000)
    assert np.array_equal(s.address, np.arange(1000) * 64) and np.array_equal(s.cycle, np.arange(1000))
    assert not s.is_write.any()
    r1 = synthetic_trace("random", seed=3, write_fraction=0.25)
    r2 = synthetic_trace("random", seed=3, write_fraction=0.25)
    assert np.array_equal(r1.address, r2.address) and np.array_equal(r1.is_write, r2.is_write)
    assert abs(r1.is_write.mean() - 0.25) < 0.02
    assert r1.address.max() < 1 << 30 and (r1.address % 64 == 0).all()
    assert not np.array_equal(r1.address, synthetic_trace("random", seed=4).address)


@pytest.mark.parametrize("name", ["cloud-1", "cloud-2"])
def test_cloud_traces_alternate_sequential_and_random_phases(name):
    t = synthetic_trace(name)
    step = np.diff(t.address // 64)
    sequential = np.concatenate(([name == "cloud-1"], step == 1))
    assert sequential[0] == (name == "cloud-1")
    # sequential phases resume the pointer where the previous one stopped (ArchGym's cloud-1.stl shape)
    seq_lines = (t.address // 64)[sequential]
    assert seq_lines[0] <= 1 and (np.diff(seq_lines) == 1).mean() > 0.99  # a phase's first line is unmarked
    assert 0.3 < sequential.mean() < 0.85


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.booleans(), st.integers(0, (1 << 24) - 1)), min_size=1,
                max_size=20))
def test_stl_and_csv_round_trip(tmp_path_factory, rows):
    rows = sorted(rows, key=lambda r: r[0])  # a trace is in time order (an unordered one is refused)
    d = tmp_path_factory.mktemp("t")
    stl = "\n".join(f"{c}:\t{'write' if w else 'read'}\t0x{a * 64:X}" for c, w, a in rows)
    csv = "cycle,command,address\n" + "\n".join(f"{c},{'w' if w else 'read'},{a * 64}" for c, w, a in rows)
    (d / "t.stl").write_text("# comment\n\n" + stl + "\n")
    (d / "t.csv").write_text(csv + "\n")
    for path in (d / "t.stl", d / "t.csv"):
        t = load_trace(path)
        assert t.cycle.tolist() == [c for c, _, _ in rows]
        assert t.is_write.tolist() == [w for _, w, _ in rows]
        assert t.address.tolist() == [a * 64 for _, _, a in rows]


@pytest.mark.parametrize("name", ["cloud-2", "random"])
def test_save_stl_round_trips(tmp_path, name):
    t = synthetic_trace(name, requests=300, write_fraction=0.3, seed=1)
    t = Trace(t.name, t.cycle, t.is_write, t.address, np.where(np.arange(300) % 7 == 0, 128, t.length))
    back = load_trace(save_stl(t, tmp_path / "t.stl"))
    for field in ("cycle", "is_write", "address", "length"):
        assert getattr(back, field).tolist() == getattr(t, field).tolist()
    first = "write" if t.is_write[0] else "read"
    assert (tmp_path / "t.stl").read_text().splitlines()[0] == f"0:\t({t.length[0]})\t{first}\t{t.address[0]:#x}"
    with pytest.raises(ValueError, match="writes .stl files"):
        save_stl(t, tmp_path / "t.csv")


def test_stl_optional_length_and_data(tmp_path):
    (tmp_path / "t.stl").write_text("5: (32) write 0x40 0x0011\n6:\tread\t0x80\n")
    t = load_trace(tmp_path / "t.stl")
    assert t.length.tolist() == [32, 64] and t.line.tolist() == [1, 2]


@pytest.mark.parametrize(("text", "suffix", "match"), [
    ("0: read 0x0\n1: fetch 0x40\n", ".stl", "line 2: command must be read or write"),
    ("0: read 0x0\n\nx1: read 0x40\n", ".stl", "line 3: timestamp must be"),
    ("0: read 0xZZ\n", ".stl", "line 1: address must be hexadecimal"),
    ("0: read\n", ".stl", "line 1: expected"),
    ("cycle,command,address\n0,read,64\n1,read\n", ".csv", "line 3: expected 3 fields"),
    ("0,read,64\n-1,write,0\n", ".csv", "line 2: cycle must be"),
    ("# only comments\n", ".csv", "has no requests"),
])
def test_bad_trace_lines_name_the_line(tmp_path, text, suffix, match):
    path = tmp_path / f"t{suffix}"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        load_trace(path)


def test_trace_addresses_are_checked_against_the_memspec(tmp_path):
    (tmp_path / "t.csv").write_text("0,read,0\n1,read,0x40000000\n")
    with pytest.raises(ValueError, match=r"line 2: address 0x40000000 is outside the 1073741824 bytes"):
        DRAMSimulator(tmp_path / "t.csv")
    (tmp_path / "u.csv").write_text("0,read,0x44\n")
    with pytest.raises(ValueError, match="line 1: address 0x44 is not aligned"):
        DRAMSimulator(str(tmp_path / "u.csv"))
    with pytest.raises(ValueError, match="unknown format"):
        load_trace(tmp_path / "t.txt")


@pytest.mark.parametrize("cycle", [2**52, 2**62])
def test_offer_times_beyond_what_a_run_counts_are_refused(tmp_path, cycle):
    """A trace cycle past 2^52 controller cycles (or a tiny initiator clock, now refused as below 1 MHz)
    used to be cast to int64 as garbage arrival times: a run that 'worked' or one that never ended."""
    (tmp_path / "t.csv").write_text(f"0,read,0\n{cycle},read,0x40\n")
    with pytest.raises(ValueError, match=r"line 2: initiator cycle \d+ at initiator_mhz=800 is controller cycle"):
        DRAMSimulator(tmp_path / "t.csv")
    with pytest.raises(ValueError, match=r"initiator_mhz must be a number in \[1, 100000\]"):
        DRAMSimulator(initiator_mhz=1e-300)


def test_rbc_decoding_of_ddr3():
    spec = load_memspec("ddr3_1600")
    t = synthetic_trace("stream", requests=3 * 128 * 8)
    b = bind_trace(t, spec, 800.0)
    # 128 lines of 64 bytes fill one 8 KB row of a bank, then the next bank; eight banks, then next row
    assert b.bank.tolist()[:129:128] == [0, 1] and b.row[128 * 8] == 1 and b.column[1] == 8
    lp = bind_trace(synthetic_trace("stream", requests=4), load_memspec("lpddr4_3200"), 800.0)
    assert lp.parent.tolist() == [0, 0, 1, 1, 2, 2, 3, 3] and lp.column.tolist()[:3] == [0, 16, 32]
    # DDR4-2400 controller cycles per 800 MHz initiator cycle: 1.25 / 0.833
    d4 = bind_trace(synthetic_trace("stream", requests=4), load_memspec("ddr4_2400"), 800.0)
    assert d4.arrival.tolist() == [0, 2, 4, 5] and d4.bank.tolist() == [0, 4, 8, 12]


def test_ddr3_command_energies_match_energydram():
    ref = json.loads((Path(__file__).parent / "data" / "energydram_ddr3_1600.json").read_text())
    e = command_energy(load_memspec("ddr3_1600"))
    assert e.act + e.pre == pytest.approx(ref["activate_plus_precharge"], rel=1e-12)
    assert e.rd == pytest.approx(ref["read"], rel=1e-12) and e.wr == pytest.approx(ref["write"], rel=1e-12)
    assert e.ref == pytest.approx(ref["refresh"], rel=1e-12)
    assert e.active_standby * 1000 * 1.25e-9 == pytest.approx(ref["background_active_1000_cycles"], rel=1e-12)
    assert e.precharged_standby * 1000 * 1.25e-9 == pytest.approx(ref["background_precharged_1000_cycles"],
                                                                   rel=1e-12)
