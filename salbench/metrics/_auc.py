"""Numba kernels for the AUC family.

Three ways of computing an ROC area live here:

* grid AUCs (auc_borji, sauc of the ``replication`` and ``mit`` protocols): thresholds on a
  fixed 0.1 grid up to the largest sampled value, negatives sampled per split;
* their expected value over the sampling (``@expected``), computed in one pass;
* exact Mann-Whitney areas (``exact``, ``pysaliency``), weighted negatives, ties count one
  half;

plus the AUC-Judd sweeps over fixated values of MIT and pysaliency, and SALICON's
deterministic weighted grid AUC (its SAUC).
"""

from __future__ import annotations

import math

import numpy as np

from . import _rng
from ._jit import kernel
from ._maps import LANES, _range

GRID_ARANGE = 0  # numpy arange(0, top, step): top excluded, values k*step
GRID_COLON = 1  # MATLAB 0:step:top: top included when reached, symmetric fill

_EPS = 2.220446049250313e-16
# grids of at most this many thresholds count the values at or above each threshold
# directly (compares that vectorise) rather than binning them (a scalar histogram): 100
# auc_borji splits of 500 negatives on the 0.1 grid 0.37 -> 0.25 ms; SALICON's 0.01 grid
# (101 thresholds) bins
DIRECT_COUNT_MAX = 16


@kernel
def arange_grid(top, step, out):
    """Thresholds of ``numpy.arange(0, top, step)`` into ``out``; returns their count.

    numpy takes ``ceil((stop - start) / step)`` elements and fills them as
    ``start + k * (start + step - start)``, i.e. ``k * step`` here.
    """
    if not top > 0.0:
        return 0
    n = int(math.ceil(top / step))
    for k in range(n):
        out[k] = k * step
    return n


@kernel
def colon_grid(top, step, out):
    """Thresholds of MATLAB's ``0:step:top`` into ``out``; returns their count.

    Follows MathWorks' description of the colon operator (``colonop``): the count is
    ``round(top/step)`` corrected by a tolerance of ``2*eps*top``; the first half is
    ``k*step``, the second half ``last - k*step`` where ``last`` snaps to ``top`` when
    within tolerance, and an even count puts ``(0 + last)/2`` in the middle.
    """
    if top < 0.0:
        return 0
    tol = 2.0 * _EPS * abs(top)
    n = int(math.floor(top / step + 0.5))  # MATLAB round: half away from zero
    if n * step - top > tol:
        n -= 1
    last = n * step
    if last - top > -tol:
        last = top
    half = n // 2
    for k in range(half + 1):
        out[k] = k * step
    for k in range(half + 1):
        out[n - k] = last - k * step
    if n % 2 == 0:
        out[half] = last / 2.0
    return n + 1


@kernel
def make_grid(kind, top, step, out):
    if kind == GRID_ARANGE:
        return arange_grid(top, step, out)
    return colon_grid(top, step, out)


@kernel
def _cell(thr, n, v):
    """Number of thresholds ``<= v`` in the ascending ``thr[:n]`` (bisect_right)."""
    lo = 0
    hi = n
    while lo < hi:
        mid = (lo + hi) >> 1
        if thr[mid] <= v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@kernel
def _curve_area(thr, n, pos_ge, neg_ge, n_pos, n_neg):
    """Trapezoid area of the curve (0,0), thresholds descending, (1,1).

    ``pos_ge[k]`` / ``neg_ge[k]`` count positives / negatives ``>= thr[k]``.
    """
    area = 0.0
    x0 = 0.0
    y0 = 0.0
    for k in range(n - 1, -1, -1):
        x1 = neg_ge[k] / n_neg
        y1 = pos_ge[k] / n_pos
        area += (x1 - x0) * (y1 + y0) / 2.0
        x0 = x1
        y0 = y1
    area += (1.0 - x0) * (1.0 + y0) / 2.0
    return area


@kernel
def _grid_cell(thr, n, v, step):
    """Number of thresholds ``<= v`` in the ascending grid ``thr[:n]`` (values ~ k*step):
    guess ``floor(v/step) + 1``, then correct against the actual threshold values."""
    c = int(v * (1.0 / step)) + 1 if v >= 0.0 else 0  # a guess; corrected below
    if c > n:
        c = n
    while c > 0 and thr[c - 1] > v:
        c -= 1
    while c < n and thr[c] <= v:
        c += 1
    return c


