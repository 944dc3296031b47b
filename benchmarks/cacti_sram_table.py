"""Write ``simulators/data/cacti_sram_45nm.csv``, the SRAM cost table, by running CACTI on each size.

CACTI (HP Labs, version 7.0; the public ``HewlettPackard/cacti`` repository, built with its makefile)
is not part of archgym: build it anywhere and pass the binary::

    python benchmarks/cacti_sram_table.py --cacti /path/to/cacti/cacti

CACTI reads its technology files relative to the working directory, so each run happens in the
binary's folder. The configuration is CACTI's own ``cache.cfg`` with the settings below replaced: a
scratchpad (``ram``: no tag array), one bank, one read-write port, a 64-bit line and bus, 45 nm,
ITRS high-performance cells and periphery, no ECC, CACTI's energy-delay^2 optimisation, 360 K.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from pathlib import Path

SIZES_KB = [1 << i for i in range(13)]  # 1 KB ... 4 MB
NODE_UM = 0.045
BLOCK_BYTES = 8

SETTINGS = {
    r"-size \(bytes\)": "-size (bytes) {size}",
    r"-block size \(bytes\)": f"-block size (bytes) {BLOCK_BYTES}",
    r"-associativity": "-associativity 1",
    r"-read-write port": "-read-write port 1",
    r"-UCA bank count": "-UCA bank count 1",
    r"-technology \(u\)": f"-technology (u) {NODE_UM}",
    r"-output/input bus width": f"-output/input bus width {BLOCK_BYTES * 8}",
    r"-cache type": '-cache type "ram"',
    r"-Add ECC": '-Add ECC - "false"',
    r"-Optimize ED or ED\^2": '-Optimize ED or ED^2 (ED, ED^2, NONE): "ED^2"',
    r"-Print level": '-Print level (DETAILED, CONCISE) - "CONCISE"',
}

HEADER = """\
# SRAM cost per size from CACTI 7.0 (HP Labs, HewlettPackard/cacti, commit 1ffd8df), run by
# benchmarks/cacti_sram_table.py. Config: CACTI's cache.cfg with cache type "ram" (scratchpad, no tag),
# 45 nm (technology 0.045 um), ITRS-HP cells and periphery, 1 bank, 1 read-write port, 64-bit block and
# bus, no ECC, ED^2 optimisation, 360 K.
# read_pj / write_pj: dynamic energy of one 64-bit access; area_mm2: total (height x width);
# access_ns: access time; leakage_mw: leakage power of the bank (not used by the models).
"""


def config(template: str, size_bytes: int) -> str:
    for key, line in SETTINGS.items():
        template, n = re.subn(rf"^{key}.*$", line.format(size=size_bytes), template, count=1, flags=re.M)
        if n != 1:
            raise SystemExit(f"cache.cfg has no line for {key!r}")
    return template


def number(text: str, label: str) -> float:
    match = re.search(rf"{label}\s*:\s*([\d.e+-]+)", text)
    if not match:
        raise SystemExit(f"CACTI output has no {label!r}:\n{text[-2000:]}")
    return float(match.group(1))


def run(cacti: Path, size_kb: int) -> dict[str, float]:
    template = (cacti.parent / "cache.cfg").read_text()
    with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as fh:
        fh.write(config(template, size_kb * 1024))
    out = subprocess.run([str(cacti), "-infile", fh.name], cwd=cacti.parent, capture_output=True, text=True,
                         check=True).stdout
    Path(fh.name).unlink()
    height, width = re.search(r"Cache height x width \(mm\): ([\d.e+-]+) x ([\d.e+-]+)", out).groups()
    return {
        "read_pj": number(out, r"Total dynamic read energy per access \(nJ\)") * 1e3,
        "write_pj": number(out, r"Total dynamic write energy per access \(nJ\)") * 1e3,
        "area_mm2": float(height) * float(width),
        "access_ns": number(out, r"Access time \(ns\)"),
        "leakage_mw": number(out, r"Total leakage power of a bank \(mW\)"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cacti", type=Path, required=True, help="the CACTI binary (cache.cfg beside it)")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parents[1] / "simulators" / "data" / "cacti_sram_45nm.csv")
    args = parser.parse_args()
    lines = [HEADER + "size_kb,read_pj,write_pj,area_mm2,access_ns,leakage_mw"]
    for kb in SIZES_KB:
        r = run(args.cacti.resolve(), kb)
        lines.append(f"{kb},{r['read_pj']:.4f},{r['write_pj']:.4f},{r['area_mm2']:.6f},{r['access_ns']:.4f},"
                     f"{r['leakage_mw']:.3f}")
        print(lines[-1])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
