"""This checkout against the last release before this round (commit 8b7d08b), same run:
kernel time per protocol on SALICON-sized data (100 images of 480x640, 400-600
fixations, 48x48 float32 predictions, every default metric), each side in its own fresh
interpreter with a warm numba cache, at least three rounds each, ratio of minima; and
replication cc on mouse-dense fixations (5,000 per image).

The old commit is checked out with ``git worktree`` into a temporary folder (skipped when
this is not a git checkout or the commit is missing).  ``salicon`` and ``pysaliency`` did
not exist then: they are timed on this side only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROUNDS, record_times

OLD = "8b7d08b"
REPO = Path(__file__).resolve().parents[1]
IMAGES = int(os.environ.get("SALBENCH_BENCH_VERSION_IMAGES", 100))

_TIME = """
import sys, time
import numpy as np
from salbench.metrics import score_dataset
rng = np.random.default_rng(2016)
n, protocol, rounds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
dense = int(sys.argv[4]) if len(sys.argv) > 4 else 0  # fixations per image, cc only
metrics = ["cc"] if dense else None
shape = (480, 640)
preds = rng.random((n, 48, 48)).astype(np.float32)
fixes = []
for _ in range(n):
    k = dense or int(rng.integers(400, 600))
    r = np.clip(rng.normal(240, 96, k), 0, 479)
    c = np.clip(rng.normal(320, 128, k), 0, 639)
    fixes.append(np.stack([r, c], 1).astype(np.int64))
score_dataset(preds[:12], fixes[:12], [shape] * 12, protocol=protocol, metrics=metrics)
for _ in range(rounds):
    t = time.perf_counter()
    score_dataset(preds, fixes, [shape] * n, protocol=protocol, seed=0, metrics=metrics)
    print(time.perf_counter() - t)
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
    yield where
    subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(where)],
                   capture_output=True)


def _times(src: Path, protocol: str, cache: Path, *extra: str) -> list[float]:
    cache.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(src), "NUMBA_CACHE_DIR": str(cache),
           "SALBENCH_HOME": str(cache / "home")}
    p = subprocess.run([sys.executable, "-c", _TIME, str(IMAGES), protocol, str(ROUNDS), *extra],
                       env=env, capture_output=True, text=True, cwd=str(cache))
    if p.returncode:
        raise AssertionError(p.stderr[-2000:])
    return [float(x) for x in p.stdout.split()]


@pytest.mark.parametrize("protocol", ["replication", "mit", "exact", "salicon", "pysaliency"])
def test_kernel_time_per_protocol(old_tree, tmp_path, protocol):
    group = f"kernel: {protocol}, default metrics, {IMAGES} images (per image x{IMAGES})"
    ours = _times(REPO, protocol, tmp_path / "new")
    record_times(group, "salbench", ours, ms_per_image=round(min(ours) / IMAGES * 1e3, 2))
    if protocol in ("replication", "mit", "exact"):
        old = _times(old_tree, protocol, tmp_path / "old")
        record_times(group, f"salbench {OLD}", old,
                     old_ms_per_image=round(min(old) / IMAGES * 1e3, 2))


def test_kernel_time_mouse_dense(old_tree, tmp_path):
    """cc under ``replication`` with 5,000 fixations per image (mouse samples)."""
    group = f"kernel: replication cc, 5,000 fixations per image, {IMAGES} images"
    ours = _times(REPO, "replication", tmp_path / "new", "5000")
    record_times(group, "salbench", ours, ms_per_image=round(min(ours) / IMAGES * 1e3, 2))
    old = _times(old_tree, "replication", tmp_path / "old", "5000")
    record_times(group, f"salbench {OLD}", old, old_ms_per_image=round(min(old) / IMAGES * 1e3, 2))
