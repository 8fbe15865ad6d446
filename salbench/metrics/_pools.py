"""sauc's negative pools: which other images' fixations stand in for the non-fixated.

The union of 10 images' binary fixation maps (``replication``, ``mit``) is drawn per image
from its own random stream in :func:`union_of_maps`; the count-weighted pools
(``exact``, ``pysaliency``, ``salicon``) are made once per image size in Python.
"""

from __future__ import annotations

import numpy as np

from . import _rng
from ._jit import kernel


@kernel
def union_of_maps(i, n_img, h, w, fix_off, rows, cols, shapes, seed, k_other, exclude_self,
                  mark, words):
    """Sorted flat indices of the union of ``k_other`` random images' fixation maps, with
    coordinates rescaled to image ``i``'s size (``floor(r * h / h_other)``).  ``mark`` is
    an all-False scratch array of at least ``h*w`` entries, its length a multiple of 8, left
    all-False again; ``words`` is the same memory as 64-bit words (``mark.view(uint64)``),
    so the scan for marked pixels skips eight unmarked ones per read."""
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
                r = (r * h) // ho
            if wo != w:
                c = (c * w) // wo
            li = r * w + c
            if not mark[li]:
                mark[li] = True
                count += 1
    pool = np.empty(count, dtype=np.int64)
    k = 0
    for b in range(words.size):  # a linear scan yields ascending order, cheaper than a sort
        if words[b] == 0:
            continue
        for li in range(8 * b, 8 * b + 8):
            if mark[li]:
                pool[k] = li
                k += 1
        words[b] = 0
    return pool


def rescaled(rows: np.ndarray, cols: np.ndarray, src_shape, dst_shape, float_truncate: bool
             ) -> tuple[np.ndarray, np.ndarray]:
    """Fixations of images of ``src_shape`` (per fixation: ``(n, 2)`` array, or one shape)
    in a frame of ``dst_shape``: ``floor(x * W / W_src)`` exactly, or pysaliency's
    ``int(float(x) * (W / W_src))`` with ``float_truncate``."""
    src = np.asarray(src_shape, dtype=np.int64)
    hs = src[..., 0]
    ws = src[..., 1]
    h, w = dst_shape
    if float_truncate:
        r = (rows.astype(float) * (h / hs.astype(float))).astype(np.int64)
        c = (cols.astype(float) * (w / ws.astype(float))).astype(np.int64)
    else:
        r = np.where(hs == h, rows, rows * h // hs)
        c = np.where(ws == w, cols, cols * w // ws)
    return r.astype(np.int64), c.astype(np.int64)


def counted(lin: np.ndarray, weights: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Unique flat indices with their total weight (count when ``weights`` is None)."""
    idx, inv = np.unique(lin, return_inverse=True)
    w = np.bincount(inv, weights=weights, minlength=idx.size).astype(np.float64)
    return idx.astype(np.int64), w
