"""Gaussian blurs with ``scipy.ndimage.gaussian_filter`` semantics (mode ``reflect``,
``truncate=4``), fast for the two shapes metrics need.

* :func:`blur_map` blurs a dense map with scipy's weights *and* scipy's summation order
  (axis 0 then axis 1, symmetric taps paired), optionally storing each pass in float32 as
  scipy does for float32 input — so the result is bitwise scipy's.
* A blurred *fixation map* is never formed when only its inner products are needed: with
  ``K`` the 1-D filter matrix, ``G = K_r F K_cᵀ``, so ``Σ G`` and ``Σ G²`` follow from
  column sums and the Gram matrices ``K_rᵀK_r``, ``K_cᵀK_c`` (:func:`filter_tables`), and
  ``Σ P·G`` from one small patch per fixated pixel (see ``_maps.py``).
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


@kernel(inline="always")
def reflect_index(i, n):
    """scipy's ``reflect`` boundary (``d c b a | a b c d | d c b a``), any distance."""
    if n == 1:
        return 0
    period = 2 * n
    i = i % period
    if i >= n:
        i = period - 1 - i
    return i


@kernel
def blur_into(src, w, as_f32, out):
    """``out = gaussian_filter(src, sigma)`` for ``w = gaussian_weights(sigma)``.

    scipy filters axis 0 then axis 1, accumulating each output in double as
    ``x[0]*w[0]`` then ``+= (x[-j] + x[j]) * w[j]`` for j = r..1 (its order for symmetric
    kernels), and stores each pass in the array's dtype: with ``as_f32`` both passes are
    rounded to float32, as scipy does for float32 input.  Here the two passes are fused
    row by row and vectorised across the row, with taps applied four at a time in the same
    left-to-right order; every output sees the same operations, so the result is bitwise
    scipy's.
    """
    h, wd = src.shape
    r = w.size // 2
    w0 = w[r]
    acc = np.empty(wd)
    line = np.empty(wd + 2 * r)
    for i in range(h):
        a = src[i]
        for c in range(wd):
            acc[c] = a[c] * w0
        j = -r
        while j + 4 <= 0:
            l0 = src[reflect_index(i + j, h)]
            h0 = src[reflect_index(i - j, h)]
            l1 = src[reflect_index(i + j + 1, h)]
            h1 = src[reflect_index(i - j - 1, h)]
            l2 = src[reflect_index(i + j + 2, h)]
            h2 = src[reflect_index(i - j - 2, h)]
            l3 = src[reflect_index(i + j + 3, h)]
            h3 = src[reflect_index(i - j - 3, h)]
            w_0 = w[r + j]
            w_1 = w[r + j + 1]
            w_2 = w[r + j + 2]
            w_3 = w[r + j + 3]
            for c in range(wd):  # pair sums in double, as scipy
                acc[c] = (((acc[c] + (np.float64(l0[c]) + h0[c]) * w_0)
                           + (np.float64(l1[c]) + h1[c]) * w_1)
                          + (np.float64(l2[c]) + h2[c]) * w_2) \
                    + (np.float64(l3[c]) + h3[c]) * w_3
            j += 4
        while j < 0:
            lo = src[reflect_index(i + j, h)]
            hi = src[reflect_index(i - j, h)]
            wj = w[r + j]
            for c in range(wd):
                acc[c] += (np.float64(lo[c]) + hi[c]) * wj
            j += 1
        mid = line[r:r + wd]
        if as_f32:
            for c in range(wd):
                mid[c] = np.float32(acc[c])
        else:
            mid[:] = acc
        for k in range(r):
            line[k] = mid[reflect_index(k - r, wd)]
            line[r + wd + k] = mid[reflect_index(wd + k, wd)]
        for c in range(wd):
            acc[c] = mid[c] * w0
        j = -r
        while j + 4 <= 0:  # slices keep indices non-negative: SIMD
            l0 = line[r + j:r + j + wd]
            h0 = line[r - j:r - j + wd]
            l1 = line[r + j + 1:r + j + 1 + wd]
            h1 = line[r - j - 1:r - j - 1 + wd]
            l2 = line[r + j + 2:r + j + 2 + wd]
            h2 = line[r - j - 2:r - j - 2 + wd]
            l3 = line[r + j + 3:r + j + 3 + wd]
            h3 = line[r - j - 3:r - j - 3 + wd]
            w_0 = w[r + j]
            w_1 = w[r + j + 1]
            w_2 = w[r + j + 2]
            w_3 = w[r + j + 3]
            for c in range(wd):
                acc[c] = (((acc[c] + (l0[c] + h0[c]) * w_0) + (l1[c] + h1[c]) * w_1)
                          + (l2[c] + h2[c]) * w_2) + (l3[c] + h3[c]) * w_3
            j += 4
        while j < 0:
            lo = line[r + j:r + j + wd]
            hi = line[r - j:r - j + wd]
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


def filter_matrix(n: int, w: np.ndarray) -> np.ndarray:
    """Dense ``n x n`` matrix of 1-D correlation with ``w`` under reflect boundaries."""
    r = w.size // 2
    k = np.zeros((n, n))
    rows = np.arange(n)
    for j in range(-r, r + 1):
        i = (rows + j) % (2 * n) if n > 1 else np.zeros(n, dtype=np.int64)
        cols = np.where(i >= n, 2 * n - 1 - i, i)
        np.add.at(k, (rows, cols), w[r + j])
    return k


@lru_cache(maxsize=16)
def filter_tables(n: int, sigma: float) -> tuple[np.ndarray, ...]:
    """For one image side of length ``n``: ``(kT, lo, hi, colsum, gram, w)``.

    ``kT[m]`` is column ``m`` of the filter matrix K (the blurred unit impulse at ``m``),
    non-zero only on ``lo[m]:hi[m]``; ``colsum[m]`` its total; ``gram = KᵀK``.  Away from
    the borders a column is just the weights ``w`` shifted (see :func:`is_interior`), so
    kernels read ``w`` there and the dense table only near the borders.
    """
    w = gaussian_weights(sigma)
    k = filter_matrix(n, w)
    kt = np.ascontiguousarray(k.T)
    nz = kt != 0
    lo = nz.argmax(axis=1).astype(np.int64)
    hi = (n - nz[:, ::-1].argmax(axis=1)).astype(np.int64)
    colsum = kt.sum(axis=1)
    gram = kt @ k
    out = (kt, lo, hi, colsum, gram, w)
    for arr in out:
        arr.setflags(write=False)
    return out


@kernel(inline="always")
def is_interior(m, n, r):
    """Column ``m`` of the filter matrix is ``w`` on rows ``m-r..m+r``, no reflections."""
    return r <= m and m <= n - 1 - r
