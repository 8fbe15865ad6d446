"""numba's cache of the metric kernels: where it lives, and that an edit to one kernel
module drops that module's compiled code (and its dependants'), not everyone's."""

import json
import os
import subprocess
import sys
from pathlib import Path

from salbench.metrics import _jit_cache


def _fresh_process(env, code):
    return subprocess.run([sys.executable, "-c", code], env=env, check=True,
                          capture_output=True, text=True)


def test_cache_lives_under_salbench_home_not_in_the_package(tmp_path):
    """A read-only install still caches: compiled kernels go to $SALBENCH_HOME/numba."""
    env = {**os.environ, "SALBENCH_HOME": str(tmp_path / "home")}
    env.pop("NUMBA_CACHE_DIR", None)
    code = ("import numpy as np; from salbench.metrics import _maps; "
            "print(_maps.moments(np.ones((3, 3))))")
    _fresh_process(env, code)
    files = list((tmp_path / "home" / "numba").rglob("*.nbi"))
    assert any(f.name.startswith("_maps.moments") for f in files)
    assert list((tmp_path / "home" / "numba").rglob(_jit_cache._STAMPS))


def test_numba_cache_dir_is_honoured_and_checked(tmp_path):
    env = {**os.environ, "SALBENCH_HOME": str(tmp_path / "home"),
           "NUMBA_CACHE_DIR": str(tmp_path / "nb")}
    _fresh_process(env, "import numpy as np; from salbench.metrics import _maps; "
                        "_maps.moments(np.ones((3, 3)))")
    assert list((tmp_path / "nb").rglob("_maps.moments*.nbi"))
    assert list((tmp_path / "nb").rglob(_jit_cache._STAMPS))
    assert not (tmp_path / "home" / "numba").exists()


def test_an_edit_drops_only_that_module_and_its_dependants(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    where = _jit_cache._module_cache_path(tmp_path)
    where.mkdir(parents=True)
    before = _jit_cache.module_digests()
    for mod in before:
        (where / f"{mod}.kernel-1.py311.nbi").write_text("x")
        (where / f"{mod}.kernel-1.py311.0.nbc").write_text("x")
    (where / _jit_cache._STAMPS).write_text(json.dumps(before))
    sources = _jit_cache._kernel_modules()
    edited = dict(sources, _rng=sources["_rng"] + "\n# an edit\n")
    monkeypatch.setattr(_jit_cache, "_kernel_modules", lambda: edited)
    monkeypatch.setattr(_jit_cache, "_configured", False)
    _jit_cache.configure()
    left = {f.name.split(".")[0] for f in where.glob("*.nbi")}
    dropped = set(before) - left
    assert dropped == {"_rng", "_auc", "_pools"}  # _auc and _pools call into _rng
    assert "_maps" in left and "_blur" in left and "_resize" in left
    assert len(list(where.glob("*.nbc"))) == len(left)
    assert json.loads((where / _jit_cache._STAMPS).read_text()) == \
        _jit_cache.module_digests()


def test_dependencies_are_transitive():
    deps = _jit_cache.module_digests()
    src = {p.stem: p.read_text() for p in Path(_jit_cache._HERE).glob("_*.py")}
    assert set(deps) == {m for m, t in src.items() if "@kernel" in t or "@intrinsic" in t}


def test_an_edit_to_an_intrinsic_drops_its_callers(monkeypatch):
    """``_twosum`` defines no kernel, only an intrinsic that ``_maps.kld`` inlines: an edit
    to it must drop ``_maps``'s compiled code too (it was not hashed before)."""
    sources = _jit_cache._kernel_modules()
    before = _jit_cache.module_digests()
    edited = dict(sources, _twosum=sources["_twosum"] + "\n# an edit\n")
    monkeypatch.setattr(_jit_cache, "_kernel_modules", lambda: edited)
    after = _jit_cache.module_digests()
    changed = {m for m in before if before[m] != after[m]}
    assert changed == {"_twosum", "_maps", "_auc"}  # _auc imports from _maps


def _numba_reading(tmp_path, content: bytes) -> BaseException:
    """The exception numba raises reading a cache index that holds ``content``."""
    from numba.core.caching import IndexDataCacheFile

    f = IndexDataCacheFile(str(tmp_path), "kernel-1.py311", ("stamp", 1))
    Path(f._index_path).write_bytes(content)
    try:
        f._load_index()
    except Exception as exc:  # whatever numba raises is the point
        return exc
    raise AssertionError("numba read a damaged index")


def test_a_damaged_kernel_cache_is_one_line_saying_what_to_delete(tmp_path, monkeypatch,
                                                                   capsys):
    """numba unpickles its cache index and data files and expects only a missing one: a
    damaged file (a disk fault) was a traceback from numba's caching code in every
    command that scored.  The command now names the cache folder to delete; any other
    error keeps its traceback."""
    import pytest

    from salbench import cli

    damaged = _numba_reading(tmp_path, b"\xb6 not a pickle")
    assert _jit_cache.damaged_cache(damaged) == _jit_cache.cache_dir()
    assert _jit_cache.damaged_cache(ValueError("elsewhere")) is None

    def fails(args):
        raise damaged

    monkeypatch.setattr(cli, "_cmd_models", fails)
    assert cli.main(["models"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("salbench: error: numba's cache of the metric kernels is damaged")
    assert str(_jit_cache.cache_dir()) in err and err.count("\n") == 1

    def bug(args):
        raise ZeroDivisionError("a real bug")

    monkeypatch.setattr(cli, "_cmd_models", bug)
    with pytest.raises(ZeroDivisionError):
        cli.main(["models"])
