"""Numba kernels for the map-based metrics: CC, NSS, KLD, SIM, IG.

The continuous ground truth of a protocol is the binary fixation map blurred with a
Gaussian (``G = K_r F K_cᵀ``, see ``_blur.py``).  CC needs only ``Σ G``, ``Σ G²`` and
``Σ P·G``, which are computed from the fixated pixels without forming ``G``; KLD and SIM
need ``G`` itself, which is built from the fixated rows only.
"""

from __future__ import annotations

import math

import numpy as np

from ._blur import is_interior
from ._jit import kernel

EPS = 2.220446049250313e-16  # MATLAB's eps, used by KLdiv.m and InfoGain.m


@kernel(fastmath={"reassoc"})
def _sum64(x):
    """Sum in float64 whatever the array's dtype (float32 maps must not accumulate in
    float32)."""
    flat = x.ravel()
    total = 0.0
    for i in range(flat.size):
        total += flat[i]
    return total


@kernel(fastmath=True)
def minmax(x):
    """(min, max) of a map; maps are validated finite, so NaN handling is not needed.
    Sixteen independent lanes let the loop vectorise (a plain running min does not)."""
    flat = x.ravel()
    lo = np.full(16, np.inf)
    hi = np.full(16, -np.inf)
    n = flat.size - flat.size % 16
    for i in range(0, n, 16):
        for j in range(16):
            v = np.float64(flat[i + j])
            lo[j] = min(lo[j], v)
            hi[j] = max(hi[j], v)
    a = lo.min()
    b = hi.max()
    for i in range(n, flat.size):
        a = min(a, np.float64(flat[i]))
        b = max(b, np.float64(flat[i]))
    return a, b


@kernel(fastmath={"reassoc", "contract"})
def _sum_sq_dev(x, mean):
    """Σ (x - mean)² in float64 (vectorised)."""
    flat = x.ravel()
    total = 0.0
    for i in range(flat.size):
        d = np.float64(flat[i]) - mean
        total += d * d
    return total


@kernel
def unique_pixels(rows, cols, width):
    """Sorted unique flat indices of fixated pixels (the binary fixation map)."""
    lin = np.empty(rows.size, dtype=np.int64)
    for i in range(rows.size):
        lin[i] = np.int64(rows[i]) * width + cols[i]
    lin.sort()
    m = 0
    for i in range(lin.size):
        if m == 0 or lin[i] != lin[m - 1]:
            lin[m] = lin[i]
            m += 1
    return lin[:m].copy()


@kernel(inline="always")
def _column(tab, m):
    """(weights, first row) of filter-matrix column ``m``: ``w`` in the interior, the
    dense table's row near the borders."""
    kt, lo, hi, _, _, w = tab
    n = kt.shape[0]
    r = w.size // 2
    if is_interior(m, n, r):
        return w, m - r
    return kt[m, lo[m]:hi[m]], lo[m]


@kernel(fastmath={"reassoc", "contract"})
def _sum_pg(p, ur, uc, tr, tc):
    """Σ_ij P_ij G_ij = Σ_k Σ_j K_c[j, c_k] Σ_i K_r[i, r_k] P[i, j].

    One patch per fixated pixel (153x153 at sigma 19), accumulated eight rows at a time
    as an axpy (no dependency chain, so it vectorises); reassociation moves the result by
    ~1e-16 relative, far inside the 1e-9 the tests ask.
    """
    total = 0.0
    v = np.empty(p.shape[1])
    for k in range(ur.size):
        wr, i0 = _column(tr, ur[k])
        wc, c0 = _column(tc, uc[k])
        n = wc.size
        for j in range(n):
            v[j] = 0.0
        m = wr.size
        t = 0
        while t + 8 <= m:  # eight rows per pass over v: fewer loads and stores of v
            a0 = wr[t]
            a1 = wr[t + 1]
            a2 = wr[t + 2]
            a3 = wr[t + 3]
            a4 = wr[t + 4]
            a5 = wr[t + 5]
            a6 = wr[t + 6]
            a7 = wr[t + 7]
            i = i0 + t
            r0 = p[i, c0:c0 + n]
            r1 = p[i + 1, c0:c0 + n]
            r2 = p[i + 2, c0:c0 + n]
            r3 = p[i + 3, c0:c0 + n]
            r4 = p[i + 4, c0:c0 + n]
            r5 = p[i + 5, c0:c0 + n]
            r6 = p[i + 6, c0:c0 + n]
            r7 = p[i + 7, c0:c0 + n]
            for j in range(n):
                v[j] += (a0 * r0[j] + a1 * r1[j] + a2 * r2[j] + a3 * r3[j]) + \
                    (a4 * r4[j] + a5 * r5[j] + a6 * r6[j] + a7 * r7[j])
            t += 8
        while t < m:
            a0 = wr[t]
            r0 = p[i0 + t, c0:c0 + n]
            for j in range(n):
                v[j] += a0 * r0[j]
            t += 1
        s = 0.0
        for j in range(n):
            s += v[j] * wc[j]
        total += s
    return total


@kernel
def _gt_moments(ur, uc, tr, tc):
    """(Σ G, Σ G²) of the blurred binary fixation map, from column sums and Gram entries:
    ``Σ G² = Σ_kl (K_rᵀK_r)[r_k, r_l] (K_cᵀK_c)[c_k, c_l]``."""
    _, lor, hir, csr, gramr, _ = tr
    _, _, _, csc, gramc, _ = tc
    s1 = 0.0
    for k in range(ur.size):
        s1 += csr[ur[k]] * csc[uc[k]]
    s2 = 0.0
    n = ur.size
    for k in range(n):
        a = ur[k]
        ca = uc[k]
        s2 += gramr[a, a] * gramc[ca, ca]
        for q in range(k + 1, n):
            b = ur[q]
            if lor[b] >= hir[a]:  # rows sorted: no later pixel overlaps row a's support
                break
            s2 += 2.0 * gramr[a, b] * gramc[ca, uc[q]]
    return s1, s2