@kernel
def _count_ge(values, count, thr, n, step, out, scratch):
    """out[k] = #values[:count] >= thr[k] for k < n (binned when the grid is long: the bins
    need ``thr[:n]`` ascending)."""
    if n <= DIRECT_COUNT_MAX:
        for k in range(n):
            t = thr[k]
            c = 0
            for i in range(count):
                c += values[i] >= t
            out[k] = c
        return
    for k in range(n + 1):
        scratch[k] = 0.0
    for i in range(count):
        scratch[_grid_cell(thr, n, values[i], step)] += 1.0
    acc = 0.0
    for k in range(n - 1, -1, -1):
        acc += scratch[k + 1]
        out[k] = acc


@kernel
def make_grid_cache(step):
    """Buffers for :func:`grid_auc`: positives' counts are cached per grid, since the grid
    varies little from split to split (values are normalised to [0, 1])."""
    n_thr = int(math.ceil(1.0 / step)) + 3
    cache_thr = np.full((n_thr + 1, n_thr), np.nan)
    cache_pos_ge = np.zeros((n_thr + 1, n_thr))
    return cache_thr, cache_pos_ge, np.empty(n_thr), np.empty(n_thr), np.empty(n_thr + 1)


@kernel
def grid_auc(pos, maxpos, neg, n_neg, kind, step, cache):
    """One split of a grid AUC (auc_borji / sauc of the sampled protocols).

    ``pos``: values at fixated pixels (max ``maxpos``); ``neg[:n_neg]``: the split's
    sampled negatives.  Thresholds run from ``max(pos ∪ neg)`` down to 0 on the protocol's
    grid; true and false positive rates are the fractions at or above each threshold; the
    curve is padded with (0,0) and (1,1) and integrated with the trapezoid rule.
    """
    cache_thr, cache_pos_ge, thr, neg_ge, scratch = cache
    top = maxpos
    for i in range(n_neg):
        if neg[i] > top:
            top = neg[i]
    n = make_grid(kind, top, step, thr)
    pos_ge = cache_pos_ge[n]
    known = cache_thr[n]
    hit = True
    for k in range(n):
        if known[k] != thr[k]:
            hit = False
            break
    if not hit:
        _count_ge(pos, pos.size, thr, n, step, pos_ge, scratch)
        for k in range(n):
            known[k] = thr[k]
    _count_ge(neg, n_neg, thr, n, step, neg_ge, scratch)
    return _curve_area(thr, n, pos_ge, neg_ge, pos.size, n_neg)


# ---- expected value of a grid AUC over the sampling ---------------------------------


@kernel
def _grid_key(kind, v, step):
    """Identify the grid that ``top = v`` produces: (count, snapped endpoint or inf).

    numpy's grid depends on ``top`` only through its count.  MATLAB's also depends on
    ``top`` itself when the endpoint snaps to it (``top`` within ``2*eps*top`` of a grid
    point); those grids are told apart by ``v``.
    """
    if kind == GRID_ARANGE:
        if not v > 0.0:
            return 0, np.inf
        return int(math.ceil(v / step)), np.inf
    if v < 0.0:
        return 0, np.inf
    tol = 2.0 * _EPS * abs(v)
    n = int(math.floor(v / step + 0.5))
    if n * step - v > tol:
        n -= 1
    if n * step - v > -tol:
        return n + 1, v
    return n + 1, np.inf


@kernel
def _key_less(a_n, a_s, b_n, b_s):
    return a_n < b_n or (a_n == b_n and a_s < b_s)


@kernel
def _sorted_union(grids, grid_len, n_keys):
    """The distinct values of ``grids[j, :grid_len[j]]`` for ``j < n_keys``, ascending (what
    ``np.unique`` of them all gives, without numba's sort, which takes over a second to
    compile): each grid sorted by insertion (they come ascending, so this costs little
    and assumes nothing), then merged into the union one at a time, two buffers taking
    turns."""
    n_all = 0
    for j in range(n_keys):
        n_all += grid_len[j]
    out = np.empty(n_all)
    merged = np.empty(n_all)
    g = np.empty(grids.shape[1])
    n = 0
    for j in range(n_keys):
        m = grid_len[j]
        for k in range(m):
            v = grids[j, k]
            q = k
            while q > 0 and g[q - 1] > v:
                g[q] = g[q - 1]
                q -= 1
            g[q] = v
        a = 0
        b = 0
        t = 0
        while a < n or b < m:
            if b >= m or (a < n and out[a] <= g[b]):
                v = out[a]
                a += 1
            else:
                v = g[b]
                b += 1
            if t == 0 or v != merged[t - 1]:
                merged[t] = v
                t += 1
        out, merged = merged, out  # the union so far, without copying it back
        n = t
    return out[:n]


