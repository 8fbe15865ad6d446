"""Every kernel against a reference: loop-level naive code (tests/naive.py), scipy and
Pillow (the references the protocols name), the replication study's script
(tests/replication_port.py), and pysaliency when it is installed."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from PIL import Image
from scipy.ndimage import gaussian_filter

from salbench.metrics import (
    _maps,
    _rng,
    auc_borji,
    auc_judd,
    cc,
    center_prior,
    emd,
    get_protocol,
    ig,
    kld,
    nss,
    sauc,
    score_dataset,
    sim,
)
from salbench.metrics._auc import arange_grid, colon_grid
from salbench.metrics._blur import (
    UNROLLED_RADIUS,
    blur_map,
    gaussian_blur_into,
    gaussian_weights,
)
from salbench.metrics._resize import matlab_bicubic, matlab_plan, pillow_bicubic_u8

import naive
import replication_port as port
from conftest import agree, random_fixations

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
    expect = gaussian_filter(x, 2)
    np.testing.assert_array_equal(blur_map(x, gaussian_weights(2.0), True), expect)
    got = np.empty_like(x)
    gaussian_blur_into(x, gaussian_weights(2.0), True, got)  # the unrolled kernel
    np.testing.assert_array_equal(got, expect)
    # in float64, where two sums taken in another order differ in ~1 value in 1,600
    x = rng.random((480, 640))
    got = np.empty_like(x)
    gaussian_blur_into(x, gaussian_weights(2.0), False, got)
    np.testing.assert_array_equal(got, gaussian_filter(x, 2))


@given(st.integers(1, 40), st.integers(1, 40), st.sampled_from([0.7, 1.9, 2.0, 2.1, 3.3]),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_blur_by_radius_is_bitwise_scipy(h, w, sigma, f32, seed):
    """The blur, by the unrolled radius-8 kernel (sigma 1.9-2.1) or the general loop, at
    every height and width (odd, and below the radius: reflected more than once).  In
    float64 a change in the order of the sums shows in the last bits; in float32 it
    hardly ever survives the rounding."""
    x = np.random.default_rng(seed).random((h, w))
    if f32:
        x = x.astype(np.float32)
    weights = gaussian_weights(sigma)
    assert (weights.size == 2 * UNROLLED_RADIUS + 1) == (sigma in (1.9, 2.0, 2.1))
    got = np.full_like(x, np.nan)
    gaussian_blur_into(x, weights, f32, got)
    np.testing.assert_array_equal(got, gaussian_filter(x, sigma))


@given(st.integers(1, 20), st.integers(1, 20), st.integers(1, 50), st.integers(1, 50),
       st.integers(0, 2**32 - 1))
def test_matlab_resize_matches_naive(ih, iw, oh, ow, seed):
    img = np.random.default_rng(seed).random((ih, iw))
    np.testing.assert_allclose(matlab_bicubic(img, oh, ow), naive.matlab_imresize(img, oh, ow),
                               rtol=0, atol=1e-12)


def _per_tap_resize(img, out_h, out_w):
    """``matlab_bicubic``'s arithmetic in numpy, one tap at a time: salbench's own tables,
    each axis summed from 0.0 in tap order, the axis with the smaller scale first (what
    the kernels' unrolled six-tap sums must equal bit for bit)."""
    wr, ir, wc, ic, rows_first = matlab_plan(img.shape, (out_h, out_w))

    def rows(a):
        out = np.zeros((out_h, a.shape[1]))
        for j in range(wr.shape[1]):
            out += wr[:, j, None] * a[ir[:, j]]
        return out

    def cols(a):
        out = np.zeros((a.shape[0], out_w))
        for j in range(wc.shape[1]):
            out += wc[None, :, j] * a[:, ic[:, j]]
        return out

    same_h, same_w = img.shape[0] == out_h, img.shape[1] == out_w
    if same_h and same_w:
        return img.copy()
    if same_w:
        return rows(img)
    if same_h:
        return cols(img)
    return cols(rows(img)) if rows_first else rows(cols(img))


@given(st.integers(1, 30), st.integers(1, 30), st.integers(1, 70), st.integers(1, 70),
       st.integers(0, 2**32 - 1))
def test_matlab_resize_sums_taps_in_order(ih, iw, oh, ow, seed):
    img = np.random.default_rng(seed).normal(size=(ih, iw))
    np.testing.assert_array_equal(matlab_bicubic(img, oh, ow), _per_tap_resize(img, oh, ow))


@pytest.mark.parametrize("out_shape", [(480, 640), (640, 480), (1080, 1920)])
def test_matlab_resize_protocol_shapes_bit_exact(out_shape, rng):
    """The shapes the benchmarks and SALICON use: 48x48 predictions enlarged (rows first,
    columns first), float64 sums whose last bits show a tap out of order."""
    img = rng.random((48, 48))
    np.testing.assert_array_equal(matlab_bicubic(img, *out_shape), _per_tap_resize(img, *out_shape))


_ZOOMS = [(1, "nearest"), (3, "constant")]  # pysaliency's and SALICON's


@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 120), st.integers(1, 120),
       st.sampled_from(_ZOOMS), st.integers(0, 2**32 - 1))
def test_zoom_is_bitwise_scipy(ih, iw, oh, ow, zoom, seed):
    """salbench's ``ndimage.zoom`` gives scipy's values bit for bit wherever its check
    passes (a map far from zero, and one of ±1e-300 values, too)."""
    from scipy import ndimage

    from salbench.metrics import _resize

    order, mode = zoom
    tables = _resize.zoom_tables((ih, iw), (oh, ow), order, mode)
    if tables is None:  # the same shape, or scipy's output has another; else a failed check
        assert (ih, iw) == (oh, ow) or \
            (round(ih * (oh / ih)), round(iw * (ow / iw))) != (oh, ow)
        return
    rng = np.random.default_rng(seed)
    for x in (rng.random((ih, iw)), 1e6 + rng.standard_normal((ih, iw)),
              rng.choice([-1e-300, 1e-300], (ih, iw))):
        got = np.empty((oh, ow))
        _resize.zoom_into(_resize.zoom_prefilter(x, order, mode), *tables, got)
        expect = ndimage.zoom(x, (oh / ih, ow / iw), order=order, mode=mode)
        np.testing.assert_array_equal(got, expect)


