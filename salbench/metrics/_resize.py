"""Resizing a prediction to the image's size.

* :func:`pillow_bicubic_u8` reproduces ``PIL.Image.resize`` (default bicubic filter) on an
  8-bit image bit for bit: Pillow's coefficient rounding, 22-bit fixed point, horizontal
  pass first with an 8-bit intermediate, then the vertical pass.
* :func:`matlab_plan` follows MATLAB's ``imresize`` with its default bicubic kernel
  (a = -0.5), antialiasing when shrinking, mirror-symmetric borders, and the dimension
  with the smaller scale resized first; :func:`resize_into` applies it.
* The ``salicon`` and ``pysaliency`` protocols resize with ``scipy.ndimage.zoom``, as their
  references do: :func:`zoom_into` reproduces it bit for bit, 5-10x faster, and is checked
  against scipy itself once per size pair (scipy is called when the check fails).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ._blur import gaussian_blur_into
from ._jit import kernel

_PRECISION_BITS = 22  # 32 - 8 - 2, as in Pillow's Resample.c
TILE = 32  # output columns per tile of an enlarging column resize
CUBIC_TAPS, LINEAR_TAPS = 4, 2  # taps an axis of ndimage.zoom at orders 3 and 1
ENLARGE_TAPS = 6
"""Taps per output sample of MATLAB's bicubic kernel when enlarging (width 4, plus the two
ends ``contributions`` keeps): the axis passes sum them in registers, :func:`_six_taps`."""


def _pillow_cubic(x: np.ndarray) -> np.ndarray:
    a = -0.5
    x = np.abs(x)
    return np.where(x < 1.0, ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0,
                    np.where(x < 2.0, (((x - 5.0) * x + 8.0) * x - 4.0) * a, 0.0))


@lru_cache(maxsize=32)
def pillow_coeffs(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pillow's ``precompute_coeffs`` + ``normalize_coeffs_8bpc`` for the bicubic filter:
    int32 coefficients ``(out_size, ksize)`` and ``(xmin, count)`` per output sample."""
    scale = in_size / out_size
    filterscale = scale if scale > 1.0 else 1.0
    support = 2.0 * filterscale
    ksize = int(math.ceil(support)) * 2 + 1
    center = (np.arange(out_size) + 0.5) * scale
    ss = 1.0 / filterscale
    xmin = np.maximum(np.trunc(center - support + 0.5), 0).astype(np.int64)  # C casts
    xmax = np.minimum(np.trunc(center + support + 0.5), in_size).astype(np.int64) - xmin
    x = np.arange(ksize)
    live = x[None, :] < xmax[:, None]
    pre = np.where(live, _pillow_cubic((x[None, :] + xmin[:, None] - center[:, None] + 0.5)
                                       * ss), 0.0)
    # summed left to right, as Pillow's loop does
    ww = np.array([[sum(row[:n])] for row, n in zip(pre.tolist(), xmax.tolist(),
                                                      strict=True)])
    w = np.where(ww != 0.0, pre / np.where(ww != 0.0, ww, 1.0), pre)
    scaled = w * (1 << _PRECISION_BITS)
    kk = np.where(live, np.trunc(np.where(w < 0, -0.5 + scaled, 0.5 + scaled)), 0)
    bounds = np.stack([xmin, xmax], 1)
    kk = np.ascontiguousarray(kk.astype(np.int32))
    bounds = np.ascontiguousarray(bounds.astype(np.int64))
    kk.setflags(write=False)
    bounds.setflags(write=False)
    return kk, bounds


