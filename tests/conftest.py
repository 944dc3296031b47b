"""Shared test setup: quiet Ray defaults and one local Ray for the whole session.

Ray starts in 4-10 s, so tests that need it share one embedded instance (``ray_local``), started
with ``address="local"`` so a stale cluster file never matters, on 2 CPUs like CI.
"""

from __future__ import annotations

import os

import pytest

# Before Ray is imported anywhere: no token file or warning, plain output, one line per log message.
for _key, _value in (("RAY_AUTH_MODE", "disabled"), ("RAY_DEDUP_LOGS", "0"), ("RAY_AIR_NEW_OUTPUT", "0")):
    os.environ.setdefault(_key, _value)


@pytest.fixture(scope="session")
def ray_local():
    """An embedded 2-CPU Ray for the session (shut down at its end)."""
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(address="local", num_cpus=2, num_gpus=0, include_dashboard=False, log_to_driver=False,
                 object_store_memory=200 * 1024**2)
    yield ray
    if started:
        ray.shutdown()
