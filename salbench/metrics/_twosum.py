"""An exact sum and its rounding error, safe inside kernels compiled with fastmath.

:func:`two_sum` is Knuth's TwoSum: ``s = RN(a + b)`` and ``e`` with ``a + b = s + e``
exactly (for finite values that do not overflow).  A running total that adds each
block's sum with it and keeps the errors apart (``total, err``; the answer ``total +
err``) is accurate to about one rounding of the result, whatever the number of blocks;
the plain running total is off by up to one rounding per block.  numba gives a kernel's
fastmath flags to every float instruction that carries none; under ``fastmath=True``
LLVM then simplifies the error to 0 (seen; ``reassoc`` alone left it).  So the six
additions carry their own flags (``contract``, with nothing to fuse: see ``_quotient``)
and are left as written whatever the kernel's flags.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_OWN_FLAGS = ("contract",)


@intrinsic
def two_sum(typingctx, a, b):
    """``(s, e)``: ``s = RN(a + b)`` and ``e = (a + b) - s`` exactly, in six additions
    that fastmath does not re-associate."""
    sig = types.UniTuple(types.float64, 2)(types.float64, types.float64)

    def codegen(context, builder, signature, args):
        va, vb = args

        def add(x: ir.Value, y: ir.Value) -> ir.Value:
            return builder.fadd(x, y, flags=_OWN_FLAGS)

        def sub(x: ir.Value, y: ir.Value) -> ir.Value:
            return builder.fsub(x, y, flags=_OWN_FLAGS)

        s = add(va, vb)
        b_part = sub(s, va)
        a_part = sub(s, b_part)
        e = add(sub(va, a_part), sub(vb, b_part))
        return context.make_tuple(builder, signature.return_type, [s, e])

    return sig, codegen
