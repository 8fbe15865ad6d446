"""Gaussian blurs: scipy's ``gaussian_filter`` (mode ``reflect``, ``truncate=4``) and MIT's
``antonioGaussian.m``, fast for the two shapes metrics need.

* :func:`blur_map` blurs a dense map with scipy's weights *and* scipy's summation order
  (axis 0 then axis 1, symmetric taps paired), optionally storing each pass in float32 as
  scipy does for float32 input — so the result is bitwise scipy's.  At radius 8 (sigma 2,
  the replication protocol's) :func:`gaussian_blur_into` takes an unrolled kernel.
* A blurred *fixation map* is ``G = K_r F K_cᵀ`` for the 1-D filter matrices ``K`` of the
  protocol's blur: scipy's reflect-border Gaussian (:func:`reflect_tables`) or MIT's
  ``antonioGaussian.m`` (:func:`antonio_tables`: FFT on a zero-padded power-of-two square,
  whose transfer function factors into two 1-D ones).  It is never formed when only its
  inner products are needed: ``Σ G`` and ``Σ G²`` follow from column sums and the Gram
  matrices ``KᵀK``, and ``Σ P·G`` from one small patch per fixated pixel (``_maps.py``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._jit import kernel


def gaussian_weights(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """scipy's ``_gaussian_kernel1d`` for order 0, computed the same way."""
    radius = int(truncate * float(sigma) + 0.5)
    sigma2 = sigma * sigma
    x = np.arange(-radius, radius + 1)
    phi_x = np.exp(-0.5 / sigma2 * x**2)
    phi_x = phi_x / phi_x.sum()
    return phi_x[::-1].copy()


@kernel
def reflect_index(i, n):
    """scipy's ``reflect`` boundary (``d c b a | a b c d | d c b a``), any distance."""
    if n == 1:
        return 0
    period = 2 * n
    i = i % period
    if i >= n:
        i = period - 1 - i
    return i


@kernel(inline="always")
def _reflect_borders(line, r, wd):
    """Fill ``line``'s ``r`` values either side of the row ``line[r:r + wd]`` with its
    reflections."""
    for k in range(r):
        line[k] = line[r + reflect_index(k - r, wd)]
        line[r + wd + k] = line[r + reflect_index(wd + k, wd)]


@kernel
def blur_into(src, w, as_f32, out):
    """``out = gaussian_filter(src, sigma)`` for ``w = gaussian_weights(sigma)``.

    scipy filters axis 0 then axis 1, accumulating each output in double as
    ``x[0]*w[0]`` then ``+= (x[-j] + x[j]) * w[j]`` for j = r..1 (its order for symmetric
    kernels), and stores each pass in the array's dtype: with ``as_f32`` both passes are
    rounded to float32, as scipy does for float32 input.  Here the two passes are fused
    row by row and vectorised across the row, taps applied two per pass over the row in
    the same order; every output sees the same operations, so the result is bitwise
    scipy's.  (Four taps per pass run no faster and take five times as long to compile.)
    """
    h, wd = src.shape
    r = w.size // 2
    w0 = w[r]
    acc = np.empty(wd)
    line = np.empty(wd + 2 * r)
    # the row between the vertical and horizontal passes, a view between its reflected
    # borders: written and read through the view, the loops run ~25% faster than through
    # offset indices into ``line``
    mid = line[r:r + wd]
    for i in range(h):
        a = src[i]
        for c in range(wd):
            acc[c] = a[c] * w0
        j = -r
        while j + 2 <= 0:
            l0, h0 = src[reflect_index(i + j, h)], src[reflect_index(i - j, h)]
            l1, h1 = src[reflect_index(i + j + 1, h)], src[reflect_index(i - j - 1, h)]
            w_0, w_1 = w[r + j], w[r + j + 1]
            for c in range(wd):  # pair sums in double, as scipy
                acc[c] = (acc[c] + (np.float64(l0[c]) + h0[c]) * w_0) \
                    + (np.float64(l1[c]) + h1[c]) * w_1
            j += 2
        while j < 0:
            lo, hi = src[reflect_index(i + j, h)], src[reflect_index(i - j, h)]
            wj = w[r + j]
            for c in range(wd):
                acc[c] += (np.float64(lo[c]) + hi[c]) * wj
            j += 1
        if as_f32:  # separate loops: no per-element branch, so both vectorise
            for c in range(wd):
                mid[c] = np.float32(acc[c])
        else:
            for c in range(wd):
                mid[c] = acc[c]
        _reflect_borders(line, r, wd)
        for c in range(wd):
            acc[c] = mid[c] * w0
        j = -r
        while j + 2 <= 0:  # slices keep indices non-negative: SIMD
            l0, h0 = line[r + j:r + j + wd], line[r - j:r - j + wd]
            l1, h1 = line[r + j + 1:r + j + 1 + wd], line[r - j - 1:r - j - 1 + wd]
            w_0, w_1 = w[r + j], w[r + j + 1]
            for c in range(wd):
                acc[c] = (acc[c] + (l0[c] + h0[c]) * w_0) + (l1[c] + h1[c]) * w_1
            j += 2
        while j < 0:
            lo, hi = line[r + j:r + j + wd], line[r - j:r - j + wd]
            wj = w[r + j]
            for c in range(wd):
                acc[c] += (lo[c] + hi[c]) * wj
            j += 1
        o = out[i]
        if as_f32:
            for c in range(wd):
                o[c] = np.float32(acc[c])
        else:
            for c in range(wd):
                o[c] = acc[c]


