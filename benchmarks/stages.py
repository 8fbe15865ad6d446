"""Where one image's time goes: each stage of the per-image engine timed in place.

    python benchmarks/stages.py replication     # or mit, exact, salicon, pysaliency

Scores 100 SALICON-sized images (``conftest.salicon_sized``) on one thread with the
engine's stages and the ``_maps`` kernels it calls wrapped in timers, three times, and
prints the best run's milliseconds per image (a stage's time includes the kernels it
calls, so the rows overlap).  A diagnostic, not a benchmark of record: the wrappers add
~1 us per call.
"""

from __future__ import annotations

import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from salbench.metrics import _ahead, _engine, _maps, score_dataset

from conftest import salicon_sized

STAGES = ("prepare", "_cc", "_aucs", "_judd")
KERNELS = ("gt_map_into", "moments", "nss", "kld", "sim", "ig", "pearson", "centred_cov",
           "gt_moments", "unique_pixels")
IMAGES = 100
RUNS = 3


def _timed(module, name: str, label: str, totals, calls) -> None:
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            totals[label] += time.perf_counter() - t
            calls[label] += 1

    setattr(module, name, wrapper)


def main(protocol: str) -> None:
    preds, fixes, shapes = salicon_sized(IMAGES)
    score_dataset(preds[:12], fixes[:12], shapes[:12], protocol=protocol, threads=1)
    # compiled and loaded: the check ahead of each call would find the wrappers no kernels
    _ahead.compile_ahead = lambda *args, **kwargs: None
    totals: collections.Counter = collections.Counter()
    calls: collections.Counter = collections.Counter()
    for name in STAGES:
        _timed(_engine, name, f"engine.{name}", totals, calls)
    for name in KERNELS:
        _timed(_maps, name, f"_maps.{name}", totals, calls)
    best = None
    for _ in range(RUNS):
        totals.clear()
        calls.clear()
        t = time.perf_counter()
        score_dataset(preds, fixes, shapes, protocol=protocol, threads=1)
        run = time.perf_counter() - t
        if best is None or run < best[0]:
            best = (run, dict(totals), dict(calls))
    run, spent, count = best
    print(f"{protocol}: {1e3 * run / IMAGES:.2f} ms per image, one thread (best of {RUNS})")
    for label, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {label:24s} {1e3 * seconds / IMAGES:7.3f} ms  ({count[label]} calls)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "replication")
