"""Design §3.4: every edge case has the reference's defined result or a clear error, under
every protocol."""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from salbench.metrics import (
    PROTOCOLS,
    auc_borji,
    auc_judd,
    cc,
    emd,
    ig,
    kld,
    nss,
    sauc,
    score_dataset,
    sim,
)

from conftest import random_fixations

SHAPE = (72, 96)  # antonioGaussian pads to 128: its filter has no negative lobes there
FUNCS = {"cc": cc, "nss": nss, "kld": kld, "sim": sim, "ig": ig, "emd": emd,
         "auc_judd": auc_judd, "auc_borji": auc_borji, "sauc": sauc}
CASES = [(p, m) for p, proto in PROTOCOLS.items() for m in proto.metrics if m in FUNCS]
OTHER = np.array([[1, 1], [5, 7], [20, 30], [12, 16], [12, 16]])
# SALICON's filter keeps repeated points only: these survive it
FIX = np.array([[3, 4], [3, 4], [12, 16], [12, 16], [20, 9], [20, 9]])
NAN, HALF, FINITE, ZERO, UNIT = "nan", "half", "finite", "zero", "unit"


def call(metric, smap, fix, protocol, **kw):
    fn = FUNCS[metric]
    if metric == "sauc":
        return fn(smap, fix, OTHER, protocol=protocol, shape=SHAPE, **kw)
    return fn(smap, fix, protocol=protocol, shape=SHAPE, **kw)


def check(value, expect):
    if expect == NAN:
        assert np.isnan(value)
    elif expect == HALF:
        assert value == 0.5
    elif expect == ZERO:
        assert value == 0.0
    elif expect == UNIT:
        assert 0.0 <= value <= 1.0
    else:
        assert np.isfinite(value)


@pytest.fixture
def smap(rng):
    return rng.random((12, 12))


@pytest.mark.parametrize("protocol, metric", CASES)
def test_no_fixations_is_nan(smap, protocol, metric):
    assert np.isnan(call(metric, smap, np.zeros((0, 2), dtype=int), protocol))


@pytest.mark.parametrize("protocol, metric", CASES)
def test_one_fixation(smap, protocol, metric):
    v = call(metric, smap, np.array([[12, 16]]), protocol)
    if protocol == "salicon":  # a point seen once is not kept by SALICON's filter
        assert np.isnan(v)
    elif protocol == "mit" and metric == "auc_borji":  # AUC_Borji.m: NaN at <= 1 pixel
        assert np.isnan(v)
    else:
        assert np.isfinite(v)


CONSTANT = {
    "replication": dict.fromkeys(("cc", "auc_borji", "sauc"), NAN),
    "mit": {"cc": NAN, "nss": NAN, "kld": FINITE, "sim": NAN, "ig": NAN, "emd": FINITE,
            "auc_judd": UNIT, "auc_borji": NAN, "sauc": NAN},
    "exact": {"cc": NAN, "nss": NAN, "kld": FINITE, "sim": NAN, "ig": NAN, "emd": FINITE,
              "auc_judd": HALF, "auc_borji": HALF, "sauc": HALF},
    "salicon": {"cc": NAN, "nss": ZERO, "auc_borji": HALF, "sauc": HALF},
    "pysaliency": {"cc": ZERO, "nss": ZERO, "kld": FINITE, "sim": FINITE, "auc_judd": UNIT,
                   "auc_borji": HALF, "sauc": HALF},
}


@pytest.mark.parametrize("protocol, metric", CASES)
def test_constant_prediction(protocol, metric):
    """The reference's value: NaN where it divides by a zero deviation or range, 0 where
    it skips the division (pysaliency; SALICON's NSS), one half for exact AUCs (every pair
    ties) and SALICON's (an all-0 map), the seeded jitter's draw for AUC-Judd."""
    v = call(metric, np.full((12, 12), 0.5), FIX, protocol)
    check(v, CONSTANT[protocol][metric])
    if CONSTANT[protocol][metric] == UNIT:  # jittered: the seed decides, as in MATLAB
        assert v == call(metric, np.full((12, 12), 0.5), FIX, protocol)


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_constant_prediction_stays_constant_when_resized(protocol):
    """Resize weights do not sum to exactly 1 in floating point; a constant 48x48 map must
    still give a constant 480x640 map (NaN CC), not rounding noise with a 'correlation'."""
    fix = np.array([[100, 200], [100, 200], [240, 320], [240, 320], [400, 50], [400, 50]])
    for value in (1.0, 0.37):
        pred = np.full((48, 48), value, dtype=np.float32)
        v = cc(pred, fix, protocol=protocol, shape=(480, 640))
        assert v == 0.0 if protocol == "pysaliency" else np.isnan(v)


