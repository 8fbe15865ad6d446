"""Slow, loop-level reference implementations written from the metric definitions.

Used only by tests.  Nothing here calls salbench's kernels: each function is a direct
transcription of a definition (the MATLAB code of the MIT benchmark, the replication
study's script, the Mann-Whitney statistic), kept as plain as possible.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import gaussian_filter

MATLAB_EPS = 2.220446049250313e-16


# ---- grids -----------------------------------------------------------------------------


def colon(a: float, d: float, b: float) -> list[float]:
    """MATLAB's a:d:b for d > 0, transcribed from MathWorks' colonop.m description."""
    tol = 2.0 * MATLAB_EPS * max(abs(a), abs(b))
    if b < a:
        return []
    n = math.floor((b - a) / d + 0.5)  # round half away from zero (non-negative here)
    if a + n * d - b > tol:
        n -= 1
    last = a + n * d
    if last - b > -tol:
        last = b
    out = [0.0] * (n + 1)
    for k in range(n // 2 + 1):
        out[k] = a + k * d
    for k in range(n // 2 + 1):
        out[n - k] = last - k * d
    if n % 2 == 0:
        out[n // 2] = (a + last) / 2
    return out


def arange_thresholds(top: float, step: float = 0.1) -> list[float]:
    return list(np.arange(0, top, step))


# ---- AUCs ------------------------------------------------------------------------------


def trapz(y, x) -> float:
    area = 0.0
    for i in range(len(x) - 1):
        area += (x[i + 1] - x[i]) * (y[i + 1] + y[i]) / 2.0
    return area


def grid_auc(pos, neg, thresholds_desc) -> float:
    """tp/fp at each threshold (fraction >= t), padded with (0,0) and (1,1)."""
    tp = [0.0]
    fp = [0.0]
    for t in thresholds_desc:
        tp.append(sum(1 for v in pos if v >= t) / len(pos))
        fp.append(sum(1 for v in neg if v >= t) / len(neg))
    tp.append(1.0)
    fp.append(1.0)
    return trapz(tp, fp)


def grid_auc_splits(pos, neg_per_split, grid: str, step: float = 0.1) -> list[float]:
    out = []
    for neg in neg_per_split:
        top = max(max(pos), max(neg))
        thr = arange_thresholds(top, step) if grid == "arange" else colon(0.0, step, top)
        out.append(grid_auc(pos, neg, thr[::-1]))
    return out


def mann_whitney(pos, neg, neg_w=None) -> float:
    """P(pos > neg) + P(pos == neg) / 2 by a double loop."""
    if neg_w is None:
        neg_w = [1.0] * len(neg)
    num = 0.0
    for p in pos:
        for x, w in zip(neg, neg_w):
            if p > x:
                num += w
            elif p == x:
                num += 0.5 * w
    return num / (len(pos) * sum(neg_w))


def judd_mit(smap: np.ndarray, fixmap: np.ndarray) -> float:
    """MIT AUC_Judd.m on an already jittered and normalised map."""
    s = smap.ravel()
    f = fixmap.ravel()
    sth = [s[i] for i in range(len(s)) if f[i] > 0]
    n_fix = len(sth)
    n_pix = len(s)
    thresholds = sorted(sth, reverse=True)
    tp = [0.0]
    fp = [0.0]
    for i, t in enumerate(thresholds, start=1):
        above = sum(1 for v in s if v >= t)
        tp.append(i / n_fix)
        fp.append((above - i) / (n_pix - n_fix))
    tp.append(1.0)
    fp.append(1.0)
    return trapz(tp, fp)


# ---- map metrics -----------------------------------------------------------------------


def fixation_map(fix, shape) -> np.ndarray:
    m = np.zeros(shape)
    for r, c in fix:
        m[r, c] = 1.0
    return m


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a.ravel().astype(np.float64)
    b = b.ravel().astype(np.float64)
    ma = sum(a) / len(a)
    mb = sum(b) / len(b)
    sab = saa = sbb = 0.0
    for x, y in zip(a, b):
        sab += (x - ma) * (y - mb)
        saa += (x - ma) ** 2
        sbb += (y - mb) ** 2
    return sab / math.sqrt(saa * sbb)


def cc(p: np.ndarray, fix, shape, sigma: float) -> float:
    g = gaussian_filter(fixation_map(fix, shape), sigma)
    return pearson(p, g)


def nss(p: np.ndarray, fix, ddof: int) -> float:
    vals = p.ravel()
    mean = sum(vals) / len(vals)
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - ddof))
    pix = sorted({(int(r), int(c)) for r, c in fix})
    return sum((p[r, c] - mean) / std for r, c in pix) / len(pix)


def kld_mit(p: np.ndarray, g: np.ndarray) -> float:
    a = np.maximum(p, 0.0).ravel()
    b = g.ravel()
    if a.any():
        a = a / a.sum()
    if b.any():
        b = b / b.sum()
    total = 0.0
    for ai, bi in zip(a, b):
        arg = MATLAB_EPS + bi / (ai + MATLAB_EPS)
        if arg < 0:  # MATLAB's log turns complex: salbench gives NaN
            return float("nan")
        total += bi * math.log(arg) if bi else 0.0
    return total


def _mm_sum(x: np.ndarray) -> np.ndarray:
    if not x.any():
        return x
    x = (x - x.min()) / (x.max() - x.min())
    return x / x.sum()


def sim_mit(p: np.ndarray, g: np.ndarray) -> float:
    a = _mm_sum(p.ravel())
    b = _mm_sum(g.ravel())
    return sum(min(x, y) for x, y in zip(a, b))


def ig_mit(p: np.ndarray, base: np.ndarray, fix) -> float:
    a = (p - p.min()) / (p.max() - p.min())
    a = a / a.sum()
    b = (base - base.min()) / (base.max() - base.min())
    b = b / b.sum()
    pix = sorted({(int(r), int(c)) for r, c in fix})
    return sum(math.log2(MATLAB_EPS + a[r, c]) - math.log2(MATLAB_EPS + b[r, c])
               for r, c in pix) / len(pix)


# ---- MATLAB imresize (bicubic) ---------------------------------------------------------


def _cubic(x: float) -> float:
    ax = abs(x)
    if ax <= 1:
        return 1.5 * ax**3 - 2.5 * ax**2 + 1
    if ax <= 2:
        return -0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2
    return 0.0


def _contributions(in_len: int, out_len: int):
    scale = out_len / in_len
    width = 4.0
    antialias = scale < 1
    if antialias:
        width /= scale
    rows = []
    for x in range(1, out_len + 1):
        u = x / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(u - width / 2)
        p = math.ceil(width) + 2
        ind = [left + j for j in range(p)]
        wts = [scale * _cubic(scale * (u - i)) if antialias else _cubic(u - i) for i in ind]
        tot = sum(wts)
        wts = [w / tot for w in wts]
        aux = list(range(1, in_len + 1)) + list(range(in_len, 0, -1))
        ind = [aux[(i - 1) % len(aux)] - 1 for i in ind]
        rows.append(list(zip(ind, wts)))
    return rows


def matlab_imresize(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """imresize(img, [out_h out_w]) with bicubic + antialiasing, smaller scale first."""
    img = np.asarray(img, dtype=np.float64)

    def along(a, axis, n_out):
        contrib = _contributions(a.shape[axis], n_out)
        a = np.moveaxis(a, axis, 0)
        out = np.zeros((n_out, *a.shape[1:]))
        for o, pairs in enumerate(contrib):
            for i, w in pairs:
                out[o] += w * a[i]
        return np.moveaxis(out, 0, axis)

    if (out_h, out_w) == img.shape:
        return img.copy()
    order = [0, 1] if out_h / img.shape[0] <= out_w / img.shape[1] else [1, 0]
    for axis in order:
        n_out = (out_h, out_w)[axis]
        if img.shape[axis] != n_out:
            img = along(img, axis, n_out)
    return img


# ---- MIT code_forMetrics (MATLAB), transcribed ------------------------------------------


def antonio_gaussian(img: np.ndarray, fc: float = 8.0, clean: bool = True) -> np.ndarray:
    """antonioGaussian.m: zero-pad to n x n (n = 2^ceil(log2(max(H, W) rounded up to
    even))), multiply the 2-D FFT by fftshift(exp(-(fx^2 + fy^2) / s^2)), s = fc /
    sqrt(log 2), fx, fy in [-n/2, n/2); real part of the inverse FFT, cropped.

    ``clean``: the FFT leaves rounding noise of either sign (~1e-17) where the blur is
    essentially 0; salbench's definition takes those values as 0 (with the noise, MATLAB's
    KLdiv takes the log of a negative number there), so values below 1e-14 of the peak are
    set to 0 here too."""
    sn, sm = img.shape
    n = max(sn, sm)
    n = n + n % 2
    n = 2 ** math.ceil(math.log2(n))
    fx, fy = np.meshgrid(np.arange(n), np.arange(n))
    fx = fx - n / 2
    fy = fy - n / 2
    s = fc / math.sqrt(math.log(2))
    gf = np.fft.fftshift(np.exp(-(fx**2 + fy**2) / s**2))
    bf = np.real(np.fft.ifft2(np.fft.fft2(img, (n, n)) * gf))[:sn, :sm]
    if clean:
        bf[np.abs(bf) < 1e-14 * np.abs(bf).max()] = 0.0
    return bf


def matlab_imresize_scale(img: np.ndarray, scale: float) -> np.ndarray:
    """imresize(img, scale): output ceil(scale * size), the kernel widened by 1/scale."""
    img = np.asarray(img, dtype=np.float64)
    out = tuple(math.ceil(scale * n) for n in img.shape)

    def along(a, axis, n_out):
        in_len = a.shape[axis]
        antialias = scale < 1
        width = 4.0 / scale if antialias else 4.0
        a = np.moveaxis(a, axis, 0)
        res = np.zeros((n_out, *a.shape[1:]))
        for o in range(1, n_out + 1):
            u = o / scale + 0.5 * (1 - 1 / scale)
            left = math.floor(u - width / 2)
            p = math.ceil(width) + 2
            ind = [left + j for j in range(p)]
            wts = [scale * _cubic(scale * (u - i)) if antialias else _cubic(u - i) for i in ind]
            tot = sum(wts)
            aux = list(range(1, in_len + 1)) + list(range(in_len, 0, -1))
            for i, wt in zip(ind, wts):
                res[o - 1] += wt / tot * a[aux[(i - 1) % len(aux)] - 1]
        return np.moveaxis(res, 0, axis)

    for axis in (0, 1):  # equal scales: MATLAB's stable sort keeps rows first
        img = along(img, axis, out[axis])
    return img


def emd_mit(smap: np.ndarray, fixmap: np.ndarray, downsize: int = 32) -> float:
    """EMD.m: im1 = imresize(fixationMap, 1/downsize); im2 = imresize(saliencyMap,
    size(im1)); both / their sums; D(i, j) = Euclidean distance of the column-major grid
    positions; emd_hat_gd_metric_mex (FastEMD, pyemd's cpp backend) with penalty 0."""
    import pyemd

    im1 = matlab_imresize_scale(fixmap, 1 / downsize)
    im2 = matlab_imresize(smap, *im1.shape)
    im1 = im1 / im1.sum()
    im2 = im2 / im2.sum()
    r, c = im1.shape
    pos = [(r1, c1) for c1 in range(c) for r1 in range(r)]  # column-major, as im(:)
    d = np.array([[math.hypot(a[0] - b[0], a[1] - b[1]) for b in pos] for a in pos])
    return pyemd.emd(im1.ravel(order="F").copy(), im2.ravel(order="F").copy(), d,
                     extra_mass_penalty=0.0, backend="cpp")


def sim_mit_nan(p: np.ndarray, g: np.ndarray) -> float:
    """similarity.m including its NaN: a constant non-zero map min-max normalises to 0/0."""
    def norm(x):
        x = x.ravel().astype(float)
        if not x.any():
            return x
        with np.errstate(invalid="ignore", divide="ignore"):
            x = (x - x.min()) / (x.max() - x.min())
            return x / x.sum()

    a, b = norm(p), norm(g)
    if np.isnan(a).all() or np.isnan(b).all():
        return float("nan")
    return float(sum(min(x, y) for x, y in zip(a, b)))


def borji_mit_nan(fixmap: np.ndarray) -> bool:
    """AUC_Borji.m returns NaN when sum(fixationMap(:) > 0) <= 1."""
    return int((fixmap > 0).sum()) <= 1


# ---- the SALICON challenge evaluation (NUS-VIP/salicon-evaluation), transcribed ----------


def salicon_filter(fixations) -> list:
    """eval.py's filterAnns: fixs.sort(); keep fixs[i] when fixs[i+1] == fixs[i] (the
    boolean mask is one shorter than the list: numpy of 2015 indexed with its nonzero()).
    ``fixations``: [row, col] pairs, 0- or 1-based alike."""
    fixs = sorted([int(a), int(b)] for a, b in fixations)
    return [fixs[i] for i in range(len(fixs) - 1) if fixs[i + 1] == fixs[i]]


def salicon_zoom(salmap: np.ndarray, shape) -> np.ndarray:
    from scipy import ndimage

    h, w = shape
    mh, mw = salmap.shape
    return ndimage.zoom(salmap, (float(h) / mh, float(w) / mw), order=3)


def salicon_cc(salmap: np.ndarray, fixations, shape) -> float:
    """cc.py: ground truth = buildFixMap (1 per fixation, gaussian_filter sigma 19, min-max);
    both maps centred and divided by their std when their max is positive; np.corrcoef."""
    fm = np.zeros(shape)
    for r, c in fixations:
        fm[r, c] = 1
    fm = gaussian_filter(fm, 19)
    fm -= fm.min()
    fm /= fm.max()
    a = fm - fm.mean()
    if a.max() > 0:
        a = a / a.std()
    b = salmap - salmap.mean()
    if b.max() > 0:
        b = b / b.std()
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.corrcoef(b.reshape(-1), a.reshape(-1))[0][1])


