"""salbench's own processes load scipy's cython_blas alone (numba's BLAS check), not
scipy.linalg, and tune the cyclic collector; library users' processes are left as they
are."""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from salbench._process import GC_YOUNG_THRESHOLD
from salbench.metrics._startup import CYTHON_BLAS


def _python(code: str, **env) -> str:
    from numba.core import config

    full = {**os.environ, "NUMBA_CACHE_DIR": str(config.CACHE_DIR), **env}
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True,
                          text=True, check=True).stdout.strip()


def test_cython_blas_loads_alone_and_numba_takes_it():
    out = _python(f"""
import sys
from salbench.metrics._startup import load_cython_blas_alone
assert load_cython_blas_alone()
assert {CYTHON_BLAS!r} in sys.modules and 'scipy.linalg' not in sys.modules
assert not load_cython_blas_alone()  # once
import numpy as np
from salbench.metrics import _maps
_maps.moments(np.ones((3, 3)))  # numba's first cache load or compile: its BLAS check
import numba.np.arraymath as am
assert am._HAVE_BLAS
assert 'scipy.linalg' not in sys.modules
import scipy.linalg, scipy.linalg.cython_blas as cb
assert cb is sys.modules[{CYTHON_BLAS!r}] and len(cb.__pyx_capi__) > 100
print('ok')
""")
    assert out == "ok"


def test_nothing_is_done_where_scipy_linalg_is_imported():
    out = _python("""
import sys, scipy.linalg
from salbench.metrics._startup import load_cython_blas_alone
print(load_cython_blas_alone())
""")
    assert out == "False"


def test_the_cli_scores_without_importing_scipy_linalg(workdir):
    """(The synthetic set made first, apart: generating it imports scipy.ndimage, which
    imports scipy.linalg in scipy 1.11.)"""
    from salbench.data import DatasetSpec, generate

    generate(DatasetSpec(n_train=24, n_val=12).synth_config)
    np.save(workdir / "p.npy", np.random.default_rng(0).random((12, 48, 48)))
    code = ("import sys; from salbench.cli import main; "
            "rc = main(['score', 'p.npy', '--protocol', 'exact', '--metrics', 'auc_borji', "
            "'--no-store']); print(rc, 'scipy.linalg' in sys.modules)")
    assert _python(code).splitlines()[-1] == "0 False"
    # a library user's process is left alone: numba imports scipy.linalg as usual
    code = ("import sys, numpy as np; from salbench.metrics import _maps; "
            "_maps.moments(np.ones((3, 3))); print('scipy.linalg' in sys.modules)")
    assert _python(code) == "True"