@pytest.mark.parametrize("protocol, metric", CASES)
def test_prediction_resized_to_a_constant_up_to_rounding_is_constant(protocol, metric):
    """2x1 onto 1x160: the rows average and the column repeats, so the map is constant
    but for the resize's last-bit rounding (MATLAB's imresize here), which the metrics
    would otherwise score as structure."""
    from salbench.metrics._resize import matlab_bicubic

    pred = np.array([[0.2], [0.9]])
    assert np.ptp(matlab_bicubic(pred, 1, 160)) > 0  # the premise: rounding ripples
    fix = np.array([[0, 3], [0, 3], [0, 40], [0, 40], [0, 9], [0, 9]])
    other = (fix[:, 1:] * 7 % 160) * [0, 1]  # other fixations in row 0
    args = (pred, fix, other) if metric == "sauc" else (pred, fix)
    v = FUNCS[metric](*args, protocol=protocol, shape=(1, 160))
    check(v, CONSTANT[protocol][metric])


@pytest.mark.parametrize("protocol, metric", CASES)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_prediction_is_refused(smap, protocol, metric, bad):
    smap[3, 4] = bad
    with pytest.raises(ValueError, match=r"saliency map has \d NaN and \d infinite.*img7"):
        call(metric, smap, FIX, protocol, name="img7")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_non_finite_values_are_counted_in_the_message(rng, dtype):
    """Finiteness is read off the map's min and max; the message still counts each kind,
    for predictions, given ground truths and ig baselines alike."""
    bad = rng.random((12, 12)).astype(dtype)
    bad[0, :2] = np.nan
    bad[1, 0] = np.inf
    bad[2, :3] = -np.inf
    good = rng.random((12, 12))
    with pytest.raises(ValueError, match=r"^saliency map has 2 NaN and 4 infinite values "
                                         r"\(img7\)"):
        cc(bad, FIX, protocol="mit", shape=SHAPE, name="img7")
    for one in ([np.nan], [np.inf], [-np.inf]):
        only = good.astype(dtype)
        only[5, 5] = one[0]
        n_nan = int(np.isnan(one[0]))
        with pytest.raises(ValueError, match=rf"has {n_nan} NaN and {1 - n_nan} infinite"):
            score_dataset([only], [FIX], [SHAPE], protocol="exact", metrics=["cc"])
    with pytest.raises(ValueError, match=r"^ground-truth map has 2 NaN and 4 infinite values "
                                         r"\(image 0\); check the file"):
        score_dataset([good], [FIX], [SHAPE], protocol="mit", metrics=["cc"], gt_maps=[bad])
    with pytest.raises(ValueError, match=r"^baseline map has 2 NaN and 4 infinite"):
        ig(good, FIX, protocol="mit", shape=SHAPE, baseline=bad)


@pytest.mark.parametrize("protocol, metric", CASES)
def test_negative_values(smap, protocol, metric):
    neg = smap - 0.5
    if protocol == "replication":  # the 8-bit cast needs [0, 1]: refused, unless asked
        with pytest.raises(ValueError, match=r"lie in \[-0\.\d+, 0\.\d+\].*--normalize"):
            call(metric, neg, FIX, protocol)
        assert np.isfinite(call(metric, neg, FIX, protocol, normalize="clip")) or \
            metric != "cc"
        return
    if metric == "kld" and protocol == "mit":  # MATLAB's log turns complex
        assert np.isnan(call(metric, neg, FIX, protocol))
        return
    if metric == "kld" and protocol == "exact":
        with pytest.raises(ValueError, match="non-negative saliency map"):
            call(metric, neg, FIX, protocol)
        return
    v = call(metric, neg, FIX, protocol)
    if protocol == "pysaliency" and metric in ("kld", "sim"):  # shifted by its minimum
        assert np.isfinite(v)
    elif metric == "emd":  # sum-normalised, not shift-invariant
        assert np.isfinite(v) or np.isnan(v)
    else:  # min-max normalised or z-scored: a shift changes nothing
        assert v == pytest.approx(call(metric, smap, FIX, protocol), abs=1e-12)


