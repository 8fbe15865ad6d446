"""Division by a value fixed for a whole loop, correctly rounded, in multiplications.

A map normalised by its range or its sum divides every pixel by one number, and a
division is the slowest arithmetic instruction, several times a multiply-add's cost even
in SIMD: ``sim`` spent about half its time in its six divisions per pixel.
:func:`quotient` returns the same value as ``x / d`` from a reciprocal and multiply-adds,
so the metrics' numbers do not move (480x640 maps, minimum of 200 calls interleaved in
one process, 3 processes: ``sim`` 1.92-1.96 -> 1.02-1.10 ms, ``kld`` 2.17-2.28 ->
1.90-1.98 ms, whose division by a per-pixel number stays, ``ig`` 0.49-0.53 -> 0.33-0.41
ms).

Method (Markstein's theorem, as used for division on IA-64): with ``y = RN(1/d)`` and a
``q`` within one ulp of ``x/d``, the remainder ``r = x - q d`` is exact in one fused
multiply-add and ``RN(q + r y)`` is the correctly rounded ``x/d``.  The first guess
``RN(x y)`` can be more than one ulp off, so one correction first brings it within one
ulp, and a second gives the rounded quotient.  A divisor beyond ``2**±1000`` is first
scaled by a power of two, and the numerator with it (exact unless the quotient is tiny),
so that the reciprocal is normal.  The theorem needs the remainder (about ``2**-53 x``)
not to underflow: quotients of magnitude below ``2**-969`` (far below anything a metric
adds up) may differ from ``x / d``, by less than ``2**-969``; so may quotients of
numerators below ``2**-969`` (after the scaling; a subnormal pixel over a divisor below
``2**-53``), by one ulp in every case tried.  Every other quotient is the same bits,
except that a zero quotient is always +0 (division gives -0 for -0 / d, which no metric
here forms).  ``tests/test_quotient.py`` checks this bit for bit against division.

The multiply-adds are calls to LLVM's ``llvm.fma`` intrinsic (one instruction on x86-64
CPUs since 2013; where the host has none, :func:`quotient` divides).  numba adds a
kernel's fastmath flags only to instructions that carry none, so the scaling and the
first guess carry their own (``contract``, with nothing to fuse) and are not
re-associated; the tests run the quotients inside a kernel compiled with the metric
kernels' ``fastmath={"reassoc"}``.
"""

from __future__ import annotations

import math

from llvmlite import binding, ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._jit import kernel

HARDWARE_FMA = "fma" in binding.get_host_cpu_features()
# divisors in this range are used as they are (their reciprocals are normal)
UNSCALED_LO = 2.0 ** -1000
UNSCALED_HI = 2.0 ** 1000


# numba adds the kernel's fastmath flags to every float instruction that has none; these
# carry "contract" (which has nothing to fuse here), so none is re-associated: the scaled
# numerator must stay ``x * s`` and the first guess ``(x * s) * y``
_OWN_FLAGS = ("contract",)


@intrinsic
def _markstein(typingctx, x, s, m, y):
    """``RN(x s / m)`` from ``y = RN(1/m)``: the first guess ``q = RN(x s y)``, then two
    corrections ``q += (x s - q m) y``, each a pair of fused multiply-adds."""
    sig = types.float64(types.float64, types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        vx, vs, vm, vy = args
        f64 = ir.DoubleType()
        fma = cgutils.get_or_insert_function(builder.module,
                                             ir.FunctionType(f64, [f64] * 3), "llvm.fma.f64")
        xs = builder.fmul(vx, vs, flags=_OWN_FLAGS)
        q = builder.fmul(xs, vy, flags=_OWN_FLAGS)
        for _ in range(2):
            r = builder.call(fma, [builder.fneg(q, flags=_OWN_FLAGS), vm, xs])
            q = builder.call(fma, [r, vy, q])
        return q

    return sig, codegen


@kernel(inline="always")
def divisor(d):
    """What :func:`quotient` needs to divide by ``d`` (non-zero: callers replace a zero sum
    or range first): ``(s, d s, 1 / (d s), d)``, ``s`` 1 for ``2**-1000 <= |d| <=
    2**1000`` and otherwise a power of two that brings ``|d s|`` to ``[0.5, 1)`` (as near
    as ``s <= 2**1023`` allows), so that ``1 / (d s)`` is normal.  An infinite ``d``
    (an overflowing sum) gives ``s = 0``, so quotients of finite values are 0, as in
    division; a NaN or zero ``d`` gives ``s = NaN``, so every quotient is NaN (for a zero
    ``d`` loud rather than the 0 that ``s = 0`` would give)."""
    if math.isinf(d):
        return 0.0, 1.0, 1.0, d
    if math.isnan(d) or d == 0.0:
        return math.nan, 1.0, 1.0, d
    s = 1.0
    if not UNSCALED_LO <= abs(d) <= UNSCALED_HI:
        _, e = math.frexp(d)
        s = math.ldexp(1.0, min(-e, 1023))
    m = d * s
    return s, m, 1.0 / m, d


@kernel(inline="always")
def quotient(x, div):
    """``x / d`` for ``div = divisor(d)``: the same bits wherever the quotient and the
    (scaled) numerator are at least ``2**-969`` in magnitude (see the module's note).

    >>> quotient(1.0, divisor(3.0)) == 1.0 / 3.0
    True
    """
    s, m, y, d = div
    if HARDWARE_FMA:
        return _markstein(x, s, m, y)
    return x / d
