"""Record which kernel signatures each (protocol, metric) calls: the list that
``salbench.metrics._ahead`` compiles ahead, ``salbench/metrics/kernel_signatures.json``.

Every metric of every protocol is scored on both paths (the per-image functions, the
dataset scorer) over inputs that take each branch of the engine: sparse and dense
fixations, predictions smaller than and as large as the image, float32 and float64,
constant maps, given ground-truth and baseline maps.  The kernels are wrapped to record the
argument types of every call from Python (calls between kernels compile with their
caller).

    python tests/kernel_manifest.py --write    # record, time each kernel's compile, save

``tests/test_compile_ahead.py`` records again and fails when the file differs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from salbench.errors import UserError
from salbench.metrics import PROTOCOLS, _ahead
from salbench.metrics import functional as F
from salbench.metrics.dataset import score_dataset

SHAPE = (480, 640)
N_IMAGES = 12  # for sauc: the 10-map pools need 11
WITH_GT = {"cc", "kld", "sim", "emd"}
COMBINED = "*"  # a protocol's default metrics scored in one request (checked, not stored)


def _modules():
    import importlib
    import pkgutil

    import salbench.metrics as pkg

    return [importlib.import_module(f"salbench.metrics.{m.name}")
            for m in pkgutil.iter_modules(pkg.__path__)]


@contextmanager
def recording(seen: set):
    """Every kernel called from Python adds ``(kernel name, argument type texts)`` to
    ``seen``.  A call that compiles runs with the kernels unwrapped: the kernels it calls
    are looked up as it compiles."""
    from numba.core.dispatcher import Dispatcher
    from numba.core.typing.typeof import Purpose, typeof

    found = [(mod, k, v) for mod in _modules() for k, v in vars(mod).items()
             if isinstance(v, Dispatcher)]

    def wrap(on: bool) -> None:
        for mod, k, v in found:
            setattr(mod, k, Recorder(v) if on else v)

    class Recorder:
        def __init__(self, disp):
            self.disp = disp
            f = disp.py_func
            self.name = f"{f.__module__.rpartition('.')[2]}.{f.__name__}"

        def __call__(self, *args):
            types = tuple(typeof(a, Purpose.argument) for a in args)
            seen.add((self.name, tuple(_ahead.type_spec(t) for t in types)))
            if types in self.disp.overloads:
                return self.disp(*args)
            wrap(False)
            try:
                return self.disp(*args)
            finally:
                wrap(True)

        def __getattr__(self, attr):
            return getattr(self.disp, attr)

    before = os.environ.get(_ahead.PROCESSES_ENV)
    os.environ[_ahead.PROCESSES_ENV] = "1"  # compiling ahead would meet the wrappers
    wrap(True)
    try:
        yield
    finally:
        wrap(False)
        if before is None:
            del os.environ[_ahead.PROCESSES_ENV]
        else:
            os.environ[_ahead.PROCESSES_ENV] = before


def _maps(rng):
    small = rng.random((48, 48))
    return {"small": small, "small-f32": small.astype(np.float32),
            "full": rng.random(SHAPE), "constant": np.full((48, 48), 0.5)}


def _fixations(rng):
    """Each point twice: SALICON's filter keeps a point only when it repeats."""
    sparse = np.stack([rng.integers(0, SHAPE[0], 3), rng.integers(0, SHAPE[1], 3)], 1)
    dense = np.stack([rng.integers(0, SHAPE[0], 300), rng.integers(0, SHAPE[1], 300)], 1)
    return {"sparse": np.repeat(sparse, 2, axis=0), "dense": np.repeat(dense, 2, axis=0)}


def _api_calls(proto, metric, rng):
    maps, fixes = _maps(rng), _fixations(rng)
    if metric == "emd":  # slow, and prepares the map as every metric does
        maps = {"small": maps["small"]}
    other = np.stack([rng.integers(0, SHAPE[0], 200), rng.integers(0, SHAPE[1], 200)], 1)
    gts = [None, rng.random(SHAPE)] if metric in WITH_GT else [None]
    bases = [None, rng.random((60, 80))] if metric == "ig" else [None]
    for m in maps.values():
        for f in fixes.values():
            for gt in gts:
                for base in bases:
                    kw = {"gt_map": gt, "baseline": base,
                          "other": other if metric.startswith("sauc") else None}
                    yield lambda m=m, f=f, kw=kw: F._run(metric, m, f, protocol=proto,
                                                         shape=SHAPE, name="x", **kw)


def _dataset_calls(proto, metrics, rng):
    maps = _maps(rng)
    fixes = list(_fixations(rng).values())
    wanted = set(metrics or proto.default_metrics)
    n = N_IMAGES if any(m.startswith("sauc") for m in wanted) else len(fixes)
    fix = [fixes[i % 2] for i in range(n)]
    shapes = [SHAPE] * n
    gts = [None, [rng.random(SHAPE) for _ in range(n)]] if wanted & WITH_GT else [None]
    for m in maps.values():
        preds = [m] * n
        for gt in gts:
            yield lambda preds=preds, gt=gt: score_dataset(preds, fix, shapes, protocol=proto,
                                                           metrics=metrics, gt_maps=gt,
                                                           threads=1)


