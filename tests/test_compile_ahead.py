"""Compiling ahead (``salbench.metrics._ahead``): the signature list matches the code,
workers fill numba's cache so that the kernels then load without compiling, and
nothing goes wrong when a worker cannot start or hangs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import kernel_manifest as km
import pytest

from salbench.errors import UserError
from salbench.metrics import PROTOCOLS, REPLICATION, _ahead


@pytest.fixture(scope="module")
def recorded():
    return km.record()


@pytest.fixture
def fresh(monkeypatch):
    """A process that has handled no request yet, allowed 2 processes."""
    monkeypatch.setattr(_ahead, "_done", set())
    monkeypatch.setenv(_ahead.PROCESSES_ENV, "2")


def test_signature_list_matches_the_code(recorded):
    stored = {k: _ahead.manifest()[k] for k in ("signatures", "uses")}
    assert km.stored(recorded) == stored, (
        "salbench/metrics/kernel_signatures.json is out of date: run "
        "`python tests/kernel_manifest.py --write`")


def test_every_listed_kernel_has_a_cost():
    man = _ahead.manifest()
    assert set(man["signatures"]) <= set(man["costs"])
    assert set(man["callees"]) == set(man["signatures"])


def test_per_metric_lists_cover_a_whole_request(recorded):
    """Requests are compiled as the union of their metrics' lists: check that a
    protocol's default set scored in one request calls nothing outside that union."""
    for proto in PROTOCOLS.values():
        per = recorded["uses"][_ahead.DATASET][proto.name]
        union = set().union(*(per[m] for m in proto.default_metrics))
        assert set(per[km.COMBINED]) <= union, proto.name


def test_every_metric_of_every_protocol_is_listed():
    uses = _ahead.manifest()["uses"]
    for path in _ahead.PATHS:
        for proto in PROTOCOLS.values():
            listed = uses[path][proto.name]
            assert set(listed) == set(proto.metrics)
            assert all(listed[m] for m in proto.metrics), (path, proto.name)


@pytest.mark.parametrize("text", [
    "float64", "int64", "bool", "float32", "array(float64, 2d, C)",
    "readonly array(int64, 1d, C)", "array(float32, 1d, A)",
    ("float64", "int64"), ("array(float64, 2d, C)", "array(float64, 2d, C)"),
])
def test_type_texts_round_trip(text):
    assert _ahead.type_spec(_ahead.from_spec(text)) == text


def test_type_texts_refuse_what_they_do_not_know():
    from numba.core import types

    with pytest.raises(ValueError):
        _ahead.from_spec("complex128")
    with pytest.raises(ValueError):
        _ahead.from_spec("array(object, 2d, C)")
    with pytest.raises(ValueError):
        _ahead.type_spec(types.unicode_type)
    with pytest.raises(ValueError):
        _ahead.dispatcher("os.system")


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_processes_setting_is_checked(monkeypatch, value):
    monkeypatch.setenv(_ahead.PROCESSES_ENV, value)
    with pytest.raises(UserError, match=_ahead.PROCESSES_ENV):
        _ahead.processes()


def test_processes_default_to_the_usable_cpus(monkeypatch):
    monkeypatch.delenv(_ahead.PROCESSES_ENV, raising=False)
    assert 1 <= _ahead.processes() <= min(os.cpu_count() or 1, _ahead.MAX_PROCESSES)
    monkeypatch.setenv(_ahead.PROCESSES_ENV, "3")
    assert _ahead.processes() == 3


def test_one_process_compiles_lazily(fresh, monkeypatch):
    monkeypatch.setenv(_ahead.PROCESSES_ENV, "1")
    assert _ahead.pending([(REPLICATION, ("cc",))], _ahead.API) == []


def test_protocol_variants_compile_lazily(fresh, monkeypatch):
    monkeypatch.setattr(_ahead, "_cached", lambda e: False)
    variant = REPLICATION.replace(gt_sigma=5.0)
    assert _ahead.pending([(variant, ("cc",))], _ahead.API) == []
    assert _ahead.pending([(REPLICATION, ("cc",))], _ahead.API)


def test_a_request_is_looked_at_once(fresh, monkeypatch):
    monkeypatch.setattr(_ahead, "_cached", lambda e: False)
    first = _ahead.pending([(REPLICATION, ("cc", "sauc"))], _ahead.DATASET)
    names = _ahead.manifest()["uses"][_ahead.DATASET]["replication"]
    assert sorted(n for n, _ in first) == sorted(set(names["cc"]) | set(names["sauc"]))
    assert _ahead.pending([(REPLICATION, ("cc", "sauc"))], _ahead.DATASET) == []
    again = _ahead.pending([(REPLICATION, ("cc", "auc_borji"))], _ahead.DATASET)
    assert sorted(n for n, _ in again) == sorted(set(names["auc_borji"]))