@kernel
def pillow_resize(pred, quantize, pred_f32, kh, bh, kv, bv, unit, out):
    """Pillow's bicubic ``Image.resize`` of an 8-bit image into ``out`` (float32 or float64): the
    8-bit results, or with ``unit`` ``float32(result) / 255`` (as ``np.asarray(...,
    'float32') / 255`` gives), without forming the 8-bit output image.

    The input is ``pred`` itself (8-bit values as floats) or, with ``quantize``, ``(p *
    255)`` truncated to uint8 — in float32 when the prediction was float32, as numpy
    computes it (values must lie in [0, 1]).  Horizontal pass first with an 8-bit
    intermediate over the rows the vertical pass reads, 22-bit fixed point, 32-bit
    accumulation (bicubic sums stay far below 2**31)."""
    in_h, in_w = pred.shape
    img = np.empty((in_h, in_w), dtype=np.int32)
    for i in range(in_h):
        for j in range(in_w):
            v = pred[i, j]
            if not quantize:
                img[i, j] = np.int32(v)
            elif pred_f32:
                img[i, j] = np.int32(np.float32(np.float32(v) * np.float32(255.0)))
            else:
                img[i, j] = np.int32(v * 255.0)
    out_h, out_w = out.shape
    first = 0
    rows = in_h
    if in_h != out_h:
        first = bv[0, 0]
        rows = bv[out_h - 1, 0] + bv[out_h - 1, 1] - first
    tmp = np.empty((rows, out_w), dtype=np.int32)
    half = np.int32(1 << (_PRECISION_BITS - 1))
    for yy in range(rows):
        if in_w == out_w:
            for xx in range(out_w):
                tmp[yy, xx] = img[yy + first, xx]
            continue
        for xx in range(out_w):
            xmin = bh[xx, 0]
            ss = half
            for x in range(bh[xx, 1]):
                ss += img[yy + first, x + xmin] * kh[xx, x]
            tmp[yy, xx] = min(max(ss >> _PRECISION_BITS, 0), 255)
    acc = np.empty(out_w, dtype=np.int32)
    for yy in range(out_h):
        if in_h == out_h:
            for xx in range(out_w):
                acc[xx] = tmp[yy, xx]
        else:
            ymin = bv[yy, 0] - first
            for xx in range(out_w):
                acc[xx] = half
            for y in range(bv[yy, 1]):
                k = kv[yy, y]
                row = tmp[y + ymin]
                for xx in range(out_w):
                    acc[xx] += row[xx] * k
            for xx in range(out_w):
                acc[xx] = min(max(acc[xx] >> _PRECISION_BITS, 0), 255)
        o = out[yy]
        if unit:  # separate loops: no per-element branch, so both vectorise
            for xx in range(out_w):
                o[xx] = np.float32(np.float32(acc[xx]) / np.float32(255.0))
        else:
            for xx in range(out_w):
                o[xx] = acc[xx]


