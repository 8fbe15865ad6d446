"""Numba kernels for resizing a prediction to the image's size.

* :func:`pillow_bicubic_u8` reproduces ``PIL.Image.resize`` (default bicubic filter) on an
  8-bit image bit for bit: Pillow's coefficient rounding, 22-bit fixed point, horizontal
  pass first with an 8-bit intermediate, then the vertical pass.
* :func:`matlab_bicubic` follows MATLAB's ``imresize(A, [H W])`` with its default bicubic
  kernel (a = -0.5), antialiasing when shrinking, mirror-symmetric borders, and the
  dimension with the smaller scale resized first.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import kernel

_PRECISION_BITS = 22  # 32 - 8 - 2, as in Pillow's Resample.c


@kernel(inline="always")
def _pillow_cubic(x):
    a = -0.5
    if x < 0.0:
        x = -x
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    if x < 2.0:
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return 0.0


@kernel
def _pillow_coeffs(in_size, out_size):
    """Pillow's ``precompute_coeffs`` + ``normalize_coeffs_8bpc`` for the bicubic filter."""
    scale = in_size / out_size
    filterscale = scale if scale > 1.0 else 1.0
    support = 2.0 * filterscale
    ksize = int(math.ceil(support)) * 2 + 1
    kk = np.zeros((out_size, ksize), dtype=np.int32)  # Pillow's INT32 coefficients
    bounds = np.zeros((out_size, 2), dtype=np.int64)
    pre = np.zeros(ksize)
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        ss = 1.0 / filterscale
        xmin = int(center - support + 0.5)  # C cast: truncation toward zero
        if xmin < 0:
            xmin = 0
        xmax = int(center + support + 0.5)
        if xmax > in_size:
            xmax = in_size
        xmax -= xmin
        ww = 0.0
        for x in range(xmax):
            w = _pillow_cubic((x + xmin - center + 0.5) * ss)
            pre[x] = w
            ww += w
        for x in range(xmax):
            w = pre[x] / ww if ww != 0.0 else pre[x]
            if w < 0:
                kk[xx, x] = int(-0.5 + w * (1 << _PRECISION_BITS))
            else:
                kk[xx, x] = int(0.5 + w * (1 << _PRECISION_BITS))
        bounds[xx, 0] = xmin
        bounds[xx, 1] = xmax
    return kk, bounds


@kernel(inline="always")
def _clip8(ss):
    return min(max(ss >> _PRECISION_BITS, 0), 255)


@kernel
def pillow_bicubic_u8(img, out_h, out_w):
    """``Image.fromarray(img).resize((out_w, out_h))`` for a 2-D uint8 ``img``."""
    out = np.empty((out_h, out_w), dtype=np.uint8)
    _pillow_resize(img, out, False)
    return out


@kernel
def pillow_bicubic_u8_unit(img, out):
    """``np.asarray(Image.fromarray(img).resize(...), 'float32') / 255`` into the float64
    array ``out`` (float32 values), without the intermediate 8-bit image."""
    _pillow_resize(img, out, True)


@kernel(inline="always")
def _store(out, yy, xx, v, unit):
    if unit:
        out[yy, xx] = np.float32(np.float32(v) / np.float32(255.0))
    else:
        out[yy, xx] = v


@kernel
def _pillow_resize(img, out, unit):
    in_h, in_w = img.shape
    out_h, out_w = out.shape
    if in_h == out_h and in_w == out_w:
        for yy in range(out_h):
            for xx in range(out_w):
                _store(out, yy, xx, img[yy, xx], unit)
        return
    kv, bv = _pillow_coeffs(in_h, out_h)
    first = bv[0, 0]
    last = bv[out_h - 1, 0] + bv[out_h - 1, 1]
    src = img
    if in_w != out_w:
        kh, bh = _pillow_coeffs(in_w, out_w)
        tmp = np.empty((last - first, out_w), dtype=np.uint8)
        for yy in range(last - first):
            for xx in range(out_w):
                xmin = bh[xx, 0]
                ss = 1 << (_PRECISION_BITS - 1)
                for x in range(bh[xx, 1]):
                    ss += np.int64(img[yy + first, x + xmin]) * kh[xx, x]
                tmp[yy, xx] = _clip8(ss)
        src = tmp
        offset = first
    else:
        offset = 0
    if in_h == out_h:
        for yy in range(out_h):
            for xx in range(out_w):
                _store(out, yy, xx, src[yy, xx], unit)
        return
    # 32-bit accumulation as in Pillow (bicubic sums stay far below 2**31)
    n = src.shape[1]
    acc = np.empty(n, dtype=np.int32)
    half = np.int32(1 << (_PRECISION_BITS - 1))
    for yy in range(out_h):
        ymin = bv[yy, 0] - offset
        acc[:] = half
        for y in range(bv[yy, 1]):
            k = kv[yy, y]
            row = src[y + ymin]
            for xx in range(n):
                acc[xx] += np.int32(row[xx]) * k
        o = out[yy]
        if unit:  # separate loops: no per-element branch, so both vectorise
            for xx in range(n):
                o[xx] = np.float32(np.float32(_clip8(acc[xx])) / np.float32(255.0))
        else:
            for xx in range(n):
                o[xx] = _clip8(acc[xx])


