"""The vectorised logarithm behind KLD: within 1 ulp of the true logarithm everywhere,
libm's answer for the values it hands over, and KLD's sum within 1 ulp of an exactly
rounded one."""

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from salbench.metrics import _log, _maps

import naive


def _log_of(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty_like(x)
    _log.log_into(x, x.size, out, np.empty(x.size, np.int64))
    return out


def _ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in units in the last place between same-signed finite float64 values."""
    return np.abs(a.view(np.int64) - b.view(np.int64))


def _exact_ulps(x: float, got: float) -> float:
    """|got - ln x| in ulps of the correctly rounded ln x, from a 60-digit logarithm."""
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(x).ln()
        return float(abs(Decimal(got) - exact) / Decimal(math.ulp(float(exact))))


def test_ln2_split_is_exact():
    """``k * LN2_HI`` exact for every exponent; the two parts sum to ln 2 within half an
    ulp of ``LN2_LO`` (~1e-26: ln 2 to about 2**-86)."""
    hi = np.float64(_log.LN2_HI)
    assert int(hi.view(np.int64)) & ((1 << 21) - 1) == 0
    with localcontext() as ctx:
        ctx.prec = 60
        for k in (-1022, -1, 1, 1023, 1024):  # the exponents of normal values, m in [1/√2, √2)
            assert Decimal(float(k * hi)) == k * Decimal(_log.LN2_HI)
        err = abs(Decimal(_log.LN2_HI) + Decimal(_log.LN2_LO) - Decimal(2).ln())
        assert err <= Decimal(math.ulp(_log.LN2_LO)) / 2


@pytest.mark.parametrize("kind", ["unit", "near-one", "wide", "around-sqrt2", "powers-of-two"])
def test_within_one_ulp_of_the_true_logarithm(kind):
    rng = np.random.default_rng(7)
    x = {
        "unit": rng.random(2000),
        "near-one": 1 + (rng.random(2000) - 0.5) * 1e-6,
        "wide": np.exp(rng.uniform(-700, 700, 2000)),
        "around-sqrt2": math.sqrt(2) * 2.0 ** rng.integers(-60, 60, 2000)
        * (1 + (rng.random(2000) - 0.5) * 1e-12),
        "powers-of-two": 2.0 ** np.arange(-1022, 1024),
    }[kind]
    got = _log_of(x)
    worst = max(_exact_ulps(float(v), float(g)) for v, g in zip(x, got) if v != 1.0)
    assert worst < 1.0
    assert np.all(got[x == 1.0] == 0.0)


def test_against_libm_on_a_million_values():
    """At most 1 ulp from libm's logarithm (``math.log``; itself within 1 ulp), over every
    binade.  Not numpy's: numpy 1.26 on AVX-512 takes a logarithm of its own, 2 ulps from
    this one on some of these values."""
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.random(400_000) * 4, np.exp(rng.uniform(-708, 709, 400_000)),
                        1 + (rng.random(200_000) - 0.5) * 1e-9])
    got = _log_of(x)
    assert _ulps(got, np.array([math.log(v) for v in x.tolist()])).max() <= 1


@given(st.floats(min_value=np.finfo(np.float64).tiny, max_value=np.finfo(np.float64).max))
def test_any_positive_normal_value(x):
    assert _exact_ulps(x, float(_log_of(np.array([x]))[0])) < 1.0


def test_other_values_as_libm():
    """Zero, negatives, subnormals, infinity and NaN are not the fast path's: the answers
    are numpy's (-inf, NaN, the subnormal's logarithm, inf, NaN), among normal values."""
    x = np.array([3.0, 0.0, -0.0, -1.0, 5e-324, 1e-310, np.inf, -np.inf, np.nan, 0.5])
    got = _log_of(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = np.log(x)
    np.testing.assert_array_equal(got[1:-1], ref[1:-1])
    assert _ulps(got[[0, -1]], ref[[0, -1]]).max() <= 1


@pytest.mark.parametrize("seed", range(6))
def test_kld_sum_matches_an_exactly_rounded_sum(seed):
    """KLD of 480x640 maps within 1 ulp of ``math.fsum`` over its terms, each map
    normalised by its ``fsum``.  The blocks' sums are added with their rounding errors
    (``_twosum``); a plain running total was up to 1.2e-14 relative off (the sums that
    normalise the maps most of it; 12 ulps on one AMD CPU where an Intel one passed 1e-15)."""
    rng = np.random.default_rng(seed)
    p = rng.random((480, 640))
    g = rng.random((480, 640)) ** (1 + seed)
    a = p.ravel() / math.fsum(p.ravel())
    b = g.ravel() / math.fsum(g.ravel())
    arg = naive.MATLAB_EPS + b / (a + naive.MATLAB_EPS)
    ref = math.fsum(bv * math.log(v) for bv, v in zip(b.tolist(), arg.tolist()))
    got = _maps.kld(p, g, _maps.DENSITY_MIT, naive.MATLAB_EPS, p.min(), g.min())
    assert abs(got - ref) <= math.ulp(ref)


def test_kld_stays_infinite_where_a_term_is():
    """``kld_eps=0`` and a zero in the prediction: the sum is inf, not the NaN that the
    rounding errors of an infinite total (inf - inf) would make it."""
    p = np.random.default_rng(1).random((40, 40))
    g = p.copy()
    p[3, 3] = 0.0
    assert _maps.kld(p, g, _maps.DENSITY_MIT, 0.0, p.min(), g.min()) == math.inf
