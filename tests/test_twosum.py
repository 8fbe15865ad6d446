"""Knuth's TwoSum inside kernels compiled with every fastmath flag (the metric kernels use
``reassoc`` and ``contract``): the rounded sum and its exact error, not the 0 that LLVM
makes of the error when the additions take the kernel's flags (seen with ``_OWN_FLAGS``
emptied: all three tests fail)."""

import math
from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from numba import njit

from salbench.metrics._twosum import two_sum


@njit(cache=False, error_model="numpy", fastmath=True)
def _two_sums(a, b, s, e):
    for i in range(a.size):
        s[i], e[i] = two_sum(a[i], b[i])


@njit(cache=False, error_model="numpy", fastmath=True)
def _compensated(x):
    total = 0.0
    err = 0.0
    for v in x:
        total, e = two_sum(total, v)
        err += e
    return total + err


def _run(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    s = np.empty_like(a)
    e = np.empty_like(a)
    _two_sums(a, b, s, e)
    return s, e


def test_the_error_is_kept():
    s, e = _run([1e16, 1.0, 0.1], [1.0, 1e-17, 0.2])
    assert s.tolist() == [1e16, 1.0, 0.1 + 0.2]
    assert e.tolist() == [1.0, 1e-17, (Fraction(0.1) + Fraction(0.2) - Fraction(0.1 + 0.2))]


finite = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False)


@given(finite, finite)
def test_sum_plus_error_is_exact(a, b):
    s, e = _run([a], [b])
    assert s[0] == a + b
    assert Fraction(float(s[0])) + Fraction(float(e[0])) == Fraction(a) + Fraction(b)


def test_a_compensated_total_is_the_exactly_rounded_sum():
    """Many values of mixed size and sign: the running total with the errors kept apart
    equals ``math.fsum``, where the plain total does not."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(20_000) * 10.0 ** rng.integers(-8, 8, 20_000)
    assert _compensated(x) == math.fsum(x.tolist())
    plain = 0.0  # not sum(): Python 3.12's compensates too
    for v in x.tolist():
        plain += v
    assert plain != math.fsum(x.tolist())