ALL_ZERO = {
    "replication": dict.fromkeys(("cc", "auc_borji", "sauc"), NAN),
    "mit": {"cc": NAN, "nss": NAN, "kld": "big", "sim": ZERO, "ig": NAN, "emd": NAN,
            "auc_judd": UNIT, "auc_borji": NAN, "sauc": NAN},
    "exact": {"cc": NAN, "nss": NAN, "kld": "big", "sim": ZERO, "ig": NAN, "emd": NAN,
              "auc_judd": HALF, "auc_borji": HALF, "sauc": HALF},
    "salicon": {"cc": NAN, "nss": ZERO, "auc_borji": HALF, "sauc": HALF},
    "pysaliency": {"cc": ZERO, "nss": ZERO, "kld": FINITE, "sim": FINITE, "auc_judd": UNIT,
                   "auc_borji": HALF, "sauc": HALF},
}


@pytest.mark.parametrize("protocol, metric", CASES)
def test_all_zero_prediction(protocol, metric):
    v = call(metric, np.zeros((12, 12)), FIX, protocol)
    expect = ALL_ZERO[protocol][metric]
    if expect == "big":  # KLdiv.m leaves an all-zero map unnormalised: log(g / eps)
        assert v > 30
    else:
        check(v, expect)


@pytest.mark.parametrize("protocol, metric", CASES)
@pytest.mark.parametrize("bad", [(72, 3), (3, 96), (-1, 0), (0, -5)])
def test_out_of_bounds_fixations_are_refused(smap, protocol, metric, bad):
    fix = np.array([[1, 1], bad])
    with pytest.raises(ValueError, match=r"1 of 2 fixations lie outside the 72x96 image.*img3"):
        call(metric, smap, fix, protocol, name="img3")


@pytest.mark.parametrize("bad, where", [((40, 3), 4), ((3, 60), 4), ((-1, 0), 3),
                                        ((0, -5), 3), ((50, 0), 3)])
def test_out_of_bounds_fixation_names_its_image_among_empty_ones(rng, bad, where):
    """The bounds check works per image from extremes: images without fixations around the
    bad one, and (40, 3) lies inside the 50x70 images but outside the 40x60 ones."""
    sizes = [(50, 70), (40, 60), (50, 70), (50, 70), (40, 60)]
    fixes = [np.zeros((0, 2), int), np.array([[39, 59], [1, 2]]), np.zeros((0, 2), int),
             np.array([[45, 65], [40, 3]]), np.array([[0, 0]])]
    fixes[where] = np.concatenate([fixes[where], [bad]])
    h, w = sizes[where]
    with pytest.raises(ValueError, match=rf"1 of {len(fixes[where])} fixations lie outside "
                                         rf"the {h}x{w} image, e.g. \(row={bad[0]}, "
                                         rf"col={bad[1]}\).*im{where}"):
        score_dataset(rng.random((5, 8, 8)), fixes, sizes, protocol="exact",
                      metrics=["nss"], names=[f"im{i}" for i in range(5)])


