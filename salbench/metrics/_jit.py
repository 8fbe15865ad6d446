"""The one numba decorator every metric kernel uses, and where compiled code is cached.

``error_model="numpy"``: a division by zero gives inf/NaN as in IEEE arithmetic (and as in
the MATLAB references), instead of raising; it also drops the per-division checks that
keep loops from vectorising.  ``nogil=True``: the dataset scorer runs images on threads.
``cache=True``: compiled code is reused across processes, in ``$SALBENCH_HOME/numba``
unless ``NUMBA_CACHE_DIR`` says otherwise, so read-only installs cache too.
"""

from functools import partial

from ._jit_cache import configure

configure()  # before any kernel is decorated: numba picks the cache place then

# ruff: noqa: E402
from numba import njit

kernel = partial(njit, cache=True, error_model="numpy", nogil=True)