def test_shares_keep_kernels_whole_and_hold_every_entry_once(fresh, monkeypatch):
    monkeypatch.setattr(_ahead, "_cached", lambda e: False)
    entries = _ahead.pending([(p, p.metrics) for p in PROTOCOLS.values()], _ahead.DATASET)
    for n in (1, 2, 3, 8):
        shares = _ahead._share(entries, n)
        assert 1 <= len(shares) <= n
        flat = [e[0] for s in shares for e in s]
        assert sorted(flat) == sorted(e[0] for e in entries)
        owner = {}
        for i, s in enumerate(shares):
            for e in s:
                assert owner.setdefault(_ahead._kernel(e), i) == i


def test_shares_balance_the_listed_costs(monkeypatch):
    man = {"costs": {"_m.a": 4.0, "_m.b": 3.0, "_m.c": 2.0, "_m.d": 1.0, "_m.e": 1.0},
           "callees": {}}
    monkeypatch.setattr(_ahead, "manifest", lambda: man)
    monkeypatch.setattr(_ahead, "WORKER_START_S", 0.0)
    entries = [(f"_m.{k}#0", ()) for k in "abcde"]
    shares = _ahead._share(entries, 2)
    loads = sorted(sum(man["costs"][_ahead._kernel(e)] for e in s) for s in shares)
    assert loads == [5.0, 6.0]  # a+d | b+c+e, greedy longest first


def test_kernels_that_call_the_same_functions_share_a_process(monkeypatch):
    man = {"costs": {"_m.a": 1.0, "_m.b": 1.0, "_m.c": 1.5, "sort": 3.0},
           "callees": {"_m.a": ["sort"], "_m.b": ["sort"], "_m.c": []}}
    monkeypatch.setattr(_ahead, "manifest", lambda: man)
    monkeypatch.setattr(_ahead, "WORKER_START_S", 0.0)
    shares = _ahead._share([(f"_m.{k}#0", ()) for k in "abc"], 2)
    together = [{_ahead._kernel(e) for e in s} for s in shares]
    assert {"_m.a", "_m.b"} in together  # 5 s together; apart, each would pay the sort


_SHARES = """
import json
from salbench.metrics import PROTOCOLS, _ahead
_ahead._cached = lambda e: False
todo = _ahead.pending([(p, p.metrics) for p in PROTOCOLS.values()], _ahead.DATASET)
print(json.dumps([[[e[0] for e in s] for s in _ahead._share(todo, n)] for n in (2, 3, 8)]))
"""


def test_shares_do_not_depend_on_the_hash_seed():
    outs = {subprocess.run([sys.executable, "-c", _SHARES], capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": seed,
                                            _ahead.PROCESSES_ENV: "8"}).stdout
            for seed in ("1", "2", "3")}
    assert len(outs) == 1


class _Fake:
    def __init__(self, log):
        self.log = log

    def compile(self, sig):
        self.log.append(sig)


def test_a_worker_that_cannot_start_leaves_its_share_here(monkeypatch):
    log, advanced = [], []
    monkeypatch.setattr(_ahead, "dispatcher", lambda name: _Fake(log))
    monkeypatch.setenv(_ahead.PROCESSES_ENV, "3")

    def refuse(*a, **k):
        raise OSError("no more processes")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    entries = [(f"_maps.k{i}#0", (i,)) for i in range(5)]
    _ahead.compile_entries(entries, advanced.append)
    assert sorted(log) == [(i,) for i in range(5)]
    assert sum(advanced) == 5