@pytest.mark.parametrize("dtype, value, shown", [
    (np.float64, 1e30, "1e+30"), (np.float64, -1e300, "-1e+300"),
    (np.float64, 2.0**63, "9.223372036854776e+18"), (np.float64, 40.0, "40"),
    (np.uint64, 2**63, str(2**63)), (np.uint64, 2**64 - 1, str(2**64 - 1)),
    (np.uint8, 255, "255"),
])
def test_far_fixations_are_shown_as_given(rng, dtype, value, shown):
    """Bounds are checked before the cast to int64, which would wrap 1e30 or a uint64
    2**63 to -2**63 (the error then showed row=-9223372036854775808, with a
    RuntimeWarning), by the dataset scorer and the functional metrics alike."""
    fixes = [np.array([[1, 2], [3, 4]], dtype=dtype) for _ in range(3)]
    fixes[2][1, 0] = value
    msg = rf"1 of 2 fixations lie outside the 40x60 image, e.g. \(row={re.escape(shown)}, " \
          rf"col=4\).*im2"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=msg):
            score_dataset(rng.random((3, 8, 8)), fixes, [(40, 60)] * 3, protocol="exact",
                          metrics=["nss"], names=["im0", "im1", "im2"])
        with pytest.raises(ValueError, match=msg):
            nss(rng.random((8, 8)), fixes[2], protocol="exact", shape=(40, 60), name="im2")


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint64, np.uint8, np.int32])
def test_fixations_of_any_real_type_score_as_int64(rng, dtype):
    preds = rng.random((3, 8, 8))
    fixes = [random_fixations(rng, 20, (40, 60)) for _ in range(3)]
    want = score_dataset(preds, fixes, [(40, 60)] * 3, protocol="exact", metrics=["cc", "nss"])
    got = score_dataset(preds, [f.astype(dtype) for f in fixes], [(40, 60)] * 3,
                        protocol="exact", metrics=["cc", "nss"])
    for m in ("cc", "nss"):
        np.testing.assert_array_equal(got.per_image[m], want.per_image[m])


def test_fractional_fixation_names_its_image(rng):
    fixes = [np.array([[1.0, 2.0]]), np.array([[3.0, 4.0], [5.0, 6.5]])]
    with pytest.raises(ValueError, match=r"whole pixel coordinates .*e\.g\. \(row=5, "
                                         r"col=6\.5\) \(second\); round or floor"):
        score_dataset(rng.random((2, 8, 8)), fixes, [(40, 60)] * 2, protocol="exact",
                      metrics=["nss"], names=["first", "second"])
    with pytest.raises(ValueError, match=r"e\.g\. \(row=5, col=6\.5\)"):
        nss(rng.random((8, 8)), fixes[1], protocol="exact", shape=(40, 60))


@pytest.mark.parametrize("protocol, metric", CASES)
def test_prediction_of_another_size_is_resized(rng, protocol, metric):
    fix = np.concatenate([random_fixations(rng, 10, SHAPE)] * 2)
    for side in (5, 12, 48):  # smaller, smaller, larger than the image
        # finite under mit's kld too, whose bicubic overshoot below 0 is clipped
        assert np.isfinite(call(metric, rng.random((side, side)), fix, protocol))


@pytest.mark.parametrize("fix, msg", [
    (np.array([1, 2, 3]), r"\(N, 2\) array"),
    (np.array([[1.5, 2.0]]), "whole pixel coordinates"),
    (np.array([[np.nan, 2.0]]), "NaN or infinite"),
    (np.array([["a", "b"]]), "integer pixel coordinates"),
])
def test_malformed_fixations_are_refused(smap, fix, msg):
    with pytest.raises(ValueError, match=msg):
        cc(smap, fix, protocol="mit", shape=SHAPE)


@pytest.mark.parametrize("smap, msg", [
    (np.zeros((3, 3, 3)), "must be 2-D"),
    (np.zeros((0, 4)), "is empty"),
    (np.array([["a"]]), "must be numeric"),
    (np.ones((2, 2)) * 1j, "must be real"),
])
def test_malformed_maps_are_refused(smap, msg):
    with pytest.raises(ValueError, match=msg):
        cc(smap, np.array([[0, 0]]), protocol="mit", shape=SHAPE)


def test_huge_and_tiny_maps_score_as_their_scaled_copies(smap):
    """Values near 1e300 or 1e-300 would overflow or underflow in squares: maps are scaled
    by a power of two first (exact), every metric being scale-invariant."""
    for scale in (1e300, 1e-300):
        for metric in ("cc", "nss", "sim", "auc_borji", "kld"):
            a = call(metric, smap * scale, FIX, "exact")
            b = call(metric, smap, FIX, "exact")
            assert a == pytest.approx(b, rel=1e-12), (metric, scale)


def test_no_runtime_warnings_leak(smap, recwarn):
    for protocol, metric in CASES:
        call(metric, np.zeros((12, 12)), FIX, protocol)
        call(metric, np.full((12, 12), 0.7), FIX, protocol)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_whole_float_coordinates_are_accepted(smap):
    a = cc(smap, np.array([[3.0, 4.0]]), protocol="mit", shape=SHAPE)
    assert a == cc(smap, np.array([[3, 4]]), protocol="mit", shape=SHAPE)


