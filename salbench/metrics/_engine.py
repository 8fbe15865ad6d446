"""One image under one protocol: prepare the prediction once, then every wanted metric.

This is the only place that turns protocol fields into kernel calls, one metric at a
time: ``metric -> protocol field -> kernel``.  A :class:`Plan` holds what is shared by all
images of one size (filter tables, the centre prior, resize weights per prediction
size); :func:`score_image` does one image and says why each NaN is NaN.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np

from . import _auc, _blur, _maps, _resize
from . import protocols as P
from .protocols import Protocol

_AUC_KIND = {P.AUC_GRID_ARANGE: _auc.GRID_ARANGE, P.AUC_GRID_COLON: _auc.GRID_COLON}
_DENSITY = {P.DENSITY_MIT: _maps.DENSITY_MIT, P.DENSITY_PYSALIENCY: _maps.DENSITY_PYSALIENCY}
_ZOOM = {P.RESIZE_ZOOM_CUBIC: (3, "constant"), P.RESIZE_ZOOM_LINEAR: (1, "nearest")}
# the metrics that read a map's mean and spread (``_maps.moments``), not only its range
_MOMENT_METRICS = frozenset({"cc", "nss"})
_NONE_I = np.empty(0, dtype=np.int64)
_NONE_W = np.empty(0)

# why a value is NaN (recorded per image; result files count them)
NO_FIXATIONS = "no fixations"
NO_REPEATS = "no fixation kept by SALICON's filter (none repeated)"
CONSTANT_PREDICTION = "constant prediction"
CONSTANT_GT = "constant ground truth"
NEGATIVE_KLD = "negative prediction values (MATLAB's log turns complex)"
NEGATIVE_GT_KLD = ("negative ground-truth values (antonioGaussian's negative lobes, images of at "
                   "most 64 px a side; MATLAB's log turns complex)")
ONE_PIXEL = "at most one fixated pixel (AUC_Borji.m)"
EMPTY_POOL = "no other fixations to draw negatives from"
NO_NEGATIVES = "every pixel fixated: no negatives"
CONSTANT_BASELINE = "constant baseline map"


def center_prior(shape: tuple[int, int]) -> np.ndarray:
    """The centre-bias baseline of ``ig``: a Gaussian at the image centre with
    ``sigma = (H/4, W/4)`` (stretched to the image's aspect ratio)."""
    h, w = shape
    r = (np.arange(h) - (h - 1) / 2.0) / (h / 4.0)
    c = (np.arange(w) - (w - 1) / 2.0) / (w / 4.0)
    return np.exp(-0.5 * (r[:, None] ** 2 + c[None, :] ** 2))


@dataclass
class Plan:
    """What every image of one size shares under one protocol."""

    proto: Protocol
    shape: tuple[int, int]
    metrics: tuple[str, ...]
    baseline: np.ndarray | None = None
    log_baseline: np.ndarray | None = None
    gt_tables: tuple | None = None
    pre_w: np.ndarray = field(default_factory=lambda: _NONE_W)

    @classmethod
    def make(cls, proto: Protocol, shape: tuple[int, int], metrics, baseline=None) -> Plan:
        plan = cls(proto, tuple(shape), tuple(metrics))
        h, w = plan.shape
        if proto.gt_blur == P.BLUR_ANTONIO:
            n = _blur.antonio_padded_size(h, w)
            plan.gt_tables = (_blur.antonio_tables(h, n, proto.gt_cutoff),
                              _blur.antonio_tables(w, n, proto.gt_cutoff))
        else:
            plan.gt_tables = (_blur.reflect_tables(h, proto.gt_sigma),
                              _blur.reflect_tables(w, proto.gt_sigma))
        if proto.prediction_blur_sigma:
            plan.pre_w = _blur.gaussian_weights(proto.prediction_blur_sigma)
        if "ig" in metrics:
            plan.baseline = center_prior(plan.shape) if baseline is None else baseline
            plan.log_baseline = _maps.log_baseline(plan.baseline, P.MATLAB_EPS)
        return plan

    @property
    def float32_maps(self) -> bool:
        """The prepared map holds float32 values, and min-max scaling runs in float32
        (``replication``: Pillow's 8-bit resize, then numpy on float32 arrays)."""
        return self.proto.resize == P.RESIZE_PILLOW_U8


class _Workspace(threading.local):
    """Per-thread maps reused across the images one thread scores (fresh large
    allocations per image cost page faults that rival the arithmetic)."""

    def prepared(self, shape: tuple[int, int], dtype) -> np.ndarray:
        """Two ``H x W`` maps for the prepared prediction and its intermediate: float32
        under ``replication``, whose maps hold float32 values (same numbers, half the
        memory traffic), else float64."""
        buf = getattr(self, "prep", None)
        if buf is None or buf.shape[1:] != shape or buf.dtype != dtype:
            buf = self.prep = np.empty((2, *shape), dtype=dtype)
        return buf

    def scratch(self, shape: tuple[int, int]) -> np.ndarray:
        """Two float64 ``H x W`` maps: scratch and the ground truth."""
        buf = getattr(self, "work", None)
        if buf is None or buf.shape[1:] != shape:
            buf = self.work = np.empty((2, *shape))
        return buf


_WS = _Workspace()


def prepare(plan: Plan, pred: np.ndarray, f32: bool, bounds: tuple[float, float],
            out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """The protocol's prediction at the image's size (``pred``: float64, its (min, max)
    ``bounds``; ``f32``: it came as float32, which the 8-bit cast of ``replication``
    computes in)."""
    proto = plan.proto
    if proto.resize == P.RESIZE_PILLOW_U8:
        _resize.prepare_pillow(pred, f32, plan.pre_w, out, tmp)
        return out
    if pred.shape == plan.shape:
        p = pred
    elif not bounds[1] > bounds[0]:
        # a constant map resizes to itself (weights need not sum to 1 exactly)
        out[:] = bounds[0]
        p = out
    elif proto.resize in _ZOOM:  # scipy's zoom, bit for bit what the reference gets
        order, mode = _ZOOM[proto.resize]
        p = tmp if plan.pre_w.size else out
        tables = _resize.zoom_tables(pred.shape, plan.shape, order, mode)
        if tables is None:
            p[:] = _scipy_zoom(pred, plan.shape, order, mode)
        else:
            _resize.zoom_into(_resize.zoom_prefilter(pred, order, mode), *tables, p)
    else:
        p = tmp if plan.pre_w.size else out
        _resize.matlab_resize(pred, p)
    if plan.pre_w.size:
        _blur.gaussian_blur_into(p, plan.pre_w, False, out)
        return out
    return p


def resize_flattened(stats) -> bool:
    """Whether a resized prediction (``stats``: its :func:`_maps.moments`) is constant up
    to rounding, within ``FLAT_RELATIVE`` of its magnitude (e.g. 2x1 to 1x3: the rows
    average, the column repeats).  Its spread is then rounding, which the references' cc,
    nss, sim, ig and AUCs would score as structure, and on which no two summation orders
    agree.  The map is taken as the constant it is (its constant-map scores, "constant
    prediction" where NaN), as the ground truth is (``CONSTANT_GT``)."""
    lo, hi = stats[0], stats[1]
    return hi > lo and _maps.flat(lo, hi)


def _scipy_zoom(pred: np.ndarray, shape: tuple[int, int], order: int, mode: str
                ) -> np.ndarray:
    """``ndimage.zoom`` itself (when salbench's copy of it did not pass its check)."""
    from scipy import ndimage

    (h, w), (mh, mw) = shape, pred.shape
    z = ndimage.zoom(pred, (h / mh, w / mw), order=order, mode=mode)
    if z.shape != shape:
        from ..errors import UserError

        raise UserError(f"scipy zoom of a {mh}x{mw} map by ({h}/{mh}, {w}/{mw}) gives "
                        f"{z.shape[0]}x{z.shape[1]}, not {h}x{w}",
                        hint="give maps at the image's size (the reference would fail "
                             "the same way)")
    return z


def salicon_filter(rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SALICON's ``filterAnns``: sort the (row, col) points and keep point ``i`` when point
    ``i + 1`` equals it, so a point seen ``k`` times is kept ``k - 1`` times."""
    if rows.size < 2:
        return rows[:0], cols[:0]
    order = np.lexsort((cols, rows))
    r, c = rows[order], cols[order]
    keep = (r[1:] == r[:-1]) & (c[1:] == c[:-1])
    return np.ascontiguousarray(r[:-1][keep]), np.ascontiguousarray(c[:-1][keep])


def score_image(plan: Plan, pred: np.ndarray, f32: bool, negative: bool, rows: np.ndarray,
                cols: np.ndarray, *, seed: int = 0, stream: int = 0, pool=None,
                gt: np.ndarray | None = None, bounds: tuple[float, float]
                ) -> tuple[dict, dict, dict]:
    """``(values, per-split values, NaN reasons)`` of one image.

    ``pred``: float64 map (any size); ``negative``: it held negative values before any
    resizing (``mit`` kld is then NaN); ``rows``/``cols``: int64 fixations (after any
    filtering); ``pool``: sauc's negatives ``(flat indices, weights, own indices to remove)``
    in this image's frame; ``gt``: a given ground-truth map at the image's size;
    ``bounds``: ``pred``'s (min, max) (``_inputs.as_scored``; a map scored as it is, by
    metrics that need no more of its moments, is then not read for them).
    """
    proto = plan.proto
    w = plan.shape[1]
    want = plan.metrics
    values = dict.fromkeys(want, np.nan)
    splits: dict[str, np.ndarray] = {}
    why: dict[str, str] = {}

    def nan(metric: str, reason: str) -> None:
        values[metric] = np.nan
        why[metric] = reason

    if rows.size == 0:
        reason = NO_REPEATS if proto.fixation_filter == P.FILTER_SALICON else NO_FIXATIONS
        for m in want:
            nan(m, reason)
        if proto.sampled:
            for m in ("auc_borji", "sauc"):
                if m in want:
                    splits[m] = np.full(max(proto.splits, 1), np.nan)
        return values, splits, why

    prep = _WS.prepared(plan.shape, np.float32 if plan.float32_maps else np.float64)
    p = prepare(plan, pred, f32, bounds, prep[0], prep[1])
    ws = _WS.scratch(plan.shape)  # ws[0]: scratch; ws[1]: the ground truth
    ulin, counts = _maps.unique_pixels(rows, cols, w)
    every = np.sort(rows * w + cols) if proto.auc_positives == P.POS_FIXATIONS else ulin
    nss_at = np.sort(rows * w + cols) if proto.nss_positives == P.POS_FIXATIONS else ulin
    ur, uc = ulin // w, ulin % w
    wts = counts if proto.gt_fixation_map == P.FIXMAP_COUNTS else np.ones(ulin.size)
    tr, tc = plan.gt_tables
    g_ready = False
    g_range = None  # the ground truth's (min, max), once read

    def ground_truth() -> np.ndarray:
        nonlocal g_ready
        if gt is not None:
            return gt
        if not g_ready:
            _maps.gt_map_into(ur, uc, wts, tr, tc, ws[1])
            g_ready = True
        return ws[1]

    def ground_truth_range() -> tuple[float, float]:
        nonlocal g_range
        if g_range is None:
            g_range = _maps.value_range(ground_truth())
        return g_range

    if p is pred and not set(want) & _MOMENT_METRICS:
        stats = (bounds[0], bounds[1], np.nan, np.nan, np.nan)  # only min and max are read
    else:
        stats = _maps.moments(p)
        if p is not pred and resize_flattened(stats):
            p[...] = stats[2]
            stats = _maps.moments(p)
    constant = not stats[1] > stats[0]
    if "cc" in want:
        if gt is None and not g_ready and set(want) & {"kld", "sim", "emd"}:
            ground_truth()  # needed anyway: cc in two dense passes is cheaper than patches
        formed = ws[1] if g_ready else gt
        v, reason, dense = _cc(p, stats, formed, ground_truth_range, ur, uc, wts, tr, tc, ws)
        g_ready = g_ready or dense
        if reason == CONSTANT_PREDICTION and proto.cc_constant == P.CONSTANT_ZERO:
            formed = g_ready or gt is not None or _maps.patches_cost_more(ur, tr, tc,
                                                                          plan.shape)
            if not _gt_constant(ground_truth_range() if formed else None, ur, uc, wts, tr,
                                tc, p.size):
                v, reason = 0.0, None
        values["cc"] = v
        if reason:
            why["cc"] = reason
    if "nss" in want:
        v = _maps.nss(p, nss_at, stats, proto.nss_ddof, proto.nss_constant == P.CONSTANT_ZERO)
        values["nss"] = v
        if np.isnan(v):
            why["nss"] = CONSTANT_PREDICTION
    if "kld" in want:
        if negative and proto.kld_negative == P.NEGATIVE_NAN:
            nan("kld", NEGATIVE_KLD)
        else:
            g = ground_truth()
            density = _DENSITY[proto.density]
            # the minima only the pysaliency density reads (a pass over g otherwise)
            g_min = ground_truth_range()[0] if density == _maps.DENSITY_PYSALIENCY else 0.0
            v = _maps.kld(p, g, density, proto.kld_eps, stats[0], g_min)
            values["kld"] = v
            if np.isnan(v) and ground_truth_range()[0] < 0.0:  # a log argument below 0
                why["kld"] = NEGATIVE_GT_KLD
    if "sim" in want:
        v = _maps.sim(p, ground_truth(), _DENSITY[proto.density], stats[0], stats[1],
                      *ground_truth_range())
        values["sim"] = v
        if np.isnan(v):
            why["sim"] = CONSTANT_PREDICTION if constant else CONSTANT_GT
    if "ig" in want:
        if plan.log_baseline is None:
            nan("ig", CONSTANT_BASELINE)
        else:
            v = _maps.ig(p, stats[0], stats[1], plan.log_baseline, ulin, P.MATLAB_EPS)
            values["ig"] = v
            if np.isnan(v):
                why["ig"] = CONSTANT_PREDICTION
    if "emd" in want:
        from ._emd import emd

        v, reason = emd(pred, ground_truth(), proto.emd_downsize,
                        proto.emd_solver == P.EMD_EXACT)
        values["emd"] = v
        if reason:
            why["emd"] = reason
    _aucs(plan, p, stats, ws, ulin, every, seed, stream, pool, values, splits, why)
    return values, splits, why


def _cc(p, stats, gt, gt_range, ur, uc, wts, tr, tc, ws) -> tuple[float, str | None, bool]:
    """(cc, why it is NaN, whether ws[1] now holds the blurred fixation map); ``gt``: a
    given or already built ground truth, and ``gt_range()`` its (min, max)."""
    lo, hi, mean, ssd, resid = stats
    if not hi > lo:  # constant: tested exactly (a rounded variance is not exactly 0)
        return np.nan, CONSTANT_PREDICTION, False
    if gt is not None:
        v = _maps.pearson(p, mean, ssd, resid, gt, *gt_range())
        return v, (CONSTANT_GT if np.isnan(v) else None), False
    dense = _maps.patches_cost_more(ur, tr, tc, p.shape)
    if not dense:
        s1, s2 = _maps.gt_moments(ur, uc, wts, tr, tc)
        var_g = s2 - s1 * s1 / p.size
        if not var_g > _maps.FLAT_RELATIVE * s2:
            return np.nan, CONSTANT_GT, False
        dense = s2 > _maps.DENSE_RATIO * var_g  # the one-pass variance would lose digits
    if dense:  # blur in full, correlate in two passes
        _maps.gt_map_into(ur, uc, wts, tr, tc, ws[1])
        v = _maps.pearson(p, mean, ssd, resid, ws[1], *_maps.value_range(ws[1]))
        return v, (CONSTANT_GT if np.isnan(v) else None), True
    # centre while reading only when the offset would cost digits (a far-off map)
    shift = mean if abs(mean) > _maps.UNCENTRED_OFFSET * math.sqrt(ssd / p.size) else 0.0
    # Σ (P - μ) G with μ = mean + resid / n, the exact mean (see _maps.moments)
    cov = _maps.centred_cov(p, shift, ur, uc, wts, tr, tc) - (mean - shift) * s1 \
        - resid / p.size * s1
    return cov / math.sqrt(ssd * var_g), None, False


def _gt_constant(gt_range, ur, uc, wts, tr, tc, n) -> bool:
    """Whether the ground truth is constant: from its (min, max) ``gt_range`` when the map
    is formed, else from its Gram sums."""
    if gt_range is not None:
        return _maps.flat(*gt_range)
    s1, s2 = _maps.gt_moments(ur, uc, wts, tr, tc)
    return not s2 - s1 * s1 / n > _maps.FLAT_RELATIVE * s2


def _aucs(plan, p, stats, ws, ulin, every, seed, stream, pool, values, splits, why):
    proto = plan.proto
    want = plan.metrics
    flat = p.ravel()
    if proto.auc == P.AUC_MANN_WHITNEY:
        pos = np.sort(flat[every])  # the kernels take them ascending (_auc.mw_prepare)
        # a Mann-Whitney Judd is the map's AUC without the fixated pixels: one pass over
        # the map gives it beside AUC-Borji, from the same sorted positives
        mw_judd = "auc_judd" in want and proto.judd == P.JUDD_MANN_WHITNEY
        if "auc_borji" in want or mw_judd:
            extra = ulin if mw_judd else _NONE_I
            borji, judd = _auc.mw_map_aucs(pos, p, extra, -np.ones(extra.size))
            if "auc_borji" in want:
                values["auc_borji"] = borji
            if mw_judd:
                _judd_value(judd, values, why)
        if "auc_judd" in want and not mw_judd:
            _judd(plan, p, ulin, every, seed, stream, values, why)
        if "sauc" in want:
            if pool is None or pool[0].size == 0:
                why["sauc"] = EMPTY_POOL
            else:
                idx, wgt, own = pool
                values["sauc"] = _auc.mw_pool_auc(pos, p, idx, wgt, own, -np.ones(own.size))
                if np.isnan(values["sauc"]):
                    why["sauc"] = EMPTY_POOL
        return
    if "auc_judd" in want:
        _judd(plan, p, ulin, every, seed, stream, values, why)
    grid = [m for m in ("auc_borji", "sauc", "auc_borji@expected", "sauc@expected")
            if m in want]
    if not grid:
        return
    kind = _AUC_KIND[proto.auc]
    as_f32 = plan.float32_maps
    zero = proto.grid_constant == P.CONSTANT_ZERO
    lo, hi = stats[0], stats[1]
    if not hi > lo and not zero:  # the references divide 0 by 0
        for m in grid:
            why[m] = CONSTANT_PREDICTION
        for m in ("auc_borji", "sauc"):
            if m in want:
                splits[m] = np.full(proto.splits, np.nan)
        return
    pos = _auc.normalised_at(flat, every, lo, hi, as_f32, zero)
    n_neg = proto.borji_negatives or pos.size
    if "auc_borji" in want:
        out = np.full(proto.splits, np.nan)
        splits["auc_borji"] = out
        if ulin.size < proto.borji_min_fixated:
            why["auc_borji"] = ONE_PIXEL
        else:
            values["auc_borji"] = _auc.borji_splits(flat, lo, hi, as_f32, zero, pos, kind,
                                                    proto.step, n_neg, seed, stream, out)
    if "auc_borji@expected" in want:
        if ulin.size < proto.borji_min_fixated:
            why["auc_borji@expected"] = ONE_PIXEL
        else:
            s = ws[0].ravel()
            s[:] = _auc.normalised_at(flat, np.arange(flat.size), lo, hi, as_f32, zero)
            values["auc_borji@expected"] = _auc.expected_grid_auc(pos, s, kind, proto.step,
                                                                  n_neg, True)
    if "sauc" in want or "sauc@expected" in want:
        if proto.sauc_pool == P.POOL_SALICON:
            idx, wgt = _salicon_pool(pool, ulin)
            if idx.size == 0:
                why["sauc"] = EMPTY_POOL
                splits["sauc"] = np.full(proto.splits, np.nan)
            else:
                neg = _auc.normalised_at(flat, idx, lo, hi, as_f32, zero)
                v = _auc.weighted_grid_auc(pos, neg, wgt, kind, proto.step)
                values["sauc"] = v
                splits["sauc"] = np.full(proto.splits, v)
            return
        idx = _NONE_I if pool is None else pool[0]
        if "sauc" in want:
            out = np.full(proto.splits, np.nan)
            splits["sauc"] = out
            if idx.size == 0:
                why["sauc"] = EMPTY_POOL
            else:
                values["sauc"] = _auc.sauc_splits(flat, lo, hi, as_f32, zero, pos, idx, kind,
                                                  proto.step, seed, stream, out)
        if "sauc@expected" in want:
            if idx.size == 0:
                why["sauc@expected"] = EMPTY_POOL
            else:
                vals = _auc.normalised_at(flat, idx, lo, hi, as_f32, zero)
                values["sauc@expected"] = _auc.expected_grid_auc(
                    pos, vals, kind, proto.step, min(pos.size, idx.size), False)


def _salicon_pool(pool, own_pixels) -> tuple[np.ndarray, np.ndarray]:
    """SALICON's shuffled map without this image's kept fixated pixels."""
    if pool is None or pool[0].size == 0:
        return _NONE_I, _NONE_W
    idx, wgt, _ = pool
    keep = ~np.isin(idx, own_pixels, assume_unique=True)
    return np.ascontiguousarray(idx[keep]), np.ascontiguousarray(wgt[keep])


def _judd_value(v: float, values: dict, why: dict) -> None:
    values["auc_judd"] = v
    if np.isnan(v):
        why["auc_judd"] = NO_NEGATIVES


def _judd(plan, p, ulin, every, seed, stream, values, why):
    proto = plan.proto
    if proto.judd == P.JUDD_MANN_WHITNEY:
        pos = np.sort(p.ravel()[every])
        _judd_value(_auc.mw_map_aucs(pos, p, ulin, -np.ones(ulin.size))[1], values, why)
        return
    mit = proto.judd == P.JUDD_MIT
    v, constant = _auc.judd(p, proto.judd_jitter, proto.judd_noise == P.NOISE_NORMAL, mit,
                            seed, stream, ulin if mit else every, ulin)
    if constant:
        values["auc_judd"] = v
        why["auc_judd"] = CONSTANT_PREDICTION
    else:
        _judd_value(v, values, why)