@pytest.mark.parametrize("zoom", _ZOOMS)
@pytest.mark.parametrize("sizes", [((48, 48), (480, 640)), ((60, 80), (480, 640)),
                                   ((64, 48), (1080, 1920)), ((480, 640), (48, 64))])
def test_zoom_check_passes_for_common_sizes(zoom, sizes):
    """The fast zoom is the one used for the sizes people score (not scipy's fallback)."""
    from salbench.metrics import _resize

    assert _resize.zoom_tables(*sizes, *zoom) is not None


def test_zoom_that_fails_its_check_falls_back_to_scipy(rng, monkeypatch):
    """Tables that do not reproduce scipy are refused, and the protocol scores with
    scipy's zoom itself: the same numbers."""
    from salbench.metrics import _resize

    preds, fixes, shapes = _salicon_split(rng)
    assert _resize.zoom_tables(preds[0].shape, shapes[0], 3, "constant") is not None
    fast = score_dataset(preds, fixes, shapes, protocol="salicon", seed=4)
    _resize.zoom_tables.cache_clear()
    real = _resize._spline_weights
    monkeypatch.setattr(_resize, "_spline_weights", lambda x, order: real(x, order) * 1.001)
    assert _resize.zoom_tables(preds[0].shape, shapes[0], 3, "constant") is None
    slow = score_dataset(preds, fixes, shapes, protocol="salicon", seed=4)
    _resize.zoom_tables.cache_clear()
    for m in fast.metrics:
        np.testing.assert_array_equal(fast.per_image[m], slow.per_image[m])


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


@pytest.mark.parametrize("shape", [(30, 40), (24, 32), (3, 5), (1, 1), (7, 2), (100, 100),
                                   (60, 64)])
