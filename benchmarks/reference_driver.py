"""Run a reference tool's driver (``scalesim_driver.py``, ``zigzag_driver.py``) under the Python of the
tool's own virtual environment: one JSON case per line in, one JSON result per line out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def run_driver(python: str, driver: str, cases: list[dict], tool: str) -> list[dict]:
    """Results of ``driver`` (a file beside this one) on ``cases``; exits with the tool's error if it fails."""
    path = Path(__file__).with_name(driver)
    stdin = "".join(json.dumps(c) + "\n" for c in cases)
    proc = subprocess.run([python, str(path)], input=stdin, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"{tool} run failed:\n{proc.stderr[-3000:]}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
