"""Numba kernels for the map-based metrics: CC, KLD, SIM, IG (NSS is a few numpy lines).

The continuous ground truth of a protocol is the fixation map blurred with a Gaussian
(``G = K_r F K_cᵀ``, see ``_blur.py``; ``F`` holds 1 per fixated pixel, or the fixation
count).  CC needs only ``Σ G``, ``Σ G²`` and ``Σ (P - P̄)·G``, computed from the fixated
pixels without forming ``G`` — unless there are so many fixated pixels that forming ``G``
is cheaper, or the fixation map is so dense that ``Σ G² - (Σ G)²/n`` would cancel: then
``G`` is formed and correlated in two passes.  KLD and SIM need ``G`` itself, built from
the fixated rows only.

Each kernel is written out in one function, without calls to other kernels (a helper is
inlined into its caller's IR): numba pays a fixed cost per compiled function (typing,
lowering, linking: ~0.4 s), and the first call of a metric should not wait for a dozen.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import kernel
from ._log import log_into
from ._quotient import divisor, quotient
from ._twosum import two_sum

# density conventions (kld, sim): protocols.DENSITY_MIT / DENSITY_PYSALIENCY
DENSITY_MIT = 0
DENSITY_PYSALIENCY = 1
# Σ G² above this multiple of n·Var(G): the one-pass variance would lose digits; go dense
DENSE_RATIO = 1e3
# patches cost more than forming G when #pixels x patch area exceeds this multiple of
# #fixated rows x H x W (measured: a BLAS multiply-add is ~4x cheaper than a patch's;
# 480x640, sigma 19: the two meet at ~1,000 fixated pixels)
DENSE_WORK = 0.25
# Σ P G may be taken uncentred (then minus mean·Σ G) when |mean(P)| is at most this many
# standard deviations of P: the cancellation then costs a few ulps of CC, not digits
UNCENTRED_OFFSET = 4.0
# a ground truth whose range is below this fraction of its maximum is constant (rounding
# ripples of a blur of an all-fixated map are not structure)
FLAT_RELATIVE = 1e-12


def flat(lo: float, hi: float) -> bool:
    """A map with this range is constant within ``FLAT_RELATIVE`` of its magnitude (for
    Python callers; the kernels ``pearson`` and ``sim`` write the same test inline)."""
    return not hi - lo > FLAT_RELATIVE * max(abs(lo), abs(hi))

# G is formed in blocks of this many rows when its fixated rows reach at most
# GT_BLOCKED_WORK of the blocks on average (measured at 480x640: 64-row blocks 2.9 ms,
# 32 3.0, 16 3.5, one product 6.8 ms for sigma 24; antonioGaussian, 0.9 of the work
# blocked: 6.5 against 7.3 ms, within noise)
GT_ROW_BLOCK = 64
GT_BLOCKED_WORK = 0.75
# sums over a map are taken in blocks of this many values, then over the blocks: rounding
# error ~(BLOCK + n/BLOCK) eps instead of n eps (a near-constant ground truth's mean needs
# it); each block is read through a slice, whose loop index is provably non-negative (an
# index ``k + i`` is not: numba checks it for wrap-around, and the loop ran ~4x slower:
# a block sum of a 480x640 float32 map 0.16 -> 0.04 ms)
BLOCK = 128
# a map's min and max are taken as LANES running minima and maxima, one per position
# modulo LANES: independent compares that the compiler turns into SIMD when the lane loop
# is too long to unroll (480x640 float32: one running pair 0.49 ms; 16 lanes, unrolled
# into scalar compares, 0.14 ms; 64 lanes 0.042 ms)
LANES = 64


@kernel(inline="always")
def _range(a):
    """``(min a, max a)`` of a non-empty 1-D array of finite values, as float64 (compared
    in the array's own type: exact, the conversion keeps the order)."""
    n = a.size
    lo = np.empty(LANES, dtype=a.dtype)
    hi = np.empty(LANES, dtype=a.dtype)
    for q in range(LANES):
        lo[q] = hi[q] = a[0]
    whole = n - n % LANES
    for i in range(0, whole, LANES):
        block = a[i:i + LANES]
        for q in range(LANES):
            v = block[q]
            lo[q] = v if v < lo[q] else lo[q]
            hi[q] = v if v > hi[q] else hi[q]
    low, high = lo[0], hi[0]
    for q in range(1, LANES):
        low = lo[q] if lo[q] < low else low
        high = hi[q] if hi[q] > high else high
    for i in range(whole, n):
        low = a[i] if a[i] < low else low
        high = a[i] if a[i] > high else high
    return np.float64(low), np.float64(high)


@kernel(fastmath={"reassoc", "contract"})
def moments(x):
    """``(min, max, mean, Σ (x - μ)², Σ (x - mean))`` of a map, in float64 (two passes,
    block sums).  ``mean`` is the float64 mean, ``μ`` the exact one: the last value is the
    residual ``n (μ - mean)`` of the corrected two-pass algorithm (Chan, Golub and LeVeque),
    which kernels that do not centre their other operand add back (a map far from zero, e.g.
    ``1e6 + noise``, otherwise loses ~1e-9 of CC to the rounding of its mean).  Sums
    reassociate within a block, so the loops vectorise (maps are validated finite)."""
    flat = x.ravel()
    n = flat.size
    lo, hi = _range(flat)
    total = 0.0
    for k in range(0, n, BLOCK):
        x_k = flat[k:k + BLOCK]
        part = 0.0
        for i in range(x_k.size):
            part += np.float64(x_k[i])
        total += part
    mean = total / n
    ssd = 0.0
    resid = 0.0
    for k in range(0, n, BLOCK):
        x_k = flat[k:k + BLOCK]
        part = 0.0
        rpart = 0.0
        for i in range(x_k.size):
            d = x_k[i] - mean
            part += d * d
            rpart += d
        ssd += part
        resid += rpart
    return lo, hi, mean, ssd - resid * resid / n, resid


@kernel
def value_range(x):
    """``(min, max)`` of a map of finite values, as float64 (read once: the dense metrics
    that need a map's range take it from here or from :func:`moments`)."""
    return _range(x.ravel())


@kernel
def gt_moments(ur, uc, wts, tr, tc):
    """(Σ G, Σ G²) of the blurred fixation map, from column sums and Gram entries:
    ``Σ G² = Σ_kl w_k w_l (K_rᵀK_r)[r_k, r_l] (K_cᵀK_c)[c_k, c_l]``.

    Pixels interior in both axes (set I) take their Gram entries from the small ``lag``
    tables: with rows sorted, each one's partners are a contiguous run (rows at most
    ``2r`` below; farther ones have disjoint supports, Gram entry exactly 0), summed in a
    loop without branches.  Pairs with a border pixel (set O, few) read the row of the
    border index of the dense Gram matrix.  Random reads of a whole Gram matrix (5 MB at
    480x640) miss the cache at almost every pair once other work has run; the branch per
    pair that chose between the two made the loop ~2x slower."""
    _, lor, hir, csr, gramr, wr, ilo_r, ihi_r, lagr = tr
    _, _, _, csc, gramc, _, ilo_c, ihi_c, lagc = tc
    n = ur.size
    s1 = 0.0
    # I fills ir/ic/iw[:n_i], O orr/oc/ow[:n_o], both in the input's (row-sorted) order
    ir, ic, iw = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n)
    orr, oc, ow = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n)
    n_i = 0
    n_o = 0
    for k in range(n):
        s1 += wts[k] * csr[ur[k]] * csc[uc[k]]
        if ilo_r <= ur[k] and ur[k] <= ihi_r and ilo_c <= uc[k] and uc[k] <= ihi_c:
            ir[n_i], ic[n_i], iw[n_i] = ur[k], uc[k], wts[k]
            n_i += 1
        else:
            orr[n_o], oc[n_o], ow[n_o] = ur[k], uc[k], wts[k]
            n_o += 1
    banded = True
    for m in range(1, lor.size):
        if lor[m] < lor[m - 1] or hir[m] < hir[m - 1]:
            banded = False
    span = 2 * (wr.size // 2)
    diag = 0.0
    off = 0.0
    e = 0
    for k in range(n_i):  # I x I
        a = ir[k]
        ca = ic[k]
        e = max(e, k + 1)
        while e < n_i and ir[e] - a <= span:
            e += 1
        inner = 0.0
        for q in range(k + 1, e):  # indices >= 0, unsigned: no wrap-around check (~15%)
            inner += iw[q] * lagr[np.uint64(ir[q] - a)] * lagc[np.uint64(abs(ic[q] - ca))]
        diag += iw[k] * iw[k] * lagr[0] * lagc[0]
        off += iw[k] * inner
    for k in range(n_o):  # O x I, then O x O
        a = orr[k]
        ca = oc[k]
        a_in = ilo_r <= a and a <= ihi_r
        ca_in = ilo_c <= ca and ca <= ihi_c
        inner = 0.0
        for q in range(n_i):
            g_r = lagr[abs(ir[q] - a)] if a_in else gramr[a, ir[q]]
            g_c = lagc[abs(ic[q] - ca)] if ca_in else gramc[ca, ic[q]]
            inner += iw[q] * g_r * g_c
        for q in range(k + 1, n_o):
            b = orr[q]
            if banded and lor[b] >= hir[a]:
                break
            cb = oc[q]
            # rows, then columns, written out: the same choice as an inlined helper (with
            # one return or several) ran ~6x slower
            if a_in and ilo_r <= b and b <= ihi_r:
                g_r = lagr[abs(b - a)]
            elif a_in:
                g_r = gramr[b, a]
            else:
                g_r = gramr[a, b]
            if ca_in and ilo_c <= cb and cb <= ihi_c:
                g_c = lagc[abs(cb - ca)]
            elif ca_in:
                g_c = gramc[cb, ca]
            else:
                g_c = gramc[ca, cb]
            inner += ow[q] * g_r * g_c
        g_r = lagr[0] if a_in else gramr[a, a]
        g_c = lagc[0] if ca_in else gramc[ca, ca]
        diag += ow[k] * ow[k] * g_r * g_c
        off += ow[k] * inner
    return s1, diag + 2.0 * off


@kernel(inline="always")
def _fold_rows(p, wr, i0, c0, n, shift, acc):
    """``acc[:n] += Σ_t wr[t] (P[i0 + t, c0:c0 + n] - shift)``: eight rows per pass over
    ``acc`` (an axpy, which vectorises), as two chains of four multiply-adds."""
    m = wr.size
    t = 0
    while t + 8 <= m:
        i = i0 + t
        a0, a1, a2, a3 = wr[t], wr[t + 1], wr[t + 2], wr[t + 3]
        a4, a5, a6, a7 = wr[t + 4], wr[t + 5], wr[t + 6], wr[t + 7]
        r0, r1 = p[i, c0:c0 + n], p[i + 1, c0:c0 + n]
        r2, r3 = p[i + 2, c0:c0 + n], p[i + 3, c0:c0 + n]
        r4, r5 = p[i + 4, c0:c0 + n], p[i + 5, c0:c0 + n]
        r6, r7 = p[i + 6, c0:c0 + n], p[i + 7, c0:c0 + n]
        for j in range(n):
            acc[j] += (a0 * (r0[j] - shift) + a1 * (r1[j] - shift)
                       + a2 * (r2[j] - shift) + a3 * (r3[j] - shift)) \
                + (a4 * (r4[j] - shift) + a5 * (r5[j] - shift)
                   + a6 * (r6[j] - shift) + a7 * (r7[j] - shift))
        t += 8
    while t < m:
        a0 = wr[t]
        r0 = p[i0 + t, c0:c0 + n]
        for j in range(n):
            acc[j] += a0 * (r0[j] - shift)
        t += 1


@kernel(fastmath={"reassoc", "contract"})
def centred_cov(p, shift, ur, uc, wts, tr, tc):
    """``Σ (P - shift) G`` with ``G`` the blurred fixation map: one patch of ``P - shift``
    per fixated pixel, ``Σ_k w_k Σ_j K_c[j, c_k] Σ_i K_r[i, r_k] (P[i, j] - shift)``
    (153x153 at sigma 19), shifted as it is read (no shifted copy of the map: that pass
    cost as much as the patches saved).  Column ``m`` of a filter matrix is its weights
    shifted when ``int_lo <= m <= int_hi`` (no border, no wrap-around), else the dense
    table's row; its support is ``lo[m]:hi[m]``.  Patch rows are folded into one row
    accumulator, then dotted with the column weights; pixels of one row (sorted by
    column) whose column supports overlap share one fold over the union of their supports
    (each column's sum is formed as it would be alone).  Reassociation moves the result
    by ~1e-16 relative.  ``p`` may be float32 (``replication``'s maps): read in float64."""
    ktr, lor, hir, _, _, wr_int, lo_r, hi_r, _ = tr
    ktc, loc, hic, _, _, wc_int, lo_c, hi_c, _ = tc
    rr = wr_int.size // 2
    acc = np.empty(p.shape[1])
    total = 0.0
    n_pix = ur.size
    k = 0
    while k < n_pix:
        m = ur[k]
        if lo_r <= m and m <= hi_r:
            wr = wr_int
            i0 = m - rr
        else:
            wr = ktr[m, lor[m]:hir[m]]
            i0 = lor[m]
        c_lo = loc[uc[k]]
        c_hi = hic[uc[k]]
        e = k + 1
        while e < n_pix and ur[e] == m and loc[uc[e]] < c_hi and hic[uc[e]] > c_lo:
            c_lo = min(c_lo, loc[uc[e]])
            c_hi = max(c_hi, hic[uc[e]])
            e += 1
        n = c_hi - c_lo
        for j in range(n):
            acc[j] = 0.0
        if shift == 0.0:  # a literal 0 lets the compiler drop the subtractions
            _fold_rows(p, wr, i0, c_lo, n, 0.0, acc)
        else:
            _fold_rows(p, wr, i0, c_lo, n, shift, acc)
        for q in range(k, e):
            c = uc[q]
            wc = wc_int if lo_c <= c and c <= hi_c else ktc[c, loc[c]:hic[c]]
            part = acc[loc[c] - c_lo:hic[c] - c_lo]
            s = 0.0
            for j in range(wc.size):
                s += part[j] * wc[j]
            total += wts[q] * s
        k = e
    return total


@kernel
def fixation_lines(ur, uc, wts, tc, w):
    """``(rows, L)``: the distinct fixated rows and, for each, its row of ``F K_cᵀ`` (one
    short axpy per fixated pixel)."""
    ktc, loc, hic, _, _, wc_int, lo_c, hi_c, _ = tc
    rc = wc_int.size // 2
    n_rows = 0
    for k in range(ur.size):
        if k == 0 or ur[k] != ur[k - 1]:
            n_rows += 1
    lines = np.zeros((n_rows, w))
    rows = np.empty(n_rows, dtype=np.int64)
    q = -1
    for k in range(ur.size):
        if k == 0 or ur[k] != ur[k - 1]:
            q += 1
            rows[q] = ur[k]
        m = uc[k]
        if lo_c <= m and m <= hi_c:
            wc = wc_int
            c0 = m - rc
        else:
            wc = ktc[m, loc[m]:hic[m]]
            c0 = loc[m]
        a = wts[k]
        line = lines[q, c0:c0 + wc.size]
        for j in range(wc.size):
            line[j] += a * wc[j]
    return rows, lines


def patches_cost_more(ur: np.ndarray, tr: tuple, tc: tuple, shape: tuple[int, int]) -> bool:
    """Whether CC by patches (one ``K_r x K_c`` patch per fixated pixel, plus the Gram
    pairs) would cost more than forming ``G`` (a BLAS product over the fixated rows) and
    correlating in two passes (``ur``: sorted rows of the fixated pixels)."""
    n_rows = 1 + int(np.count_nonzero(ur[1:] != ur[:-1])) if ur.size else 0
    patch = tr[5].size * tc[5].size
    return ur.size * patch > DENSE_WORK * n_rows * shape[0] * shape[1]


def gt_map_into(ur, uc, wts, tr, tc, g) -> None:
    """The blurred fixation map ``G = K_r F K_cᵀ`` into ``g``: the fixated rows' lines,
    then matrix products (BLAS) over those rows, one per block of ``GT_ROW_BLOCK`` rows of
    ``G`` with only the fixated rows whose filter column reaches the block (a Gaussian of
    sigma 24 reaches 193 of 480 rows: 6.8 -> 2.9 ms), or one product over all of them
    when that would skip little (antonioGaussian's columns reach ~400)."""
    rows, lines = fixation_lines(ur, uc, wts, tc, g.shape[1])
    kt = tr[0]  # Kᵀ: its row m is K's column m, non-zero on lo[m]:hi[m]
    lo, hi = tr[1][rows], tr[2][rows]
    h = g.shape[0]
    starts = np.arange(0, h, GT_ROW_BLOCK)
    ends = np.minimum(starts + GT_ROW_BLOCK, h)
    # rows sorted, supports ascending (a banded filter): a block's rows are a run
    first = np.searchsorted(hi, starts, side="right")
    last = np.searchsorted(lo, ends, side="left")
    banded = bool(np.all(np.diff(lo) >= 0) and np.all(np.diff(hi) >= 0))
    if not banded or np.sum(np.maximum(last - first, 0)) > GT_BLOCKED_WORK * rows.size \
            * starts.size:
        np.dot(kt[rows].T, lines, out=g)
        return
    for i0, i1, s0, s1 in zip(starts, ends, first, last, strict=True):
        if s1 > s0:
            np.dot(kt[rows[s0:s1], i0:i1].T, lines[s0:s1], out=g[i0:i1])
        else:
            g[i0:i1] = 0.0


@kernel(fastmath={"reassoc"})
def pearson(a, mean_a, ssd_a, resid_a, b, lo, hi):
    """Pearson correlation of two dense maps, corrected two-pass in float64 with block
    sums (``a``'s moments given, see :func:`moments`; ``b``'s range ``lo, hi``; the
    blocks vectorise); NaN when ``b`` is constant (within ``FLAT_RELATIVE`` of its
    magnitude)."""
    fa = a.ravel()
    fb = b.ravel()
    n = fb.size
    total = 0.0
    for k in range(0, n, BLOCK):
        b_k = fb[k:k + BLOCK]
        part = 0.0
        for i in range(b_k.size):
            part += b_k[i]
        total += part
    if not hi - lo > FLAT_RELATIVE * max(abs(lo), abs(hi)):
        return np.nan
    mb = total / n
    sab = 0.0
    sbb = 0.0
    sy = 0.0
    for k in range(0, n, BLOCK):
        a_k = fa[k:k + BLOCK]
        b_k = fb[k:k + BLOCK]
        pab = 0.0
        pbb = 0.0
        py = 0.0
        for i in range(b_k.size):
            y = b_k[i] - mb
            pab += (a_k[i] - mean_a) * y
            pbb += y * y
            py += y
        sab += pab
        sbb += pbb
        sy += py
    # corrected two-pass: remove what the rounding of either mean leaves in the sums
    sab -= resid_a * sy / n
    sbb -= sy * sy / n
    return sab / math.sqrt(ssd_a * sbb)


@kernel(fastmath={"reassoc"})
def kld(p, g, density, eps, p_min, g_min):
    """KL divergence of ``p`` from ``g``: ``Σ g' log(eps + g' / (p' + eps))``.

    ``DENSITY_MIT`` (KLdiv.m): each map divided by its sum when not all zero; bicubic
    overshoot below 0 is clipped first (the caller gives NaN for a prediction that was
    negative before resizing).  ``DENSITY_PYSALIENCY``: each map shifted by its minimum
    (``p_min``, ``g_min``: see :func:`value_range`; read only here) when negative, divided
    by its sum, uniform when the sum is 0.

    Sums are taken in blocks; each term is computed as written (the divisions by each
    map's sum through ``_quotient``: the same values in multiply-adds), a block of ``g'``
    and of the logarithm's argument at a time, then their logarithms (``_log.log_into``:
    within 1 ulp, vectorised), then the block's terms; every loop vectorises.  The blocks'
    sums are added up with their rounding errors kept apart (``_twosum``): plain running
    totals over a 480x640 map's 2,400 blocks were up to 1.2e-14 relative from the exactly
    rounded sum (40 random pairs); now within 1 ulp.
    """
    a = p.ravel()
    b = g.ravel()
    n = a.size
    a_lo = 0.0
    b_lo = 0.0
    if density == DENSITY_PYSALIENCY:  # min(0, map's min), as a running minimum from 0
        a_lo = p_min if p_min < 0.0 else 0.0
        b_lo = g_min if g_min < 0.0 else 0.0
    # MIT: a_lo = b_lo = 0, so both are the same loops; a - a_lo >= 0 under pysaliency
    sa, ea = 0.0, 0.0
    sb, eb = 0.0, 0.0
    for k in range(0, n, BLOCK):
        a_k = a[k:k + BLOCK]
        b_k = b[k:k + BLOCK]
        pa = 0.0
        pb = 0.0
        for i in range(a_k.size):
            v = a_k[i] - a_lo
            pa += v if v > 0.0 else 0.0
            pb += b_k[i] - b_lo
        sa, e = two_sum(sa, pa)
        ea += e
        sb, e = two_sum(sb, pb)
        eb += e
    sa = sa + ea if math.isfinite(sa) else sa
    sb = sb + eb if math.isfinite(sb) else sb
    # g' = (g - b_lo) * b_mul / b_div + b_add: the division as written, or (a map left
    # alone) a division by 1, or (pysaliency, sum 0) the uniform map; all exact, no branch
    b_mul, b_div, b_add = 1.0, sb, 0.0
    a_mul, a_div, a_add = 1.0, sa, 0.0
    if sb == 0.0:
        b_div = 1.0
        if density == DENSITY_PYSALIENCY:
            b_mul, b_add = 0.0, 1.0 / n
    if not sa > 0.0:  # MIT divides only a positive sum; pysaliency's sum is >= 0
        a_div = 1.0
        if density == DENSITY_PYSALIENCY:
            a_mul, a_add = 0.0, 1.0 / n
    bi = np.empty(BLOCK)
    arg = np.empty(BLOCK)
    logs = np.empty(BLOCK)
    scratch = np.empty(BLOCK, dtype=np.int64)
    by_b = divisor(b_div)
    by_a = divisor(a_div)
    total = 0.0
    err = 0.0
    for k in range(0, n, BLOCK):
        a_k = a[k:k + BLOCK]
        b_k = b[k:k + BLOCK]
        m = a_k.size
        for j in range(m):
            y = quotient((b_k[j] - b_lo) * b_mul, by_b) + b_add
            v = a_k[j] - a_lo
            x = quotient((v if v > 0.0 else 0.0) * a_mul, by_a) + a_add
            bi[j] = y
            arg[j] = eps + y / (x + eps)
        log_into(arg, m, logs, scratch)
        part = 0.0
        for j in range(m):
            t = bi[j] * logs[j]
            part += t if bi[j] != 0.0 else 0.0  # 0 * log(...) = 0, whatever the log
        total, e = two_sum(total, part)
        err += e
    # an infinite total (kld_eps=0 and a zero in p') makes the errors NaN
    return total + err if math.isfinite(total) else total


@kernel(fastmath={"reassoc"})
def sim(p, g, density, la, ha, lb, hb):
    """Σ min(p', g') of the two maps as distributions (``la, ha`` and ``lb, hb``: their
    ranges, see :func:`value_range`).

    ``DENSITY_MIT`` (similarity.m): min-max then sum normalised; all-zero maps are left
    alone; a constant non-zero map gives NaN (MATLAB's 0/0; the ground truth counts as
    constant within ``FLAT_RELATIVE``).  ``DENSITY_PYSALIENCY``: as in :func:`kld`.
    Each value is computed as written, its divisions by per-map numbers through
    ``_quotient`` (the same values in multiply-adds: 1.92-1.96 -> 1.02-1.10 ms on a
    480x640 map); sums are taken in blocks (the loops vectorise).
    """
    a = p.ravel()
    b = g.ravel()
    n = a.size
    if density == DENSITY_MIT:
        za = la == 0.0 and ha == 0.0
        zb = lb == 0.0 and hb == 0.0
        if (not za and not ha > la) or \
                (not zb and not hb - lb > FLAT_RELATIVE * max(abs(lb), abs(hb))):
            return np.nan
        # p' = (p - lo) / (hi - lo) / Σ: an all-zero map divides its zeros by 1 instead
        a_lo, a_div = (0.0, 1.0) if za else (la, ha - la)
        b_lo, b_div = (0.0, 1.0) if zb else (lb, hb - lb)
    else:
        a_lo, a_div = min(la, 0.0), 1.0
        b_lo, b_div = min(lb, 0.0), 1.0
    by_a = divisor(a_div)
    by_b = divisor(b_div)
    sa = 0.0
    sb = 0.0
    for k in range(0, n, BLOCK):
        a_k = a[k:k + BLOCK]
        b_k = b[k:k + BLOCK]
        pa = 0.0
        pb = 0.0
        for i in range(a_k.size):
            pa += quotient(a_k[i] - a_lo, by_a)
            pb += quotient(b_k[i] - b_lo, by_b)
        sa += pa
        sb += pb
    # a sum of 0 (all-zero map, or a constant one under pysaliency): MIT leaves the map
    # alone (zeros divided by 1), pysaliency takes the uniform map (times 0, plus 1/n)
    a_mul, a_add, b_mul, b_add = 1.0, 0.0, 1.0, 0.0
    if sa == 0.0:
        sa = 1.0
        if density == DENSITY_PYSALIENCY:
            a_mul, a_add = 0.0, 1.0 / n
    if sb == 0.0:
        sb = 1.0
        if density == DENSITY_PYSALIENCY:
            b_mul, b_add = 0.0, 1.0 / n
    by_sa = divisor(sa)
    by_sb = divisor(sb)
    total = 0.0
    for k in range(0, n, BLOCK):
        a_k = a[k:k + BLOCK]
        b_k = b[k:k + BLOCK]
        part = 0.0
        for i in range(a_k.size):
            x = quotient(quotient(a_k[i] - a_lo, by_a) * a_mul, by_sa) + a_add
            y = quotient(quotient(b_k[i] - b_lo, by_b) * b_mul, by_sb) + b_add
            part += x if x < y else y
        total += part
    return total


@kernel(fastmath={"reassoc"})
def ig(p, lo, hi, log_base, positions, eps):
    """MIT ``InfoGain.m``: the map min-max then sum normalised (``lo``, ``hi``: its range);
    mean over ``positions`` of ``log2(eps + p') - log2(eps + b')``, ``log_base`` holding
    the baseline's ``log2(eps + b')`` (see :func:`log_baseline`); NaN for a constant map.
    The sum is taken in blocks (they vectorise)."""
    if not hi > lo:
        return np.nan
    a = p.ravel()
    n = a.size
    by_span = divisor(hi - lo)
    sa = 0.0
    for k in range(0, n, BLOCK):
        a_k = a[k:k + BLOCK]
        part = 0.0
        for i in range(a_k.size):
            part += quotient(a_k[i] - lo, by_span)  # (a - lo) / (hi - lo), see _quotient
        sa += part
    lb = log_base.ravel()
    acc = 0.0
    for idx in positions:
        pa = (a[idx] - lo) / (hi - lo) / sa
        acc += math.log2(eps + pa) - lb[idx]
    return acc / positions.size


def log_baseline(baseline: np.ndarray, eps: float) -> np.ndarray | None:
    """``log2(eps + b')`` of a baseline map (min-max then sum normalised, as InfoGain.m
    does); None for a constant baseline (IG is then NaN)."""
    b = np.asarray(baseline, dtype=np.float64)
    lo, hi = b.min(), b.max()
    if not hi > lo:
        return None
    n = (b - lo) / (hi - lo)
    return np.log2(eps + n / n.sum())


def unique_pixels(rows: np.ndarray, cols: np.ndarray, width: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique flat indices of fixated pixels (int64) and how often each was fixated
    (float64).  (numpy, not a kernel: numba's sort takes seconds to compile.)"""
    lin = np.sort(rows * np.int64(width) + cols)  # int64 whatever the integer inputs
    if lin.size == 0:
        return lin, np.zeros(0)
    first = np.flatnonzero(np.concatenate(([True], lin[1:] != lin[:-1])))
    counts = np.diff(np.append(first, lin.size)).astype(np.float64)
    return lin[first], counts


def nss(p: np.ndarray, positions: np.ndarray, stats, ddof: int, constant_zero: bool) -> float:
    """Mean z-scored map at ``positions`` (flat indices; repeated ones count again); a
    constant map gives 0 with ``constant_zero`` (the division is skipped), else NaN."""
    lo, hi, mean, ssd, resid = stats
    if not hi > lo:
        return 0.0 if constant_zero else float("nan")
    std = math.sqrt(ssd / (p.size - ddof))
    return float((((p.ravel()[positions] - mean) - resid / p.size) / std).mean())