def test_the_command_tunes_the_collector_and_still_writes_everything(workdir):
    """``salbench`` (``console``) collects less often and freezes the collector before the
    interpreter's shutdown, and its output is complete; ``main``, for library callers,
    leaves the collector alone; a user error still exits 2 with one line."""
    np.save(workdir / "p.npy", np.random.default_rng(0).random((12, 48, 48)))
    score = ("'score', 'p.npy', '--protocol', 'exact', '--metrics', 'auc_borji', "
             "'--no-store', '--out', 'r.json'")
    code = ("import gc, sys; from salbench.cli import console; "
            f"rc = console([{score}]); print(rc, gc.get_freeze_count() > 0, "
            "gc.get_threshold()[0])")
    out = _python(code)
    assert out.splitlines()[-1] == f"0 True {GC_YOUNG_THRESHOLD}"
    assert "auc_borji" in out  # the table
    result = json.loads((workdir / "r.json").read_text())
    scores = result["per_image"]["scores"]["auc_borji"]
    assert len(scores) == 12 and result["metrics"]["auc_borji"]["mean"] == np.mean(scores)
    # frozen by main: none (Python 3.12 starts with objects of its own frozen)
    code = ("import gc; from salbench.cli import main; before = gc.get_freeze_count(); "
            "rc = main(['metrics']); print(rc, gc.get_freeze_count() - before, "
            "gc.get_threshold())")
    python_default = _python("import gc; print(gc.get_threshold())")
    assert _python(code).splitlines()[-1] == f"0 0 {python_default}"
    bad = subprocess.run([sys.executable, "-m", "salbench", "score", "missing.npy",
                          "--dataset", "synth", "--no-store"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("salbench: error:")


def test_a_closed_pipe_is_left_to_the_shutdown_as_before():
    """``freeze_for_exit`` with stdout's reader gone (``salbench ... | head``): no
    traceback of its own; the interpreter's shutdown reports the pipe as it always does."""
    code = ("import sys; sys.stdin.read(); sys.stdout.write('x' * 100); "
            "from salbench._process import freeze_for_exit; freeze_for_exit(); "
            "print('after', file=sys.stderr)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a buffered stdout
    p = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    p.stdout.close()  # the reader is gone before the child writes
    p.stdin.close()  # ... and then the child goes on
    err = p.stderr.read()
    p.wait()
    assert "after" in err and "Traceback" not in err


# a stand-in for coverage, enough for numba's plugin module, that logs its import
_FAKE_COVERAGE = {
    "__init__.py": ("import os\n"
                    "with open(os.environ['FAKE_COVERAGE_LOG'], 'a') as f:\n"
                    "    f.write('imported\\n')\n"
                    "from . import types\n\n\n"
                    "class Coverage:\n"
                    "    @staticmethod\n"
                    "    def current():\n"
                    "        return None\n"),
    "types.py": ("class Tracer:\n    pass\n\n\n"
                 "def __getattr__(name):\n    return object\n"),
}


def _with_fake_coverage(tmp_path, code: str, **env) -> tuple[str, bool]:
    pkg = tmp_path / "fake" / "coverage"
    pkg.mkdir(parents=True, exist_ok=True)
    for name, text in _FAKE_COVERAGE.items():
        (pkg / name).write_text(text)
    log = tmp_path / "coverage.log"
    log.unlink(missing_ok=True)
    path = os.pathsep.join([str(pkg.parent), os.environ.get("PYTHONPATH", "")])
    out = _python(code, PYTHONPATH=path, FAKE_COVERAGE_LOG=str(log), **env)
    return out, log.exists()


# numba's coverage plugin (numba 0.60 has none; then numba never imports coverage)
needs_plugin = pytest.mark.skipif(importlib.util.find_spec("numba.misc.coverage_support")
                                  is None, reason="this numba has no coverage plugin")


@needs_plugin
def test_the_cli_imports_numba_without_coverage(workdir):
    """numba imports coverage, when installed, for a plugin that is off unless
    NUMBA_JIT_COVERAGE is set; salbench's scoring commands hide it meanwhile.  A library
    user's process, a process where coverage was imported first (``coverage run``) and
    one that asks for numba's plugin import it as before."""
    np.save(workdir / "p.npy", np.random.default_rng(0).random((12, 48, 48)))
    score = ("import sys; from salbench.cli import main; rc = main(['score', 'p.npy', "
             "'--protocol', 'exact', '--metrics', 'auc_borji', '--no-store']); "
             "import numba.misc.coverage_support as cs; "
             "print(rc, cs.coverage_available, 'coverage' in sys.modules)")
    out, imported = _with_fake_coverage(workdir, score)
    assert out.splitlines()[-1] == "0 False False" and not imported
    out, imported = _with_fake_coverage(workdir, score, NUMBA_JIT_COVERAGE="1")
    assert out.splitlines()[-1] == "0 True True" and imported
    out, imported = _with_fake_coverage(workdir, "import coverage; " + score)
    assert out.splitlines()[-1] == "0 True True" and imported
    library = "import numba.misc.coverage_support as cs; print(cs.coverage_available)"
    assert _with_fake_coverage(workdir, library) == ("True", True)


@needs_plugin
def test_coverage_is_hidden_only_within():
    out = _python("""
import sys
from salbench.metrics._startup import numba_without_coverage
with numba_without_coverage() as hidden:
    assert hidden
    try:
        import coverage
    except ImportError:
        pass
    else:
        raise AssertionError('coverage importable within')
    import numba.misc.coverage_support as cs
    assert not cs.coverage_available
assert 'coverage' not in sys.modules  # nothing left behind
with numba_without_coverage() as hidden:
    print(hidden)  # numba is imported now: nothing to hide
""")
    assert out == "False"