@kernel
def blur_map(src, w, as_f32):
    """Allocating form of :func:`blur_into`."""
    out = np.empty(src.shape, dtype=src.dtype)
    blur_into(src, w, as_f32, out)
    return out


def reflect_matrix(n: int, w: np.ndarray) -> np.ndarray:
    """Dense ``n x n`` matrix of 1-D correlation with ``w`` under reflect boundaries."""
    r = w.size // 2
    k = np.zeros((n, n))
    rows = np.arange(n)
    for j in range(-r, r + 1):
        i = (rows + j) % (2 * n) if n > 1 else np.zeros(n, dtype=np.int64)
        cols = np.where(i >= n, 2 * n - 1 - i, i)
        np.add.at(k, (rows, cols), w[r + j])
    return k


def antonio_padded_size(h: int, w: int) -> int:
    """antonioGaussian.m's square FFT size: max(H, W) rounded up to even, then to a power
    of two."""
    n = max(h, w)
    n += n % 2
    return 1 << int(np.ceil(np.log2(n))) if n > 1 else 1


def antonio_kernel(n_pad: int, cutoff: float) -> np.ndarray:
    """The 1-D circular kernel of antonioGaussian.m: the inverse DFT of the fftshift'ed
    transfer function ``exp(-f² / s²)``, ``s = fc / sqrt(ln 2)``, ``f`` in ``[-n/2, n/2)``.
    The 2-D filter is the outer product of two of these (its transfer function factors),
    so the blur is ``K F Kᵀ``.  Entries below 1e-15 of the peak are the FFT's rounding
    noise and are set to 0."""
    s = cutoff / np.sqrt(np.log(2.0))
    f = np.arange(n_pad)
    f = np.where(f < n_pad // 2, f, f - n_pad)
    g = np.exp(-(f.astype(float) ** 2) / s**2)
    k = np.fft.ifft(g).real
    k[np.abs(k) < 1e-15 * np.abs(k).max()] = 0.0
    return k


def antonio_matrix(n: int, n_pad: int, cutoff: float) -> np.ndarray:
    """``K[i, a] = k[(i - a) mod n_pad]`` for one image side of length ``n`` (the image is
    zero-padded at the end to ``n_pad``, convolved circularly, cropped)."""
    k = antonio_kernel(n_pad, cutoff)
    d = (np.arange(n)[:, None] - np.arange(n)[None, :]) % n_pad
    return k[d]


def _tables(k: np.ndarray, w: np.ndarray) -> tuple:
    """``(kT, lo, hi, colsum, gram, w, int_lo, int_hi, lag)`` for the filter matrix ``k``:
    ``kT[m]`` is column ``m`` (the blurred unit impulse at ``m``), non-zero only on
    ``lo[m]:hi[m]``; ``colsum[m]`` its total; ``gram = KᵀK``.  Columns ``int_lo..int_hi``
    are the weights ``w`` shifted (centred on ``m``), so kernels read ``w`` there and the
    dense table only near the borders.  For two such columns ``gram[m, m'] =
    lag[|m - m'|]`` (``w``'s autocorrelation, 0 beyond ``2r``; length ``n``): a table that
    stays in cache, where random reads of ``gram`` miss it."""
    n = k.shape[0]
    kt = np.ascontiguousarray(k.T)
    nz = kt != 0
    lo = nz.argmax(axis=1).astype(np.int64)
    hi = (n - nz[:, ::-1].argmax(axis=1)).astype(np.int64)
    empty = ~nz.any(axis=1)
    lo[empty] = 0
    hi[empty] = 0
    colsum = kt.sum(axis=1)
    gram = kt @ k
    r = w.size // 2
    int_lo, int_hi = r, n - 1 - r
    for m in (int_lo, (int_lo + int_hi) // 2, int_hi):  # verify the interior claim
        if int_lo <= int_hi and not np.array_equal(kt[m, m - r:m + r + 1], w):
            int_lo, int_hi = 1, 0
            break
    if int_lo <= int_hi and (np.count_nonzero(kt[int_lo:int_hi + 1]) !=
                             (int_hi - int_lo + 1) * np.count_nonzero(w)):
        int_lo, int_hi = 1, 0  # something beyond the band (wrap-around): use the table
    m = np.arange(int_lo, int_hi + 1)
    if not (np.array_equal(lo[m], m - r) and np.array_equal(hi[m], m + r + 1)):
        int_lo, int_hi = 1, 0  # kernels take an interior column's support to be m-r..m+r
    lag = np.zeros(n)
    if int_lo <= int_hi:  # Gram entries of two interior columns depend on m - m' only
        span = min(2 * r, int_hi - int_lo) + 1
        lag[:span] = gram[int_lo, int_lo:int_lo + span]
    out = (kt, lo, hi, colsum, gram, np.ascontiguousarray(w), lag)
    for arr in out:
        arr.setflags(write=False)
    return (*out[:6], int(int_lo), int(int_hi), lag)


@lru_cache(maxsize=16)
def reflect_tables(n: int, sigma: float) -> tuple:
    """Filter tables of scipy's reflect-border Gaussian for a side of length ``n``."""
    w = gaussian_weights(sigma)
    return _tables(reflect_matrix(n, w), w)


@lru_cache(maxsize=16)
def antonio_tables(n: int, n_pad: int, cutoff: float) -> tuple:
    """Filter tables of antonioGaussian.m for a side of length ``n`` padded to ``n_pad``."""
    k = antonio_kernel(n_pad, cutoff)
    nz = np.flatnonzero(k[: n_pad // 2 + 1])
    r = int(nz.max()) if nz.size else 0
    w = k[np.arange(-r, r + 1) % n_pad]
    return _tables(antonio_matrix(n, n_pad, cutoff), w)


UNROLLED_RADIUS = 8
"""The radius of scipy's weights at sigma=2 (the replication protocol's prediction blur):
its blur has an unrolled kernel, :func:`blur_r8_into`."""


def gaussian_blur_into(src: np.ndarray, w: np.ndarray, as_f32: bool, out: np.ndarray
                       ) -> None:
    """:func:`blur_into`, by the unrolled kernel when ``w`` has radius ``UNROLLED_RADIUS``."""
    if w.size == 2 * UNROLLED_RADIUS + 1:
        blur_r8_into(src, w, as_f32, out)
    else:
        blur_into(src, w, as_f32, out)


@kernel
def blur_r8_into(src, w, as_f32, out):
    """:func:`blur_into` for 17 weights (radius 8), bitwise the same, with
    every tap written out so that partial sums stay in registers: the vertical pass forms
    two output rows per sweep, reading each of the 18 source rows they need once (the
    general loop reads 34, and loads and stores its accumulator row at every second tap),
    and the horizontal pass reads the 17 shifted copies of the row straight into one sum
    per value.  Every value is one :func:`_sum_r8`: the general loop's operations in its
    order."""
    h, wd = src.shape
    r = UNROLLED_RADIUS
    cw = (w[r], w[r - 1], w[r - 2], w[r - 3], w[r - 4], w[r - 5], w[r - 6], w[r - 7], w[r - 8])
    line0 = np.empty(wd + 2 * r)
    line1 = np.empty(wd + 2 * r)
    mid0 = line0[r:r + wd]
    mid1 = line1[r:r + wd]
    for i in range(0, h, 2):
        # rows i - d (a_d) and i + d (b_d); row i + 1 is b1 (reflected back when i is last)
        a1, a2 = src[reflect_index(i - 1, h)], src[reflect_index(i - 2, h)]
        a3, a4 = src[reflect_index(i - 3, h)], src[reflect_index(i - 4, h)]
        a5, a6 = src[reflect_index(i - 5, h)], src[reflect_index(i - 6, h)]
        a7, a8 = src[reflect_index(i - 7, h)], src[reflect_index(i - 8, h)]
        s0 = src[i]
        b1, b2 = src[reflect_index(i + 1, h)], src[reflect_index(i + 2, h)]
        b3, b4 = src[reflect_index(i + 3, h)], src[reflect_index(i + 4, h)]
        b5, b6 = src[reflect_index(i + 5, h)], src[reflect_index(i + 6, h)]
        b7, b8 = src[reflect_index(i + 7, h)], src[reflect_index(i + 8, h)]
        b9 = src[reflect_index(i + 9, h)]
        for c in range(wd):
            u1, u2, u3, u4 = np.float64(a1[c]), np.float64(a2[c]), np.float64(a3[c]), \
                np.float64(a4[c])
            u5, u6, u7, u8 = np.float64(a5[c]), np.float64(a6[c]), np.float64(a7[c]), \
                np.float64(a8[c])
            x = np.float64(s0[c])
            v1, v2, v3, v4 = np.float64(b1[c]), np.float64(b2[c]), np.float64(b3[c]), \
                np.float64(b4[c])
            v5, v6, v7, v8 = np.float64(b5[c]), np.float64(b6[c]), np.float64(b7[c]), \
                np.float64(b8[c])
            v9 = np.float64(b9[c])
            s = _sum_r8(x, u1, v1, u2, v2, u3, v3, u4, v4, u5, v5, u6, v6, u7, v7, u8, v8, cw)
            mid0[c] = np.float32(s) if as_f32 else s  # a select: still SIMD
            # row i + 1: its row i - d is a_(d-1) (x for d = 1), its row i + d is b_(d+1)
            t = _sum_r8(v1, x, v2, u1, v3, u2, v4, u3, v5, u4, v6, u5, v7, u6, v8, u7, v9, cw)
            mid1[c] = np.float32(t) if as_f32 else t
        for q in range(min(2, h - i)):
            line = line1 if q else line0
            _reflect_borders(line, r, wd)
            _row_r8(line, wd, cw, out[i + q])


@kernel(inline="always")
def _row_r8(line, wd, cw, o):
    """The horizontal pass of :func:`blur_r8_into` over one row between its reflected
    borders, ``line[8:8 + wd]``, into ``o`` (stored in its dtype)."""
    l0, l1, l2, l3 = line[0:wd], line[1:1 + wd], line[2:2 + wd], line[3:3 + wd]
    l4, l5, l6, l7 = line[4:4 + wd], line[5:5 + wd], line[6:6 + wd], line[7:7 + wd]
    l8 = line[8:8 + wd]
    l9, l10, l11, l12 = line[9:9 + wd], line[10:10 + wd], line[11:11 + wd], line[12:12 + wd]
    l13, l14, l15, l16 = line[13:13 + wd], line[14:14 + wd], line[15:15 + wd], \
        line[16:16 + wd]
    for c in range(wd):
        o[c] = _sum_r8(l8[c], l7[c], l9[c], l6[c], l10[c], l5[c], l11[c], l4[c], l12[c],
                       l3[c], l13[c], l2[c], l14[c], l1[c], l15[c], l0[c], l16[c], cw)


@kernel(inline="always")
def _sum_r8(x, lo1, hi1, lo2, hi2, lo3, hi3, lo4, hi4, lo5, hi5, lo6, hi6, lo7, hi7, lo8,
            hi8, cw):
    """One value of the radius-8 blur from its centre ``x`` and the values ``lo_d``,
    ``hi_d`` at distance ``d`` either side (``cw[d]``: the weight at distance ``d``), in
    scipy's order: ``x * cw[0]``, then ``+ (lo_d + hi_d) * cw[d]`` for d = 8..1."""
    s = x * cw[0]
    s = s + (lo8 + hi8) * cw[8]
    s = s + (lo7 + hi7) * cw[7]
    s = s + (lo6 + hi6) * cw[6]
    s = s + (lo5 + hi5) * cw[5]
    s = s + (lo4 + hi4) * cw[4]
    s = s + (lo3 + hi3) * cw[3]
    s = s + (lo2 + hi2) * cw[2]
    s = s + (lo1 + hi1) * cw[1]
    return s