@kernel
def expected_grid_auc(pos, pool, kind, step, m, with_replacement):
    """Expected value of :func:`grid_auc` when the split's ``m`` negatives are drawn from
    ``pool`` (uniformly with replacement, or as a uniform ``m``-subset without).

    The area is linear in the false-positive rates *for a fixed grid*, but the grid's top
    is ``max(pos ∪ negatives)`` and so depends on the draw.  Sort the possible grids by
    the top that makes them; with ``A_j`` the pool values whose grid is at most the
    ``j``-th one, ``1{grid = j} = 1{all draws in A_j} - 1{all draws in A_(j-1)}``, and
    given that all draws fall in ``A``, each false-positive rate has expectation
    ``#{a in A: a >= t} / |A|``.  Hence

        E = Σ_j  P(A_j) area_j(frac A_j) - P(A_(j-1)) area_j(frac A_(j-1)),

    with ``P(A) = (|A|/N)^m`` with replacement, ``C(|A|, m) / C(N, m)`` without.
    """
    n_pool = pool.size
    n_pos = pos.size
    maxpos = -np.inf
    for v in pos:
        if v > maxpos:
            maxpos = v
    k0n, k0s = _grid_key(kind, maxpos, step)

    # distinct grids above the positives' own, in ascending order (few: linear scans)
    key_n = np.empty(n_pool + 1, dtype=np.int64)
    key_s = np.empty(n_pool + 1, dtype=np.float64)
    key_n[0] = k0n
    key_s[0] = k0s
    n_keys = 1
    for i in range(n_pool):
        kn, ks = _grid_key(kind, pool[i], step)
        if not _key_less(k0n, k0s, kn, ks):
            continue
        j = 1
        while j < n_keys and _key_less(key_n[j], key_s[j], kn, ks):
            j += 1
        if j < n_keys and key_n[j] == kn and key_s[j] == ks:
            continue
        for q in range(n_keys, j, -1):
            key_n[q] = key_n[q - 1]
            key_s[q] = key_s[q - 1]
        key_n[j] = kn
        key_s[j] = ks
        n_keys += 1
    group = np.zeros(n_pool, dtype=np.int64)
    for i in range(n_pool):
        kn, ks = _grid_key(kind, pool[i], step)
        j = n_keys - 1
        while j > 0 and _key_less(kn, ks, key_n[j], key_s[j]):
            j -= 1
        group[i] = j

    # each grid's thresholds: realise it with its smallest top (any top of the key works)
    max_n = 0
    for j in range(n_keys):
        if key_n[j] > max_n:
            max_n = key_n[j]
    grids = np.zeros((n_keys, max_n + 1))
    grid_len = np.zeros(n_keys, dtype=np.int64)
    rep_top = np.full(n_keys, np.inf)
    rep_top[0] = maxpos
    for i in range(n_pool):
        g = group[i]
        if g > 0 and pool[i] < rep_top[g]:
            rep_top[g] = pool[i]
    for j in range(n_keys):
        grid_len[j] = make_grid(kind, rep_top[j], step, grids[j])

    # all thresholds of all grids, sorted: each pool value goes into one cell of them
    allthr = _sorted_union(grids, grid_len, n_keys)
    n_u = allthr.size
    # hist[j, c]: pool values of group j in cell c; cumulate over groups below
    hist = np.zeros((n_keys, n_u + 1))
    for i in range(n_pool):
        hist[group[i], _cell(allthr, n_u, pool[i])] += 1.0
    for j in range(1, n_keys):
        for c in range(n_u + 1):
            hist[j, c] += hist[j - 1, c]
    # ge[j, c] = #A_j values in cells >= c, i.e. >= allthr[c-1]
    ge = np.zeros((n_keys, n_u + 2))
    size = np.zeros(n_keys)
    for j in range(n_keys):
        acc = 0.0
        for c in range(n_u, -1, -1):
            acc += hist[j, c]
            ge[j, c] = acc
        size[j] = acc

    prob = np.zeros(n_keys)
    for j in range(n_keys):
        a = size[j]
        if with_replacement:
            prob[j] = (a / n_pool) ** m
        else:
            pr = 1.0
            for i in range(m):
                pr *= max(a - i, 0.0) / (n_pool - i)
            prob[j] = pr

    pos_ge = np.empty(max_n + 1)
    neg_frac = np.empty(max_n + 1)
    scratch = np.empty(max_n + 2)
    total = 0.0
    for j in range(n_keys):
        n = grid_len[j]
        thr = grids[j]
        _count_ge(pos, n_pos, thr, n, step, pos_ge, scratch)
        for lower in range(2):
            a_idx = j - lower
            if a_idx < 0 or prob[a_idx] == 0.0:
                continue
            for k in range(n):
                c = _cell(allthr, n_u, thr[k])  # thr[k] == allthr[c-1]
                neg_frac[k] = ge[a_idx, c] / size[a_idx]
            area = _curve_area(thr, n, pos_ge, neg_frac, n_pos, 1.0)
            if lower == 0:
                total += prob[a_idx] * area
            else:
                total -= prob[a_idx] * area
    return total


