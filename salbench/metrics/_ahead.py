"""Compile the kernels a request will call before scoring starts, on several processes.

numba compiles one kernel at a time (a process-wide lock), so a first score with an empty
cache spends most of its time compiling on one core.  ``kernel_signatures.json`` lists
the kernel signatures each (protocol, metric) calls on each path (``api``: the per-image
functions; ``dataset``: the dataset scorer).  It is recorded from the code by
``python tests/kernel_manifest.py --write``, and ``tests/test_compile_ahead.py`` fails
when it no longer matches.  On a request's first use in a process, the signatures not
yet in numba's cache are shared out, whole kernels at a time, longest first, between
this process and up to ``processes() - 1`` workers (``python -m
salbench.metrics._ahead``) that only fill the cache; the kernels then load from it.

No number depends on this: a signature the list lacks compiles on its first call as
before, and a worker that fails or hangs costs only time.  A protocol variant
(``base[field=value]``) compiles lazily.  ``SALBENCH_COMPILE_PROCESSES=1`` turns this
off; another value caps the processes (default: the usable CPUs, at most 8).
"""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from functools import cache
from importlib import import_module
from pathlib import Path

from ..errors import UserError
from .protocols import PROTOCOLS, Protocol

API = "api"
DATASET = "dataset"
PATHS = (API, DATASET)
MANIFEST = Path(__file__).with_name("kernel_signatures.json")
PROCESSES_ENV = "SALBENCH_COMPILE_PROCESSES"
MAX_PROCESSES = 8  # each worker holds ~150 MB (numba and LLVM)
WORKER_START_S = 0.5  # a worker's start before it compiles (python, numba imported): 2-core VM
WORKER_TIMEOUT_S = 900.0  # then it is killed and what it had left compiles lazily
_KERNEL_NAME = re.compile(r"(_[a-z]+)\.([A-Za-z_]\w*)$")
_ARRAY = re.compile(r"(readonly )?array\((\w+), (\d)d, ([CFA])\)$")

_done: set[tuple[str, str, str]] = set()  # (path, protocol, metric) handled here
_lock = threading.Lock()

Entry = tuple[str, tuple]  # ("_maps.moments#0", its argument types): a listed signature


def processes() -> int:
    """How many processes may compile at once (this one included)."""
    env = os.environ.get(PROCESSES_ENV, "").strip()
    if env:
        if not env.isdigit() or int(env) < 1:
            raise UserError(f"{PROCESSES_ENV} must be a whole number >= 1, got {env!r}",
                            hint="1 compiles each kernel on its first call, in this process")
        return int(env)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_PROCESSES))


@cache
def _scalars() -> dict:
    """The scalar types kernels take, by their text (``"bool"``, ``"float64"``, ...)."""
    from numba.core import types

    return {str(t): t for t in (types.boolean, types.int32, types.int64, types.uint64,
                                types.float32, types.float64)}


def type_spec(t) -> str | tuple:
    """A numba argument type as JSON-able text: ``"float64"``, ``"readonly array(float64,
    2d, C)"``, a tuple of those for a tuple."""
    from numba.core import types

    if isinstance(t, types.BaseTuple):
        return tuple(type_spec(x) for x in t)
    s = str(t)
    m = _ARRAY.match(s)
    if s in _scalars() or (m and m.group(2) in _scalars()):
        return s
    raise ValueError(f"no text form for the numba type {t!r}")


def from_spec(spec):
    """The numba type that :func:`type_spec` wrote."""
    from numba.core import types

    scalars = _scalars()
    if isinstance(spec, list | tuple):
        return types.BaseTuple.from_types([from_spec(x) for x in spec])
    if spec in scalars:
        return scalars[spec]
    m = _ARRAY.match(spec)
    if m is None or m.group(2) not in scalars:
        raise ValueError(f"unknown type text {spec!r}")
    return types.Array(scalars[m.group(2)], int(m.group(3)), m.group(4),
                       readonly=bool(m.group(1)))


