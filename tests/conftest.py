import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))  # naive.py, replication_port.py, kernel_manifest.py

# torch is an extra (`pip install -e .` runs metrics, data, baselines and boards without
# it): where it is missing, the tests of networks are skipped, saying so
HAS_TORCH = importlib.util.find_spec("torch") is not None
TORCH_FILES = ["test_future_work.py", "test_losses.py", "test_nets.py", "test_train.py"]
collect_ignore = [] if HAS_TORCH else TORCH_FILES
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="needs torch (salbench[torch])")


def pytest_report_header(config):
    if not HAS_TORCH:
        return f"torch is not installed: {', '.join(TORCH_FILES)} not collected"
    return None

# numba compiles on first call; hypothesis must not count that against its deadline
settings.register_profile("salbench", deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, max_examples=25,
                          suppress_health_check=[HealthCheck.too_slow])
# a longer search, run by hand (HYPOTHESIS_PROFILE=deep) after a kernel changes
settings.register_profile("deep", deadline=None, max_examples=500,
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


# ---- fidelity: the largest difference from each reference, as the tests measure it ----

_FIDELITY: dict[tuple[str, str, str], dict] = {}


def agree(got, expect, *, protocol: str, metric: str, reference: str, atol: float = 0.0,
          rtol: float = 0.0) -> None:
    """Assert salbench's values equal a reference's (NaN exactly where it is NaN) within
    the tolerance, and record the largest difference for the fidelity table
    (``SALBENCH_FIDELITY=PATH python -m pytest tests`` writes it)."""
    got = np.atleast_1d(np.asarray(got, dtype=float))
    expect = np.atleast_1d(np.asarray(expect, dtype=float))
    nan = np.isnan(expect)
    np.testing.assert_array_equal(np.isnan(got), nan, err_msg=f"{protocol} {metric}: NaNs")
    np.testing.assert_allclose(got[~nan], expect[~nan], rtol=rtol, atol=atol,
                               err_msg=f"{protocol} {metric} vs {reference}")
    diff = float(np.max(np.abs(got[~nan] - expect[~nan]), initial=0.0))
    rel = float(np.max(np.abs(got[~nan] - expect[~nan]) / np.maximum(np.abs(expect[~nan]),
                                                                     1e-300), initial=0.0))
    rec = _FIDELITY.setdefault((protocol, metric, reference),
                               {"max_abs_diff": 0.0, "max_rel_diff": 0.0, "values": 0,
                                "nan": 0, "atol": atol, "rtol": rtol})
    rec["max_abs_diff"] = max(rec["max_abs_diff"], diff)
    rec["max_rel_diff"] = max(rec["max_rel_diff"], rel)
    rec["values"] += int((~nan).sum())
    rec["nan"] += int(nan.sum())


def pytest_sessionfinish(session, exitstatus):
    out = os.environ.get("SALBENCH_FIDELITY")
    if not out or not _FIDELITY:
        return
    import json

    rows = [{"protocol": p, "metric": m, "reference": r, **v}
            for (p, m, r), v in sorted(_FIDELITY.items())]
    Path(out).write_text(json.dumps(rows, indent=1) + "\n")
    lines = ["| protocol | metric | reference | values compared (+ NaN in both) | largest "
             "difference | test tolerance |", "|---|---|---|---|---|---|"]
    for r in rows:
        tol = f"abs {r['atol']:.0e}" if r["atol"] else f"rel {r['rtol']:.0e}"
        largest = f"{r['max_abs_diff']:.1e}" if not r["rtol"] else \
            f"{r['max_rel_diff']:.1e} (relative)"
        lines.append(f"| {r['protocol']} | {r['metric']} | {r['reference']} | {r['values']}"
                     f" (+{r['nan']}) | {largest} | {tol} |")
    Path(out).with_suffix(".md").write_text("\n".join(lines) + "\n")
