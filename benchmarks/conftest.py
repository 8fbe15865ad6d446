"""Benchmarks time salbench and a baseline in the same run and report the ratio.

Each comparison is a group with two members, ``salbench`` and a baseline; each member is
timed over several rounds and the ratio of their *minima* is printed at the end of the
run and written to ``benchmarks/results/<host>.json`` (merged across runs) with the
machine's description and load.  Nothing here asserts a wall time.

``SALBENCH_BENCH_IMAGES`` shrinks the data (the default, 500, is SALICON's val split);
``pytest benchmarks --benchmark-disable`` runs every benchmark once as a smoke test.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # reference ports

_TIMES: dict[str, dict[str, dict]] = {}
_META: dict[str, dict] = {}
RESULTS_DIR = Path(__file__).parent / "results"
ROUNDS = 3  # at least three rounds on both sides of every comparison
SHAPE = (480, 640)


def n_images(default: int = 500) -> int:
    return int(os.environ.get("SALBENCH_BENCH_IMAGES", default))


def salicon_sized(n: int, seed: int = 2016):
    """``n`` images of 480x640 with 400-600 fixations each and 48x48 float32 predictions."""
    rng = np.random.default_rng(seed)
    preds = rng.random((n, 48, 48)).astype(np.float32)
    fixes = []
    for _ in range(n):
        k = int(rng.integers(400, 600))
        r = np.clip(rng.normal(SHAPE[0] / 2, SHAPE[0] / 5, k), 0, SHAPE[0] - 1)
        c = np.clip(rng.normal(SHAPE[1] / 2, SHAPE[1] / 5, k), 0, SHAPE[1] - 1)
        fixes.append(np.stack([r, c], 1).astype(np.int64))
    return preds, fixes, [SHAPE] * n


def record_times(group: str, role: str, times: list[float], **meta) -> None:
    """Record a member's per-round wall times (seconds) directly."""
    _TIMES.setdefault(group, {})[role] = {"min": min(times), "rounds": len(times)}
    _META.setdefault(group, {}).update(meta)


@pytest.fixture
def record(request):
    """``record(benchmark, group, role, **meta)`` after a benchmark ran."""

    def _record(benchmark, group: str, role: str, **meta):
        stats = getattr(benchmark, "stats", None)
        if stats is None or not getattr(stats, "stats", None):
            return  # --benchmark-disable: nothing timed
        _TIMES.setdefault(group, {})[role] = {"min": stats.stats.min,
                                              "rounds": stats.stats.rounds}
        _META.setdefault(group, {}).update(meta)

    return _record


@functools.cache
def cpu_model() -> str:
    """The CPU's model name (Linux), else what ``platform`` says: a VM's host can change
    between runs, and numbers from two CPUs are not comparable."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.cache
def blas() -> str:
    """The BLAS kernel numpy uses, and any ``OPENBLAS_CORETYPE`` that chose it: ``mit``'s
    and ``exact``'s fixation maps are a BLAS product, and a VM's environment may force an
    older kernel (Haswell's on a Zen 5 VM: that product 1.6x slower)."""
    import numpy  # noqa: F401  (loads the BLAS, so that threadpoolctl sees it)
    from threadpoolctl import threadpool_info

    found = sorted({f"{p['internal_api']} {p.get('architecture')}"
                    for p in threadpool_info() if p["user_api"] == "blas"})
    forced = os.environ.get("OPENBLAS_CORETYPE")
    return ", ".join(found) + (f" (OPENBLAS_CORETYPE={forced})" if forced else "")


def machine() -> dict:
    info = {"python": platform.python_version(), "machine": platform.machine(),
            "processor": platform.processor() or platform.machine(), "cpu_model": cpu_model(),
            "cpus": os.cpu_count(), "load_1min_at_end": round(os.getloadavg()[0], 2)}
    try:
        import numba

        info["numba_threads"] = numba.get_num_threads()
    except ImportError:  # pragma: no cover
        pass
    info["blas"] = blas()
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
    tr.section("salbench vs baselines (minimum wall time over the rounds, same run)")
    out = {}
    for group, roles in sorted(_TIMES.items()):
        ours = roles.get("salbench")
        for role, t in sorted(roles.items()):
            if role == "salbench":
                continue
            if ours is None:
                tr.write_line(f"{group:50s} {role:26s} {t['min']:9.3f} s")
                continue
            ratio = t["min"] / ours["min"]
            tr.write_line(f"{group:50s} {role:26s} {t['min']:9.3f} s ({t['rounds']}x)   "
                          f"salbench {ours['min']:8.4f} s ({ours['rounds']}x) -> {ratio:7.2f}x")
            out.setdefault(group, {}).update({
                "salbench_s": ours["min"], "salbench_rounds": ours["rounds"],
                f"{role}_s": t["min"], f"{role}_rounds": t["rounds"],
                f"ratio_{role}": ratio, "cpu_model": cpu_model(), "blas": blas(),
                **_META.get(group, {})})
        if ours is not None and len(roles) == 1:
            meta = "".join(f"  {k} {v}" for k, v in _META.get(group, {}).items())
            tr.write_line(f"{group:50s} {'salbench':26s} {ours['min']:9.4f} s "
                          f"({ours['rounds']}x){meta}")
            out[group] = {"salbench_s": ours["min"], "salbench_rounds": ours["rounds"],
                          "cpu_model": cpu_model(), "blas": blas(), **_META.get(group, {})}
    if out:
        RESULTS_DIR.mkdir(exist_ok=True)
        host = platform.node() or "host"
        path = RESULTS_DIR / f"{host}.json"
        previous = json.loads(path.read_text()).get("results", {}) if path.exists() else {}
        merged = {**previous, **out}  # one file per machine, updated group by group
        path.write_text(json.dumps({"machine": machine(), "results": merged}, indent=2) + "\n")
        tr.write_line(f"written: {path}")
