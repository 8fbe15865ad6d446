"""What a user waits for: whole processes, measured in fresh interpreters.

* cold: the first ``cc(..., protocol="replication")`` call and the first ``salbench
  score`` (one protocol; all five) with an empty numba cache directory, compiling ahead
  on the usable CPUs against every kernel compiled on its first call in one process;
* warm: ``salbench score`` on the 500 synth val images, whole process (imports, data,
  kernels from the cache, scoring, writing, exit), taken in turn with the floor under it
  (a process that imports numba, calls one cached kernel and exits as the command does;
  also with scipy's cython_blas loaded alone first, as the CLI does), and ``salbench
  --help``;
* memory: peak RSS of the warm score; the extra RSS to score 100 full-size 1080x1920
  float32 maps; scoring's RSS growth per image (48x48 predictions, 500 vs 2,000 images).

The ``salbench score`` processes run ``cli.console``, the command's entry point. Each
is timed over ``ROUNDS`` rounds (minimum reported); nothing is asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from salbench.metrics._ahead import PROCESSES_ENV

from conftest import ROUNDS, record_times

ALL = ["replication", "mit", "salicon", "pysaliency", "exact"]


def _run(code: str, env: dict, args=()) -> tuple[float, str]:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                       text=True)
    wall = time.perf_counter() - t0
    if p.returncode:
        raise AssertionError(p.stderr[-2000:])
    return wall, p.stdout


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A SALBENCH_HOME with the synth set generated and predictions for its val split."""
    root = tmp_path_factory.mktemp("home")
    env = {**os.environ, "SALBENCH_HOME": str(root / "home")}
    env.pop("NUMBA_CACHE_DIR", None)
    # as installed by pip, with bytecode: without it every process recompiles salbench's
    # 35 modules from source (0.14 s of a warm score under cProfile on the 2-core VM)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "salbench", "data", "synth"], env=env, check=True,
                   capture_output=True)
    rng = np.random.default_rng(0)
    preds = root / "preds.npz"
    np.savez(preds, preds=rng.random((500, 48, 48)).astype(np.float32))
    return root, env, preds


# console: the `salbench` command's entry point (main, then its quick exit)
_SCORE = ("import resource, sys; from salbench.cli import console; rc = console(sys.argv[1:]); "
          "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(rc)")


def _score_args(preds, root, protocols):
    return ["score", str(preds), "--dataset", "synth", "--protocol", *protocols, "--no-store",
            "--out", str(root / "out")]


# the baseline of a cold start: every kernel compiled on its first call, in one process
# (salbench before compiling ahead, and salbench where only one CPU is usable)
_LAZY = {PROCESSES_ENV: "1"}


def _cold(env: dict, root, label: str, r: int, lazy: bool) -> dict:
    env = {k: v for k, v in env.items() if k != PROCESSES_ENV}  # salbench's default
    return {**env, **(_LAZY if lazy else {}),
            "NUMBA_CACHE_DIR": str(root / f"cold-{label}-{'lazy' if lazy else 'ahead'}-{r}")}


def test_cold_first_cc_call(home):
    root, env, _ = home
    code = ("import time, numpy as np; from salbench.metrics import cc; "
            "m = np.random.default_rng(0).random((48, 48)); t = time.perf_counter(); "
            "cc(m, np.array([[10, 20], [30, 40]]), protocol='replication', shape=(480, 640)); "
            "print(time.perf_counter() - t)")
    calls: dict[bool, list[float]] = {False: [], True: []}
    walls: dict[bool, list[float]] = {False: [], True: []}
    for r in range(ROUNDS):
        for lazy in (False, True):  # taken in turn: the load moves both alike
            wall, out = _run(code, _cold(env, root, "cc", r, lazy))
            calls[lazy].append(float(out))
            walls[lazy].append(wall)
    group = "cold: first cc(replication) call, empty cache"
    record_times(group, "salbench", calls[False], whole_process_s=min(walls[False]))
    record_times(group, "one process, compiled on first call", calls[True],
                 whole_process_s_one_process=min(walls[True]))


@pytest.mark.parametrize("protocols", [["replication"], ALL], ids=["one", "all5"])
def test_cold_first_score(home, protocols):
    root, env, preds = home
    times: dict[bool, list[float]] = {False: [], True: []}
    for r in range(ROUNDS):
        for lazy in (False, True):
            e = _cold(env, root, f"score-{len(protocols)}", r, lazy)
            wall, _ = _run(_SCORE, e, _score_args(preds, root, protocols))
            times[lazy].append(wall)
    group = f"cold: salbench score, 500 images, {len(protocols)} protocol(s), empty cache"
    record_times(group, "salbench", times[False])
    record_times(group, "one process, compiled on first call", times[True])


