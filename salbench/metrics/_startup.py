"""A cheaper numba start-up for salbench's own processes (the CLI, the compile workers).

On its first compile or cache load in a process numba imports ``numba.np.arraymath``,
which checks for a BLAS with ``import scipy.linalg.cython_blas``.  That statement runs
``scipy.linalg``'s ``__init__`` first, which imports most of scipy.linalg and, through
scipy's array-API layer, ``numpy.f2py``: 0.23–0.34 s on the 2-core VM, of which the
extension module itself is 0.03 s.  :func:`load_cython_blas_alone` loads that extension
module on its own under its full name, so the check finds it in ``sys.modules``.  It is
the same shared library numba would have loaded, and salbench's kernels call no BLAS
through numba, so no number changes.  Library users' processes are left alone: a
submodule registered without its package is not something to do behind a user's back.

numba also imports ``coverage``, when it is installed, for its JIT coverage plugin (off
unless ``NUMBA_JIT_COVERAGE`` is set).  On the 2-core VM ``import numba`` took 0.30-0.31 s
with coverage 7.17 installed against 0.24-0.25 s without; in ``salbench score``, which has
imported some of what coverage imports, numba's import took 153-212 ms with it hidden
against 173-233 ms (``-X importtime``, 8 runs each, alternating).  Within
:func:`numba_without_coverage` ``import coverage`` fails; salbench's own processes score
within it, unless coverage is in use: imported first (``coverage run``) or asked for by
``NUMBA_JIT_COVERAGE``.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path

CYTHON_BLAS = "scipy.linalg.cython_blas"
COVERAGE = "coverage"
JIT_COVERAGE_ENV = "NUMBA_JIT_COVERAGE"


def load_cython_blas_alone() -> bool:
    """Load ``scipy.linalg.cython_blas`` without importing ``scipy.linalg``; False (and
    nothing done) when either is already imported or the file cannot be found or loaded,
    numba then imports it as it always does."""
    if CYTHON_BLAS in sys.modules or "scipy.linalg" in sys.modules:
        return False
    try:
        spec = importlib.util.find_spec("scipy")  # finds, does not import
        if spec is None or not spec.submodule_search_locations:
            return False
        linalg = Path(next(iter(spec.submodule_search_locations))) / "linalg"
        path = next((linalg / f"cython_blas{s}" for s in importlib.machinery.EXTENSION_SUFFIXES
                     if (linalg / f"cython_blas{s}").is_file()), None)
        if path is None:
            return False
        blas_spec = importlib.util.spec_from_file_location(CYTHON_BLAS, path)
        if blas_spec is None or blas_spec.loader is None:
            return False
        module = importlib.util.module_from_spec(blas_spec)
        blas_spec.loader.exec_module(module)
    except (ImportError, OSError, ValueError):
        return False
    sys.modules[CYTHON_BLAS] = module
    return True


@contextlib.contextmanager
def numba_without_coverage() -> Iterator[bool]:
    """Within: ``import coverage`` raises ImportError, so that a first numba import skips
    its coverage plugin; yields whether it hid anything.  Nothing is hidden when numba or
    coverage is already imported (``coverage run`` imports it first) or
    ``NUMBA_JIT_COVERAGE`` asks for numba's plugin."""
    hide = ("numba" not in sys.modules and COVERAGE not in sys.modules
            and os.environ.get(JIT_COVERAGE_ENV, "0").strip() in ("", "0"))
    if hide:
        sys.modules[COVERAGE] = None  # type: ignore[assignment]
    try:
        yield hide
    finally:
        if hide and COVERAGE in sys.modules and sys.modules[COVERAGE] is None:
            del sys.modules[COVERAGE]
