"""Shared test settings: quiet Ray, one embedded Ray per test session for the tests that need it."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # no token file, no warning
os.environ.setdefault("RAY_DEDUP_LOGS", "0")
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # XGBoost/OpenMP must not spin on a shared 2-core box
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def ray_session():
    """One embedded two-CPU Ray for the whole session (starting Ray costs seconds)."""
    import ray

    from agents._ray import start_ray

    start_ray(None, num_cpus=2)
    yield ray
    ray.shutdown()
