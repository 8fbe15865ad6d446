"""The per-image scoring kernel and the parallel dataset loop around it.

One prediction is preprocessed once under the protocol (resize, quantise, blur) and every
requested metric is computed from it.  The dataset loop runs images in parallel; each
image's random streams depend only on (seed, image index), so results do not depend on
the number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from . import _auc, _maps, _resize, _rng
from ._blur import blur_into
from ._jit import kernel

# metric slots (order of the ``want`` / ``out`` arrays)
CC, NSS, KLD, SIM, IG, AUC_JUDD, AUC_BORJI, SAUC, AUC_BORJI_EXP, SAUC_EXP = range(10)
N_SLOTS = 10

RESIZE_PILLOW_U8 = 0
RESIZE_MATLAB = 1
AUC_EXACT = 2  # value of ``grid_kind`` that selects exact Mann-Whitney areas


@kernel
def make_workspace(h, w, like):
    """Three ``h x w`` buffers of ``like``'s dtype, reused across the images one thread
    scores (fresh large allocations per image cost page faults that rival the arithmetic).

    float32 for the replication protocol, whose maps hold float32 values anyway (same
    numbers, half the memory traffic); float64 otherwise.
    """
    return np.empty((3, h, w), dtype=like.dtype)


def workspace_like(resize_kind: int) -> np.ndarray:
    return np.empty(0, dtype=np.float32 if resize_kind == RESIZE_PILLOW_U8 else np.float64)


@kernel
def preprocess(pred, pred_f32, resize_kind, clip01, pre_w, out, tmp):
    """The protocol's prediction at the image's size, written into ``out``.

    ``RESIZE_PILLOW_U8`` (replication): clip to [0, 1], ``(p*255)`` truncated to uint8 (in
    float32 when the prediction is float32, as numpy computes it), Pillow bicubic resize,
    ``/255`` in float32, optional float32 Gaussian blur.  ``RESIZE_MATLAB``: bicubic
    ``imresize`` in float64, optional blur.
    """
    if resize_kind == RESIZE_PILLOW_U8:
        ph, pw = pred.shape
        q = np.empty((ph, pw), dtype=np.uint8)
        for i in range(ph):
            for j in range(pw):
                v = pred[i, j]
                if clip01:
                    v = min(max(v, 0.0), 1.0)
                if pred_f32:
                    t = np.float64(np.float32(np.float32(v) * np.float32(255.0)))
                else:
                    t = v * 255.0
                q[i, j] = np.uint8(int(t))
        dst = tmp if pre_w.size > 0 else out
        _resize.pillow_bicubic_u8_unit(q, dst)
        if pre_w.size > 0:
            blur_into(tmp, pre_w, True, out)
        return
    if pre_w.size > 0:
        _resize.matlab_bicubic_into(pred, tmp)
        blur_into(tmp, pre_w, False, out)
    else:
        _resize.matlab_bicubic_into(pred, out)


@kernel(inline="always")
def _norm(v, lo, hi, as_f32):
    """Min-max normalised value, in float32 arithmetic for the replication protocol's
    float32 maps (``(s - min) / (max - min)`` as numpy computes it on float32 arrays)."""
    if as_f32:
        lo32 = np.float32(lo)
        return np.float64(np.float32(np.float32(np.float32(v) - lo32)
                                     / np.float32(np.float32(hi) - lo32)))
    return (v - lo) / (hi - lo)


@kernel
def _normalise_inplace(q):
    """Min-max normalise a float64 map in place; False when it is constant."""
    flat = q.ravel()
    lo, hi = _maps.minmax(flat)
    if not hi > lo:
        return False
    for i in range(flat.size):
        flat[i] = (flat[i] - lo) / (hi - lo)
    return True


@kernel
def score_image(
    pred, pred_f32, rows, cols,
    pool_idx, pool_w, own_sub, baseline,
    resize_kind, clip01, pre_w, tr, tc, ddof, grid_kind, step, splits, judd_jitter,
    want, seed, stream, ws, out, out_borji, out_sauc,
):  # fmt: skip
    """Score one image of size ``ws.shape[1:]``; writes ``out[slot]`` for each wanted slot
    and the per-split values.

    ``pool_idx``/``pool_w``: sauc's negatives as flat pixel indices with weights (the other
    map's pixels for the sampled protocols; all fixations of the split with counts for the
    exact protocol, from which the image's own fixations are removed when ``own_sub``).
    ``ws``: workspace from :func:`make_workspace`.
    """
    out[:] = np.nan
    out_borji[:] = np.nan
    out_sauc[:] = np.nan
    if rows.size == 0:
        return
    args = (rows, cols, pool_idx, pool_w, own_sub, baseline, resize_kind, tr, tc, ddof,
            grid_kind, step, splits, judd_jitter, want, seed, stream, ws, out, out_borji,
            out_sauc)
    if (resize_kind == RESIZE_MATLAB and pre_w.size == 0 and pred.shape[0] == ws.shape[1]
            and pred.shape[1] == ws.shape[2]):
        _score_prepared(pred, *args)  # nothing to prepare: read the map in place
    else:
        preprocess(pred, pred_f32, resize_kind, clip01, pre_w, ws[0], ws[1])
        _score_prepared(ws[0], *args)


@kernel
def _score_prepared(
    p, rows, cols, pool_idx, pool_w, own_sub, baseline, resize_kind, tr, tc, ddof,
    grid_kind, step, splits, judd_jitter, want, seed, stream, ws, out, out_borji, out_sauc,
):  # fmt: skip
    """The metrics of :func:`score_image` for the prepared map ``p`` (ws[1:] is scratch)."""
    w = ws.shape[2]
    ulin = _maps.unique_pixels(rows, cols, w)
    ur = ulin // w
    uc = ulin % w

    if want[CC]:
        out[CC] = _maps.cc_fixations(p, ur, uc, tr, tc)
    if want[NSS]:
        out[NSS] = _maps.nss(p, ulin, ddof)
    if want[KLD] or want[SIM]:
        g = ws[1]
        _maps.gt_map_into(ur, uc, tr, tc, g)
        if want[KLD]:
            out[KLD] = _maps.kld_mit(p, g)
        if want[SIM]:
            out[SIM] = _maps.sim_mit(p, g)
    if want[IG]:
        out[IG] = _maps.ig_mit(p, baseline, ulin)

    if grid_kind == AUC_EXACT:
        flat = p.ravel()
        pos = np.empty(rows.size)
        lin = np.empty(rows.size, dtype=np.int64)
        for i in range(rows.size):
            lin[i] = np.int64(rows[i]) * w + cols[i]
            pos[i] = flat[lin[i]]
        none_i = np.empty(0, dtype=np.int64)
        none_w = np.empty(0)
        if want[AUC_BORJI]:
            out[AUC_BORJI] = _auc.mw_map_auc(pos, p, none_i, none_w)
        if want[AUC_JUDD]:
            out[AUC_JUDD] = _auc.mw_map_auc(pos, p, ulin, -np.ones(ulin.size))
        if want[SAUC]:
            if own_sub:
                out[SAUC] = _auc.mw_pool_auc(pos, p, pool_idx, pool_w, lin, -np.ones(lin.size))
            else:
                out[SAUC] = _auc.mw_pool_auc(pos, p, pool_idx, pool_w, none_i, none_w)
        return

    if want[AUC_JUDD]:
        q = ws[2]
        q[:] = p
        if judd_jitter > 0.0:
            st = _rng.new_stream(seed, stream, _rng.JITTER, 0)
            qf = q.ravel()
            for i in range(qf.size):
                qf[i] += _rng.uniform01(st) * judd_jitter
        if _normalise_inplace(q):
            flat_q = q.ravel()
            out[AUC_JUDD] = _auc.judd_mit(q, flat_q[ulin])

    need_grid = want[AUC_BORJI] or want[SAUC] or want[AUC_BORJI_EXP] or want[SAUC_EXP]
    if not need_grid:
        return
    # min-max normalisation, applied lazily to the values the AUCs actually read
    flat = p.ravel()
    lo, hi = _maps.minmax(flat)
    if not hi > lo:  # constant map: the references divide 0 by 0
        return
    as_f32 = resize_kind == RESIZE_PILLOW_U8
    n_pos = ulin.size
    pos = np.empty(n_pos)
    for i in range(n_pos):
        pos[i] = _norm(flat[ulin[i]], lo, hi, as_f32)
    maxpos = pos.max()
    n_pix = flat.size
    cache = _auc.make_grid_cache(step)
    if want[AUC_BORJI]:
        neg = np.empty(n_pos)
        for sp in range(splits):
            st = _rng.new_stream(seed, stream, _rng.BORJI, sp)
            for i in range(n_pos):
                neg[i] = _norm(flat[_rng.below(st, n_pix)], lo, hi, as_f32)
            out_borji[sp] = _auc.grid_auc(pos, maxpos, neg, n_pos, grid_kind, step, cache)
        out[AUC_BORJI] = out_borji.mean()
    if want[AUC_BORJI_EXP]:
        s = ws[1].ravel()
        for i in range(n_pix):
            s[i] = _norm(flat[i], lo, hi, as_f32)
        out[AUC_BORJI_EXP] = _auc.expected_grid_auc(pos, s, grid_kind, step, n_pos, True)
    n_pool = pool_idx.size
    if n_pool == 0:
        return
    m = min(n_pos, n_pool)
    if want[SAUC]:
        neg = np.empty(m)
        perm = np.arange(n_pool)
        swaps = np.empty(m, dtype=np.int64)
        for sp in range(splits):
            st = _rng.new_stream(seed, stream, _rng.SAUC, sp)
            _rng.partial_shuffle(st, perm, m, swaps)
            for i in range(m):
                neg[i] = _norm(flat[pool_idx[perm[i]]], lo, hi, as_f32)
            _rng.undo_shuffle(perm, m, swaps)
            out_sauc[sp] = _auc.grid_auc(pos, maxpos, neg, m, grid_kind, step, cache)
        out[SAUC] = out_sauc.mean()
    if want[SAUC_EXP]:
        vals = np.empty(n_pool)
        for i in range(n_pool):
            vals[i] = _norm(flat[pool_idx[i]], lo, hi, as_f32)
        out[SAUC_EXP] = _auc.expected_grid_auc(pos, vals, grid_kind, step, m, False)


@kernel
def _other_pool(i, n_img, h, w, fix_off, rows, cols, shapes, seed, k_other, exclude_self, mark):
    """Sorted flat indices of the union of ``k_other`` random images' fixation maps, with
    coordinates rescaled to image ``i``'s size (``floor(r * h / h_other)``).  ``mark`` is
    an all-False ``h*w`` scratch array, left all-False again."""
    n_choose = n_img - 1 if exclude_self else n_img
    st = _rng.new_stream(seed, i, _rng.OTHERS, 0)
    sel = np.empty(k_other, dtype=np.int64)
    _rng.partial_permutation(st, n_choose, k_other, sel)
    count = 0
    for t in range(k_other):
        o = sel[t]
        if exclude_self and o >= i:
            o += 1
        ho = shapes[o, 0]
        wo = shapes[o, 1]
        for f in range(fix_off[o], fix_off[o + 1]):
            r = rows[f]
            c = cols[f]
            if ho != h:
                r = (np.int64(r) * h) // ho
            if wo != w:
                c = (np.int64(c) * w) // wo
            li = np.int64(r) * w + c
            if not mark[li]:
                mark[li] = True
                count += 1
    pool = np.empty(count, dtype=np.int64)
    k = 0
    for li in range(mark.size):  # a linear scan yields ascending order, cheaper than a sort
        if mark[li]:
            mark[li] = False
            pool[k] = li
            k += 1
    return pool


@kernel
def all_finite(x):
    """True when every value is finite (``v - v`` is NaN for NaN and inf).  An OR of
    per-value tests, not a running sum: no dependency chain, so the loop vectorises."""
    flat = x.ravel()
    bad = False
    for i in range(flat.size):
        v = flat[i]
        bad |= not (v - v == 0.0)
    return not bad


@kernel(parallel=True)
def score_images(
    preds, pred_f32, shapes, fix_off, rows, cols, index, pool_mode, k_other, glob_idx, glob_w,
    baseline, resize_kind, clip01, pre_w, tr, tc, ddof, grid_kind, step, splits, judd_jitter,
    want, seed, n_chunks, ws_like, finite, out, out_borji, out_sauc,
):  # fmt: skip
    """Score the images ``index`` (all of one size ``h x w``) of a split.

    ``preds``: a typed list of 2-D float64 maps.  ``pool_mode``: 0 none, 1 union of
    ``k_other`` random images (the image itself may be drawn), 2 the same excluding the
    image, 3 all fixations of the split (``glob_idx``/``glob_w``) minus the image's own.
    Images are split into ``n_chunks`` contiguous chunks run in parallel, each with one
    workspace.  ``finite[i]`` is set False (and the image skipped) for a map holding NaN or
    inf; the caller reports it.
    """
    h = shapes[index[0], 0]
    w = shapes[index[0], 1]
    n_img = shapes.shape[0]
    n = index.size
    for ch in prange(n_chunks):
        ws = make_workspace(h, w, ws_like)
        mark = np.zeros(h * w if pool_mode == 1 or pool_mode == 2 else 0, dtype=np.bool_)
        for t in range(ch * n // n_chunks, (ch + 1) * n // n_chunks):
            i = index[t]
            pred = preds[i]
            if not all_finite(pred):
                finite[i] = False
                continue
            r = rows[fix_off[i]:fix_off[i + 1]]
            c = cols[fix_off[i]:fix_off[i + 1]]
            if pool_mode == 1 or pool_mode == 2:
                pool = _other_pool(i, n_img, h, w, fix_off, rows, cols, shapes, seed, k_other,
                                   pool_mode == 2, mark)
                pool_w = np.ones(pool.size)
                own_sub = False
            elif pool_mode == 3:
                pool = glob_idx
                pool_w = glob_w
                own_sub = True
            else:
                pool = np.empty(0, dtype=np.int64)
                pool_w = np.empty(0)
                own_sub = False
            score_image(pred, pred_f32, r, c, pool, pool_w, own_sub, baseline,
                        resize_kind, clip01, pre_w, tr, tc, ddof, grid_kind, step, splits,
                        judd_jitter, want, seed, i, ws, out[i], out_borji[i], out_sauc[i])
