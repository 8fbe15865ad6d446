import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))  # naive.py, replication_port.py

# numba compiles on first call; hypothesis must not count that against its deadline
settings.register_profile("salbench", deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, max_examples=25,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "salbench"))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own SALBENCH_HOME: no test reads a user's cache."""
    monkeypatch.setenv("SALBENCH_HOME", str(tmp_path_factory.mktemp("salbench_home")))


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A fresh working directory with a tiny synthetic set (24 train, 12 val images)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SALBENCH_SYNTH", "24,12")
    monkeypatch.delenv("SALBENCH_DATA", raising=False)
    return tmp_path


@pytest.fixture
def rng():
    return np.random.default_rng(20260101)


def random_fixations(rng, n, shape, center_bias=True):
    h, w = shape
    if center_bias:
        r = np.clip(rng.normal(h / 2, h / 5, n), 0, h - 1)
        c = np.clip(rng.normal(w / 2, w / 5, n), 0, w - 1)
        return np.stack([r, c], 1).astype(np.int64)
    return np.stack([rng.integers(0, h, n), rng.integers(0, w, n)], 1)