def test_bad_shape_is_refused(smap):
    with pytest.raises(ValueError, match="two positive integers"):
        cc(smap, np.array([[0, 0]]), protocol="mit", shape=(0, 4))
    with pytest.raises(ValueError, match=r"\(height, width\)"):
        cc(smap, np.array([[0, 0]]), protocol="mit", shape=(4,))


def test_metric_not_in_protocol_is_refused(smap):
    with pytest.raises(ValueError, match="'nss' is not defined by protocol 'replication'"):
        nss(smap, np.array([[0, 0]]), protocol="replication", shape=SHAPE)


def test_unknown_protocol_did_you_mean(smap):
    with pytest.raises(ValueError, match="did you mean 'exact'"):
        cc(smap, np.array([[0, 0]]), protocol="exakt", shape=SHAPE)


def test_sauc_with_empty_other_map_is_nan(smap):
    for protocol in PROTOCOLS:
        v = sauc(smap, FIX, np.zeros((0, 2), dtype=int), protocol=protocol, shape=SHAPE)
        assert np.isnan(v)


# ---- dataset level ---------------------------------------------------------------------


def _dataset(rng, n=12):
    preds = [rng.random((12, 12)) for _ in range(n)]
    fixes = [random_fixations(rng, 15, SHAPE) for _ in range(n)]
    return preds, fixes, [SHAPE] * n


def test_dataset_nan_policies_and_reasons(rng):
    preds, fixes, shapes = _dataset(rng)
    fixes[2] = np.zeros((0, 2), dtype=int)  # an image without fixations
    preds[5] = np.full((12, 12), 0.4)  # a constant map
    res = score_dataset(preds, fixes, shapes, protocol="mit", metrics=["cc", "auc_judd"])
    assert res.nan_count == {"cc": 2, "auc_judd": 1}
    assert res.nan_reasons["cc"] == {"no fixations": [2], "constant prediction": [5]}
    assert res.mean["cc"] == pytest.approx(np.nanmean(res.per_image["cc"]))  # omitted
    rep = score_dataset([p.astype(np.float32) for p in preds], fixes, shapes,
                        protocol="replication")
    assert rep.nan_count["cc"] == 2 and np.isnan(rep.mean["cc"])  # propagated, as np.mean


@pytest.mark.parametrize("protocol", ["mit", "exact"])
def test_kld_nan_from_the_ringing_ground_truth_is_explained(rng, protocol):
    """Small images: antonioGaussian's negative lobes make some log arguments negative."""
    shape = (30, 40)
    preds = [rng.random((12, 12)) for _ in range(12)]
    fixes = [random_fixations(rng, 25, shape) for _ in range(12)]
    res = score_dataset(preds, fixes, [shape] * 12, protocol=protocol, metrics=["kld"])
    nan_at = [i for i, v in enumerate(res.per_image["kld"]) if np.isnan(v)]
    assert nan_at  # the premise: 25 fixations on 30x40 put a negative lobe under a log
    assert res.nan_reasons["kld"] == {
        "negative ground-truth values (antonioGaussian's negative lobes, images of at most "
        "64 px a side; MATLAB's log turns complex)": nan_at}
    big = score_dataset(preds, [f * 2 for f in fixes], [(60, 80)] * 12, protocol=protocol,
                        metrics=["kld"])  # padded to 128: no lobes, no NaN
    assert big.nan_count["kld"] == 0 and "kld" not in big.nan_reasons


@st.composite
def awkward_split(draw):
    """12 images of one size (1-90 px a side) with constant, all-zero, binary or random
    predictions at the image's size or smaller, and 0, 1, 2, 3, 20 or 2·H·W fixations."""
    h, w = draw(st.integers(1, 90)), draw(st.integers(1, 90))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    preds, fixes = [], []
    for _ in range(12):
        side = (h, w) if draw(st.booleans()) else (draw(st.integers(1, 20)),
                                                   draw(st.integers(1, 20)))
        kind = draw(st.sampled_from(["constant", "zero", "binary", "random"]))
        p = {"constant": np.full(side, 0.3), "zero": np.zeros(side),
             "binary": (rng.random(side) > 0.8).astype(float), "random": rng.random(side)}
        preds.append(p[kind])
        k = draw(st.sampled_from([0, 1, 2, 3, 20, 2 * h * w]))
        fixes.append(np.stack([rng.integers(0, h, k), rng.integers(0, w, k)], 1))
    return preds, fixes, [(h, w)] * 12


