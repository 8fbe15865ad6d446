"""This checkout against an earlier commit (``SALBENCH_BENCH_OLD``, default 8b7d08b: the
last release before the round that wrote this file), same run:
kernel time per protocol on SALICON-sized data (100 images of 480x640, 400-600
fixations, 48x48 float32 predictions, every default metric), and replication cc on
mouse-dense fixations (5,000 per image).

Each side runs in fresh interpreters with a warm numba cache, ``PROCESSES`` processes per
side taken in turn (new, old, new, old, ...) so that a slow spell of a shared machine
falls on both, ``ROUNDS`` rounds per process; the ratio is of minima.  Two measures:

* wall time with every thread (what a user waits for);
* CPU time with one thread (``NUMBA_NUM_THREADS=1``): the work itself, which a busy
  neighbour on a shared machine moves much less than the wall time.

The old commit is checked out with ``git worktree`` into a temporary folder (skipped when
this is not a git checkout or the commit is missing).  A protocol the old commit does not
have (at 8b7d08b: ``salicon`` and ``pysaliency``) is timed on this side only: the old tree
is asked which protocols it registers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROUNDS, record_times

OLD = os.environ.get("SALBENCH_BENCH_OLD", "8b7d08b")
REPO = Path(__file__).resolve().parents[1]
IMAGES = int(os.environ.get("SALBENCH_BENCH_VERSION_IMAGES", 100))
PROCESSES = 3  # per side, alternating

_TIME = """
import inspect, sys, time
import numpy as np
from salbench.metrics import score_dataset
rng = np.random.default_rng(2016)
n, protocol, rounds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
dense = int(sys.argv[4])  # fixations per image, cc only; 0: 400-600 and every metric
one_thread = sys.argv[5] == "cpu"  # one thread, CPU time; else all threads, wall time
metrics = ["cc"] if dense else None
shape = (480, 640)
preds = rng.random((n, 48, 48)).astype(np.float32)
fixes = []
for _ in range(n):
    k = dense or int(rng.integers(400, 600))
    r = np.clip(rng.normal(240, 96, k), 0, 479)
    c = np.clip(rng.normal(320, 128, k), 0, 639)
    fixes.append(np.stack([r, c], 1).astype(np.int64))
kw = {"metrics": metrics}
if one_thread and "threads" in inspect.signature(score_dataset).parameters:
    kw["threads"] = 1  # the old release ran one numba parallel loop: NUMBA_NUM_THREADS
clock = time.process_time if one_thread else time.perf_counter
score_dataset(preds[:12], fixes[:12], [shape] * 12, protocol=protocol, **kw)
for _ in range(rounds):
    t = clock()
    score_dataset(preds, fixes, [shape] * n, protocol=protocol, seed=0, **kw)
    print(clock() - t)
"""


@pytest.fixture(scope="module")
def old_tree(tmp_path_factory):
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    where = tmp_path_factory.mktemp("old") / "tree"
    p = subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(where),
                        OLD], capture_output=True, text=True)
    if p.returncode:
        pytest.skip(f"commit {OLD} is not available: {p.stderr.strip()[:200]}")
    yield where, _protocols(where)
    subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(where)],
                   capture_output=True)


def _protocols(src: Path) -> frozenset[str]:
    """The protocol names the salbench in ``src`` registers."""
    code = "from salbench.metrics.protocols import PROTOCOLS; print(' '.join(PROTOCOLS))"
    p = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(src)},
                       capture_output=True, text=True, cwd=str(src))
    if p.returncode:
        raise AssertionError(p.stderr[-2000:])
    return frozenset(p.stdout.split())


def _times(src: Path, protocol: str, cache: Path, dense: int, cpu: bool) -> list[float]:
    cache.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(src), "NUMBA_CACHE_DIR": str(cache),
           "SALBENCH_HOME": str(cache / "home")}
    if cpu:
        env["NUMBA_NUM_THREADS"] = "1"
    args = [str(IMAGES), protocol, str(ROUNDS), str(dense), "cpu" if cpu else "wall"]
    p = subprocess.run([sys.executable, "-c", _TIME, *args], env=env, capture_output=True,
                       text=True, cwd=str(cache))
    if p.returncode:
        raise AssertionError(p.stderr[-2000:])
    return [float(x) for x in p.stdout.split()]


def _compare(group: str, protocol: str, tmp: Path, old_tree: Path | None, dense: int = 0
             ) -> None:
    """Record both measures of ``group`` for this checkout and (given) the old tree."""
    sides = {"salbench": REPO}
    if old_tree is not None:
        sides[f"salbench {OLD}"] = old_tree
    for cpu in (False, True):
        times: dict[str, list[float]] = {role: [] for role in sides}
        for _ in range(PROCESSES):
            for role, src in sides.items():
                times[role] += _times(src, protocol, tmp / role.replace(" ", "-"), dense,
                                      cpu)
        label = f"{group}, one thread, CPU time" if cpu else group
        for role, ts in times.items():
            key = "ms_per_image" if role == "salbench" else "old_ms_per_image"
            record_times(label, role, ts, **{key: round(min(ts) / IMAGES * 1e3, 2)})


@pytest.mark.parametrize("protocol", ["replication", "mit", "exact", "salicon", "pysaliency"])
def test_kernel_time_per_protocol(old_tree, tmp_path, protocol):
    group = f"kernel: {protocol}, default metrics, {IMAGES} images (per image x{IMAGES})"
    where, has = old_tree
    _compare(group, protocol, tmp_path, where if protocol in has else None)


def test_kernel_time_mouse_dense(old_tree, tmp_path):
    """cc under ``replication`` with 5,000 fixations per image (mouse samples)."""
    group = f"kernel: replication cc, 5,000 fixations per image, {IMAGES} images"
    _compare(group, "replication", tmp_path, old_tree[0], dense=5000)
