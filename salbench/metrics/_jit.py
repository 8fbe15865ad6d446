"""The one numba decorator every metric kernel uses.

``error_model="numpy"``: a division by zero gives inf/NaN as in IEEE arithmetic (and as in
the MATLAB references), instead of raising; it also drops the per-division checks that
keep loops from vectorising.  ``cache=True``: compiled code is reused across processes.
"""

from functools import partial

from numba import njit

kernel = partial(njit, cache=True, error_model="numpy")