@cache
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def dispatcher(name: str):
    """The kernel ``"_maps.moments"`` (kernel modules of this package only)."""
    from numba.core.dispatcher import Dispatcher

    m = _KERNEL_NAME.match(name)
    if m is None:
        raise ValueError(f"not a kernel name: {name!r}")
    disp = getattr(import_module(f"{__package__}.{m.group(1)}"), m.group(2))
    if not isinstance(disp, Dispatcher):
        raise ValueError(f"{name} is not a numba kernel")
    return disp


def _entries(names: Iterable[str]) -> list[Entry]:
    sigs = manifest()["signatures"]
    out = []
    for name in sorted(set(names)):
        kernel, _, i = name.rpartition("#")
        out.append((name, tuple(from_spec(a) for a in sigs[kernel][int(i)])))
    return out


def _kernel(entry: Entry) -> str:
    return entry[0].rpartition("#")[0]


def _compile(entry: Entry) -> bool:
    """Compile one signature (into the cache); False when numba refuses it or the list
    no longer fits the code (a kernel renamed, its arguments changed): it then compiles,
    or fails with numba's message, where it is called."""
    from numba.core.errors import NumbaError

    try:
        dispatcher(_kernel(entry)).compile(entry[1])
    except (NumbaError, TypeError, ValueError, AttributeError, ImportError):
        return False
    return True


def _cached(entry: Entry) -> bool:
    """Whether this process has the signature or numba's cache holds it (also when that
    cannot be told, or the kernel is gone: numba then does as it always does)."""
    try:
        disp = dispatcher(_kernel(entry))
    except (ValueError, AttributeError, ImportError):
        return True
    sig = entry[1]
    if sig in disp.overloads:
        return True
    try:
        fc = disp._cache
        key = fc._index_key(sig, disp.targetctx.codegen())
        return key in fc._cache_file._load_index()
    except (AttributeError, OSError, EOFError, pickle.UnpicklingError):
        return True  # no cache (nowhere to write one), or numba's internals changed


def pending(requests: Iterable[tuple[Protocol, Iterable[str]]], path: str) -> list[Entry]:
    """The listed signatures that ``(protocol, metrics)`` requests on ``path`` will call
    and that are neither loaded nor cached; empty after the first call for a request, and
    when only one process may compile."""
    if path not in PATHS:
        raise ValueError(f"path must be one of {PATHS}, got {path!r}")
    with _lock:
        keys = {(path, p.name, m) for p, ms in requests for m in ms
                if (path, p.name, m) not in _done and PROTOCOLS.get(p.name) == p}
        if not keys:
            return []
        _done.update(keys)
        if processes() < 2:
            return []
        try:
            uses = manifest()["uses"][path]
        except (OSError, ValueError, KeyError):
            return []
        names = [n for _, p, m in keys for n in uses.get(p, {}).get(m, ())]
        try:
            entries = _entries(names)
        except (KeyError, IndexError, ValueError):  # a list out of step with itself
            return []
        return [e for e in entries if not _cached(e)]


