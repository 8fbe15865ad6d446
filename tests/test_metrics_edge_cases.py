"""Design §3.4: every edge case has the reference's defined result or a clear error."""

import numpy as np
import pytest

from salbench.metrics import (
    auc_borji,
    auc_judd,
    cc,
    ig,
    kld,
    nss,
    sauc,
    score_dataset,
    sim,
)

from conftest import random_fixations

SHAPE = (24, 32)
PROTOCOL_METRICS = {
    "replication": ("cc", "auc_borji", "sauc"),
    "mit": ("cc", "nss", "kld", "sim", "ig", "auc_judd", "auc_borji", "sauc"),
    "exact": ("cc", "nss", "kld", "sim", "ig", "auc_judd", "auc_borji", "sauc"),
}
FUNCS = {"cc": cc, "nss": nss, "kld": kld, "sim": sim, "ig": ig, "auc_judd": auc_judd,
         "auc_borji": auc_borji, "sauc": sauc}
CASES = [(p, m) for p, ms in PROTOCOL_METRICS.items() for m in ms]
OTHER = np.array([[1, 1], [5, 7], [20, 30], [12, 16]])


def call(metric, smap, fix, protocol, **kw):
    fn = FUNCS[metric]
    if metric == "sauc":
        return fn(smap, fix, OTHER, protocol=protocol, shape=SHAPE, **kw)
    return fn(smap, fix, protocol=protocol, shape=SHAPE, **kw)


@pytest.fixture
def smap(rng):
    return rng.random((12, 12))


@pytest.mark.parametrize("protocol, metric", CASES)
def test_no_fixations_is_nan(smap, protocol, metric):
    assert np.isnan(call(metric, smap, np.zeros((0, 2), dtype=int), protocol))


@pytest.mark.parametrize("protocol, metric", CASES)
def test_one_fixation_is_defined(smap, protocol, metric):
    assert np.isfinite(call(metric, smap, np.array([[12, 16]]), protocol))


@pytest.mark.parametrize("protocol, metric", CASES)
def test_constant_prediction(protocol, metric):
    fix = np.array([[3, 4], [12, 16], [20, 9]])
    v = call(metric, np.full((12, 12), 0.5), fix, protocol)
    if protocol == "exact" and metric.startswith(("auc", "sauc")):
        assert v == 0.5  # every pair ties
    elif protocol == "mit" and metric == "auc_judd":
        # AUC_Judd.m jitters before normalising: the seeded noise decides, as in MATLAB
        assert 0.0 <= v <= 1.0
        assert v == call(metric, np.full((12, 12), 0.5), fix, protocol)
    elif metric == "kld":  # a uniform prediction has a defined divergence
        assert np.isfinite(v) and v > 0
    else:  # the references divide by a zero std / range: NaN
        assert np.isnan(v)


@pytest.mark.parametrize("protocol", ["replication", "mit", "exact"])
def test_constant_prediction_stays_constant_when_resized(protocol):
    """Bicubic weights do not sum to exactly 1 in floating point; a constant 48x48 map must
    still give a constant 480x640 map (NaN CC), not rounding noise with a 'correlation'."""
    fix = np.array([[100, 200], [240, 320], [400, 50]])
    for value in (1.0, 0.37):
        pred = np.full((48, 48), value, dtype=np.float32 if protocol == "replication" else float)
        assert np.isnan(cc(pred, fix, protocol=protocol, shape=(480, 640)))
        if protocol != "replication":
            assert np.isnan(nss(pred, fix, protocol=protocol, shape=(480, 640)))
            assert auc_borji(pred, fix, protocol="exact", shape=(480, 640)) == 0.5


@pytest.mark.parametrize("protocol, metric", CASES)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_prediction_is_refused(smap, protocol, metric, bad):
    smap[3, 4] = bad
    with pytest.raises(ValueError, match=r"img7: saliency map has \d NaN and \d infinite"):
        call(metric, smap, np.array([[1, 1]]), protocol, name="img7")


@pytest.mark.parametrize("protocol, metric", CASES)
def test_negative_values(smap, protocol, metric):
    fix = np.array([[3, 4], [12, 16]])
    if metric == "kld":
        with pytest.raises(ValueError, match="non-negative"):
            call(metric, smap - 0.5, fix, protocol)
        return
    v = call(metric, smap - 0.5, fix, protocol)
    if protocol == "replication":  # clipped to [0, 1] before the 8-bit cast
        assert v == call(metric, np.clip(smap - 0.5, 0, 1), fix, protocol)
    else:  # min-max normalised or z-scored: a shift changes nothing
        assert v == pytest.approx(call(metric, smap, fix, protocol), abs=1e-12)