def salicon_nss(salmap: np.ndarray, fixations) -> float:
    s = salmap - salmap.mean()
    if s.max() > 0:
        s = s / s.std()
    return float(np.mean([s[r][c] for r, c in fixations]))


def _salicon_norm(m):
    s = m - m.min()
    if s.max() > 0:
        s = s / s.max()
    return s


def salicon_auc(salmap: np.ndarray, fixations, rand_idx, step=0.01) -> float:
    """auc.py with the 100,000 random pixel indices given (the reference drew them with
    np.random.randint)."""
    s = _salicon_norm(salmap)
    flat = s.reshape(-1)
    sth = np.asarray([s[r][c] for r, c in fixations])
    randfix = flat[rand_idx]
    thr = np.arange(0, np.max(np.concatenate((sth, randfix))), step)[::-1]
    tp = [0.0] + [float(np.sum(sth >= t)) / len(sth) for t in thr] + [1.0]
    fp = [0.0] + [float(np.sum(randfix >= t)) / len(randfix) for t in thr] + [1.0]
    return trapz(tp, fp)


def salicon_sauc(salmap: np.ndarray, fixations, shufmap: np.ndarray, step=0.01) -> float:
    """sauc.py: the shuffled map without this image's fixated pixels, count-weighted."""
    s = _salicon_norm(salmap)
    sth = np.asarray([s[r][c] for r, c in fixations])
    others = shufmap.copy()
    for r, c in fixations:
        others[r][c] = 0
    ind = np.nonzero(others)
    nfix = shufmap[ind]
    randfix = s[ind]
    n_others = nfix.sum()
    thr = np.arange(0, np.max(np.concatenate((sth, randfix))), step)[::-1]
    tp = [0.0] + [float(np.sum(sth >= t)) / len(sth) for t in thr] + [1.0]
    fp = [0.0] + [float(np.sum(nfix[randfix >= t])) / n_others for t in thr] + [1.0]
    return trapz(tp, fp)


def bhattacharyya(p: np.ndarray, g: np.ndarray) -> float:
    """``-log sum sqrt(P G)`` of the maps normalised to sum 1 (its definition)."""
    a = p.ravel() / sum(p.ravel())
    b = g.ravel() / sum(g.ravel())
    return -math.log(sum(math.sqrt(x * y) for x, y in zip(a, b)))
