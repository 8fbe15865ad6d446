"""Benchmarks time salbench and a baseline in the same run and report the ratio.

Each comparison is a pytest-benchmark group with two members, ``salbench`` and a
baseline; the ratio of their median times is printed at the end of the run and written
to ``benchmarks/results/<host>.json`` (merged across runs) with the machine's description.  Nothing
here asserts a wall time.

``SALBENCH_BENCH_IMAGES`` shrinks the data (the default, 500, is SALICON's val split);
``pytest benchmarks --benchmark-disable`` runs every benchmark once as a smoke test.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # reference ports

_TIMES: dict[str, dict[str, float]] = {}
_META: dict[str, dict] = {}
RESULTS_DIR = Path(__file__).parent / "results"


def n_images(default: int = 500) -> int:
    return int(os.environ.get("SALBENCH_BENCH_IMAGES", default))


@pytest.fixture
def record(request):
    """``record(benchmark, group, role, **meta)`` after a benchmark ran."""

    def _record(benchmark, group: str, role: str, **meta):
        stats = getattr(benchmark, "stats", None)
        if stats is None or not getattr(stats, "stats", None):
            return  # --benchmark-disable: nothing timed
        _TIMES.setdefault(group, {})[role] = stats.stats.median
        _META.setdefault(group, {}).update(meta)

    return _record


def machine() -> dict:
    info = {"python": platform.python_version(), "machine": platform.machine(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count()}
    try:
        import numba

        info["numba_threads"] = numba.get_num_threads()
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch

        if torch.cuda.is_available():
            info["device"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


def pytest_terminal_summary(terminalreporter):
    if not _TIMES:
        return
    tr = terminalreporter
    tr.section("salbench vs baselines (median wall time, same run)")
    out = {}
    for group, roles in sorted(_TIMES.items()):
        ours = roles.get("salbench")
        for role, t in sorted(roles.items()):
            if role == "salbench" or ours is None:
                continue
            ratio = t / ours
            tr.write_line(f"{group:42s} {role:22s} {t:9.3f} s   salbench {ours:8.4f} s   "
                          f"-> {ratio:7.1f}x")
            out[group] = {"salbench_s": ours, f"{role}_s": t, "ratio": ratio,
                          **_META.get(group, {})}
    if out:
        RESULTS_DIR.mkdir(exist_ok=True)
        host = platform.node() or "host"
        path = RESULTS_DIR / f"{host}.json"
        previous = json.loads(path.read_text()).get("results", {}) if path.exists() else {}
        merged = {**previous, **out}  # one file per machine, updated group by group
        path.write_text(json.dumps({"machine": machine(), "results": merged}, indent=2) + "\n")
        tr.write_line(f"written: {path}")
