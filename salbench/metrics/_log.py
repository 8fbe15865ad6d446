"""A natural logarithm over a block of values that vectorises.

numba calls libm's ``log`` one value at a time (~7 ns each on the 2-core VM), and KLD takes
one per pixel.  :func:`log_into` is plain arithmetic on the values' bits, which LLVM turns
into SIMD.  It is within 1 ulp of the correctly rounded logarithm (``tests/test_log.py``
checks it against numpy's and against 60-digit decimal logarithms); values that are not
positive, normal and finite go to ``math.log`` instead.

Method: ``x = 2**k * m`` with ``m`` in ``[sqrt(2)/2, sqrt(2))`` (read off the bits),
``f = m - 1``, ``s = f / (2 + f)``, and ``log(1 + f) = 2 atanh(s) = f - (h - s (h + R))``
with ``h = f²/2`` and ``R = Σ_{i>=1} 2 s^(2i) / (2i + 1)``; ``|s| <= 0.1716``, so the
``TERMS`` terms kept leave less than ``2**-64`` of ``R``.  ``k ln 2`` is added in two
parts, the first with 21 trailing zero bits, so that ``k * LN2_HI`` is exact.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np

from ._jit import kernel


def _ln2_parts() -> tuple[float, float]:
    """``ln 2 = LN2_HI + LN2_LO``: the first with its low 21 bits cleared (exact times any
    exponent), the second the rest, both from a 60-digit ln 2."""
    with localcontext() as ctx:
        ctx.prec = 60
        ln2 = Decimal(2).ln()
        bits = np.float64(float(ln2)).view(np.int64) & ~np.int64((1 << 21) - 1)
        hi = float(bits.view(np.float64))
        return hi, float(ln2 - Decimal(hi))


LN2_HI, LN2_LO = _ln2_parts()
TERMS = 11
_C = tuple(2.0 / (2 * i + 1) for i in range(1, TERMS + 1))
_MANTISSA = (1 << 52) - 1
_BIAS = 1023
_SQRT2_MANTISSA = int(np.float64(math.sqrt(2.0)).view(np.int64)) & _MANTISSA
# the bits of the smallest positive normal and of the largest finite float64
_LOWEST = int(np.float64(np.finfo(np.float64).tiny).view(np.int64))
_HIGHEST = int(np.float64(np.finfo(np.float64).max).view(np.int64))


@kernel(inline="always")
def log_into(x, n, out, scratch):
    """``out[:n] = log(x[:n])`` for a contiguous float64 ``x``; ``scratch``: an int64
    array of at least ``n`` values.

    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 0.5, 10.0, 0.0, -1.0])
    >>> out = np.empty(6)
    >>> log_into(x, 6, out, np.empty(6, np.int64))
    >>> [round(v, 12) for v in out.tolist()]
    [0.0, 0.69314718056, -0.69314718056, 2.302585092994, -inf, nan]
    """
    bits = x.view(np.int64)
    off = 0
    for j in range(n):
        b = bits[j]
        mant = b & _MANTISSA
        up = ((mant - _SQRT2_MANTISSA) >> 63) + 1  # 1 when m >= sqrt(2): take m / 2
        scratch[j] = mant | ((_BIAS - up) << 52)
        out[j] = np.float64(np.int32((b >> 52) - _BIAS + up))
        off += np.int64(b < _LOWEST) + np.int64(b > _HIGHEST)
    m = scratch.view(np.float64)
    c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11 = _C
    for j in range(n):
        f = m[j] - 1.0
        s = f / (2.0 + f)
        z = s * s
        z2 = z * z
        z4 = z2 * z2
        # Estrin's scheme: a short dependency chain, so the SIMD units are kept busy
        r = z * (((c1 + c2 * z) + (c3 + c4 * z) * z2) + ((c5 + c6 * z) + (c7 + c8 * z) * z2)
                 * z4 + ((c9 + c10 * z) + c11 * z2) * (z4 * z4))
        h = 0.5 * f * f
        k = out[j]
        out[j] = k * LN2_HI - ((h - (s * (h + r) + k * LN2_LO)) - f)
    if off:  # zero, negative, subnormal, infinite or NaN values
        for j in range(n):
            if bits[j] < _LOWEST or bits[j] > _HIGHEST:
                out[j] = math.log(x[j]) if x[j] >= 0.0 else np.nan