# the floor under any warm process of numba kernels: numpy, numba, one cached kernel's
# first call (numba's typing and target set-up, its BLAS check importing scipy.linalg),
# and the same quick exit as the command's (the collector frozen before shutdown)
_FLOOR_KERNEL = """
from numba import njit


@njit(cache=True)
def total(x):
    t = 0.0
    for i in range(x.size):
        t += x[i]
    return t
"""
_FLOOR = "import gc, numpy as np, floor_kernel; floor_kernel.total(np.ones(3)); gc.freeze()"
# the same where scipy's cython_blas is loaded alone first, as salbench's CLI does
_FLOOR_CLI = ("from salbench.metrics._startup import load_cython_blas_alone; "
              "load_cython_blas_alone(); " + _FLOOR)


def test_warm_score_whole_process(home):
    root, env, preds = home
    e = {**env, "NUMBA_CACHE_DIR": str(root / "warm")}
    where = root / "floor"
    where.mkdir(exist_ok=True)
    (where / "floor_kernel.py").write_text(_FLOOR_KERNEL)
    floor_env = {**e, "PYTHONPATH": str(where), "NUMBA_CACHE_DIR": str(where / "cache")}
    _run(_SCORE, e, _score_args(preds, root, ["replication"]))  # fills the caches
    _run(_FLOOR, floor_env)
    times, rss, floor, floor_cli = [], [], [], []
    for _ in range(ROUNDS):  # taken in turn: the load moves all alike
        wall, out = _run(_SCORE, e, _score_args(preds, root, ["replication"]))
        times.append(wall)
        rss.append(int(out.split()[-1]))
        floor.append(_run(_FLOOR, floor_env)[0])
        floor_cli.append(_run(_FLOOR_CLI, floor_env)[0])
    record_times("warm: salbench score, 500 images, replication, whole process", "salbench",
                 times, peak_rss_mib=round(min(rss) / 1024, 1),
                 floor_numba_one_cached_kernel_s=round(min(floor), 3),
                 floor_with_cython_blas_alone_s=round(min(floor_cli), 3))


def test_help_is_instant(home):
    _, env, _ = home
    times = [_run("from salbench.cli import main; main(['--help'])", env)[0]
             for _ in range(ROUNDS)]
    record_times("salbench --help, whole process", "salbench", times)


_MEMORY = """
import json, resource, sys
import numpy as np
from salbench.metrics import score_dataset

def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024

def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

n, h, w = (int(x) for x in sys.argv[1:4])
rng = np.random.default_rng(0)
shape = (h, w)
fixes = [np.stack([rng.integers(0, 480, 500), rng.integers(0, 640, 500)], 1) for _ in range(n)]
sizes = [(480, 640)] * n
maps = rng.random((n, *shape), dtype=np.float32)
score_dataset(maps[:12], fixes[:12], sizes[:12], protocol="mit")  # kernels loaded
before = rss_mib()
score_dataset(maps, fixes, sizes, protocol="mit")
print(json.dumps({"before_mib": before, "peak_mib": peak_mib()}))
"""


def test_memory_for_full_size_maps(home):
    """Extra peak RSS to score 100 float32 maps of 1080x1920 (830 MB of input)."""
    root, env, _ = home
    e = {**env, "NUMBA_CACHE_DIR": str(root / "warm")}
    extra = []
    for _ in range(ROUNDS):
        _, out = _run(_MEMORY, e, ["100", "1080", "1920"])
        m = json.loads(out)
        extra.append(m["peak_mib"] - m["before_mib"])
    record_times("memory: extra peak RSS (MiB, not s) scoring 100 1080x1920 float32 maps, "
                 "mit", "salbench", extra)


def test_rss_growth_per_image(home):
    """Scoring's extra peak RSS (over the inputs already in memory) at 2,000 images minus
    at 500, per image: 48x48 predictions, 500 fixations each."""
    root, env, _ = home
    e = {**env, "NUMBA_CACHE_DIR": str(root / "warm")}
    growth = []
    for _ in range(ROUNDS):
        small = json.loads(_run(_MEMORY, e, ["500", "48", "48"])[1])
        large = json.loads(_run(_MEMORY, e, ["2000", "48", "48"])[1])
        extra = [m["peak_mib"] - m["before_mib"] for m in (small, large)]
        growth.append((extra[1] - extra[0]) * 1024 / 1500)
    record_times("memory: RSS growth per image (KiB, not s), 48x48 predictions, mit",
                 "salbench", growth)