def _record_calls(calls) -> set:
    seen: set = set()
    accepted = 0
    with recording(seen):
        for call in calls:
            try:
                call()
            except UserError:  # e.g. a constant map where the protocol refuses one
                continue
            accepted += 1
    if not accepted:
        raise AssertionError("no input was accepted")
    return seen


def record() -> dict:
    """``{"signatures": {kernel: [types, ...]}, "uses": {path: {protocol: {metric:
    ["kernel#i", ...]}}}}``, and under ``COMBINED`` the default set in one request."""
    rng = np.random.default_rng(0)
    raw: dict = {path: {} for path in _ahead.PATHS}
    for proto in PROTOCOLS.values():
        for path in _ahead.PATHS:
            per = raw[path].setdefault(proto.name, {})
            for metric in proto.metrics:
                calls = _api_calls(proto, metric, rng) if path == _ahead.API \
                    else _dataset_calls(proto, [metric], rng)
                per[metric] = _record_calls(calls)
        raw[_ahead.DATASET][proto.name][COMBINED] = _record_calls(
            _dataset_calls(proto, None, rng))
    sigs: dict[str, list] = {}
    for per_proto in raw.values():
        for per_metric in per_proto.values():
            for seen in per_metric.values():
                for kernel, types in seen:
                    sigs.setdefault(kernel, [])
                    if list(types) not in [list(t) for t in sigs[kernel]]:
                        sigs[kernel].append(types)
    sigs = {k: sorted(v, key=json.dumps) for k, v in sorted(sigs.items())}
    index = {(k, json.dumps(t)): f"{k}#{i}" for k, v in sigs.items() for i, t in enumerate(v)}
    uses = {path: {p: {m: sorted(index[(k, json.dumps(t))] for k, t in seen)
                       for m, seen in per.items()}
                   for p, per in per_proto.items()}
            for path, per_proto in raw.items()}
    return json.loads(json.dumps({"signatures": sigs, "uses": uses}))


_TIME_ONE = """
import json, sys, time
from numba import njit
from numba.core.dispatcher import Dispatcher
from salbench.metrics import _ahead

njit(lambda x: x + 1)(1)  # numba's first-use set-up, not counted
own, stack, original = {}, [], Dispatcher.compile


def timed(self, sig):
    f = self.py_func
    name = f"{f.__module__}:{f.__qualname__}:{f.__code__.co_firstlineno}"
    t = time.perf_counter()
    stack.append(0.0)
    try:
        return original(self, sig)
    finally:
        dt = time.perf_counter() - t
        inner = stack.pop()
        if stack:
            stack[-1] += dt
        own[name] = own.get(name, 0.0) + dt - inner


Dispatcher.compile = timed
names = json.loads(sys.argv[1])
for entry in _ahead._entries(names):
    _ahead.dispatcher(_ahead._kernel(entry)).compile(entry[1])
print(json.dumps(own))
"""


def compile_costs(signatures: dict) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Each kernel compiled alone in a fresh process with an empty cache (after numba's
    first-use set-up): ``(seconds per signature, of it and of each function it
    compiled), {kernel: the functions it compiled besides itself}``."""
    costs: dict[str, float] = {}
    callees = {}
    for kernel, sigs in signatures.items():
        names = [f"{kernel}#{i}" for i in range(len(sigs))]
        with tempfile.TemporaryDirectory() as d:
            env = {**os.environ, "NUMBA_CACHE_DIR": d}
            out = subprocess.run([sys.executable, "-c", _TIME_ONE, json.dumps(names)],
                                 env=env, capture_output=True, text=True, check=True)
        own = json.loads(out.stdout.splitlines()[-1])
        mod, _, fn = kernel.partition(".")
        me = [k for k in own if k.startswith(f"salbench.metrics.{mod}:{fn}:")]
        costs[kernel] = round(sum(own.pop(k) for k in me) / len(sigs), 2)
        callees[kernel] = sorted(own)
        for k, v in own.items():  # the least seen: its cost without first-use work
            costs[k] = round(min(costs.get(k, v), v), 2)
    return dict(sorted(costs.items())), callees


def stored(rec: dict) -> dict:
    """What the file keeps of a recording (the combined requests are only checked)."""
    uses = {path: {p: {m: v for m, v in per.items() if m != COMBINED}
                   for p, per in per_proto.items()}
            for path, per_proto in rec["uses"].items()}
    return {"signatures": rec["signatures"], "uses": uses}


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print(__doc__)
        return 2
    t = time.perf_counter()
    rec = stored(record())
    print(f"recorded in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    path = Path(_ahead.MANIFEST)
    path.write_text(json.dumps(rec, indent=1) + "\n")  # what the timing reads
    _ahead.manifest.cache_clear()
    costs, callees = compile_costs(rec["signatures"])
    out = {"about": "kernel signatures per (path, protocol, metric), recorded by "
                    "tests/kernel_manifest.py --write; costs: seconds to compile a "
                    "kernel's signature or a function it calls (the 2-core VM), and "
                    "callees, for sharing kernels between processes",
           **rec, "costs": costs, "callees": callees}
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}: {len(rec['signatures'])} kernels, "
          f"{sum(len(v) for v in rec['signatures'].values())} signatures, "
          f"{sum(costs.values()):.0f} s of compiling in all", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
