"""Division by a loop-fixed divisor in multiply-adds: the same bits as ``x / d`` for every
quotient of magnitude at least 2**-969 (a zero quotient may be +0 where division gives
-0), within 2**-969 below, inside a kernel compiled with the metric kernels'
fastmath flags and vectorised as they are."""

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from numba import njit

from salbench.metrics import _maps, _quotient
from salbench.metrics._quotient import divisor, quotient

import naive

SAFE = 2.0 ** -969
TINY = 2.0 ** -1074  # the smallest subnormal


@njit(cache=False, error_model="numpy", fastmath={"reassoc"})
def _divide_all(x, d, out):
    div = divisor(d)
    for i in range(x.size):
        out[i] = quotient(x[i], div)


def _quotients(x, d: float) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty_like(x)
    _divide_all(x, d, out)
    return out


def _same_bits(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Bit for bit, but a zero of either sign equals a zero."""
    return (got.view(np.int64) == want.view(np.int64)) | ((got == 0.0) & (want == 0.0))


def _values(rng, n: int) -> np.ndarray:
    """Unit values, mantissas just below 2 and just above 1 (where a product with a
    rounded reciprocal is furthest off), and values over most binades."""
    return np.concatenate([
        rng.random(n),
        np.nextafter(2.0, 0.0) - rng.integers(0, 1 << 20, n) * 2.0 ** -52,
        1.0 + rng.integers(0, 1 << 20, n) * 2.0 ** -52,
        rng.random(n) * 2.0 ** rng.integers(-200, 200, n),
        -rng.random(n),
        [0.0, -0.0],
    ])


DIVISORS = [3.0, 10.0, 0.1, 255.0, 307200.0, 1.0, -7.0, np.nextafter(2.0, 0.0),
            1.0 + 2.0 ** -52, np.nextafter(1.0, 0.0), 2.0 ** 1000, 2.0 ** -1000,
            np.finfo(np.float64).max, np.finfo(np.float64).tiny, 2.0 ** -1040, TINY]


@pytest.mark.parametrize("d", DIVISORS)
def test_the_same_bits_as_division(d):
    rng = np.random.default_rng(3)
    x = _values(rng, 50_000)
    with np.errstate(over="ignore", under="ignore"):
        want = x / d
    keep = np.isfinite(want) & ((np.abs(want) >= SAFE) | (want == 0.0))
    got = _quotients(x, d)
    assert keep.sum() > 1000
    assert np.all(_same_bits(got[keep], want[keep]))


def test_random_divisors_in_every_binade():
    rng = np.random.default_rng(5)
    x = _values(rng, 2000)
    for d in rng.random(300) * 2.0 ** rng.integers(-1000, 1000, 300):
        with np.errstate(over="ignore", under="ignore"):
            want = x / d
        keep = np.isfinite(want) & ((np.abs(want) >= SAFE) | (want == 0.0))
        assert np.all(_same_bits(_quotients(x, d)[keep], want[keep]))


@pytest.mark.parametrize("d", [3.0, 1e300, 0.7, 2.0 ** -1000, 2.0 ** 1000, 2.0 ** 1023,
                               np.finfo(np.float64).max, 2.0 ** -1010, TINY])
def test_quotients_below_the_safe_range_stay_below_it(d):
    """Where the remainder underflows the result is not always the rounded quotient, but
    it is off by less than 2**-969 (values that matter to no sum a metric takes)."""
    rng = np.random.default_rng(9)
    x = rng.random(200_000) * SAFE * d * 2.0 ** rng.integers(-120, 1, 200_000)
    with np.errstate(under="ignore"):
        want = x / d
    assert np.abs(_quotients(x, d) - want).max() < SAFE


def _scaled(x: float, d: float) -> float:
    """The numerator as the quotient's remainder sees it: ``x`` times the divisor's
    power-of-two scaling."""
    return x * divisor.py_func(d)[0]


@given(st.floats(allow_nan=False, allow_infinity=False),
       st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: v != 0.0))
@example(2.2250738585e-313, 1.3993899438837717e-211)  # one ulp off: found by hypothesis
def test_any_finite_pair(x, d):
    with np.errstate(over="ignore", under="ignore"):
        want = np.float64(x) / np.float64(d)
    got = _quotients(np.array([x]), d)[0]
    if not math.isfinite(want):
        return  # an overflowing quotient: never formed by the metrics
    if want == 0.0 or (abs(want) >= SAFE and abs(_scaled(x, d)) >= SAFE):
        assert _same_bits(np.array([got]), np.array([want]))[0]
    elif abs(want) >= SAFE:  # the remainder of a tiny numerator underflows
        assert abs(got - want) <= math.ulp(want)
    else:
        assert abs(got - want) < SAFE


def test_tiny_numerators_over_tiny_divisors_are_within_one_ulp():
    """A subnormal pixel over a divisor below 2**-53 gives a quotient far above 2**-969
    whose remainder underflows: hypothesis found 2.2250738585e-313 / 1.3993899438837717e-211
    one ulp off.  Such quotients are within one ulp; with a numerator of at least 2**-969
    they are the same bits."""
    rng = np.random.default_rng(1)
    x = rng.random(5000) * 2.0 ** rng.integers(-1074, -960, 5000).astype(float)
    for d in 2.0 ** rng.uniform(-1000, -53, 100):
        want = x / d
        got = _quotients(x, d)
        big = np.abs(want) >= SAFE
        assert np.all(np.abs(got - want)[big] <= np.spacing(np.abs(want[big])))
        exact = big & (np.abs(x) >= SAFE)
        assert np.all(_same_bits(got[exact], want[exact]))


@pytest.mark.parametrize("d", [np.inf, -np.inf, np.nan])
def test_an_infinite_or_nan_divisor_divides_as_division_does(d):
    x = np.array([0.0, 1.0, -2.5, 1e308, np.inf, np.nan])
    with np.errstate(invalid="ignore"):
        want = x / d
    np.testing.assert_array_equal(_quotients(x, d), want)  # zeros of either sign compare equal


def test_a_zero_divisor_gives_nan_not_a_number_that_looks_right():
    """Callers never divide by zero (they replace a zero sum or range first); if one did,
    every quotient is NaN, where division gives inf or NaN."""
    x = np.array([0.0, 1.0, -2.5, 1e308])
    assert np.isnan(_quotients(x, 0.0)).all()
    assert np.isnan(_quotients(x, -0.0)).all()


def test_without_a_hardware_fma_it_divides(monkeypatch):
    """The fallback is the division itself (pure Python here: the constant is read when a
    kernel compiles)."""
    monkeypatch.setattr(_quotient, "HARDWARE_FMA", False)
    div = divisor.py_func(3.0)
    assert quotient.py_func(1.0, div) == 1.0 / 3.0


@pytest.mark.parametrize("scale", [1.0, 1e-300, 1e300, 2.0 ** -1060])
def test_the_kernels_that_divide_this_way_match_their_definitions(scale):
    """sim, kld and ig divide by map ranges and sums through :func:`quotient`: on maps
    with subnormal pixels, and on maps whose range or sum lies outside ``2**±1000`` (the
    divisors that are scaled first), they match the MATLAB definitions (tests/naive.py)."""
    rng = np.random.default_rng(13)
    eps = naive.MATLAB_EPS
    for _ in range(5):
        p = rng.random((30, 40)) ** 3
        g = rng.random((30, 40)) ** 5
        p.flat[rng.choice(p.size, 40)] = 1e-310  # subnormal values among normal ones
        ps = p * scale  # scaled by 2**-1060: some pixels become subnormal, some zero
        fix = np.stack([rng.integers(0, 30, 25), rng.integers(0, 40, 25)], 1)
        base = rng.random((30, 40))
        pos = np.unique(fix[:, 0] * 40 + fix[:, 1])
        ranges = (*_maps.value_range(ps), *_maps.value_range(g))
        assert _maps.sim(ps, g, _maps.DENSITY_MIT, *ranges) == pytest.approx(
            naive.sim_mit(ps, g), rel=1e-12)
        assert _maps.kld(ps, g, _maps.DENSITY_MIT, eps, *ranges[::2]) == pytest.approx(
            naive.kld_mit(ps, g), rel=1e-12)
        assert _maps.ig(ps, ps.min(), ps.max(), _maps.log_baseline(base, eps), pos, eps) \
            == pytest.approx(naive.ig_mit(ps, base, fix), rel=1e-12)