@given(awkward_split(), st.sampled_from(sorted(PROTOCOLS)))
def test_every_nan_of_a_dataset_run_has_a_counted_reason(split, protocol):
    """A NaN the result cannot explain would pass for a bug."""
    preds, fixes, shapes = split
    metrics = list(PROTOCOLS[protocol].metrics)
    res = score_dataset(preds, fixes, shapes, protocol=protocol, metrics=metrics,
                        normalize="minmax")
    from salbench.metrics._engine import CONSTANT_PREDICTION, NO_FIXATIONS, NO_REPEATS

    empty = {i for i, f in enumerate(fixes) if len(f) == 0}
    constant = {i for i, p in enumerate(preds) if np.ptp(p) == 0}
    for m in metrics:
        nan_at = {i for i, v in enumerate(res.per_image[m]) if np.isnan(v)}
        reasons = {k: set(v) for k, v in res.nan_reasons.get(m, {}).items()}
        assert nan_at == set().union(*reasons.values()), m
        nothing = reasons.get(NO_FIXATIONS, set()) | reasons.get(NO_REPEATS, set())
        if protocol == "salicon":  # its filter also empties images with no repeated point
            assert empty <= reasons.get(NO_REPEATS, set()), m
        else:
            assert reasons.get(NO_FIXATIONS, set()) == empty, m
        if m == "cc":
            assert (constant & nan_at) - nothing <= reasons.get(CONSTANT_PREDICTION, set()), m


def test_emd_nan_says_which_map_sums_to_zero(rng):
    preds = [rng.random((12, 12)) for _ in range(12)]
    preds[3] = np.zeros((12, 12))
    fixes = [random_fixations(rng, 10, SHAPE) for _ in range(12)]
    res = score_dataset(preds, fixes, [SHAPE] * 12, protocol="mit", metrics=["emd"])
    assert res.nan_reasons["emd"] == {
        "downsized prediction sums to 0 or less (EMD.m divides by the sum)": [3]}


def test_one_bad_image_stops_the_run_before_any_scoring_and_names_it(rng):
    preds, fixes, shapes = _dataset(rng)
    names = [f"COCO_val_{i}.jpg" for i in range(len(preds))]
    preds[4][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"saliency map has 1 NaN.*COCO_val_4\.jpg"):
        score_dataset(preds, fixes, shapes, protocol="mit", names=names)
    preds[4][0, 0] = 0.0
    fixes[5] = np.array([[99, 100]])
    with pytest.raises(ValueError, match=r"1 of 1 fixations lie outside.*COCO_val_5\.jpg"):
        score_dataset(preds, fixes, shapes, protocol="mit", names=names)
    fixes[5] = np.array([[9, 0]])
    preds[7] = preds[7] - 1.0
    with pytest.raises(ValueError, match=r"non-negative.*COCO_val_7\.jpg"):
        score_dataset(preds, fixes, shapes, protocol="exact", names=names)
    res = score_dataset(preds, fixes, shapes, protocol="mit", names=names)  # NaN, counted
    assert res.nan_reasons["kld"] == {"negative prediction values (MATLAB's log turns "
                                      "complex)": [7]}


def test_dataset_count_mismatches(rng):
    preds, fixes, shapes = _dataset(rng)
    with pytest.raises(ValueError, match="12 predictions but fixations for 11"):
        score_dataset(preds, fixes[:-1], shapes, protocol="exact")
    with pytest.raises(ValueError, match=r"shapes must be \(12, 2\)"):
        score_dataset(preds, fixes, shapes[:-1], protocol="exact")
    with pytest.raises(ValueError, match="12 predictions but 3 names"):
        score_dataset(preds, fixes, shapes, protocol="exact", names=["a", "b", "c"])
    with pytest.raises(ValueError, match="seed must be an integer"):
        score_dataset(preds, fixes, shapes, protocol="exact", seed=2**70)