# ---- exact Mann-Whitney areas ---------------------------------------------------------


@kernel
def mw_prepare(s):
    """A lookup table for fast rank queries among the positives ``s``, given ascending
    (sorted by numpy before the kernels: numba's sort takes over a second to compile, in
    every process that compiles a kernel calling it; unsorted input raises).

    Returns ``(u, cnt, table, lo, scale)``: distinct positive values ``u`` (ascending) with
    multiplicities ``cnt``, and a table over ``64 * len(u)`` equal bins of ``[lo, u[-1]]``:
    ``table[b] >> 1`` is the number of ``u`` in bins before ``b`` and bit 0 says whether
    bin ``b`` holds a positive.  Bins are monotone in the value, so for a value in a bin
    without positives that count is its exact rank; otherwise a short scan finds it.
    """
    for i in range(1, s.size):
        if not s[i - 1] <= s[i]:
            raise ValueError("mw_prepare: the positives must be sorted ascending")
    u = np.empty(s.size)
    cnt = np.empty(s.size)
    m = 0
    for i in range(s.size):
        if m > 0 and s[i] == u[m - 1]:
            cnt[m - 1] += 1.0
        else:
            u[m] = s[i]
            cnt[m] = 1.0
            m += 1
    u = u[:m].copy()
    cnt = cnt[:m].copy()
    nb = 64 * m + 16  # fine enough that most bins hold no positive
    lo = u[0]
    span = u[m - 1] - lo
    scale = (nb - 1) / span if span > 0 else 0.0
    before = np.zeros(nb + 1, dtype=np.int32)
    holds = np.zeros(nb + 1, dtype=np.int32)
    for i in range(m):
        b = int((u[i] - lo) * scale)
        before[b + 1] += 1
        holds[b] = 1
    for b in range(1, nb + 1):
        before[b] += before[b - 1]
    table = before * 2 + holds
    return u, cnt, table, lo, scale


@kernel
def _mw_count(u, table, lo, scale, vals, idx, wts, less, equal):
    """Account negatives ``vals[idx]`` with weights ``wts``; returns their total weight.

    ``less[k]`` accumulates negatives strictly between ``u[k-1]`` and ``u[k]``
    (``less[m]``: above all positives), ``equal[k]`` negatives equal to ``u[k]``.  The
    loop is written out in one function: a helper taking arrays would cost a refcount
    round trip per negative.
    """
    m = u.size
    top = u[m - 1]
    total = 0.0
    for i in range(idx.size):
        x = vals[idx[i]]
        w = wts[i]
        total += w
        if x < lo:
            less[0] += w
        elif x > top:
            less[m] += w
        else:  # unsigned indices (>= 0): no wrap-around checks (mw_map_aucs ~12% faster)
            t = table[np.uint64((x - lo) * scale)]
            k = np.uint64(t >> 1)
            if t & 1:  # the bin holds a positive: find the rank exactly
                while u[k] < x:
                    k += np.uint64(1)
                if u[k] == x:
                    equal[k] += w
                    continue
            less[k] += w
    return total


@kernel
def _mw_count_all(u, table, lo, scale, vals, less, equal):
    """:func:`_mw_count` for every value of ``vals`` at weight 1; returns their number.

    Counted in integers, added to ``less`` and ``equal`` at the end: neighbouring pixels
    of a smooth map fall in one bin, and an integer increment waits less on the last one
    than a float add (~1.4x faster).  Counts are exact, so the result is the same."""
    m = u.size
    top = u[m - 1]
    lt = np.zeros(m + 1, dtype=np.int64)
    eq = np.zeros(m, dtype=np.int64)
    for i in range(vals.size):
        x = vals[i]
        if x < lo:
            lt[0] += 1
        elif x > top:
            lt[m] += 1
        else:
            t = table[np.uint64((x - lo) * scale)]  # unsigned: see _mw_count
            k = np.uint64(t >> 1)
            if t & 1:
                while u[k] < x:
                    k += np.uint64(1)
                if u[k] == x:
                    eq[k] += 1
                    continue
            lt[k] += 1
    for k in range(m + 1):
        less[k] += lt[k]
    for k in range(m):
        equal[k] += eq[k]
    return float(vals.size)