def test_antonio_blur_matches_the_fft_definition(rng, shape):
    """MIT's ground truth: the separable circular filter equals antonioGaussian.m's 2-D FFT
    (zero padding to a power of two, wrap-around included) for every size."""
    from salbench.metrics import _maps
    from salbench.metrics._blur import antonio_padded_size, antonio_tables

    h, w = shape
    n = antonio_padded_size(h, w)
    tr, tc = antonio_tables(h, n, 8.0), antonio_tables(w, n, 8.0)
    for k in (1, max(1, h * w // 10), h * w):
        lin = np.sort(rng.choice(h * w, k, replace=False))
        counts = rng.integers(1, 4, k).astype(float)
        g = np.empty(shape)
        _maps.gt_map_into(lin // w, lin % w, counts, tr, tc, g)
        fm = np.zeros(shape)
        fm.flat[lin] = counts
        ref = naive.antonio_gaussian(fm, 8.0, clean=False)
        np.testing.assert_allclose(g, ref, rtol=0, atol=1e-14 * max(1.0, np.abs(ref).max()))


@pytest.mark.parametrize("sigma", [2.0, 19.0, 23.99])
@pytest.mark.parametrize("shape", [(480, 640), (200, 70), (65, 30), (1, 9)])
@pytest.mark.parametrize("fixated", [1, 40, 3000])
def test_blurred_fixation_map_by_row_blocks_matches_scipy(rng, sigma, shape, fixated):
    """``gt_map_into`` forms ``G`` a block of rows at a time from the fixated rows that
    reach the block (when that skips enough): scipy's gaussian_filter of the fixation map,
    and the one-product form, within rounding."""
    from salbench.metrics import _maps
    from salbench.metrics._blur import reflect_tables

    h, w = shape
    tr, tc = reflect_tables(h, sigma), reflect_tables(w, sigma)
    lin = np.unique(np.concatenate([rng.choice(h * w, min(fixated, h * w), replace=False),
                                    [0, h * w - 1]]))  # the first and last rows too
    counts = rng.integers(1, 4, lin.size).astype(float)
    g = np.empty(shape)
    _maps.gt_map_into(lin // w, lin % w, counts, tr, tc, g)
    fm = np.zeros(shape)
    fm.flat[lin] = counts
    ref = gaussian_filter(fm, sigma)
    np.testing.assert_allclose(g, ref, rtol=0, atol=1e-14 * ref.max())
    rows, lines = _maps.fixation_lines(lin // w, lin % w, counts, tc, w)
    # the products sum the same terms (minus exact zeros) in other orders: within the
    # bound on reordering a sum of rows.size non-negative terms
    np.testing.assert_allclose(g, tr[0][rows].T @ lines, rtol=0,
                               atol=rows.size * np.finfo(float).eps * ref.max())


@pytest.mark.parametrize("protocol", ["mit", "exact"])
@pytest.mark.parametrize("shape", [(30, 40), (96, 128)])
def test_map_metrics_match_naive(rng, protocol, shape):
    """On small images antonioGaussian's filter has negative lobes (its Gaussian transfer
    function is cut at the Nyquist frequency), so KLD is NaN there, as MATLAB's complex
    log; at 96x128 it is not."""
    for _ in range(3):
        pred = rng.random((12, 12))
        fix = random_fixations(rng, 25, shape)
        p = naive.matlab_imresize(pred, *shape)
        fm = naive.fixation_map(fix, shape)
        g = naive.antonio_gaussian(fm)
        kw = dict(protocol=protocol, shape=shape)
        ref = dict(protocol=protocol, reference="MIT's MATLAB code (tests/naive.py)",
                   atol=1e-12)
        agree(cc(pred, fix, **kw), naive.pearson(p, g), metric="cc", **ref)
        agree(nss(pred, fix, **kw), naive.nss(p, fix, 1), metric="nss", **ref)
        agree(kld(pred, fix, **kw), naive.kld_mit(p, g), metric="kld", **ref)
        agree(sim(pred, fix, **kw), naive.sim_mit(p, g), metric="sim", **ref)
        agree(ig(pred, fix, **kw), naive.ig_mit(p, center_prior(shape), fix), metric="ig",
              **ref)
        base = rng.random(shape)
        agree(ig(pred, fix, baseline=base, **kw), naive.ig_mit(p, base, fix), metric="ig",
              **ref)
        small = rng.random((7, 9))  # InfoGain.m imresizes the baseline to the image
        agree(ig(pred, fix, baseline=small, **kw),
              naive.ig_mit(p, naive.matlab_imresize(small, *shape), fix), metric="ig", **ref)


@pytest.mark.parametrize("side", [(5, 5), (7, 9), (20, 30), (64, 80)])
@pytest.mark.parametrize("value", [1.0, 0.3, 1e-9])
def test_a_constant_baseline_of_any_size_gives_no_ig(side, value):
    """A constant baseline is NaN at the image's size (min-max scaling divides 0 by 0).
    Resized from another size it was constant up to ~1e-16 ripples, which the scaling
    made the baseline's structure: np.ones((5, 5)) gave 14.5 bits, np.full((7, 9), 0.3)
    -0.04.  It is now the constant it is, at any size."""
    rng = np.random.default_rng(1)
    pred, fix = rng.random((8, 8)), np.array([[1, 2], [3, 4], [10, 12]])
    res = score_dataset([pred] * 12, [fix] * 12, [(20, 30)] * 12, protocol="mit",
                        metrics=["ig"], baseline=np.full(side, value))
    assert np.isnan(res.per_image["ig"]).all()
    assert res.nan_reasons["ig"] == {"constant baseline map": list(range(12))}
    assert np.isnan(ig(pred, fix, protocol="exact", shape=(20, 30),
                       baseline=np.full(side, value)))


@given(st.integers(1, 130), st.integers(1, 130), st.integers(1, 200), st.integers(1, 200),
       st.sampled_from(["random", "binary", "peaked"]), st.integers(1, 40),
       st.sampled_from(["mit", "exact"]), st.integers(0, 2**32 - 1))
def test_map_metrics_match_naive_at_any_size(h, w, ph, pw, kind, n_fix, protocol, seed):
    """Any image and prediction size (1 px wide, shrinking, growing, antonioGaussian's
    negative lobes below 65 px), predictions with exact zeros and ties.  ig is compared
    unless a min-max normalised value lies within 1e-9 above 0 (a map that is 0 or
    constant along a row up to rounding), or a fixated pixel's lies below 1e-9 while
    another pixel's does too (the minimum tied up to rounding: which of them resizes to
    exactly the minimum is the resize's last bit): there MIT's ``log2(eps + p)`` turns the
    resize's last-bit rounding (its summation order, which MATLAB does not publish) into
    differences of 1e-5 and more."""
    rng = np.random.default_rng(seed)
    pred = rng.random((ph, pw))
    pred = {"random": pred, "binary": (pred > 0.7).astype(float), "peaked": pred**8}[kind]
    assume(np.ptp(pred) > 0)  # a constant map stays constant (NaN), not MATLAB's rounding
    shape = (h, w)
    fix = np.stack([rng.integers(0, h, n_fix), rng.integers(0, w, n_fix)], 1)
    p = naive.matlab_imresize(pred, h, w)
    if np.ptp(p) <= 1e-12 * np.abs(p).max():  # resized to a constant, up to rounding:
        p = np.ones(shape)  # taken as one (which does not matter: kld is scale-free)
    g = naive.antonio_gaussian(naive.fixation_map(fix, shape))
    if np.ptp(g) <= 1e-12 * np.abs(g).max():  # every pixel fixated: ripples, not structure
        g = np.ones(shape)
    kw = dict(protocol=protocol, shape=shape)
    ref = dict(protocol=protocol, reference="MIT's MATLAB code (tests/naive.py)", rtol=1e-12,
               atol=1e-12)
    agree(cc(pred, fix, **kw), naive.pearson(p, g), metric="cc", **ref)
    agree(nss(pred, fix, **kw), naive.nss(p, fix, 1), metric="nss", **ref)
    agree(kld(pred, fix, **kw), naive.kld_mit(p, g), metric="kld", **ref)
    agree(sim(pred, fix, **kw), naive.sim_mit_nan(p, g), metric="sim", **ref)
    a = (p - p.min()) / max(np.ptp(p), 1e-300)
    low = a < 1e-9
    tied_low = low.sum() > 1 and low[fix[:, 0], fix[:, 1]].any()
    if not ((a > 0) & (a < 1e-9)).any() and not tied_low:  # else ig reads the resize's
        agree(ig(pred, fix, **kw), naive.ig_mit(p, center_prior(shape), fix), metric="ig",
              **ref)  # rounding (docstring)


def test_fft_noise_is_why_the_ground_truth_is_cleaned(rng):
    """With the FFT's rounding noise left in, MATLAB's KLdiv would take the log of a
    negative number at some pixels (a complex score); salbench's blur has exact zeros there.
    (On small images the filter itself has negative lobes, from the Gaussian transfer
    function cut at the Nyquist frequency: those are kept, and KLD is NaN there as in
    MATLAB.)"""
    shape = (480, 640)
    fm = naive.fixation_map(random_fixations(rng, 3, shape, center_bias=False), shape)
    raw = naive.antonio_gaussian(fm, clean=False)
    assert -1e-15 * raw.max() < raw.min() < 0  # noise of the FFT, not of the filter
    assert naive.antonio_gaussian(fm).min() >= 0
    from salbench.metrics import _maps
    from salbench.metrics._blur import antonio_tables

    lin = np.flatnonzero(fm)
    g = np.empty(shape)
    _maps.gt_map_into(lin // 640, lin % 640, np.ones(lin.size), antonio_tables(480, 1024, 8.0),
                      antonio_tables(640, 1024, 8.0), g)
    assert g.min() >= 0


def test_emd_matches_emd_m(rng):
    """EMD.m's preprocessing (imresize by 1/32 of the ground truth, the prediction to that
    size, sum-normalised, column-major grid distances) and FastEMD give the same number."""
    for shape in ((96, 128), (70, 100)):  # 70/32 is not whole: ceil, kernel at scale 1/32
        pred = rng.random((12, 12)) ** 3
        fix = random_fixations(rng, 30, shape)
        g = naive.antonio_gaussian(naive.fixation_map(fix, shape))
        agree(emd(pred, fix, protocol="mit", shape=shape), naive.emd_mit(pred, g),
              protocol="mit", metric="emd", rtol=1e-12,
              reference="MIT's EMD.m with FastEMD (tests/naive.py, pyemd)")
        exact = emd(pred, fix, protocol="exact", shape=shape)  # no integer rounding
        agree(exact, naive.emd_mit(pred, g), protocol="exact", metric="emd", rtol=1e-4,
              reference="MIT's EMD.m with FastEMD (exact: POT, no integer rounding)")


def test_mit_nan_rules(rng):
    shape = (24, 32)
    pred = rng.random((12, 12))
    one_pixel = np.array([[5, 7], [5, 7], [5, 7]])  # one pixel, fixated three times
    assert naive.borji_mit_nan(naive.fixation_map(one_pixel, shape))
    assert np.isnan(auc_borji(pred, one_pixel, protocol="mit", shape=shape))
    assert np.isnan(auc_borji(pred, one_pixel, protocol="mit", shape=shape, expected=True))
    assert np.isfinite(auc_borji(pred, one_pixel, protocol="replication", shape=shape))
    # every pixel fixated on a 4x4 image: no zero padding, the blur is exactly constant
    every = np.argwhere(np.ones((4, 4)))
    g = naive.antonio_gaussian(np.ones((4, 4)))
    assert np.isnan(naive.sim_mit_nan(rng.random((4, 4)), g))
    assert np.isnan(sim(rng.random((4, 4)), every, protocol="mit"))
    # a prediction with negative values: MATLAB's log turns complex; exact refuses it
    assert np.isnan(kld(pred - 0.5, one_pixel, protocol="mit", shape=shape))
    with pytest.raises(ValueError, match="non-negative"):
        kld(pred - 0.5, one_pixel, protocol="exact", shape=shape)


def _two_pass_pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation in float64, each map centred on its mean first (numpy's pairwise
    sums)."""
    x = a.ravel() - a.mean()
    y = b.ravel() - b.mean()
    return float((x * y).sum() / np.sqrt((x * x).sum() * (y * y).sum()))


@pytest.mark.parametrize("blur", ["mit", "salicon"])
@pytest.mark.parametrize("density", [0.0005, 0.1, 0.6, 0.99, 1.0])
@pytest.mark.parametrize("offset", [0.0, 3.0, 1e6])
def test_cc_is_exact_at_any_fixation_density(rng, blur, density, offset):
    """cc within 1e-12 of a two-pass float64 Pearson correlation against the blurred map,
    from a few fixated pixels to all of them (mouse samples make maps dense), for maps
    read uncentred (offset 0) and centred while read (an offset of 10 and of 3e6 standard
    deviations: centring must not cost digits)."""
    shape = (48, 64)
    n = max(1, int(density * shape[0] * shape[1]))
    lin = rng.choice(shape[0] * shape[1], n, replace=False)
    fix = np.stack([lin // shape[1], lin % shape[1]], 1)
    pred = rng.random(shape) + offset
    fm = naive.fixation_map(fix, shape)
    g = naive.antonio_gaussian(fm) if blur == "mit" else gaussian_filter(fm, 19)
    proto = get_protocol(blur)
    if blur == "salicon":  # every fixated pixel, not SALICON's repeats only
        proto = proto.replace(fixation_filter="none")
    got = cc(pred, fix, protocol=proto)
    if np.ptp(g) <= 1e-12 * np.abs(g).max():
        assert np.isnan(got)
        return
    assert got == pytest.approx(_two_pass_pearson(pred, g), abs=1e-12)


@pytest.mark.parametrize("blur", ["mit", "salicon"])
@pytest.mark.parametrize("path", ["patches", "dense map"])
@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_cc_by_patches_and_by_dense_map(rng, monkeypatch, blur, path, offset):
    """Both ways cc is computed (patches with Gram sums, or the blurred map formed) within
    1e-12 of a two-pass Pearson correlation, on an image with interior rows and columns
    (Gram entries from the lag table) and fixations on every border and corner (entries
    from the border rows of the Gram matrix)."""
    from salbench.metrics import _maps

    monkeypatch.setattr(_maps, "DENSE_WORK", 0.0 if path == "dense map" else math.inf)
    shape = (240, 330)
    edges = [(0, 0), (0, 329), (239, 0), (239, 329), (0, 160), (239, 40), (120, 0),
             (100, 329), (3, 77), (236, 250), (75, 75), (164, 254), (76, 76), (163, 253)]
    fix = np.concatenate([random_fixations(rng, 80, shape), np.array(edges)])
    pred = rng.random(shape) + offset
    fm = naive.fixation_map(fix, shape)
    g = naive.antonio_gaussian(fm) if blur == "mit" else gaussian_filter(fm, 19)
    proto = get_protocol(blur)
    if blur == "salicon":
        proto = proto.replace(fixation_filter="none")
    assert cc(pred, fix, protocol=proto) == pytest.approx(_two_pass_pearson(pred, g), abs=1e-12)


@pytest.mark.parametrize("blur", ["mit", "reflect"])
def test_ground_truth_sums_from_gram_entries(rng, blur):
    """``Σ G`` and ``Σ G²`` from column sums and Gram entries (the patches path of cc)
    against the blurred map formed, with unequal weights (counts x 1-3): interior pixels whose
    rows lie exactly ``2r`` apart (the last pair whose supports overlap, by one pixel),
    ``2r ± 1`` apart, in one row and one column; interior pixels paired with border ones;
    border pairs; corners."""
    from salbench.metrics import _engine, _maps

    shape = (120, 150)
    proto = get_protocol("mit") if blur == "mit" else get_protocol("replication").replace(
        gt_sigma=5.0)
    tr, tc = _engine.Plan.make(proto, shape, ["cc"]).gt_tables
    r = tr[5].size // 2
    if blur == "reflect":  # the interior is wide enough for rows 2r apart
        assert tr[6] + 2 * r + 1 <= tr[7]
    top = tr[6]
    pixels = [(top, 60), (top + 2 * r, 60), (top + 1, 90), (top + 2 * r, 91),
              (top + 2 * r + 1, 75), (top + 2 * r - 1, 30), (top + 5, 40), (top + 5, 80),
              (0, 0), (0, 149), (119, 0), (119, 149), (3, 60), (60, 2), (116, 70), (70, 147),
              (top, 3), (2, top)]
    pixels = [(a, b) for a, b in pixels if a < shape[0] and b < shape[1]]
    fix = np.concatenate([np.array(pixels), random_fixations(rng, 40, shape)])
    lin, counts = np.unique(fix[:, 0] * shape[1] + fix[:, 1], return_counts=True)
    wts = counts * rng.integers(1, 4, counts.size).astype(float)
    f = np.zeros(shape)
    f.flat[lin] = wts
    g = naive.antonio_gaussian(f) if blur == "mit" else gaussian_filter(f, 5.0)
    s1, s2 = _maps.gt_moments(lin // shape[1], lin % shape[1], wts, tr, tc)
    assert s1 == pytest.approx(g.sum(), rel=1e-13)
    assert s2 == pytest.approx((g * g).sum(), rel=1e-13)


@pytest.mark.parametrize("protocol", ["mit", "pysaliency", "exact"])
@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_nss_is_exact_far_from_zero(rng, protocol, offset):
    """NSS of a map far from zero (``1e6 + noise``) against rational arithmetic: the
    rounding of the float64 mean (1e-10 here) must not reach the result."""
    shape = (24, 32)
    lin = rng.choice(shape[0] * shape[1], 40, replace=False)  # distinct: every protocol
    fix = np.stack([lin // shape[1], lin % shape[1]], 1)     # reads the same pixels
    pred = rng.random(shape) + offset
    ddof = get_protocol(protocol).nss_ddof
    vals = [Fraction(v) for v in pred.ravel()]
    mu = sum(vals) / len(vals)
    var = sum((v - mu) ** 2 for v in vals) / (len(vals) - ddof)
    ref = float(sum(vals[i] - mu for i in lin) / len(lin)) / math.sqrt(var)
    assert nss(pred, fix, protocol=protocol) == pytest.approx(ref, abs=1e-12)


@given(st.integers(1, 50), st.integers(1, 50), st.booleans(), st.integers(0, 2**32 - 1))
def test_value_range_is_min_and_max(h, w, f32, seed):
    """The (min, max) that cc and sim take instead of reading a map again: numpy's, in
    float64, for any size (lanes and a remainder) and either dtype."""
    x = np.random.default_rng(seed).normal(size=(h, w)) * 1e3
    if f32:
        x = x.astype(np.float32)
    lo, hi = _maps.value_range(x)
    assert (lo, hi) == (float(x.min()), float(x.max()))
    assert type(lo) is type(hi) is float


@pytest.mark.parametrize("density", [_maps.DENSITY_MIT, _maps.DENSITY_PYSALIENCY])
def test_sim_and_ig_sums_are_accurate_at_full_size(rng, density):
    """SIM and IG of 480x640 maps against exactly rounded sums (``math.fsum``): within
    1e-14 relative.  (Summed one value after another, as before the block sums, they
    were 2-4e-14 off.)"""
    p = rng.random((480, 640)) ** 2
    g = rng.random((480, 640)) ** 4
    a, b = p, g
    if density == _maps.DENSITY_MIT:
        a = (p - p.min()) / (p.max() - p.min())
        b = (g - g.min()) / (g.max() - g.min())
    a = a / math.fsum(a.ravel())
    b = b / math.fsum(b.ravel())
    ref = math.fsum(np.minimum(a, b).ravel())
    ranges = (p.min(), p.max(), g.min(), g.max())
    assert _maps.sim(p, g, density, *ranges) == pytest.approx(ref, rel=1e-14, abs=0)
    base = np.log2(naive.MATLAB_EPS + b)
    at = rng.choice(p.size, 500, replace=False)
    a = (p - p.min()) / (p.max() - p.min())
    a = a / math.fsum(a.ravel())
    ref = math.fsum(math.log2(naive.MATLAB_EPS + a.flat[i]) - base.flat[i] for i in at) / 500
    got = _maps.ig(p, p.min(), p.max(), base, at, naive.MATLAB_EPS)
    assert got == pytest.approx(ref, rel=1e-14, abs=0)


def test_rank_histograms_of_every_pixel_match_the_indexed_count(rng):
    """The exact AUCs' count over every pixel (integer histograms) gives the counts of
    the indexed, weighted loop at weight 1, on a smooth map with ties, values below and
    above every positive, and positives equal to pixels."""
    from salbench.metrics import _auc

    smap = np.round(gaussian_filter(rng.random((60, 80)), 3), 3)
    flat = smap.ravel()
    order = np.argsort(flat)
    pos = np.sort(flat[order[rng.integers(20, flat.size - 20, 50)]])  # inside the range
    u, _, table, lo, scale = _auc.mw_prepare(pos)
    every = [np.zeros(u.size + 1), np.zeros(u.size)]
    indexed = [np.zeros(u.size + 1), np.zeros(u.size)]
    n = _auc._mw_count_all(u, table, lo, scale, flat, *every)
    w = _auc._mw_count(u, table, lo, scale, flat, np.arange(flat.size), np.ones(flat.size),
                       *indexed)
    assert n == w == flat.size
    assert every[0][0] > 0 and every[0][-1] > 0 and every[1].sum() > 0
    np.testing.assert_array_equal(every[0], indexed[0])
    np.testing.assert_array_equal(every[1], indexed[1])


def test_rank_table_refuses_unsorted_positives():
    """The exact AUCs' rank table takes its positives sorted (numpy sorts them before the
    kernels); unsorted ones would give wrong ranks, so they raise instead."""
    from salbench.metrics import _auc

    u, cnt, _, _, _ = _auc.mw_prepare(np.array([0.1, 0.2, 0.2, 0.5]))
    np.testing.assert_array_equal(u, [0.1, 0.2, 0.5])
    np.testing.assert_array_equal(cnt, [1.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="sorted ascending"):
        _auc.mw_prepare(np.array([0.1, 0.5, 0.2]))


def test_given_ground_truth_maps(rng):
    """cc/kld/sim/emd against a given map: the map is used as it is (resized to the image
    by the protocol when another size)."""
    shape = (30, 40)
    pred = rng.random((12, 12))
    gt = gaussian_filter(rng.random(shape), 3)
    fix = random_fixations(rng, 10, shape)
    p = naive.matlab_imresize(pred, *shape)
    assert cc(pred, fix, protocol="mit", shape=shape, gt_map=gt) == pytest.approx(
        naive.pearson(p, gt), abs=1e-12)
    assert kld(pred, fix, protocol="mit", shape=shape, gt_map=gt) == pytest.approx(
        naive.kld_mit(p, gt), abs=1e-12)
    assert sim(pred, fix, protocol="mit", shape=shape, gt_map=gt) == pytest.approx(
        naive.sim_mit(p, gt), abs=1e-12)
    small = naive.matlab_imresize(gt, 15, 20)
    assert cc(pred, fix, protocol="mit", shape=shape, gt_map=small) == pytest.approx(
        naive.pearson(p, naive.matlab_imresize(small, *shape)), abs=1e-12)
    with pytest.raises(ValueError, match="ground-truth map has negative values"):
        cc(pred, fix, protocol="mit", shape=shape, gt_map=gt - 1)
    maps = [gt] * 12
    preds = [rng.random((12, 12)) for _ in range(12)]
    fixes = [random_fixations(rng, 10, shape) for _ in range(12)]
    res = score_dataset(preds, fixes, [shape] * 12, protocol="mit", metrics=["cc", "sim"],
                        gt_maps=maps)
    for i in (0, 7):
        assert res.per_image["cc"][i] == pytest.approx(
            naive.pearson(naive.matlab_imresize(preds[i], *shape), gt), abs=1e-12)
    # a sharp map of another size: MATLAB's bicubic overshoots below 0, clipped as for a
    # prediction (kld was NaN, blamed on antonioGaussian's lobes)
    sharp = np.zeros((10, 15))
    sharp[5, 7] = 1.0
    up = np.maximum(naive.matlab_imresize(sharp, *shape), 0.0)
    assert naive.matlab_imresize(sharp, *shape).min() < -0.01  # it does overshoot
    assert kld(pred, fix, protocol="mit", shape=shape, gt_map=sharp) == pytest.approx(
        naive.kld_mit(p, up), abs=1e-12)
    assert sim(pred, fix, protocol="mit", shape=shape, gt_map=sharp) == pytest.approx(
        naive.sim_mit(p, up), abs=1e-12)
    # maps of another size, resized to the image by the dataset scorer as by cc
    res = score_dataset(preds, fixes, [shape] * 12, protocol="mit", metrics=["cc"],
                        gt_maps=[small] * 12)
    for i in (0, 7):
        assert res.per_image["cc"][i] == pytest.approx(
            naive.pearson(naive.matlab_imresize(preds[i], *shape),
                          naive.matlab_imresize(small, *shape)), abs=1e-12)


@pytest.mark.parametrize("protocol", ["mit", "exact", "salicon"])
def test_prediction_blur_after_any_resize(rng, protocol):
    """``prediction_blur_sigma`` (the replication study's sigma-2 blur) under a protocol
    that resizes otherwise: the resized map blurred by scipy's ``gaussian_filter`` (reflect
    border, truncated at 4 sigma), then scored as any map at the image's size; a map at
    the image's size is blurred as it is."""
    shape = (30, 40)
    proto = get_protocol(protocol).replace(prediction_blur_sigma=2.0)
    preds = [rng.random((12, 12)) for _ in range(11)] + [rng.random(shape)]
    fixes = [np.concatenate([random_fixations(rng, 15, shape)] * 2) for _ in range(12)]
    blurred = score_dataset(preds, fixes, [shape] * 12, protocol=proto, metrics=["cc", "nss"])
    resized = [naive.matlab_imresize(p, *shape) if protocol != "salicon"
               else naive.salicon_zoom(p, shape) for p in preds[:11]] + [preds[11]]
    plain = score_dataset([gaussian_filter(m, 2.0) for m in resized], fixes, [shape] * 12,
                          protocol=protocol, metrics=["cc", "nss"])
    for m in ("cc", "nss"):
        np.testing.assert_allclose(blurred.per_image[m], plain.per_image[m], rtol=0,
                                   atol=1e-12, err_msg=m)
    unblurred = score_dataset(preds, fixes, [shape] * 12, protocol=protocol, metrics=["cc"])
    assert not np.allclose(unblurred.per_image["cc"], blurred.per_image["cc"], atol=1e-6)


def test_replication_cc_matches_naive_pipeline(rng):
    shape = (60, 80)
    for _ in range(3):
        pred = rng.random((48, 48)).astype(np.float32)
        fix = random_fixations(rng, 40, shape)
        p = port.prepare(pred, shape)
        g = gaussian_filter(naive.fixation_map(fix, shape), 19)
        agree(cc(pred, fix, protocol="replication", shape=shape), naive.pearson(p, g),
              protocol="replication", metric="cc", atol=1e-12,
              reference="Pillow + scipy pipeline, loop-level Pearson (tests/naive.py)")


# ---- the SALICON challenge's evaluation ------------------------------------------------


def test_salicon_filter_keeps_repeats_once_less(rng):
    from salbench.metrics._engine import salicon_filter

    pts = np.array([[3, 4], [3, 4], [3, 4], [1, 2], [5, 5], [5, 5], [0, 9]])
    r, c = salicon_filter(pts[:, 0], pts[:, 1])
    assert sorted(zip(r.tolist(), c.tolist())) == [(3, 4), (3, 4), (5, 5)]
    assert naive.salicon_filter(pts.tolist()) == [[3, 4], [3, 4], [5, 5]]
    for _ in range(20):
        f = rng.integers(0, 4, (int(rng.integers(0, 30)), 2))
        r, c = salicon_filter(f[:, 0], f[:, 1])
        assert sorted(zip(r.tolist(), c.tolist())) == \
            sorted(map(tuple, naive.salicon_filter(f.tolist())))


def _salicon_split(rng, n=6, shape=(40, 50)):
    preds = [rng.random((12, 15)) for _ in range(n)]
    fixes = []
    for _ in range(n):  # repeated points, as SALICON's observers produce them
        base = random_fixations(rng, 30, shape)
        fixes.append(np.concatenate([base, base[: int(rng.integers(3, 20))]]))
    return preds, fixes, [shape] * n


def test_salicon_matches_its_reference_code(rng):
    preds, fixes, shapes = _salicon_split(rng)
    shape = shapes[0]
    res = score_dataset(preds, fixes, shapes, protocol="salicon", seed=4)
    kept = [naive.salicon_filter(f.tolist()) for f in fixes]
    shuf = np.zeros(shape)
    for k in kept:
        fm = np.zeros(shape)
        for r, c in k:
            fm[r, c] = 1
        shuf += fm
    n_pix = shape[0] * shape[1]
    ref = dict(protocol="salicon", atol=1e-12,
               reference="salicon-evaluation's Python code (tests/naive.py)")
    for i, p in enumerate(preds):
        z = naive.salicon_zoom(p, shape)
        agree(res.per_image["cc"][i], naive.salicon_cc(z, kept[i], shape), metric="cc", **ref)
        agree(res.per_image["nss"][i], naive.salicon_nss(z, kept[i]), metric="nss", **ref)
        draws = _rng.draw_indices(4, i, _rng.BORJI, 0, n_pix, 100_000)
        agree(res.per_image["auc_borji"][i], naive.salicon_auc(z, kept[i], draws),
              metric="auc_borji", **ref)
        agree(res.per_image["sauc"][i], naive.salicon_sauc(z, kept[i], shuf), metric="sauc",
              **ref)


def test_salicon_constant_map_and_no_repeats(rng):
    preds, fixes, shapes = _salicon_split(rng)
    preds[2] = np.full((12, 15), 0.3)
    fixes[3] = random_fixations(rng, 1, shapes[0])  # nothing repeats: nothing kept
    res = score_dataset(preds, fixes, shapes, protocol="salicon")
    assert res.per_image["nss"][2] == 0.0  # the reference skips the division
    assert res.per_image["auc_borji"][2] == 0.5 and res.per_image["sauc"][2] == 0.5
    assert np.isnan(res.per_image["cc"][2])
    assert all(np.isnan(res.per_image[m][3]) for m in res.metrics)
    assert np.isnan(res.mean["cc"])  # np.mean over images, as the reference
    # the reference's own nss of a constant map hangs on how numpy's mean of the equal
    # values rounds: 0 for 0.25, but 0.3 - mean = 1.1e-16 > 0 is divided by a zero std
    kept = naive.salicon_filter(fixes[2].tolist())
    with np.errstate(divide="ignore", invalid="ignore"):
        assert naive.salicon_nss(np.full(shapes[0], 0.25), kept) == 0.0
        assert naive.salicon_nss(np.full(shapes[0], 0.3), kept) == np.inf


@given(st.integers(1, 60), st.integers(1, 60), st.integers(1, 80), st.integers(1, 80),
       st.sampled_from(["random", "binary", "peaked"]), st.integers(1, 30),
       st.integers(0, 2**32 - 1))
def test_salicon_cc_nss_match_its_reference_at_any_size(h, w, mh, mw, kind, n_fix, seed):
    """Any image and map size (scipy's zoom shrinking, growing, 1 px wide), maps with
    exact zeros and ties, repeated fixations (SALICON's filter keeps a point seen k
    times k - 1 times)."""
    rng = np.random.default_rng(seed)
    m = rng.random((mh, mw))
    m = {"random": m, "binary": (m > 0.8).astype(float), "peaked": m**8}[kind]
    fix = np.stack([rng.integers(0, h, n_fix), rng.integers(0, w, n_fix)], 1)
    fix = np.concatenate([fix, fix[: int(rng.integers(1, n_fix + 1))]])
    s = m if m.shape == (h, w) else naive.salicon_zoom(m, (h, w))
    assume(s.shape == (h, w))  # else the reference fails; salbench refuses (tested above)
    kept = naive.salicon_filter(fix.tolist())
    got_cc = cc(m, fix, protocol="salicon", shape=(h, w))
    got_nss = nss(m, fix, protocol="salicon", shape=(h, w))
    if not kept:
        assert np.isnan(got_cc) and np.isnan(got_nss)
    elif np.ptp(s) <= 1e-12 * np.abs(s).max():  # constant, or so up to rounding: the
        assert np.isnan(got_cc) and got_nss == 0.0  # reference's nss hangs on it (below)
    else:
        ref = dict(protocol="salicon", reference="SALICON's cc.py / nss.py (tests/naive.py)",
                   rtol=1e-12)
        # cc.py min-max normalises the ground truth: on a tiny image (sigma 19) it is flat
        # to 1e-5, and the blur's rounding (~1e-16 of its values) grows by max / range
        g = gaussian_filter(naive.fixation_map(np.array(kept), (h, w)), 19)
        flat = np.abs(g).max() / np.ptp(g) if np.ptp(g) > 0 else np.inf
        agree(got_cc, naive.salicon_cc(s, kept, (h, w)), metric="cc",
              atol=1e-12 + 1e-14 * flat, **ref)
        agree(got_nss, naive.salicon_nss(s, kept), metric="nss", atol=1e-12, **ref)


# ---- AUCs ----------------------------------------------------------------------------


def test_exact_aucs_match_mann_whitney(rng):
    shape = (20, 24)
    for _ in range(3):
        p = np.round(rng.random(shape) * 8) / 8  # ties on purpose
        fix = random_fixations(rng, 30, shape)  # duplicates likely
        other = random_fixations(rng, 60, shape)
        pos = [p[r, c] for r, c in fix]
        fm = naive.fixation_map(fix, shape)
        ref = dict(protocol="exact", atol=1e-12, reference="Mann-Whitney U (tests/naive.py)")
        agree(auc_borji(p, fix, protocol="exact"), naive.mann_whitney(pos, list(p.ravel())),
              metric="auc_borji", **ref)
        agree(auc_judd(p, fix, protocol="exact"), naive.mann_whitney(pos, list(p[fm == 0])),
              metric="auc_judd", **ref)
        agree(sauc(p, fix, other, protocol="exact"),
              naive.mann_whitney(pos, [p[r, c] for r, c in other]), metric="sauc", **ref)


def test_mit_judd_matches_naive_with_same_jitter(rng):
    shape = (18, 22)
    for stream in range(3):
        p = np.round(rng.random(shape) * 4) / 4
        fix = random_fixations(rng, 20, shape)
        u = _rng.draw_uniform(5, stream, _rng.JITTER, 0, p.size).reshape(shape)
        j = p + u * 1e-7
        j = (j - j.min()) / (j.max() - j.min())
        expect = naive.judd_mit(j, naive.fixation_map(fix, shape))
        agree(auc_judd(p, fix, protocol="mit", seed=5, stream=stream), expect,
              protocol="mit", metric="auc_judd", atol=1e-12,
              reference="MIT's AUC_Judd.m, same jitter (tests/naive.py)")


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
    ref = dict(protocol=protocol, atol=1e-12,
               reference=("MIT's AUC_Borji.m / AUC_shuffled.m" if protocol == "mit" else
                          "the study's script") + ", same draws (tests/naive.py)")
    agree(got, expect, metric="auc_borji", **ref)

    pool = np.unique(other[:, 0] * shape[1] + other[:, 1])
    m = min(len(pos), pool.size)
    neg = [flat[pool[_rng.draw_permutation(seed, stream, _rng.SAUC, k, pool.size, m)]]
           for k in range(100)]
    expect = naive.grid_auc_splits(pos, neg, grid)
    got = sauc(pred, fix, other, protocol=protocol, seed=seed, stream=stream, return_splits=True)
    agree(got, expect, metric="sauc", **ref)


@pytest.mark.parametrize("float_truncate", [False, True])
@pytest.mark.parametrize("exclude_self", [False, True])
def test_union_of_other_maps_matches_naive(rng, exclude_self, float_truncate):
    """sauc's pool of the sampled protocols: the union of the fixated pixels of the images
    the stream picks, rescaled to this image's size by integer floor (or as pysaliency
    does, ``int(float(x) * (H / H_other))``: the dataset path ignored ``rescale`` here), in
    ascending order; images of odd sizes."""
    from salbench.metrics import _pools, _rng
    from salbench.metrics.dataset import PackedFixations, _Marks

    # (22, 33) -> (30, 45): row 11 and column 22 are where the two rescalings part
    sizes = np.array([(7, 9), (13, 5), (30, 45), (21, 11), (22, 33), (7, 9)] * 3)
    fixes = [random_fixations(rng, int(rng.integers(1, 12)), tuple(s)) for s in sizes]
    fixes = [np.vstack([f, [(11, 22)]]) if tuple(s) == (22, 33) else f
             for f, s in zip(fixes, sizes, strict=True)]
    packed = PackedFixations.of(fixes)
    parted = 0
    rows, cols = packed.rc[:, 0].astype(np.int64), packed.rc[:, 1].astype(np.int64)
    marks = _Marks()
    for i in range(len(sizes)):
        h, w = sizes[i]
        got = _pools.union_of_maps(i, len(sizes), h, w, packed.offsets, rows, cols, sizes, 3, 4,
                                   exclude_self, marks.get(h * w), float_truncate)
        picked = _rng.draw_permutation(3, i, _rng.OTHERS, 0, len(sizes) - exclude_self, 4)
        lin = set()
        for o in picked:
            o = o + 1 if exclude_self and o >= i else o
            ho, wo = int(sizes[o][0]), int(sizes[o][1])
            for r, c in fixes[o]:
                floor = int(r) * h // ho * w + int(c) * w // wo
                pysal = int(float(r) * (h / ho)) * w + int(float(c) * (w / wo))
                lin.add(pysal if float_truncate else floor)
                parted += pysal != floor
        assert got.tolist() == sorted(lin)
        assert not marks.get(h * w).any()  # left all-False for the next image
    assert parted  # the two rescalings give other pools here


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
    study = dict(protocol="replication",
                 reference="the study's script, same draws (tests/replication_port.py)")
    agree(res.per_image["cc"], ref["cc"], metric="cc", atol=1e-9, **study)
    agree(res.per_image["auc_borji"], ref["auc_borji"], metric="auc_borji", atol=1e-12,
          **study)
    agree(res.per_image["sauc"], ref["sauc"], metric="sauc", atol=1e-12, **study)


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
    ref = dict(protocol="exact", atol=1e-9, reference="pysaliency 0.2.22")
    agree(res.per_image["auc_borji"], ref_borji, metric="auc_borji", **ref)
    agree(res.per_image["sauc"], ref_sauc, metric="sauc", **ref)


# ---- a map's moments -----------------------------------------------------------------


@given(st.integers(1, 70), st.sampled_from([np.float32, np.float64]), st.integers(0, 69),
       st.integers(0, 69), st.integers(0, 2**32 - 1))
def test_map_moments_match_exact_sums(n, dtype, at_lo, at_hi, seed):
    """min and max exactly numpy's wherever the extremes sit (every lane of the running
    minima, and the tail past the last whole group of lanes); the mean within a few ulps
    of the values' magnitude of the exact mean, and the sum of squared deviations within
    a few ulps of its exact value."""
    rng = np.random.default_rng(seed)
    x = (rng.random(n) * 10 - 5).astype(dtype)
    x[at_lo % n] = -7.5
    x[at_hi % n] = 9.25 if at_hi % n != at_lo % n else -7.5
    lo, hi, mean, ssd, _ = _maps.moments(x.reshape(1, n))
    assert (lo, hi) == (float(x.min()), float(x.max()))
    exact = [Fraction(float(v)) for v in x]
    mu = sum(exact) / n
    scale = float(np.abs(x.astype(np.float64)).mean())
    assert abs(Fraction(mean) - mu) <= 4 * np.finfo(float).eps * scale
    assert ssd == pytest.approx(float(sum((v - mu) ** 2 for v in exact)), rel=1e-14,
                                abs=1e-300)
