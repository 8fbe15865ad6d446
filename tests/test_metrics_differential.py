"""Every kernel against a reference: loop-level naive code (tests/naive.py), scipy and
Pillow (the references the protocols name), the replication study's script
(tests/replication_port.py), and pysaliency when it is installed."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from scipy.ndimage import gaussian_filter

from salbench.metrics import (
    _rng,
    auc_borji,
    auc_judd,
    cc,
    center_prior,
    ig,
    kld,
    nss,
    sauc,
    score_dataset,
    sim,
)
from salbench.metrics._auc import arange_grid, colon_grid
from salbench.metrics._blur import blur_map, gaussian_weights
from salbench.metrics._resize import matlab_bicubic, pillow_bicubic_u8

import naive
import replication_port as port
from conftest import random_fixations

# ---- preprocessing -------------------------------------------------------------------


@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 90), st.integers(1, 90),
       st.integers(0, 2**32 - 1))
def test_pillow_resize_is_bit_exact(ih, iw, oh, ow, seed):
    img = np.random.default_rng(seed).integers(0, 256, (ih, iw)).astype(np.uint8)
    ours = pillow_bicubic_u8(img, oh, ow)
    # the classic two-pass order, horizontal first, by construction
    classic = np.asarray(Image.fromarray(img).resize((ow, ih)).resize((ow, oh)))
    np.testing.assert_array_equal(ours, classic)
    if oh >= ih:  # every Pillow release resizes horizontally first here
        np.testing.assert_array_equal(ours, np.asarray(Image.fromarray(img).resize((ow, oh))))


def test_pillow_resize_protocol_shape_bit_exact(rng):
    for _ in range(5):
        img = rng.integers(0, 256, (48, 48)).astype(np.uint8)
        np.testing.assert_array_equal(
            pillow_bicubic_u8(img, 480, 640), np.asarray(Image.fromarray(img).resize((640, 480))))


@given(st.integers(1, 30), st.integers(1, 30), st.sampled_from([0.7, 2.0, 3.3, 19.0]),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_blur_is_bitwise_scipy(h, w, sigma, f32, seed):
    x = np.random.default_rng(seed).random((h, w))
    if f32:
        x = x.astype(np.float32)
    expect = gaussian_filter(x, sigma)
    got = blur_map(x, gaussian_weights(sigma), f32)
    np.testing.assert_array_equal(got.astype(expect.dtype), expect)


def test_blur_full_size_bitwise_scipy(rng):
    x = rng.random((480, 640)).astype(np.float32)
    np.testing.assert_array_equal(blur_map(x, gaussian_weights(2.0), True), gaussian_filter(x, 2))


@given(st.integers(1, 20), st.integers(1, 20), st.integers(1, 50), st.integers(1, 50),
       st.integers(0, 2**32 - 1))
def test_matlab_resize_matches_naive(ih, iw, oh, ow, seed):
    img = np.random.default_rng(seed).random((ih, iw))
    np.testing.assert_allclose(matlab_bicubic(img, oh, ow), naive.matlab_imresize(img, oh, ow),
                               rtol=0, atol=1e-12)


# ---- grids ---------------------------------------------------------------------------


@given(st.one_of(st.floats(0, 1), st.integers(0, 10).map(lambda k: k / 10),
                 st.integers(0, 255).map(lambda k: k / 255)))
def test_grids_match_numpy_and_colonop(top):
    buf = np.empty(64)
    n = arange_grid(top, 0.1, buf)
    np.testing.assert_array_equal(buf[:n], np.arange(0, top, 0.1))
    n = colon_grid(top, 0.1, buf)
    assert list(buf[:n]) == naive.colon(0.0, 0.1, top)


# ---- map metrics against naive definitions ---------------------------------------------


@pytest.mark.parametrize("protocol", ["mit", "exact"])
def test_map_metrics_match_naive(rng, protocol):
    shape = (30, 40)
    sigma = 24 * 40 / 640
    for _ in range(3):
        pred = rng.random((12, 12))
        fix = random_fixations(rng, 25, shape)
        p = naive.matlab_imresize(pred, *shape)
        g = gaussian_filter(naive.fixation_map(fix, shape), sigma)
        kw = dict(protocol=protocol, shape=shape)
        assert cc(pred, fix, **kw) == pytest.approx(naive.pearson(p, g), abs=1e-12)
        assert nss(pred, fix, **kw) == pytest.approx(naive.nss(p, fix, 1), abs=1e-12)
        assert kld(pred, fix, **kw) == pytest.approx(naive.kld_mit(p, g), abs=1e-12)
        assert sim(pred, fix, **kw) == pytest.approx(naive.sim_mit(p, g), abs=1e-12)
        assert ig(pred, fix, **kw) == pytest.approx(naive.ig_mit(p, center_prior(shape), fix),
                                                   abs=1e-12)
        base = rng.random(shape)
        assert ig(pred, fix, baseline=base, **kw) == pytest.approx(naive.ig_mit(p, base, fix),
                                                                  abs=1e-12)


def test_replication_cc_matches_naive_pipeline(rng):
    shape = (60, 80)
    for _ in range(3):
        pred = rng.random((48, 48)).astype(np.float32)
        fix = random_fixations(rng, 40, shape)
        p = port.prepare(pred, shape)
        g = gaussian_filter(naive.fixation_map(fix, shape), 19)
        assert cc(pred, fix, protocol="replication", shape=shape) == pytest.approx(
            naive.pearson(p, g), abs=1e-12)


# ---- AUCs ----------------------------------------------------------------------------


def test_exact_aucs_match_mann_whitney(rng):
    shape = (20, 24)
    for _ in range(3):
        p = np.round(rng.random(shape) * 8) / 8  # ties on purpose
        fix = random_fixations(rng, 30, shape)  # duplicates likely
        other = random_fixations(rng, 60, shape)
        pos = [p[r, c] for r, c in fix]
        fm = naive.fixation_map(fix, shape)
        assert auc_borji(p, fix, protocol="exact") == pytest.approx(
            naive.mann_whitney(pos, list(p.ravel())), abs=1e-12)
        assert auc_judd(p, fix, protocol="exact") == pytest.approx(
            naive.mann_whitney(pos, list(p[fm == 0])), abs=1e-12)
        assert sauc(p, fix, other, protocol="exact") == pytest.approx(
            naive.mann_whitney(pos, [p[r, c] for r, c in other]), abs=1e-12)


def test_mit_judd_matches_naive_with_same_jitter(rng):
    shape = (18, 22)
    for stream in range(3):
        p = np.round(rng.random(shape) * 4) / 4
        fix = random_fixations(rng, 20, shape)
        u = _rng.draw_uniform(5, stream, _rng.JITTER, 0, p.size).reshape(shape)
        j = p + u * 1e-7
        j = (j - j.min()) / (j.max() - j.min())
        expect = naive.judd_mit(j, naive.fixation_map(fix, shape))
        assert auc_judd(p, fix, protocol="mit", seed=5, stream=stream) == pytest.approx(
            expect, abs=1e-12)


@pytest.mark.parametrize("protocol, grid", [("mit", "colon"), ("replication", "arange")])
def test_grid_aucs_match_naive_with_same_draws(rng, protocol, grid):
    shape = (16, 20)
    p = rng.random(shape)
    fix = random_fixations(rng, 15, shape)
    other = random_fixations(rng, 40, shape, center_bias=False)
    if protocol == "replication":
        s = port.normalize_map(port.prepare(p.astype(np.float32), shape)).astype(np.float64)
    else:
        s = (p - p.min()) / (p.max() - p.min())
    flat = s.ravel()
    ulin = np.unique(fix[:, 0] * shape[1] + fix[:, 1])
    pos = list(flat[ulin])
    seed, stream = 11, 4
    neg = [flat[_rng.draw_indices(seed, stream, _rng.BORJI, k, flat.size, len(pos))]
           for k in range(100)]
    expect = naive.grid_auc_splits(pos, neg, grid)
    pred = p.astype(np.float32) if protocol == "replication" else p
    got = auc_borji(pred, fix, protocol=protocol, seed=seed, stream=stream, return_splits=True)
    np.testing.assert_allclose(got, expect, rtol=0, atol=1e-12)

    pool = np.unique(other[:, 0] * shape[1] + other[:, 1])
    m = min(len(pos), pool.size)
    neg = [flat[pool[_rng.draw_permutation(seed, stream, _rng.SAUC, k, pool.size, m)]]
           for k in range(100)]
    expect = naive.grid_auc_splits(pos, neg, grid)
    got = sauc(pred, fix, other, protocol=protocol, seed=seed, stream=stream, return_splits=True)
    np.testing.assert_allclose(got, expect, rtol=0, atol=1e-12)


# ---- the replication study's script ------------------------------------------------------


def test_replication_matches_the_original_script(rng):
    """Same predictions, same random draws: the port of the study's script and salbench
    agree to 1e-12 on every image (CC to 1e-9, float64 sums in a different order)."""
    n, shape = 12, (60, 80)
    preds = rng.random((n, 48, 48)).astype(np.float32)
    fixes = [random_fixations(rng, 40, shape) for _ in range(n)]
    maps = [naive.fixation_map(f, shape) for f in fixes]
    res = score_dataset(preds, fixes, [shape] * n, protocol="replication", seed=7)
    ref = port.evaluate(preds, maps, lambda i: port.SalbenchDraws(7, i))
    np.testing.assert_allclose(res.per_image["cc"], ref["cc"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.per_image["auc_borji"], ref["auc_borji"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.per_image["sauc"], ref["sauc"], rtol=0, atol=1e-12)


def test_float32_script_differs_only_by_float32_noise(rng):
    """The original summed CC's float32 products in float32; salbench sums in float64.
    The difference is float32 rounding noise, orders of magnitude below 3 decimals."""
    shape = (60, 80)
    pred = rng.random((48, 48)).astype(np.float32)
    fix = random_fixations(rng, 40, shape)
    s_map = port.prepare(pred, shape)
    gt = gaussian_filter(naive.fixation_map(fix, shape), 19)
    gt = (gt - gt.min()) / gt.max()
    a = (s_map - np.mean(s_map)) / np.std(s_map)  # float32, as the original
    b = (gt - np.mean(gt)) / np.std(gt)
    original = (a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum())
    assert cc(pred, fix, protocol="replication", shape=shape) == pytest.approx(original,
                                                                               abs=1e-5)


# ---- pysaliency ------------------------------------------------------------------------


@pytest.fixture
def pysaliency(monkeypatch):
    mod = pytest.importorskip("pysaliency", reason="pysaliency not installed")
    if not hasattr(np, "trapz"):  # pysaliency 0.2.22 calls np.trapz, removed in numpy 2.4
        monkeypatch.setattr(np, "trapz", np.trapezoid, raising=False)
    return mod


def _pysaliency_model(pysaliency, maps):
    class Maps(pysaliency.SaliencyMapModel):
        def _saliency_map(self, stimulus):
            return maps[int(stimulus[0, 0, 0])]

    return Maps()


def test_exact_aucs_match_pysaliency(rng, pysaliency):
    n, shape = 8, (24, 32)
    maps = [rng.random(shape) for _ in range(n)]
    fixes = [random_fixations(rng, 30, shape) for _ in range(n)]
    stimuli = pysaliency.Stimuli([np.full((*shape, 3), i, dtype=np.uint8) for i in range(n)])
    xs = np.concatenate([f[:, 1] for f in fixes]).astype(float)
    ys = np.concatenate([f[:, 0] for f in fixes]).astype(float)
    ns = np.concatenate([[i] * len(f) for i, f in enumerate(fixes)])
    fixations = pysaliency.FixationTrains.from_fixation_trains(
        xs[:, None], ys[:, None], np.zeros_like(xs)[:, None], ns, np.zeros_like(ns))
    model = _pysaliency_model(pysaliency, maps)
    ref_borji = model.AUC_per_image(stimuli, fixations, nonfixations="uniform")
    ref_sauc = model.AUC_per_image(stimuli, fixations, nonfixations="shuffled")
    res = score_dataset(maps, fixes, [shape] * n, protocol="exact",
                        metrics=["auc_borji", "sauc"])
    np.testing.assert_allclose(res.per_image["auc_borji"], ref_borji, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.per_image["sauc"], ref_sauc, rtol=0, atol=1e-9)