@kernel
def mw_area(u, cnt, less, equal, n_pos, w_neg):
    """AUC = P(pos > neg) + P(pos = neg)/2 from the rank histograms."""
    below = 0.0
    total = 0.0
    for k in range(u.size):
        below += less[k]
        total += cnt[k] * (below + 0.5 * equal[k])
        below += equal[k]
    return total / (n_pos * w_neg)


@kernel
def mw_map_aucs(pos, smap, extra_idx, extra_w):
    """Exact AUCs of ``pos`` (ascending) against every pixel of ``smap`` (weight 1): ``(as
    it is, with corrections extra_w at flat indices extra_idx)`` (e.g. -1 at fixated
    pixels: AUC-Borji and AUC-Judd of ``exact``).  The pass over the map is shared; the
    corrected counts start from a copy of the plain ones, so each value is what it would
    be alone."""
    u, cnt, table, lo, scale = mw_prepare(pos)
    less = np.zeros(u.size + 1)
    equal = np.zeros(u.size)
    flat = smap.ravel()
    w_tot = _mw_count_all(u, table, lo, scale, flat, less, equal)
    plain = mw_area(u, cnt, less, equal, pos.size, w_tot)
    if extra_idx.size == 0:
        return plain, plain
    less = less.copy()
    equal = equal.copy()
    w_tot += _mw_count(u, table, lo, scale, flat, extra_idx, extra_w, less, equal)
    if w_tot <= 0.0:
        return plain, np.nan
    return plain, mw_area(u, cnt, less, equal, pos.size, w_tot)


@kernel
def mw_pool_auc(pos, smap, pool_idx, pool_w, own_idx, own_w):
    """Exact AUC of ``pos`` (ascending) against pixels ``pool_idx`` of ``smap`` weighted by
    ``pool_w``, corrected by ``own_w`` at ``own_idx`` (shuffled AUC: all fixations minus
    the image's)."""
    u, cnt, table, lo, scale = mw_prepare(pos)
    less = np.zeros(u.size + 1)
    equal = np.zeros(u.size)
    flat = smap.ravel()
    w_tot = 0.0
    if pool_idx.size:
        w_tot += _mw_count(u, table, lo, scale, flat, pool_idx, pool_w, less, equal)
    if own_idx.size:
        w_tot += _mw_count(u, table, lo, scale, flat, own_idx, own_w, less, equal)
    if w_tot <= 0.0:
        return np.nan
    return mw_area(u, cnt, less, equal, pos.size, w_tot)


# ---- AUC-Judd with tie-breaking jitter (mit, pysaliency) ----------------------------

SCAN_BLOCK = 16 * LANES  # pixels per block of jittered_range's scan


@kernel
def _mit_area(u, cnt, less, equal, n_pix):
    """MIT ``AUC_Judd.m`` sweep over the counts of every pixel (fixated ones included):
    thresholds at the fixated values (descending); ``tp_i = i / n_fix``, ``fp_i =
    (#pixels >= thr_i - i) / (n_pixels - n_fix)``."""
    n_fix = 0
    for k in range(u.size):
        n_fix += int(cnt[k])
    # above[k] = #pixels >= u[k]
    above = np.empty(u.size)
    acc = less[u.size]
    for k in range(u.size - 1, -1, -1):
        acc += equal[k]
        above[k] = acc
        acc += less[k]
    area = 0.0
    x0 = 0.0
    y0 = 0.0
    k = u.size - 1  # MATLAB walks the sorted fixated values from the top
    left = cnt[k]
    for i in range(1, n_fix + 1):
        x1 = (above[k] - i) / (n_pix - n_fix)
        y1 = i / n_fix
        area += (x1 - x0) * (y1 + y0) / 2.0
        x0 = x1
        y0 = y1
        left -= 1.0
        if left == 0.0 and k > 0:
            k -= 1
            left = cnt[k]
    area += (1.0 - x0) * (1.0 + y0) / 2.0
    return area


@kernel
def _pysaliency_area(u, cnt, less, equal, n_neg, n_pos):
    """pysaliency's ``AUC_Judd`` curve (``general_roc(judd=1)``) over the negatives'
    counts: thresholds at every positive value (plus one above and one below everything);
    trapezoid over the points.  Repeated thresholds add zero-area segments, so the area
    over the distinct positive values is the same."""
    area = 0.0
    x0 = 0.0
    y0 = 0.0
    neg_ge = less[u.size]  # negatives above every positive
    pos_ge = 0.0
    for k in range(u.size - 1, -1, -1):
        neg_ge += equal[k]
        pos_ge += cnt[k]
        x1 = neg_ge / n_neg
        y1 = pos_ge / n_pos
        area += (x1 - x0) * (y1 + y0) / 2.0
        x0 = x1
        y0 = y1
        neg_ge += less[k]
    area += (1.0 - x0) * (1.0 + y0) / 2.0
    return area