def _share(entries: list[Entry], n: int) -> list[list[Entry]]:
    """Whole kernels to ``n`` processes so that the last one finishes soonest: longest
    first, each where it would finish soonest, then single moves and swaps while they
    help.  A function that several kernels call compiles once per process, so such
    kernels tend to share one.  Workers start ``WORKER_START_S`` late; the first share
    is this process's."""
    man = manifest()
    costs, callees = man.get("costs", {}), man.get("callees", {})
    kernels: dict[str, list[Entry]] = {}
    for e in entries:  # a kernel's signatures share one cache index: one process writes it
        kernels.setdefault(_kernel(e), []).append(e)
    own = {k: costs.get(k, 1.0) * len(v) for k, v in kernels.items()}

    def load(ks: list[str], i: int) -> float:
        if not ks:
            return 0.0
        # summed in sorted order: near-ties then fall alike whatever the hash seed
        calls = sorted(set().union(*(callees.get(k, ()) for k in ks)))
        return (WORKER_START_S if i else 0.0) + sum(own[k] for k in sorted(ks)) \
            + sum(costs.get(c, 0.0) for c in calls)

    where: dict[str, int] = {}

    def members() -> list[list[str]]:
        out: list[list[str]] = [[] for _ in range(n)]
        for q, i in where.items():
            out[i].append(q)
        return out

    for k in sorted(kernels, key=lambda k: (-load([k], 0), k)):
        now = members()
        where[k] = min(range(n), key=lambda i: load(now[i] + [k], i))

    def score() -> tuple[float, float]:
        loads = [load(ks, i) for i, ks in enumerate(members())]
        return max(loads), sum(loads)

    def tries():  # a kernel to another process, or two kernels swapped
        for k in sorted(where):
            for i in range(n):
                if i != where[k]:
                    yield {k: i}
        for k in sorted(where):
            for q in sorted(where):
                if k < q and where[k] != where[q]:
                    yield {k: where[q], q: where[k]}

    best, moved = score(), True
    while moved:
        moved = False
        for change in tries():
            was = {k: where[k] for k in change}
            where.update(change)
            if score() < best:
                best, moved = score(), True
                break
            where.update(was)
    shares: list[list[Entry]] = [[] for _ in range(n)]
    for k in sorted(where):
        shares[where[k]].extend(kernels[k])
    return [s for i, s in enumerate(shares) if i == 0 or s]


def _spawn(share: list[Entry]) -> subprocess.Popen | None:
    from numba.core import config

    if not sys.executable:  # an embedded interpreter: no python to start
        return None
    names = [name for name, _ in share]
    env = {**os.environ, "NUMBA_CACHE_DIR": str(config.CACHE_DIR), PROCESSES_ENV: "1"}
    root = Path(__file__).resolve().parents[2]  # import this very salbench, not the cwd's
    try:
        p = subprocess.Popen([sys.executable, "-m", f"{__package__}._ahead"], cwd=root,
                             env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    except OSError:
        return None
    try:
        p.stdin.write(json.dumps(names).encode())
        p.stdin.close()
    except OSError:  # it died at once
        p.kill()
        p.wait()
        return None
    return p


def compile_entries(entries: list[Entry], advance: Callable[[int], None] = lambda n: None
                    ) -> None:
    """Compile ``entries`` (from :func:`pending`) on up to :func:`processes` processes;
    ``advance(n)`` as ``n`` more are done."""
    if not entries:
        return
    shares = _share(entries, processes())
    workers = []
    for share in shares[1:]:
        p = _spawn(share)
        if p is None:
            shares[0].extend(share)
        else:
            workers.append((p, len(share)))
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    try:
        for entry in shares[0]:
            _compile(entry)
            advance(1)
        for p, n in workers:
            try:
                p.wait(max(deadline - time.monotonic(), 0.0))
            except subprocess.TimeoutExpired:
                pass
            advance(n)
    finally:
        for p, _ in workers:
            if p.poll() is None:
                p.kill()
                p.wait()


def compile_ahead(requests: Iterable[tuple[Protocol, Iterable[str]]], path: str) -> None:
    """:func:`pending`, then :func:`compile_entries` (without progress)."""
    compile_entries(pending(requests, path))


def _worker() -> int:
    """Compile the kernels named on stdin (``["_maps.moments#0", ...]``) into the cache;
    with fewer collections and a quick exit (``salbench._process``)."""
    from .._process import collect_less, freeze_for_exit
    from ._startup import load_cython_blas_alone, numba_without_coverage

    collect_less()
    load_cython_blas_alone()
    with numba_without_coverage():
        done = [_compile(entry) for entry in _entries(json.load(sys.stdin))]
    freeze_for_exit()
    return 0 if all(done) else 1


if __name__ == "__main__":
    sys.exit(_worker())