@pytest.mark.parametrize("kw", [{"seed": -1}, {"seed": 1.5}, {"seed": True},
                                {"seed": 2**64}, {"stream": -1}, {"stream": 2.0}])
def test_per_image_seeds_and_streams_are_checked(rng, kw):
    """As score_dataset's: a seed of 1.5 was truncated and -1 wrapped, silently."""
    m = rng.random((20, 20))
    f = np.array([[3, 4], [10, 12]])
    what = next(iter(kw))
    with pytest.raises(ValueError, match=rf"^{what} must be an integer in \[0, 2\*\*64\)"):
        auc_borji(m, f, protocol="mit", **kw)
    assert auc_borji(m, f, protocol="mit", seed=np.uint64(5), stream=np.int32(2)) == \
        auc_borji(m, f, protocol="mit", seed=5, stream=2)


def test_masked_maps_are_refused_not_unmasked(rng):
    """np.asarray drops a mask: masked pixels would be scored as they are."""
    m = rng.random((20, 20))
    f = np.array([[3, 4], [10, 12]])
    masked = np.ma.masked_array(m, mask=m > 0.9)
    with pytest.raises(ValueError, match=r"^saliency map is a masked array.*\(image\)"):
        cc(masked, f, protocol="mit")
    with pytest.raises(ValueError, match=r"masked array.*\(baseline\)"):
        ig(m, f, protocol="mit", baseline=masked)
    assert cc(np.ma.masked_array(m), f, protocol="mit") == cc(m, f, protocol="mit")


def test_sampled_sauc_needs_enough_images(rng):
    preds, fixes, shapes = _dataset(rng, n=9)
    with pytest.raises(ValueError, match="at least 10 images; got 9"):
        score_dataset(preds, fixes, shapes, protocol="replication", normalize="clip")
    preds, fixes, shapes = _dataset(rng, n=10)
    with pytest.raises(ValueError, match="at least 11 images; got 10"):
        score_dataset(preds, fixes, shapes, protocol="mit", metrics=["sauc"])


def test_salicon_sauc_needs_one_image_size(rng):
    preds, fixes, shapes = _dataset(rng, n=4)
    shapes[1] = (30, 40)
    fixes[1] = random_fixations(rng, 15, (30, 40))
    with pytest.raises(ValueError, match="one size"):
        score_dataset(preds, fixes, shapes, protocol="salicon")


def test_float32_and_float64_maps_mix(rng):
    """Each map is quantised in its own precision (as numpy casts it): a mix is fine."""
    preds, fixes, shapes = _dataset(rng)
    preds[0] = preds[0].astype(np.float32)
    res = score_dataset(preds, fixes, shapes, protocol="replication")
    assert res.per_image["cc"][0] == cc(preds[0], fixes[0], protocol="replication",
                                        shape=SHAPE)


def test_pyemd_2_is_refused_before_any_scoring(rng, monkeypatch):
    """pyemd 2 (what pip picked on Python 3.13 for ``pyemd>=1.1``) dropped FastEMD's C++
    code and the ``backend`` argument: every emd was a TypeError from inside the scorer.
    pyproject now asks for ``pyemd<2``, and an installed pyemd 2 is named up front."""
    import sys
    import types

    from salbench.errors import UserError

    fake = types.ModuleType("pyemd")
    fake.emd = lambda first_histogram, second_histogram, distance_matrix, \
        extra_mass_penalty=-1.0: 0.0  # pyemd 2.0's signature
    monkeypatch.setitem(sys.modules, "pyemd", fake)
    g = rng.random((40, 40))
    fix = np.array([[10, 10], [20, 30]])
    for protocol in ("mit", "exact"):
        with pytest.raises(UserError, match=r"emd needs pyemd 1\.x.*'pyemd>=1\.1,<2'"):
            emd(g, fix, gt_map=g, protocol=protocol)
    with pytest.raises(UserError, match=r"emd needs pyemd 1\.x"):
        score_dataset([g] * 3, [fix] * 3, [(40, 40)] * 3, protocol="mit", metrics=["emd"])
    assert score_dataset([g] * 3, [fix] * 3, [(40, 40)] * 3, protocol="mit",
                         metrics=["cc"]).mean["cc"] > 0  # the other metrics need no pyemd