# values further apart than this fraction of their reach (the largest |x - shift|)
# normalise in the same order, strictly: (x - shift) / span rounds twice, by 2**-53 of
# the reach each, and a gap of 3 * 2**-52 of it survives both (15x to spare)
_SEPARATION = 1e-14


@kernel
def _noise(base, i, normal):
    """Pixel ``i``'s jitter noise: the stream's ``i``-th uniform, or of its normal pairs
    (``i // 2``) the first value for even ``i``, the second for odd."""
    if not normal:
        return _rng.uniform_at(base, i)
    z0, z1 = _rng.normal_pair_at(base, i // 2)
    return z0 if i % 2 == 0 else z1


@kernel
def _reach(amplitude, normal):
    """The least and the most that noise * amplitude can be (as rounded)."""
    return (-_rng.NORMAL_BOUND if normal else 0.0) * amplitude, \
        (_rng.NORMAL_BOUND if normal else 1.0) * amplitude


@kernel
def jittered_range(flat, amplitude, normal, base):
    """``(min, max)`` of the map ``flat`` and of ``q = flat + noise * amplitude`` (noise
    of the stream that starts at ``base``, as :func:`judd` draws it): ``q``'s min is at
    most ``min + d_hi`` and its max at least ``max + d_lo`` (``d``: the noise's bounds
    times the amplitude), so only pixels within reach of those draw, found by blocks.
    Each block's extremes come from ``_maps._range`` (SIMD across lanes): a running min
    and max per block, one dependency chain, took 0.39 ms at 480x640."""
    n = flat.size
    d_lo, d_hi = _reach(amplitude, normal)
    n_blocks = (n + SCAN_BLOCK - 1) // SCAN_BLOCK
    b_lo = np.empty(n_blocks)
    b_hi = np.empty(n_blocks)
    for k in range(n_blocks):
        b_lo[k], b_hi[k] = _range(flat[k * SCAN_BLOCK:(k + 1) * SCAN_BLOCK])
    p_lo = b_lo[0]
    p_hi = b_hi[0]
    for k in range(1, n_blocks):
        p_lo = b_lo[k] if b_lo[k] < p_lo else p_lo
        p_hi = b_hi[k] if b_hi[k] > p_hi else p_hi
    q_lo = np.inf
    q_hi = -np.inf
    for k in range(n_blocks):
        if b_lo[k] + d_lo > p_lo + d_hi and b_hi[k] + d_hi < p_hi + d_lo:
            continue
        for i in range(k * SCAN_BLOCK, min(n, (k + 1) * SCAN_BLOCK)):
            v = flat[i]
            if v + d_lo <= p_lo + d_hi or v + d_hi >= p_hi + d_lo:
                q = v + _noise(base, i, normal) * amplitude
                q_lo = q if q < q_lo else q_lo
                q_hi = q if q > q_hi else q_hi
    return p_lo, p_hi, q_lo, q_hi


def judd(p: np.ndarray, amplitude: float, normal: bool, mit: bool, seed: int, stream: int,
         pos_idx: np.ndarray, fixated: np.ndarray) -> tuple[float, bool]:
    """``(auc_judd, constant)`` of ``q = p + noise * amplitude``, without forming ``q``.

    Noise: uniform [0, 1) (MATLAB ``rand``) or standard normal (pysaliency ``randn``), from
    the image's jitter stream, pixel ``i`` taking the stream's ``i``-th value.  ``mit``:
    ``AUC_Judd.m`` on ``q`` min-max normalised, positives at the fixated pixels
    ``pos_idx`` (``constant`` and NaN when ``q`` is constant); else pysaliency's curve,
    positives at every fixation ``pos_idx``, negatives the pixels not in ``fixated``.

    Rounding and the normalisation are monotone, so pixel ``i``'s value lies between those
    of ``p[i]`` plus the smallest and the largest noise.  A pixel whose interval holds no
    positive's value counts in that gap whatever its noise; only the others draw theirs
    (by position in the stream), with the positives and, under ``mit``, the pixels that
    can hold ``q``'s minimum or maximum.  The counts, so the area, are those of the formed
    ``q``; a map with many values near the positives' (8-bit maps) draws most of its
    noise.  Gaps are found among the positives before normalisation and mapped to the
    normalised ones' afterwards.  The positives' values are drawn by one kernel, sorted by
    numpy (see :func:`mw_prepare`) and counted by another."""
    raw = judd_positives(p, amplitude, normal, seed, stream, pos_idx)
    raw.sort()
    return judd_sorted(p, amplitude, normal, mit, seed, stream, raw, fixated)


@kernel
def judd_positives(p, amplitude, normal, seed, stream, pos_idx):
    """The positives' values before normalisation, ``p[i] + noise_i * amplitude`` for ``i``
    in ``pos_idx`` (:func:`judd`)."""
    flat = p.ravel()
    base = _rng.start(seed, stream, _rng.JITTER, 0)
    raw = np.empty(pos_idx.size)
    for k in range(pos_idx.size):
        i = pos_idx[k]
        raw[k] = flat[i] + _noise(base, i, normal) * amplitude
    return raw


@kernel
def judd_sorted(p, amplitude, normal, mit, seed, stream, raw, fixated):
    """:func:`judd` from the positives' values ``raw`` (:func:`judd_positives`, ascending)."""
    flat = p.ravel()
    n = flat.size
    base = _rng.start(seed, stream, _rng.JITTER, 0)
    d_lo, d_hi = _reach(amplitude, normal)
    shift = 0.0  # q normalised: (q - shift) / span, exactly q itself without mit
    span = 1.0
    p_lo = 0.0
    p_hi = 0.0
    if mit:
        p_lo, p_hi, q_lo, q_hi = jittered_range(flat, amplitude, normal, base)
        if not q_hi > q_lo:
            return np.nan, True
        shift = q_lo
        span = q_hi - q_lo
    pos = np.empty(raw.size)  # ascending as raw is: the normalisation is monotone
    for k in range(raw.size):
        pos[k] = (raw[k] - shift) / span
    u, cnt, table, lo, scale = mw_prepare(pos)
    m = u.size
    r, _, table_r, lo_r, scale_r = mw_prepare(raw)
    m_r = r.size
    top_r = r[m_r - 1]
    # under mit, a value this far from a raw positive normalises to the same side of it
    delta = _SEPARATION * (max(abs(p_lo), abs(p_hi)) + abs(shift) + d_hi - d_lo) \
        if mit else 0.0
    lt_r = np.zeros(m_r + 1, dtype=np.int64)  # in gap j of the raw positives
    late = np.empty(n, dtype=np.int64)  # the pixels that draw (a loop of their own)
    n_late = 0
    for i in range(n):
        v = flat[i]
        a = v + d_lo - delta  # q lies in [a + delta, b - delta]
        if a > top_r:
            lt_r[m_r] += 1
            continue
        # then r[j]: the lowest raw positive not below a (unsigned: see _mw_count)
        j = np.uint64(0)
        if a >= lo_r:
            t = table_r[np.uint64((a - lo_r) * scale_r)]
            j = np.uint64(t >> 1)
            if t & 1:
                while r[j] < a:
                    j += np.uint64(1)
        if r[j] > v + d_hi + delta:  # none in [a, b]
            lt_r[j] += 1
        else:
            late[n_late] = i
            n_late += 1
    less = np.zeros(m + 1)
    equal = np.zeros(m)
    g = 0  # raw gap j is normalised gap g: distinct normalised values below it
    for j in range(m_r + 1):
        if j == 1 or (j > 1 and (r[j - 1] - shift) / span != (r[j - 2] - shift) / span):
            g += 1
        less[g] += lt_r[j]
    pair = -1  # the last normal pair drawn (neighbours share one)
    z0 = 0.0
    z1 = 0.0
    drawn = np.empty(n_late)  # their normalised values, counted as any map's
    for k in range(n_late):
        i = late[k]
        if not normal:
            z = _rng.uniform_at(base, i)
        else:
            if i // 2 != pair:
                pair = i // 2
                z0, z1 = _rng.normal_pair_at(base, pair)
            z = z0 if i % 2 == 0 else z1
        drawn[k] = (flat[i] + z * amplitude - shift) / span
    _mw_count_all(u, table, lo, scale, drawn, less, equal)
    if mit:
        return _mit_area(u, cnt, less, equal, n), False
    fv = np.empty(fixated.size)  # the fixated pixels are not negatives
    for k in range(fixated.size):
        fv[k] = flat[fixated[k]] + _noise(base, fixated[k], normal) * amplitude
    # their counts taken back: exact, as the counts are whole numbers
    fix_less = np.zeros(m + 1)
    fix_equal = np.zeros(m)
    n_neg = n - _mw_count_all(u, table, lo, scale, fv, fix_less, fix_equal)
    for k in range(m + 1):
        less[k] -= fix_less[k]
    for k in range(m):
        equal[k] -= fix_equal[k]
    if n_neg <= 0.0:
        return np.nan, False
    return _pysaliency_area(u, cnt, less, equal, n_neg, float(raw.size)), False


@kernel
def _norm(v, lo, hi, as_f32, constant_zero):
    """Min-max normalised value, in float32 arithmetic for the replication protocol's
    float32 maps (``(s - min) / (max - min)`` as numpy computes it on float32 arrays); a
    constant map normalises to 0 with ``constant_zero`` (SALICON divides only by a
    positive maximum)."""
    if not hi > lo:
        return 0.0 if constant_zero else np.nan
    if as_f32:
        lo32 = np.float32(lo)
        return np.float64(np.float32(np.float32(np.float32(v) - lo32)
                                     / np.float32(np.float32(hi) - lo32)))
    return (v - lo) / (hi - lo)


@kernel
def normalised_at(flat, idx, lo, hi, as_f32, constant_zero):
    out = np.empty(idx.size)
    for i in range(idx.size):
        out[i] = _norm(flat[idx[i]], lo, hi, as_f32, constant_zero)
    return out


@kernel
def _max(x):
    top = -np.inf
    for v in x:
        top = max(top, v)
    return top


@kernel
def _mean(x):
    total = 0.0
    for v in x:
        total += v
    return total / x.size


@kernel
def borji_splits(flat, lo, hi, as_f32, constant_zero, pos, kind, step, n_neg, seed, stream,
                 out_splits):
    """auc_borji of the sampled protocols: per split, ``n_neg`` negatives drawn uniformly
    from all pixels with replacement (``n_neg`` = #positives, or the protocol's fixed
    count); the mean of the split areas."""
    n_pix = flat.size
    maxpos = _max(pos)
    cache = make_grid_cache(step)
    neg = np.empty(n_neg)
    at = np.empty(n_neg, dtype=np.int64)
    for sp in range(out_splits.size):
        st = _rng.new_stream(seed, stream, _rng.BORJI, sp)
        for i in range(n_neg):  # the draws first: then the reads overlap their misses
            at[i] = _rng.below(st, n_pix)
        for i in range(n_neg):
            neg[i] = _norm(flat[at[i]], lo, hi, as_f32, constant_zero)
        out_splits[sp] = grid_auc(pos, maxpos, neg, n_neg, kind, step, cache)
    return _mean(out_splits)


@kernel
def sauc_splits(flat, lo, hi, as_f32, constant_zero, pos, pool_idx, kind, step, seed, stream,
                out_splits):
    """sauc of the sampled protocols: per split a random permutation of the pool keeps
    ``min(#positives, #pool)`` pixels as negatives; the mean of the split areas."""
    n_pool = pool_idx.size
    m = min(pos.size, n_pool)
    maxpos = _max(pos)
    vals = normalised_at(flat, pool_idx, lo, hi, as_f32, constant_zero)  # once, not per split
    cache = make_grid_cache(step)
    neg = np.empty(m)
    perm = np.arange(n_pool)
    swaps = np.empty(m, dtype=np.int64)
    for sp in range(out_splits.size):
        st = _rng.new_stream(seed, stream, _rng.SAUC, sp)
        _rng.partial_shuffle(st, perm, m, swaps)
        for i in range(m):
            neg[i] = vals[perm[i]]
        _rng.undo_shuffle(perm, m, swaps)
        out_splits[sp] = grid_auc(pos, maxpos, neg, m, kind, step, cache)
    return _mean(out_splits)


@kernel
def weighted_grid_auc(pos, neg, neg_w, kind, step):
    """A grid AUC with weighted negatives and no sampling (SALICON's SAUC): thresholds
    from ``max(pos ∪ neg)`` down to 0; fp = weight of negatives >= t over total weight."""
    top = -np.inf
    for v in pos:
        top = max(top, v)
    for v in neg:
        top = max(top, v)
    n_max = int(math.ceil(max(top, 0.0) / step)) + 3
    thr = np.empty(n_max)
    n = make_grid(kind, top, step, thr)
    pos_ge = np.empty(n + 1)
    neg_ge = np.empty(n + 1)
    scratch = np.empty(n + 2)
    _count_ge(pos, pos.size, thr, n, step, pos_ge, scratch)
    for k in range(n + 1):
        scratch[k] = 0.0
    total = 0.0
    for i in range(neg.size):
        scratch[_grid_cell(thr, n, neg[i], step)] += neg_w[i]
        total += neg_w[i]
    acc = 0.0
    for k in range(n - 1, -1, -1):
        acc += scratch[k + 1]
        neg_ge[k] = acc
    return _curve_area(thr, n, pos_ge, neg_ge, pos.size, total)