@pytest.mark.parametrize("protocol, metric", CASES)
def test_all_zero_prediction(protocol, metric):
    fix = np.array([[3, 4], [12, 16]])
    v = call(metric, np.zeros((12, 12)), fix, protocol)
    if protocol == "exact" and metric.startswith(("auc", "sauc")):
        assert v == 0.5
    elif protocol == "mit" and metric == "auc_judd":  # jittered, as above
        assert 0.0 <= v <= 1.0
    elif metric == "kld":  # MATLAB leaves an all-zero map unnormalised: log(g / eps)
        assert v > 30
    elif metric == "sim":  # an all-zero map is left alone: min(0, g) sums to 0
        assert v == 0.0
    else:
        assert np.isnan(v)


@pytest.mark.parametrize("protocol, metric", CASES)
@pytest.mark.parametrize("bad", [(24, 3), (3, 32), (-1, 0), (0, -5)])
def test_out_of_bounds_fixations_are_refused(smap, protocol, metric, bad):
    fix = np.array([[1, 1], bad])
    with pytest.raises(ValueError, match=r"img3: 1 of 2 fixations lie outside the 24x32 image"):
        call(metric, smap, fix, protocol, name="img3")


@pytest.mark.parametrize("protocol, metric", CASES)
def test_prediction_of_another_size_is_resized(rng, protocol, metric):
    fix = random_fixations(rng, 10, SHAPE)
    for side in (5, 12, 48):  # smaller, smaller, larger than the image
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
    for protocol in ("replication", "mit", "exact"):
        v = sauc(smap, np.array([[3, 3]]), np.zeros((0, 2), dtype=int), protocol=protocol,
                 shape=SHAPE)
        assert np.isnan(v)


# ---- dataset level ---------------------------------------------------------------------


def _dataset(rng, n=12):
    preds = [rng.random((12, 12)) for _ in range(n)]
    fixes = [random_fixations(rng, 15, SHAPE) for _ in range(n)]
    return preds, fixes, [SHAPE] * n


def test_dataset_nan_policies(rng):
    preds, fixes, shapes = _dataset(rng)
    fixes[2] = np.zeros((0, 2), dtype=int)  # an image without fixations
    res = score_dataset(preds, fixes, shapes, protocol="mit", metrics=["cc", "auc_judd"])
    assert res.nan_count == {"cc": 1, "auc_judd": 1}
    assert res.mean["cc"] == pytest.approx(np.nanmean(res.per_image["cc"]))  # omitted
    rep = score_dataset([p.astype(np.float32) for p in preds], fixes, shapes,
                        protocol="replication")
    assert rep.nan_count["cc"] == 1 and np.isnan(rep.mean["cc"])  # propagated, as np.mean


def test_dataset_errors_name_the_image(rng):
    preds, fixes, shapes = _dataset(rng)
    names = [f"COCO_val_{i}.jpg" for i in range(len(preds))]
    preds[4][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"COCO_val_4\.jpg: saliency map has 1 NaN"):
        score_dataset(preds, fixes, shapes, protocol="mit", names=names)
    preds[4][0, 0] = 0.0
    fixes[5] = np.array([[99, 0]])
    with pytest.raises(ValueError, match=r"COCO_val_5\.jpg: 1 of 1 fixations lie outside"):
        score_dataset(preds, fixes, shapes, protocol="mit", names=names)


def test_dataset_count_mismatches(rng):
    preds, fixes, shapes = _dataset(rng)
    with pytest.raises(ValueError, match="12 predictions but fixations for 11"):
        score_dataset(preds, fixes[:-1], shapes, protocol="exact")
    with pytest.raises(ValueError, match=r"shapes must be \(12, 2\)"):
        score_dataset(preds, fixes, shapes[:-1], protocol="exact")
    with pytest.raises(ValueError, match="12 predictions but 3 names"):
        score_dataset(preds, fixes, shapes, protocol="exact", names=["a", "b", "c"])


def test_replication_sauc_needs_ten_images(rng):
    preds, fixes, shapes = _dataset(rng, n=9)
    with pytest.raises(ValueError, match="at least 10 images; got 9"):
        score_dataset(preds, fixes, shapes, protocol="replication")
    preds, fixes, shapes = _dataset(rng, n=10)
    with pytest.raises(ValueError, match="at least 11 images; got 10"):
        score_dataset(preds, fixes, shapes, protocol="mit", metrics=["sauc"])


def test_replication_refuses_mixed_precisions(rng):
    preds, fixes, shapes = _dataset(rng)
    preds[0] = preds[0].astype(np.float32)
    with pytest.raises(ValueError, match="mix float32 and float64"):
        score_dataset(preds, fixes, shapes, protocol="replication")
