"""score_dataset: the same numbers as the per-image functions, whatever the threading."""

import re
import time
from collections.abc import Sequence

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from salbench.metrics import (
    METRICS,
    PROTOCOLS,
    _rng,
    auc_borji,
    auc_judd,
    cc,
    get_protocol,
    sauc,
    score_dataset,
)

import naive
from conftest import random_fixations

SHAPE = (30, 40)


@pytest.fixture
def split(rng):
    n = 14
    preds = rng.random((n, 12, 12)).astype(np.float32)
    fixes = [random_fixations(rng, int(rng.integers(5, 30)), SHAPE) for _ in range(n)]
    return preds, fixes, [SHAPE] * n


def _others(fixes, seed, i, exclude_self):
    n = len(fixes)
    sel = _rng.draw_permutation(seed, i, _rng.OTHERS, 0, n - 1 if exclude_self else n, 10)
    if exclude_self:
        sel = [s + 1 if s >= i else s for s in sel]
    return np.concatenate([fixes[s] for s in sel])


@pytest.mark.parametrize("protocol", ["replication", "mit"])
def test_dataset_rows_equal_per_image_calls(split, protocol):
    preds, fixes, shapes = split
    metrics = ["cc", "auc_borji", "sauc", "auc_borji@expected", "sauc@expected"]
    if protocol == "mit":
        metrics.append("auc_judd")
    res = score_dataset(preds, fixes, shapes, protocol=protocol, seed=3, metrics=metrics)
    for i in range(len(preds)):
        kw = dict(protocol=protocol, shape=SHAPE)
        other = _others(fixes, 3, i, exclude_self=protocol == "mit")
        assert res.per_image["cc"][i] == cc(preds[i], fixes[i], **kw)
        assert res.per_image["auc_borji"][i] == auc_borji(preds[i], fixes[i], seed=3,
                                                          stream=i, **kw)
        np.testing.assert_array_equal(
            res.splits["auc_borji"][i],
            auc_borji(preds[i], fixes[i], seed=3, stream=i, return_splits=True, **kw))
        assert res.per_image["sauc"][i] == sauc(preds[i], fixes[i], other, seed=3, stream=i,
                                                **kw)
        assert res.per_image["sauc@expected"][i] == sauc(preds[i], fixes[i], other,
                                                         expected=True, **kw)
        if protocol == "mit":
            assert res.per_image["auc_judd"][i] == auc_judd(preds[i], fixes[i], seed=3,
                                                            stream=i, **kw)


def test_exact_borji_and_judd_from_one_pass_equal_each_alone(rng):
    """exact's auc_borji and auc_judd share one pass over the map when both are asked
    for: each equals its own per-image call and the Mann-Whitney U of tests/naive.py, also
    where every pixel is fixated (judd NaN, borji not)."""
    shape = (6, 8)
    preds = [np.round(rng.random(shape) * 6) / 6 for _ in range(5)]  # ties on purpose
    fixes = [random_fixations(rng, int(rng.integers(3, 40)), shape) for _ in range(4)]
    fixes.append(np.array([(r, c) for r in range(6) for c in range(8)]))  # every pixel
    res = score_dataset(preds, fixes, [shape] * 5, protocol="exact",
                        metrics=["auc_judd", "auc_borji"])
    for i, (p, fix) in enumerate(zip(preds, fixes)):
        pos = [p[r, c] for r, c in fix]
        fm = naive.fixation_map(fix, shape)
        borji = res.per_image["auc_borji"][i]
        assert borji == auc_borji(p, fix, protocol="exact")
        assert borji == pytest.approx(naive.mann_whitney(pos, list(p.ravel())), abs=1e-12)
        judd = res.per_image["auc_judd"][i]
        if i == 4:
            assert np.isnan(judd) and np.isnan(auc_judd(p, fix, protocol="exact"))
            assert res.nan_reasons["auc_judd"] == {"every pixel fixated: no negatives": [4]}
        else:
            assert judd == auc_judd(p, fix, protocol="exact")
            assert judd == pytest.approx(naive.mann_whitney(pos, list(p[fm == 0])), abs=1e-12)
            assert judd != borji


