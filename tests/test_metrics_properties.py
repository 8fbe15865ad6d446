"""Hypothesis properties on small maps (<= 32x32, bounded floats)."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.ndimage import gaussian_filter

from salbench.metrics import auc_borji, auc_judd, cc, ig, kld, nss, sauc, sim

import naive

finite = st.floats(0.0, 1.0, allow_nan=False, width=64)


@st.composite
def scene(draw, min_side=2, max_side=32, max_fix=20):
    h = draw(st.integers(min_side, max_side))
    w = draw(st.integers(min_side, max_side))
    smap = draw(arrays(np.float64, (h, w), elements=finite))
    n = draw(st.integers(1, max_fix))
    rows = draw(arrays(np.int64, n, elements=st.integers(0, h - 1)))
    cols = draw(arrays(np.int64, n, elements=st.integers(0, w - 1)))
    return smap, np.stack([rows, cols], 1)


def _not_flat(a):
    return np.ptp(a) > 1e-6


# ---- ranges ----------------------------------------------------------------------------


@given(scene(), st.sampled_from(["mit", "exact", "pysaliency"]))
def test_ranges(sc, protocol):
    smap, fix = sc
    assume(_not_flat(smap))
    for f in (auc_borji, auc_judd):
        v = f(smap, fix, protocol=protocol)
        assert np.isnan(v) or 0.0 <= v <= 1.0  # mit auc_borji: NaN at one fixated pixel
    assert 0.0 <= sauc(smap, fix, fix[::-1], protocol=protocol) <= 1.0
    c = cc(smap, fix, protocol=protocol)
    assert np.isnan(c) or -1.0 - 1e-12 <= c <= 1.0 + 1e-12
    assert np.isfinite(nss(smap, fix, protocol=protocol))
    k = kld(smap, fix, protocol=protocol)  # NaN on small images under mit (see protocol)
    assert np.isnan(k) or k >= -1e-12
    v = sim(smap, fix, protocol=protocol)
    assert np.isnan(v) or 0.0 <= v <= 1.0 + 1e-12


@given(scene(), st.sampled_from(["replication", "salicon"]))
def test_sampled_protocol_ranges(sc, protocol):
    smap, fix = sc
    shape = (60, 80)
    fix = np.concatenate([fix, fix]) * [60 // smap.shape[0], 80 // smap.shape[1]]
    for v in (auc_borji(smap, fix, protocol=protocol, shape=shape),
              sauc(smap, fix, fix[::-1] // 2, protocol=protocol, shape=shape)):
        assert np.isnan(v) or 0.0 <= v <= 1.0


@given(scene())
def test_replication_ranges(sc):
    smap, fix = sc
    assume(_not_flat(smap))
    shape = (60, 80)
    fix = fix * [60 // smap.shape[0], 80 // smap.shape[1]]  # spread over the image
    for f in (auc_borji,):
        v = f(smap, fix, protocol="replication", shape=shape)
        assert np.isnan(v) or 0.0 <= v <= 1.0
    v = sauc(smap, fix, fix[::-1], protocol="replication", shape=shape)
    assert np.isnan(v) or 0.0 <= v <= 1.0


# ---- invariances ---------------------------------------------------------------------


monotone = st.sampled_from([
    lambda x: 3.0 * x + 2.0,
    lambda x: np.exp(5 * x),
    lambda x: x**3,
    lambda x: np.log1p(x) - 7.0,
    lambda x: np.tanh(4 * x - 2),
])


@given(scene(), monotone)
def test_exact_aucs_invariant_under_strictly_increasing_maps(sc, f):
    smap, fix = sc
    g = f(smap)
    # the transform must keep every order and every tie (floating point can merge values)
    order = np.argsort(smap, axis=None, kind="stable")
    assume(np.array_equal(np.diff(smap.ravel()[order]) > 0, np.diff(g.ravel()[order]) > 0))
    other = fix[::-1] // 2
    for fn, extra in ((auc_borji, ()), (auc_judd, ()), (sauc, (other,))):
        a = fn(smap, fix, *extra, protocol="exact")
        b = fn(g, fix, *extra, protocol="exact")
        # NaN in both (every pixel fixated: no negatives) keeps the invariant too
        assert a == pytest.approx(b, abs=1e-12, nan_ok=True)


@given(scene(), st.floats(0.01, 100.0), st.floats(-100.0, 100.0),
       st.sampled_from(["mit", "exact"]), st.integers(2, 40))
def test_cc_nss_invariant_under_positive_affine_maps(sc, a, b, protocol, out_side):
    smap, fix = sc
    assume(np.std(smap) > 1e-3)
    shape = (out_side, out_side + 3)  # resized: bicubic weights sum to 1, so affine commutes
    fix = np.minimum(fix, [shape[0] - 1, shape[1] - 1])
    for fn in (cc, nss):
        x = fn(smap, fix, protocol=protocol, shape=shape)
        y = fn(a * smap + b, fix, protocol=protocol, shape=shape)
        assert y == pytest.approx(x, rel=1e-7, abs=1e-9) or (np.isnan(x) and np.isnan(y))


@given(scene(max_fix=12), scene(max_fix=12))
def test_cc_symmetric(sc1, sc2):
    """CC(G1 vs fixations 2) == CC(G2 vs fixations 1), G_i the protocol's ground truth
    (antonioGaussian's filter is symmetric: K = Kᵀ)."""
    (m1, f1), (_, f2) = sc1, sc2
    shape = m1.shape
    f2 = np.minimum(f2, [shape[0] - 1, shape[1] - 1])
    g1 = naive.antonio_gaussian(naive.fixation_map(f1, shape))
    g2 = naive.antonio_gaussian(naive.fixation_map(f2, shape))
    assume(_not_flat(g1) and _not_flat(g2))
    a = cc(g1, f2, protocol="mit")
    b = cc(g2, f1, protocol="mit")
    assert a == pytest.approx(b, abs=1e-9)


# ---- perfect and anti-perfect maps -----------------------------------------------------


@given(scene())
def test_perfect_and_inverted_maps(sc):
    smap, fix = sc
    fm = naive.fixation_map(fix, smap.shape)
    assume(0 < fm.sum() < fm.size)
    assert auc_judd(fm, fix, protocol="exact") == 1.0
    assert auc_judd(-fm, fix, protocol="exact") == 0.0
    # the other map avoids the fixated pixels: sauc is 1 for the perfect map, 0 inverted
    other = np.argwhere(fm == 0)
    assert sauc(fm, fix, other, protocol="exact") == 1.0
    assert sauc(-fm, fix, other, protocol="exact") == 0.0


@given(scene(min_side=4))
def test_kld_zero_and_sim_one_for_the_ground_truth_itself(sc):
    """pysaliency's ground truth: fixation counts blurred with sigma 23.99 (reflect)."""
    smap, fix = sc
    shape = smap.shape
    fm = np.zeros(shape)
    np.add.at(fm, (fix[:, 0], fix[:, 1]), 1.0)
    g = gaussian_filter(fm, 23.99)
    assume(_not_flat(g))
    assert kld(g, fix, protocol="pysaliency") == pytest.approx(0.0, abs=1e-9)
    assert sim(g, fix, protocol="pysaliency") == pytest.approx(1.0, abs=1e-9)


def test_mit_kld_zero_and_sim_one_for_the_ground_truth_itself(rng):
    """MIT's ground truth (antonioGaussian) on images large enough for a filter without
    negative lobes (padded to 128 and more)."""
    for shape in ((70, 90), (130, 100)):
        for k in (1, 5, 40):
            fix = np.stack([rng.integers(0, shape[0], k), rng.integers(0, shape[1], k)], 1)
            g = naive.antonio_gaussian(naive.fixation_map(fix, shape))
            assert kld(g, fix, protocol="mit") == pytest.approx(0.0, abs=1e-9)
            assert sim(g, fix, protocol="mit") == pytest.approx(1.0, abs=1e-9)
            assert ig(g, fix, protocol="mit", baseline=g) == pytest.approx(0.0, abs=1e-12)