# ---- MATLAB imresize, bicubic -----------------------------------------------------------


@kernel(inline="always")
def _matlab_cubic(x):
    ax = abs(x)
    ax2 = ax * ax
    ax3 = ax2 * ax
    if ax <= 1.0:
        return 1.5 * ax3 - 2.5 * ax2 + 1.0
    if ax <= 2.0:
        return -0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0
    return 0.0


@kernel
def matlab_contributions(in_len, out_len):
    """Weights and (0-based) source indices per output sample, as MATLAB's
    ``contributions`` builds them: ``u = x/scale + 0.5*(1 - 1/scale)``, kernel width 4
    (widened by 1/scale with antialiasing when shrinking), weights normalised per row,
    out-of-range indices mirrored, all-zero columns dropped."""
    scale = out_len / in_len
    width = 4.0
    shrink = scale < 1.0
    if shrink:
        width = width / scale
    p = int(math.ceil(width)) + 2
    w = np.zeros((out_len, p))
    idx = np.zeros((out_len, p), dtype=np.int64)
    period = 2 * in_len
    for o in range(out_len):
        u = (o + 1) / scale + 0.5 * (1.0 - 1.0 / scale)
        left = math.floor(u - width / 2.0)
        tot = 0.0
        for j in range(p):
            ind = left + j  # 1-based, may be out of range
            d = u - ind
            if shrink:
                v = scale * _matlab_cubic(scale * d)
            else:
                v = _matlab_cubic(d)
            w[o, j] = v
            tot += v
            k = (ind - 1) % period  # mirror: [1..n, n..1]
            idx[o, j] = k if k < in_len else period - 1 - k
        for j in range(p):
            w[o, j] /= tot
    # MATLAB drops columns that are zero for every output sample; they add nothing, so
    # keeping them changes no value and only costs a few multiplications by zero.
    return w, idx


@kernel
def _resize_rows(src, out_len):
    """Resize along axis 0."""
    in_len, n = src.shape
    w, idx = matlab_contributions(in_len, out_len)
    out = np.zeros((out_len, n))
    for o in range(out_len):
        for j in range(w.shape[1]):
            wj = w[o, j]
            if wj == 0.0:
                continue
            row = src[idx[o, j]]
            for c in range(n):
                out[o, c] += wj * row[c]
    return out


@kernel
def _resize_cols(src, out_len, out):
    """Resize along axis 1 into ``out``."""
    n, in_len = src.shape
    w, idx = matlab_contributions(in_len, out_len)
    for r in range(n):
        for o in range(out_len):
            acc = 0.0
            for j in range(w.shape[1]):
                acc += w[o, j] * src[r, idx[o, j]]
            out[r, o] = acc
    return out


@kernel
def matlab_bicubic_into(img, out):
    """``out = imresize(img, size(out))`` (bicubic, antialiasing) for 2-D float64 maps."""
    in_h, in_w = img.shape
    out_h, out_w = out.shape
    if in_h == out_h and in_w == out_w:
        out[:] = img
    elif img.min() == img.max():
        # a constant map resizes to itself; the weighted sums would add rounding noise
        # (~1e-16) that CC or NSS would then "measure" instead of returning NaN
        out[:] = img[0, 0]
    elif in_w == out_w:
        out[:] = _resize_rows(img, out_h)
    elif in_h == out_h:
        _resize_cols(img, out_w, out)
    elif out_h / in_h <= out_w / in_w:  # MATLAB resizes the smaller-scale dimension first
        _resize_cols(_resize_rows(img, out_h), out_w, out)
    else:
        tmp = np.empty((in_h, out_w))
        _resize_cols(img, out_w, tmp)
        out[:] = _resize_rows(tmp, out_h)


@kernel
def matlab_bicubic(img, out_h, out_w):
    """``imresize(img, [out_h out_w])`` (bicubic, antialiasing) for a 2-D float64 map."""
    out = np.empty((out_h, out_w))
    matlab_bicubic_into(img, out)
    return out