def test_exact_sauc_uses_all_other_fixations(split):
    preds, fixes, shapes = split
    preds = [p.astype(np.float64) for p in preds]
    res = score_dataset(preds, fixes, shapes, protocol="exact", metrics=["sauc"])
    for i in (0, 5):
        other = np.concatenate([f for j, f in enumerate(fixes) if j != i])
        assert res.per_image["sauc"][i] == pytest.approx(
            sauc(preds[i], fixes[i], other, protocol="exact", shape=SHAPE), abs=1e-12)
        p = naive.matlab_imresize(preds[i], *SHAPE)
        expect = naive.mann_whitney([p[r, c] for r, c in fixes[i]], [p[r, c] for r, c in other])
        assert res.per_image["sauc"][i] == pytest.approx(expect, abs=1e-12)


def test_mixed_image_sizes(rng):
    """Images of different sizes are grouped; exact sauc rescales other images' fixations
    into each image's frame as pysaliency does (floor(x * W / W_other))."""
    shapes = [(30, 40), (60, 80), (30, 40), (45, 50)]
    preds = [rng.random(s) for s in shapes]
    fixes = [random_fixations(rng, 20, s) for s in shapes]
    res = score_dataset(preds, fixes, shapes, protocol="exact", metrics=["sauc", "cc"])
    i = 1
    other = np.concatenate([
        np.stack([f[:, 0] * shapes[i][0] // s[0], f[:, 1] * shapes[i][1] // s[1]], 1)
        for j, (f, s) in enumerate(zip(fixes, shapes)) if j != i])
    assert res.per_image["sauc"][i] == pytest.approx(
        sauc(preds[i], fixes[i], other, protocol="exact", shape=shapes[i]), abs=1e-12)
    assert res.per_image["cc"][3] == cc(preds[3], fixes[3], protocol="exact", shape=shapes[3])


def test_thread_count_does_not_change_results(split):
    preds, fixes, shapes = split
    before = numba.get_num_threads()
    try:
        outs = []
        for nt in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(nt)
            outs.append(score_dataset(preds, fixes, shapes, protocol="replication", seed=9))
    finally:
        numba.set_num_threads(before)
    for m in outs[0].metrics:
        np.testing.assert_array_equal(outs[0].per_image[m], outs[1].per_image[m])


@pytest.mark.parametrize("threads", [2, 3])
def test_images_run_on_threads_come_back_in_order(threads):
    from salbench.metrics.dataset import _each

    def slow_evens(i):
        if i % 2 == 0:
            time.sleep(0.002)
        return i * i

    assert _each(slow_evens, 60, threads) == [i * i for i in range(60)]


@pytest.mark.parametrize("stop", [ValueError("image 3"), KeyboardInterrupt()])
def test_an_error_on_threads_starts_no_later_image(stop):
    """The first error in index order is raised (a Ctrl-C before any error), after the
    images running finish; images after it that had not started are not started."""
    from salbench.metrics.dataset import _each

    started = []

    def fn(i):
        started.append(i)
        if i == 3:
            raise stop
        if i == 9:
            raise ValueError("image 9")
        time.sleep(0.005)
        return i

    with pytest.raises(type(stop), match="image 3" if isinstance(stop, ValueError) else None):
        _each(fn, 200, 2)
    assert max(started) < 9 and len(started) == len(set(started))


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_checks_on_threads_report_the_first_bad_image(rng, threads):
    """Maps and given ground truths are checked on threads; the error is still the first
    bad image's, as in one thread, whichever thread meets a later one first."""
    n = 40
    maps = [rng.random((12, 12)) for _ in range(n)]
    fixes = [random_fixations(rng, 5, SHAPE) for _ in range(n)]
    maps[7] = maps[7] * np.nan
    maps[3] = np.full((12, 12), np.inf)

    class SlowThree(Sequence):  # image 3 is read last: image 7 fails first on threads
        def __len__(self):
            return n

        def __getitem__(self, i):
            if i == 3:
                time.sleep(0.2)
            return maps[i]

    preds = SlowThree()
    with pytest.raises(ValueError, match=r"^saliency map has 0 NaN and 144 infinite values "
                                         r"\(image 3\)"):
        score_dataset(preds, fixes, [SHAPE] * n, protocol="exact", metrics=["cc"],
                      threads=threads)
    gts = [np.ones(SHAPE)] * n
    gts[20] = -np.ones(SHAPE)
    gts[33] = np.full(SHAPE, np.nan)
    good = [rng.random((12, 12)) for _ in range(n)]
    with pytest.raises(ValueError, match=r"negative values \(image 20\)"):
        score_dataset(good, fixes, [SHAPE] * n, protocol="mit", metrics=["cc"], gt_maps=gts,
                      threads=threads)


@pytest.mark.parametrize("bad, what", [
    (np.arange(12).reshape(4, 3), r"got shape \(4, 3\)"),  # packed: read as 6 pairs
    (np.arange(6), r"got shape \(6,\)"),
    (np.arange(6).reshape(1, 2, 3), r"got shape \(1, 2, 3\)"),
    ([[1, 2], [3]], "ragged"),
])
def test_fixations_of_the_wrong_shape_are_refused_by_image(split, bad, what):
    """Each image's fixations are checked before packing: a (4, 3) array packed as pairs
    once scored silently and shifted every later image's fixations."""
    preds, fixes, shapes = split
    fixes = list(fixes)
    fixes[5] = bad
    with pytest.raises(ValueError, match=rf"^fixations must be an \(N, 2\) array.*{what}.*"
                                         r"\(image 5\)"):
        score_dataset(preds, fixes, shapes, protocol="mit", metrics=["nss"])
    with pytest.raises(ValueError, match=r"\(left eye\)"):
        score_dataset(preds, fixes, shapes, protocol="mit", metrics=["nss"],
                      names=[f"{k}" if k != 5 else "left eye" for k in range(len(preds))])


@pytest.mark.parametrize("offsets, what", [
    (lambda o: np.r_[o[:-1], o[-1] - 2], r"run from 0 to \d+, but must run from 0 to"),
    (lambda o: np.r_[o[:-1], o[-1] + 2], r"run from 0 to \d+, but must run from 0 to"),
    (lambda o: np.r_[1, o[1:]], r"run from 1 to"),
    (lambda o: np.r_[o[:2], o[1] - 1, o[3:]], r"decrease.*\(image 1\)"),
    (lambda o: np.r_[o[:2], o[1] - 1, o[3:]].astype(np.uint64), r"decrease.*\(image 1\)"),
    (lambda o: o.astype(float), "1-D integer array"),
    (lambda o: o[None], "1-D integer array"),
])
def test_packed_offsets_that_do_not_partition_the_fixations_are_refused(split, offsets,
                                                                         what):
    """A packing built by hand must cover every fixation once, in order: offsets that
    skipped, dropped or overlapped fixations once scored silently."""
    from salbench.metrics import PackedFixations

    preds, fixes, shapes = split
    good = PackedFixations.of(fixes)
    bad = PackedFixations(offsets(good.offsets), good.rc)
    with pytest.raises(ValueError, match=what):
        score_dataset(preds, bad, shapes, protocol="mit", metrics=["nss"])
    same = score_dataset(preds, PackedFixations(good.offsets.astype(np.int32),
                                                np.ascontiguousarray(good.rc)),
                         shapes, protocol="mit", metrics=["nss"])
    assert np.array_equal(same.per_image["nss"],
                          score_dataset(preds, fixes, shapes, protocol="mit",
                                        metrics=["nss"]).per_image["nss"])


def test_a_packing_of_lists_scores_as_its_arrays(split):
    """Offsets and coordinates given as Python lists (checked as arrays) once failed deep
    in scoring with an AttributeError."""
    from salbench.metrics import PackedFixations

    preds, fixes, shapes = split
    good = PackedFixations.of(fixes)
    lists = PackedFixations(good.offsets.tolist(), good.rc.tolist())
    for protocol in ("mit", "exact"):
        got = score_dataset(preds, lists, shapes, protocol=protocol, seed=3)
        want = score_dataset(preds, fixes, shapes, protocol=protocol, seed=3)
        for m, v in want.per_image.items():
            assert np.array_equal(got.per_image[m], v, equal_nan=True), (protocol, m)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_thread_counts_must_be_whole_and_positive(split, threads):
    preds, fixes, shapes = split
    with pytest.raises(ValueError, match=r"^threads must be a whole number >= 1"):
        score_dataset(preds, fixes, shapes, protocol="mit", metrics=["nss"], threads=threads)


@pytest.mark.parametrize("dtype", [complex, bool, str])
def test_fixations_of_a_non_integer_kind_are_refused_by_image(split, dtype):
    """Among integer arrays too: packed together, booleans would become 0s and 1s."""
    preds, fixes, shapes = split
    fixes = list(fixes)
    fixes[4] = (fixes[4] > 3).astype(dtype) if dtype is bool else fixes[4].astype(dtype)
    with pytest.raises(ValueError, match=r"integer pixel coordinates, got .*\(image 4\)"):
        score_dataset(preds, fixes, shapes, protocol="mit", metrics=["nss"])


def test_packed_fixations_are_read_in_place(split):
    """Packed column by column, the rows and columns scoring reads are views of the
    packed array, not copies (scoring's memory per image); empty images keep the dtype."""
    from salbench.metrics.dataset import PackedFixations, _columns

    _, fixes, _ = split
    fixes = [*fixes[:3], np.zeros((0, 2)), *fixes[3:]]  # an empty float array among ints
    packed = PackedFixations.of(fixes)
    assert packed.rc.dtype == np.int64
    assert np.array_equal(packed.rc, np.concatenate(fixes).astype(np.int64))
    assert list(np.diff(packed.offsets)) == [len(f) for f in fixes]
    rows, cols = _columns(packed)
    assert np.shares_memory(rows, packed.rc) and np.shares_memory(cols, packed.rc)
    assert rows.flags.c_contiguous and cols.flags.c_contiguous


def test_seeds_reproduce_and_differ(split):
    preds, fixes, shapes = split
    a = score_dataset(preds, fixes, shapes, protocol="replication", seed=1)
    b = score_dataset(preds, fixes, shapes, protocol="replication", seed=1)
    c = score_dataset(preds, fixes, shapes, protocol="replication", seed=2)
    for m in ("auc_borji", "sauc"):
        np.testing.assert_array_equal(a.per_image[m], b.per_image[m])
        assert not np.array_equal(a.per_image[m], c.per_image[m])
    np.testing.assert_array_equal(a.per_image["cc"], c.per_image["cc"])  # no randomness


def test_split_means_give_the_spread(split):
    preds, fixes, shapes = split
    res = score_dataset(preds, fixes, shapes, protocol="replication", seed=1)
    per_split = res.split_means("sauc")
    assert per_split.shape == (100,)
    assert per_split.mean() == pytest.approx(res.mean["sauc"], abs=1e-12)
    assert per_split.std() > 0


@pytest.mark.parametrize("field, bad", [
    ("step", 0), ("step", -0.1), ("step", float("nan")), ("step", 1.5),
    ("splits", 2.5), ("splits", 10**6), ("borji_negatives", -5), ("borji_min_fixated", -1),
    ("judd_jitter", -1e-7), ("judd_jitter", float("inf")), ("prediction_blur_sigma", -2.0),
    ("gt_sigma", 0.0), ("gt_cutoff", -8.0), ("kld_eps", -1.0), ("nss_ddof", 2),
    ("nss_ddof", True), ("emd_downsize", 0), ("emd_downsize", "32"), ("unit_range", "yes"),
    ("unit_range", 1),
])
def test_numeric_protocol_fields_are_checked(field, bad):
    """Out of range, not finite or of the wrong kind: refused when the variant is made
    (step=0 and borji_negatives=-5 were tracebacks from the kernels' set-up; gt_cutoff=0
    scored every cc NaN; judd_jitter=-1 and nss_ddof=5 scored silently)."""
    with pytest.raises(ValueError, match=f"protocol field {field} must be a"):
        get_protocol("mit").replace(**{field: bad})
    ok = {"step": 0.05, "splits": 7, "borji_negatives": 1000, "borji_min_fixated": 0,
          "judd_jitter": 0.0, "prediction_blur_sigma": 0.0, "gt_sigma": 3, "gt_cutoff": 4.0,
          "kld_eps": 0.0, "nss_ddof": 0, "emd_downsize": 16, "unit_range": True}[field]
    base = "replication" if field == "gt_sigma" else "mit"  # mit's blur has no sigma
    assert getattr(get_protocol(base).replace(**{field: ok}), field) == ok


@pytest.mark.parametrize("protocol, field, value, why", [
    ("mit", "gt_sigma", 3.0, "gt_blur = antonio-fft"),
    ("replication", "gt_cutoff", 4.0, "gt_blur = gaussian-reflect"),
    ("exact", "step", 0.05, "auc = mann-whitney"),
    ("exact", "borji_negatives", 1000, "auc = mann-whitney"),
    ("pysaliency", "borji_min_fixated", 2, "auc = mann-whitney"),
    ("exact", "judd_jitter", 1e-7, "judd = mann-whitney"),
    ("exact", "judd_noise", "normal", "judd = mann-whitney"),
    ("mit", "gt_cutoff", 4.0, "ground_truth = given-maps"),
    ("mit", "gt_blur", "gaussian-reflect", "ground_truth = given-maps"),
    ("pysaliency", "gt_fixation_map", "binary", "ground_truth = given-maps"),
    ("exact", "splits", 100, "auc = mann-whitney"),
    ("pysaliency", "grid_constant", "zero", "auc = mann-whitney"),
    # fields of metrics the protocol does not define at all
    ("replication", "judd_jitter", 1e-7, "it defines none of auc_judd"),
    ("replication", "nss_ddof", 0, "it defines none of nss"),
    ("salicon", "kld_eps", 1e-10, "it defines none of kld"),
    ("salicon", "density", "pysaliency", "it defines none of kld, sim"),
    ("pysaliency", "emd_downsize", 16, "it defines none of emd"),
])
def test_a_variant_of_a_field_no_kernel_reads_is_refused(protocol, field, value, why):
    """``mit[gt_sigma=3]`` scored exactly as ``mit`` (its blur has no sigma) under a name
    that claims otherwise; with the field it depends on changed too it is a variant."""
    extra = {"ground_truth": "given-maps"} if "given-maps" in why else {}
    with pytest.raises(ValueError, match=f"protocol field {field} is not used by "
                                         f"{protocol} where {re.escape(why)}"):
        get_protocol(protocol).replace(**extra, **{field: value})
    if field == "gt_sigma":
        v = get_protocol(protocol).replace(gt_blur="gaussian-reflect", gt_sigma=value)
        assert v.name == "mit[gt_blur=gaussian-reflect,gt_sigma=3]"


@pytest.mark.parametrize("field", ["metrics", "default_metrics"])
def test_metric_lists_are_not_protocol_options(field):
    """--protocol-option metrics=cc said "unknown metric 'c'"; default_metrics=cc named a
    variant mit[default_metrics=cc] that scored as mit does."""
    with pytest.raises(ValueError, match=f"protocol field {field} is what the protocol "
                                         "defines.*--metrics"):
        get_protocol("mit").replace(**{field: "cc"})


def test_metrics_given_as_one_string(rng):
    """``metrics="cc"`` was read letter by letter ("unknown metric 'c'")."""
    preds, fixes = rng.random((12, 8, 8)), [np.array([[1, 2], [3, 4]])] * 12
    one = score_dataset(preds, fixes, [(20, 30)] * 12, protocol="exact", metrics="cc, nss")
    two = score_dataset(preds, fixes, [(20, 30)] * 12, protocol="exact", metrics=["cc", "nss"])
    assert one.metrics == two.metrics == ("cc", "nss")
    np.testing.assert_array_equal(one.per_image["nss"], two.per_image["nss"])


def test_every_protocol_defines_its_default_metrics():
    for proto in PROTOCOLS.values():
        assert set(proto.default_metrics) <= set(proto.metrics) <= set(METRICS)
        assert proto.details, proto.name
    assert PROTOCOLS["replication"].default_metrics == ("cc", "sauc", "auc_borji")


@given(dtype=st.sampled_from([np.float16, np.float32, np.float64, np.int32, np.uint8]),
       normalize=st.sampled_from([None, "clip", "minmax"]),
       scale=st.sampled_from([1.0, -1.0, 2.0**450, 2.0**-450, 1e-300, 0.0]),
       seed=st.integers(0, 2**32 - 1))
def test_scored_bounds_are_the_scored_maps_min_and_max(dtype, normalize, scale, seed):
    """``as_scored`` derives the scored map's (min, max) from the check's without a pass
    over the map: it must be exactly the map's, for every dtype, normalisation and the
    power-of-two rescaling of huge and tiny maps."""
    from salbench.metrics import get_protocol
    from salbench.metrics._inputs import MapCheck, as_scored

    rng = np.random.default_rng(seed)
    raw = rng.random((5, 7)) * 3 - 1
    raw[rng.random((5, 7)) < 0.3] = raw[0, 0]  # ties, and a constant map when scale is 0
    with np.errstate(over="ignore"):
        a = (raw * 100).astype(dtype) if np.issubdtype(dtype, np.integer) else \
            (raw * scale).astype(dtype)
    if not np.isfinite(a).all():
        return  # beyond the dtype's range: refused by the check, tested elsewhere
    check = MapCheck(a, "m", get_protocol("exact"), ("auc_borji",), normalize)
    m, (lo, hi) = as_scored(a, check, normalize)
    assert (lo, hi) == (m.min(), m.max())


@pytest.mark.parametrize("protocol", ["exact", "pysaliency", "mit", "salicon", "replication"])
def test_auc_only_requests_read_the_bounds_and_agree(rng, protocol):
    """A request of AUCs only takes the map's range from its check (no moments pass);
    its values equal those of a request that also asks for cc (which reads the moments),
    for maps at the image's size (then the bounds are used, except under replication,
    whose maps are always resized and blurred) and smaller ones."""
    from salbench.metrics import get_protocol

    proto = get_protocol(protocol)
    aucs = [m for m in ("auc_borji", "auc_judd", "sauc") if m in proto.metrics]
    n = 12
    for size in (SHAPE, (12, 12)):
        preds = [rng.random(size) for _ in range(n)]
        fixes = [random_fixations(rng, int(rng.integers(4, 20)), SHAPE) for _ in range(n)]
        alone = score_dataset(preds, fixes, [SHAPE] * n, protocol=protocol, metrics=aucs,
                              seed=4)
        with_cc = score_dataset(preds, fixes, [SHAPE] * n, protocol=protocol,
                                metrics=["cc", *aucs], seed=4)
        for m in aucs:
            np.testing.assert_array_equal(alone.per_image[m], with_cc.per_image[m])