@kernel
def cc_fixations(p, ur, uc, tr, tc):
    """Pearson correlation of ``p`` with the blurred binary fixation map at (ur, uc).

    ``tr``/``tc``: ``filter_tables`` for the rows / columns.  NaN when either map is
    constant (no fixations, or a flat prediction).
    """
    h, w = p.shape
    n = h * w
    lo, hi = minmax(p)
    if not hi > lo:  # constant: tested exactly (a rounded variance is not exactly 0)
        return np.nan
    mean_p = _sum64(p) / n
    var_p = _sum_sq_dev(p, mean_p)
    s1, s2 = _gt_moments(ur, uc, tr, tc)
    var_g = s2 - s1 * s1 / n
    if not (var_p > 0.0 and var_g > 1e-12 * s2):
        return np.nan
    cov = _sum_pg(p, ur, uc, tr, tc) - mean_p * s1
    return cov / math.sqrt(var_p * var_g)


@kernel
def gt_map_into(ur, uc, tr, tc, g):
    """The blurred binary fixation map itself, built row by fixated row into ``g``."""
    w = g.shape[1]
    g[:] = 0.0
    line = np.zeros(w)
    k = 0
    while k < ur.size:
        r = ur[k]
        j0 = w
        j1 = 0
        while k < ur.size and ur[k] == r:  # all fixated pixels of row r
            wc, c0 = _column(tc, uc[k])
            for j in range(wc.size):
                line[c0 + j] += wc[j]
            j0 = min(j0, c0)
            j1 = max(j1, c0 + wc.size)
            k += 1
        wr, i0 = _column(tr, r)
        src = line[j0:j1]
        for t in range(wr.size):
            a = wr[t]
            dst = g[i0 + t, j0:j1]
            for j in range(src.size):
                dst[j] += a * src[j]
        line[j0:j1] = 0.0


@kernel
def nss(p, ulin, ddof):
    """Mean of the z-scored map at the fixated pixels; NaN for a constant map."""
    flat = p.ravel()
    n = flat.size
    lo, hi = minmax(flat)
    if not hi > lo:  # constant: tested exactly (a rounded variance is not exactly 0)
        return np.nan
    mean = _sum64(flat) / n
    ss = _sum_sq_dev(flat, mean)
    std = math.sqrt(ss / (n - ddof))
    acc = 0.0
    for idx in ulin:
        acc += (flat[idx] - mean) / std
    return acc / ulin.size


@kernel
def kld_mit(p, g):
    """MIT ``KLdiv.m``: both maps sum-normalised (when not all zero), then
    ``Σ g log(eps + g / (p + eps))``.  Bicubic overshoot below zero is clipped first."""
    a = p.ravel()
    b = g.ravel()
    sa = 0.0
    for i in range(a.size):
        sa += max(np.float64(a[i]), 0.0)
    sb = _sum64(b)
    total = 0.0
    for i in range(a.size):
        bi = b[i] / sb if sb > 0.0 else b[i]
        if bi == 0.0:  # 0 * log(...) = 0: skip the logarithm
            continue
        ai = max(np.float64(a[i]), 0.0)
        ai = ai / sa if sa > 0.0 else ai
        total += bi * math.log(EPS + bi / (ai + EPS))
    return total


@kernel
def _mm_sum_scale(x):
    """(lo, hi, 1/Σ(x - lo)/(hi - lo), all_zero) for MIT ``similarity.m``'s min-max then
    sum normalisation."""
    lo, hi = minmax(x)
    if lo == 0.0 and hi == 0.0:
        return lo, hi, 1.0, True
    total = 0.0
    flat = x.ravel()
    for i in range(flat.size):
        total += (np.float64(flat[i]) - lo) / (hi - lo)
    return lo, hi, 1.0 / total, False


@kernel
def sim_mit(p, g):
    """MIT ``similarity.m``: Σ min(p', g') of the maps min-max then sum normalised (maps
    that are all zero are left alone; a constant non-zero map gives NaN, as in MATLAB)."""
    la, ha, ka, za = _mm_sum_scale(p)
    lb, hb, kb, zb = _mm_sum_scale(g)
    a = p.ravel()
    b = g.ravel()
    total = 0.0
    for i in range(a.size):
        x = 0.0 if za else (np.float64(a[i]) - la) / (ha - la) * ka
        y = 0.0 if zb else (b[i] - lb) / (hb - lb) * kb
        total += min(x, y)
    return total


@kernel
def ig_mit(p, baseline, ulin):
    """MIT ``InfoGain.m``: both maps min-max then sum normalised; mean over fixated pixels
    of ``log2(eps + p) - log2(eps + b)`` (bits per fixation)."""
    a = p.ravel()
    b = baseline.ravel()
    a_lo, a_hi = minmax(a)
    b_lo, b_hi = minmax(b)
    if not (a_hi > a_lo and b_hi > b_lo):
        return np.nan
    sa = 0.0
    sb = 0.0
    for i in range(a.size):
        sa += (a[i] - a_lo) / (a_hi - a_lo)
        sb += (b[i] - b_lo) / (b_hi - b_lo)
    acc = 0.0
    for idx in ulin:
        pa = (a[idx] - a_lo) / (a_hi - a_lo) / sa
        pb = (b[idx] - b_lo) / (b_hi - b_lo) / sb
        acc += math.log2(EPS + pa) - math.log2(EPS + pb)
    return acc / ulin.size