def pillow_bicubic_u8(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """``Image.fromarray(img).resize((out_w, out_h))`` for a 2-D uint8 ``img``."""
    out = np.empty((out_h, out_w))
    kh, bh = pillow_coeffs(img.shape[1], out_w)
    kv, bv = pillow_coeffs(img.shape[0], out_h)
    pillow_resize(np.ascontiguousarray(img, dtype=np.float64), False, False, kh, bh, kv, bv,
                  False, out)
    return out.astype(np.uint8)


def prepare_pillow(pred: np.ndarray, pred_f32: bool, pre_w: np.ndarray, out: np.ndarray,
                   tmp: np.ndarray) -> None:
    """The replication protocol's prediction, into ``out``: ``(p*255)`` truncated to uint8,
    Pillow bicubic resize, ``/255`` in float32, then the float32 Gaussian blur with weights
    ``pre_w`` (none when empty)."""
    kh, bh = pillow_coeffs(pred.shape[1], out.shape[1])
    kv, bv = pillow_coeffs(pred.shape[0], out.shape[0])
    if pre_w.size:
        pillow_resize(pred, True, pred_f32, kh, bh, kv, bv, True, tmp)
        gaussian_blur_into(tmp, pre_w, True, out)
    else:
        pillow_resize(pred, True, pred_f32, kh, bh, kv, bv, True, out)


# ---- MATLAB imresize (bicubic) ---------------------------------------------------------
#
# Separable: ``out = A_r img A_cᵀ``.  Each axis gets a table of weights and source indices
# per output sample (``(n_out, taps)``), built once per size pair in Python and applied by
# :func:`resize_into`.


def _matlab_cubic(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    ax2 = ax * ax
    ax3 = ax2 * ax
    return np.where(ax <= 1.0, 1.5 * ax3 - 2.5 * ax2 + 1.0,
                    np.where(ax <= 2.0, -0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0, 0.0))


@lru_cache(maxsize=64)
def matlab_contributions(in_len: int, out_len: int, scale: float | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Weights and (0-based) source indices per output sample, as MATLAB's
    ``contributions`` builds them: ``u = x/scale + 0.5*(1 - 1/scale)`` (``scale``:
    ``out_len / in_len`` unless ``imresize`` was given a scale factor), kernel width 4
    (widened by 1/scale with antialiasing when shrinking), weights normalised per row,
    out-of-range indices mirrored.  MATLAB also drops columns that are zero for every
    output sample; they add nothing, so keeping them changes no value."""
    if scale is None:
        scale = out_len / in_len
    width = 4.0
    shrink = scale < 1.0
    if shrink:
        width = width / scale
    p = int(math.ceil(width)) + 2
    x = np.arange(1, out_len + 1, dtype=float)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - width / 2.0)
    ind = left[:, None] + np.arange(p)[None, :]  # 1-based, may be out of range
    d = u[:, None] - ind
    w = scale * _matlab_cubic(scale * d) if shrink else _matlab_cubic(d)
    w = w / w.sum(axis=1, keepdims=True)
    period = 2 * in_len
    k = (ind.astype(np.int64) - 1) % period  # mirror: [1..n, n..1]
    idx = np.where(k < in_len, k, period - 1 - k)
    return _frozen(w, idx)


def _frozen(w: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = np.ascontiguousarray(w, dtype=np.float64)
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    w.setflags(write=False)
    idx.setflags(write=False)
    return w, idx


@kernel
def _six_taps(src, w, idx, o, n, dst):
    """``dst[:n] = Σ_j w[o, j] src[idx[o, j], :n]`` for ``ENLARGE_TAPS`` taps, summed from 0.0
    in tap order as the per-tap loops do, in registers (those load and store ``dst`` at
    every tap: the column pass 0.51-0.77 -> 0.36-0.57 ms at 48x48 -> 480x640).  A zero
    weight adds 0.0 (the map is finite), which leaves the sum as it is: the same bits as
    skipping it."""
    w0, w1, w2 = w[o, 0], w[o, 1], w[o, 2]
    w3, w4, w5 = w[o, 3], w[o, 4], w[o, 5]
    s0, s1, s2 = src[idx[o, 0]], src[idx[o, 1]], src[idx[o, 2]]
    s3, s4, s5 = src[idx[o, 3]], src[idx[o, 4]], src[idx[o, 5]]
    for c in range(n):
        a = 0.0
        a += w0 * s0[c]
        a += w1 * s1[c]
        a += w2 * s2[c]
        a += w3 * s3[c]
        a += w4 * s4[c]
        a += w5 * s5[c]
        dst[c] = a


@kernel
def _resize_rows(src, w, idx, out):
    """Resize along axis 0: ``out[o] = Σ_j w[o, j] src[idx[o, j]]``."""
    n = src.shape[1]
    if w.shape[1] == ENLARGE_TAPS:
        for o in range(w.shape[0]):
            _six_taps(src, w, idx, o, n, out[o])
        return
    for o in range(w.shape[0]):
        row_out = out[o]
        for c in range(n):
            row_out[c] = 0.0
        for j in range(w.shape[1]):
            wj = w[o, j]
            if wj == 0.0:
                continue
            row = src[idx[o, j]]
            for c in range(n):
                row_out[c] += wj * row[c]


@kernel
def _resize_cols(src, w, idx, out):
    """Resize along axis 1.  Enlarging (the output is the larger, ``ENLARGE_TAPS`` taps):
    along axis 0 of the small transposed source, ``TILE`` output columns at a time
    (:func:`_six_taps`), each tile then transposed into place (loops across a column
    vectorise: ~3x faster than the gather, warm; no map-sized temporary).  Otherwise
    (shrinking): a gather per tap along each row.  Same sums in the same order."""
    h, n_out = out.shape
    if src.shape[1] < n_out and w.shape[1] == ENLARGE_TAPS:
        st = np.ascontiguousarray(src.T)
        tile = np.empty((TILE, h))
        for o0 in range(0, n_out, TILE):
            m = min(TILE, n_out - o0)
            for k in range(m):
                _six_taps(st, w, idx, o0 + k, h, tile[k])
            for i in range(h):
                for k in range(m):
                    out[i, o0 + k] = tile[k, i]
        return
    for r in range(h):
        s = src[r]
        for o in range(n_out):
            acc = 0.0
            for j in range(w.shape[1]):
                acc += w[o, j] * s[idx[o, j]]
            out[r, o] = acc


@kernel
def resize_into(img, wr, ir, wc, ic, rows_first, out):
    """``out = A_r img A_cᵀ`` for 2-D float64 maps; ``rows_first`` picks the order
    (MATLAB resizes the dimension with the smaller scale first)."""
    in_h, in_w = img.shape
    out_h, out_w = out.shape
    if in_h == out_h and in_w == out_w:
        for i in range(in_h):
            for j in range(in_w):
                out[i, j] = img[i, j]
    elif in_w == out_w:
        _resize_rows(img, wr, ir, out)
    elif in_h == out_h:
        _resize_cols(img, wc, ic, out)
    elif rows_first:
        tmp = np.empty((out_h, in_w))
        _resize_rows(img, wr, ir, tmp)
        _resize_cols(tmp, wc, ic, out)
    else:
        tmp = np.empty((in_h, out_w))
        _resize_cols(img, wc, ic, tmp)
        _resize_rows(tmp, wr, ir, out)


def matlab_plan(in_shape, out_shape, scale: float | None = None) -> tuple:
    """``(wr, ir, wc, ic, rows_first)`` of ``imresize(A, out_shape)`` (or ``imresize(A,
    scale)``, whose output is ``ceil(scale * size)``)."""
    (ih, iw), (oh, ow) = in_shape, out_shape
    wr, ir = matlab_contributions(ih, oh, scale)
    wc, ic = matlab_contributions(iw, ow, scale)
    sr = scale if scale is not None else oh / ih
    sc = scale if scale is not None else ow / iw
    return wr, ir, wc, ic, sr <= sc  # MATLAB: sort(scale), stable: rows first on ties


def matlab_resize(img: np.ndarray, out: np.ndarray) -> None:
    """``out = imresize(img, size(out))`` for a 2-D float64 map."""
    resize_into(img, *matlab_plan(img.shape, out.shape), out)


def matlab_bicubic(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """``imresize(img, [out_h out_w])`` (bicubic, antialiasing) for a 2-D map."""
    img = np.ascontiguousarray(img, dtype=np.float64)
    out = np.empty((out_h, out_w))
    resize_into(img, *matlab_plan(img.shape, (out_h, out_w)), out)
    return out


def matlab_imresize_scale(img: np.ndarray, scale: float) -> np.ndarray:
    """``imresize(img, scale)``: output ``ceil(scale * size)``, kernel at ``scale``."""
    img = np.ascontiguousarray(img, dtype=np.float64)
    shape = tuple(int(math.ceil(scale * n)) for n in img.shape)
    out = np.empty(shape)
    resize_into(img, *matlab_plan(img.shape, shape, scale), out)
    return out


# ---- scipy.ndimage.zoom ----------------------------------------------------------------
#
# ``ndimage.zoom`` (``grid_mode=False``) samples input coordinate ``k * (n_in - 1) /
# (n_out - 1)`` per output index ``k`` and axis, takes ``order + 1`` B-spline weights
# there, and sums, per output value,
# ``(value * w_row) * w_col`` over the taps, row tap outer, from 0.0.  The prefilter
# (order 3) is scipy's own, on the small input; the tables below hold each axis's taps
# and weights, and :func:`zoom_into` sums in scipy's order.  The whole is checked against
# ``ndimage.zoom`` itself once per size pair (:func:`zoom_tables`): a scipy that computes
# otherwise is called as it is.


def _spline_weights(x: np.ndarray, order: int) -> np.ndarray:
    """scipy's B-spline interpolation weights at ``x`` (``order`` 1 or 3), the last one
    1 minus the others, each written as scipy's C code writes it."""
    x = x - np.floor(x)
    w = np.empty((x.size, order + 1))
    if order == 1:
        w[:, 0] = 1.0 - x
    else:
        z = 1.0 - x
        w[:, 1] = (x * x * (x - 2.0) * 3.0 + 4.0) / 6.0
        w[:, 2] = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0
        w[:, 0] = z * z * z / 6.0
    w[:, order] = 1.0
    for i in range(order):
        w[:, order] -= w[:, i]
    return w


def _mirror(idx: np.ndarray, n: int) -> np.ndarray:
    """scipy's mirror of tap indices past an edge (``d c b | a b c d | c b a``)."""
    if n == 1:
        return np.zeros_like(idx)
    s2 = 2 * n - 2
    idx = np.abs(idx) % s2
    return np.where(idx >= n, s2 - idx, idx)


def _zoom_axis(n_in: int, n_out: int, order: int, mode: str
               ) -> tuple[np.ndarray, np.ndarray]:
    """``(taps, weights)``, each ``(n_out, order + 1)``, of one axis.  Mode 'nearest':
    taps past an edge take the edge.  Mode 'constant': taps past an edge are mirrored,
    and a coordinate past the edge gives 0 (all weights 0): the last of ``k * (n_in - 1)
    / (n_out - 1)`` can round to just past ``n_in - 1``, and scipy then gives 0 there."""
    factor = (n_in - 1) / (n_out - 1) if n_out > 1 else 1.0
    cc = np.arange(n_out, dtype=np.float64) * factor
    start = np.floor(cc).astype(np.int64) - order // 2
    taps = start[:, None] + np.arange(order + 1)
    w = _spline_weights(cc, order)
    if mode == "nearest":
        taps = np.clip(taps, 0, n_in - 1)
    else:
        taps = _mirror(taps, n_in)
        w[(cc < 0.0) | (cc > n_in - 1)] = 0.0
    w, taps = _frozen(w, taps)
    return taps, w


def zoom_prefilter(pred: np.ndarray, order: int, mode: str) -> np.ndarray:
    """What ``ndimage.zoom(pred, ..., order, mode)`` interpolates: ``pred`` itself (order
    1), or scipy's spline coefficients of it (after any padding scipy does first)."""
    if order <= 1:
        return pred
    from scipy import ndimage
    from scipy.ndimage._interpolation import _prepad_for_spline_filter

    padded, _ = _prepad_for_spline_filter(pred, mode, 0.0)
    return ndimage.spline_filter(padded, order, output=np.float64, mode=mode)


@lru_cache(maxsize=64)
def zoom_tables(in_shape: tuple[int, int], out_shape: tuple[int, int], order: int,
                mode: str) -> tuple[np.ndarray, ...] | None:
    """``(row taps, row weights, column taps, column weights, column runs)`` of
    ``ndimage.zoom(x, out/in, order=order, mode=mode)`` (order 1 or 3; mode 'nearest' or
    'constant'; the runs: see :func:`column_runs`); None
    for anything else, for equal shapes, when scipy's output has another shape, or when
    :func:`zoom_into` on them does not give scipy's values bit for bit on a random map
    (checked here, once per size pair)."""
    from scipy import ndimage

    if order not in (1, 3) or mode not in ("nearest", "constant") or in_shape == out_shape:
        return None  # (scipy returns a map zoomed by 1 as it is)
    (mh, mw), (h, w) = in_shape, out_shape
    factors = (h / mh, w / mw)
    if (int(round(mh * factors[0])), int(round(mw * factors[1]))) != (h, w):
        return None
    probe = np.random.default_rng(0).standard_normal(in_shape)
    try:
        src = zoom_prefilter(probe, order, mode)
    except ImportError:  # scipy moved its private padding helper: call scipy's zoom
        return None
    if src.shape != tuple(in_shape):  # scipy padded before filtering: not this layout
        return None
    ci, wc = _zoom_axis(in_shape[1], out_shape[1], order, mode)
    wc, ci = _frozen(wc.T, ci.T)  # taps-major: zoom_into runs along a row per tap
    tables = (*_zoom_axis(in_shape[0], out_shape[0], order, mode), ci, wc, column_runs(ci))
    mine = np.empty(out_shape)
    zoom_into(src, *tables, mine)
    if not np.array_equal(mine, ndimage.zoom(probe, factors, order=order, mode=mode)):
        return None
    return tables


def column_runs(ci: np.ndarray) -> np.ndarray:
    """Where each run of output columns that read the same source columns (``ci[:, c]``
    equal; taps-major ``ci``) starts, and the number of columns after the last: 48 runs
    of 13-14 columns at 48 -> 640."""
    change = np.flatnonzero(np.any(ci[:, 1:] != ci[:, :-1], axis=0)) + 1
    runs = np.concatenate(([0], change, [ci.shape[1]])).astype(np.int64)
    runs.setflags(write=False)
    return runs


@kernel
def _zoom_runs4(lines, ci, wc, runs, o):
    """One output row of a cubic zoom (4 taps an axis): each value's 16 terms added into a
    register in :func:`zoom_into`'s order.  Within a run of columns the 16 values ``lines[a]
    [ci[b, c]]`` are the same, so they are read once and the loop across the run reads only
    the column weights (it vectorises without gathers)."""
    l0, l1, l2, l3 = lines[0], lines[1], lines[2], lines[3]
    w0, w1, w2, w3 = wc[0], wc[1], wc[2], wc[3]
    for q in range(runs.size - 1):
        c0, c1 = runs[q], runs[q + 1]
        j0, j1, j2, j3 = ci[0, c0], ci[1, c0], ci[2, c0], ci[3, c0]
        v00, v01, v02, v03 = l0[j0], l0[j1], l0[j2], l0[j3]
        v10, v11, v12, v13 = l1[j0], l1[j1], l1[j2], l1[j3]
        v20, v21, v22, v23 = l2[j0], l2[j1], l2[j2], l2[j3]
        v30, v31, v32, v33 = l3[j0], l3[j1], l3[j2], l3[j3]
        for c in range(c0, c1):
            acc = 0.0
            acc += v00 * w0[c]
            acc += v01 * w1[c]
            acc += v02 * w2[c]
            acc += v03 * w3[c]
            acc += v10 * w0[c]
            acc += v11 * w1[c]
            acc += v12 * w2[c]
            acc += v13 * w3[c]
            acc += v20 * w0[c]
            acc += v21 * w1[c]
            acc += v22 * w2[c]
            acc += v23 * w3[c]
            acc += v30 * w0[c]
            acc += v31 * w1[c]
            acc += v32 * w2[c]
            acc += v33 * w3[c]
            o[c] = acc


@kernel
def _zoom_runs2(lines, ci, wc, runs, o):
    """:func:`_zoom_runs4` for a linear zoom (2 taps an axis, 4 terms a value)."""
    l0, l1 = lines[0], lines[1]
    w0, w1 = wc[0], wc[1]
    for q in range(runs.size - 1):
        c0, c1 = runs[q], runs[q + 1]
        j0, j1 = ci[0, c0], ci[1, c0]
        v00, v01, v10, v11 = l0[j0], l0[j1], l1[j0], l1[j1]
        for c in range(c0, c1):
            acc = 0.0
            acc += v00 * w0[c]
            acc += v01 * w1[c]
            acc += v10 * w0[c]
            acc += v11 * w1[c]
            o[c] = acc


@kernel
def zoom_into(src, ri, wr, ci, wc, runs, out):
    """``out[r, c] = Σ_a Σ_b (src[ri[r, a], ci[b, c]] * wr[r, a]) * wc[b, c]``, summed from
    0.0 with ``a`` outer, as ``ndimage.zoom`` sums (``ci``, ``wc``: taps-major; ``runs``:
    :func:`column_runs` of ``ci``).  Orders 3 and 1 (4 and 2 taps) add each value's terms
    in a register, written out, by runs of columns (:func:`_zoom_runs4`; 48x48 -> 480x640:
    3.4-3.5 -> 1.1-1.2 ms cubic, 0.88-0.91 -> 0.36-0.40 ms linear); other tap counts
    advance a row's sums together, one term at a time (a loop over the taps per value,
    not written out, ran 1.5x slower than that)."""
    taps = ri.shape[1]
    n = src.shape[1]
    w = out.shape[1]
    lines = np.empty((taps, n))
    for r in range(out.shape[0]):
        for a in range(taps):
            s = src[ri[r, a]]
            wa = wr[r, a]
            la = lines[a]
            for k in range(n):  # value * row weight: the first product of each term
                la[k] = s[k] * wa
        o = out[r]
        if taps == CUBIC_TAPS:
            _zoom_runs4(lines, ci, wc, runs, o)
            continue
        if taps == LINEAR_TAPS:
            _zoom_runs2(lines, ci, wc, runs, o)
            continue
        for c in range(w):
            o[c] = 0.0
        for a in range(taps):
            la = lines[a]
            for b in range(taps):
                cb = ci[b]
                wb = wc[b]
                for c in range(w):
                    o[c] += la[cb[c]] * wb[c]