def test_a_worker_collects_less_and_exits_quickly():
    """A compile worker runs with ``salbench._process``'s collector settings (its own
    process: checked in a fresh interpreter, not this one)."""
    from salbench._process import GC_YOUNG_THRESHOLD

    code = ("import gc, io, sys; sys.stdin = io.StringIO('[]'); "
            "from salbench.metrics import _ahead; rc = _ahead._worker(); "
            "print(rc, gc.get_threshold()[0], gc.get_freeze_count() > 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["0", str(GC_YOUNG_THRESHOLD), "True"]


def test_a_list_out_of_step_with_the_code_costs_only_time(fresh, monkeypatch):
    """A kernel renamed or given other arguments since the list was recorded: nothing is
    compiled ahead for it, no error; the kernel compiles on its first call."""
    import numpy as np

    from salbench.metrics import _maps

    f64 = _ahead.from_spec("float64")
    stale = [("_maps.gone#0", (f64,)), ("_maps.value_range#0", (f64, f64, f64)),
             ("_nomodule.kernel#0", (f64,))]
    monkeypatch.setenv(_ahead.PROCESSES_ENV, "1")
    for entry in stale:
        assert not _ahead._compile(entry)
    assert _ahead._cached(stale[0]) and _ahead._cached(stale[2])
    _ahead.compile_entries(stale)
    man = {"signatures": {"_maps.value_range": [["float64"]]},
           "uses": {_ahead.DATASET: {"replication": {"cc": ["_maps.value_range#3"]}}}}
    monkeypatch.setattr(_ahead, "manifest", lambda: man)
    monkeypatch.setenv(_ahead.PROCESSES_ENV, "2")
    assert _ahead.pending([(REPLICATION, ("cc",))], _ahead.DATASET) == []
    assert _maps.value_range(np.array([[2.0, -1.0]])) == (-1.0, 2.0)


def test_a_hung_worker_is_killed(monkeypatch):
    log, advanced, started = [], [], []
    monkeypatch.setattr(_ahead, "dispatcher", lambda name: _Fake(log))
    monkeypatch.setattr(_ahead, "WORKER_TIMEOUT_S", 1.0)
    monkeypatch.setenv(_ahead.PROCESSES_ENV, "2")
    popen = subprocess.Popen

    def hang(*a, **k):
        p = popen([sys.executable, "-c", "import time; time.sleep(60)"], stdin=subprocess.PIPE)
        started.append(p)
        return p

    monkeypatch.setattr(subprocess, "Popen", hang)
    entries = [(f"_maps.k{i}#0", (i,)) for i in range(4)]
    t = time.monotonic()
    _ahead.compile_entries(entries, advanced.append)
    assert time.monotonic() - t < 30
    assert started and all(p.poll() is not None for p in started)
    assert sum(advanced) == 4 and 0 < len(log) < 4


_COLD = """
import gc, json
import numpy as np
from numba.core.dispatcher import Dispatcher
from salbench.metrics import REPLICATION, _ahead, cc


def counts():
    ds = [d for d in gc.get_objects()
          if isinstance(d, Dispatcher) and d.py_func.__module__.startswith("salbench")]
    return (sum(sum(d.stats.cache_misses.values()) for d in ds),
            sum(sum(d.stats.cache_hits.values()) for d in ds))


todo = _ahead.pending([(REPLICATION, ("cc",))], _ahead.API)
_ahead.compile_entries(todo)
before = counts()
m = np.random.default_rng(0).random((48, 48))
fix = np.array([[10, 20], [30, 40], [300, 500]])
v = cc(m, fix, protocol="replication", shape=(480, 640))
print(json.dumps({"todo": [n for n, _ in todo], "value": v, "before": before,
                  "after": counts()}))
"""


@pytest.mark.slow
def test_workers_fill_the_cache_and_the_kernels_then_load(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba"),
           _ahead.PROCESSES_ENV: "2"}

    def run():
        out = subprocess.run([sys.executable, "-c", _COLD], env=env, capture_output=True,
                             text=True, check=True)
        return json.loads(out.stdout.splitlines()[-1])

    cold = run()
    listed = _ahead.manifest()["uses"][_ahead.API]["replication"]["cc"]
    assert sorted(cold["todo"]) == sorted(listed)
    (miss0, hit0), (miss1, hit1) = cold["before"], cold["after"]
    assert miss0 > 0 and hit0 == 0  # this process compiled its share
    assert miss1 == miss0  # the call compiled nothing more...
    assert hit1 > 0  # ...and loaded what the worker compiled from the cache
    warm = run()
    assert warm["todo"] == []  # all cached: no worker starts
    assert warm["before"] == [0, 0] and warm["after"][0] == 0
    assert warm["value"] == cold["value"]


# numba constructs that cost seconds of compiling in each process that compiles a kernel
# using them (DEVELOPERS.md, "Kernel speed"): numba's sort (np.sort, np.unique, argsort,
# .sort()) and an array assigned into a slice; numpy does the first outside the kernels,
# a loop the second
_SORTS = {"sort", "unique", "argsort"}


def _kernel_functions():
    import ast
    from pathlib import Path

    import salbench.metrics as metrics

    for path in sorted(Path(metrics.__file__).parent.glob("_*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and any(
                    (isinstance(d, ast.Name) and d.id == "kernel")
                    or (isinstance(d, ast.Call) and isinstance(d.func, ast.Name)
                        and d.func.id == "kernel") for d in node.decorator_list):
                yield f"{path.name}:{node.name}", node


def _slow_to_compile(fn) -> list[str]:
    import ast

    found = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in _SORTS:
            found.append(f"line {node.lineno}: .{node.func.attr}()")
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            sliced = any(isinstance(t, ast.Subscript) and any(
                isinstance(s, ast.Slice) for s in ast.walk(t.slice)) for t in targets)
            if sliced and not isinstance(node.value, ast.Constant):
                found.append(f"line {node.lineno}: a value assigned into a slice")
    return sorted(found)


def test_kernels_avoid_what_takes_seconds_to_compile():
    kernels = dict(_kernel_functions())
    assert {"_auc.py:mw_prepare", "_maps.py:centred_cov", "_blur.py:blur_r8_into"} \
        <= set(kernels)
    bad = {name: found for name, fn in kernels.items() if (found := _slow_to_compile(fn))}
    assert not bad, bad


def test_the_compile_cost_check_finds_both_constructs():
    import ast

    src = ("@kernel\ndef f(a, n):\n    s = np.sort(a)\n    b = np.empty(n)\n"
           "    b[:n] = s[:n]\n    b[0:1] = 0.0\n    return b\n")
    found = _slow_to_compile(ast.parse(src).body[0])
    assert sorted(found) == ["line 3: .sort()", "line 5: a value assigned into a slice"]
