"""sauc's negative pools: which other images' fixations stand in for the non-fixated.

The union of 10 images' binary fixation maps (``replication``, ``mit``) is drawn per image
from its own random stream in :func:`union_of_maps`; the count-weighted pools
(``exact``, ``pysaliency``, ``salicon``) are made once per image size in Python.
"""

from __future__ import annotations

import numpy as np

from . import _rng
from ._jit import kernel


def union_of_maps(i: int, n_img: int, h: int, w: int, fix_off: np.ndarray, rows: np.ndarray,
                  cols: np.ndarray, shapes: np.ndarray, seed: int, k_other: int,
                  exclude_self: bool, mark: np.ndarray, float_truncate: bool) -> np.ndarray:
    """Sorted flat indices of the union of ``k_other`` random images' fixation maps, with
    coordinates rescaled to image ``i``'s size as :func:`rescaled` does (``floor(r * h /
    h_other)``, or ``int(float(r) * (h / h_other))`` with ``float_truncate``).  ``mark`` is
    an all-False scratch array of at least ``h*w`` entries, left all-False again.  The
    distinct pixels come from :func:`union_unsorted` and are sorted by numpy (~5,000 at
    480x640: 0.03 ms; numba's sort, or a radix sort, cost 0.8 s and more to compile)."""
    idx = union_unsorted(i, n_img, h, w, fix_off, rows, cols, shapes, seed, k_other,
                         exclude_self, mark, float_truncate)
    idx.sort()
    return idx


@kernel
def union_unsorted(i, n_img, h, w, fix_off, rows, cols, shapes, seed, k_other, exclude_self,
                   mark, float_truncate):
    """The distinct flat indices of :func:`union_of_maps`, in the order first marked:
    ``mark`` drops repeated pixels as they come (a scan of the marks for the set ones cost
    0.15 ms at 480x640, mostly mispredicted branches)."""
    n_choose = n_img - 1 if exclude_self else n_img
    st = _rng.new_stream(seed, i, _rng.OTHERS, 0)
    sel = np.empty(k_other, dtype=np.int64)
    _rng.partial_permutation(st, n_choose, k_other, sel)
    most = 0
    for t in range(k_other):
        o = sel[t] + 1 if exclude_self and sel[t] >= i else sel[t]
        sel[t] = o
        most += fix_off[o + 1] - fix_off[o]
    hits = np.empty(most, dtype=np.int64)
    count = 0
    for t in range(k_other):
        o = sel[t]
        ho = shapes[o, 0]
        wo = shapes[o, 1]
        for f in range(fix_off[o], fix_off[o + 1]):
            r = rows[f]
            c = cols[f]
            if ho != h:
                r = np.int64(r * (h / ho)) if float_truncate else (r * h) // ho
            if wo != w:
                c = np.int64(c * (w / wo)) if float_truncate else (c * w) // wo
            li = r * w + c
            if not mark[li]:
                mark[li] = True
                hits[count] = li
                count += 1
    for q in range(count):
        mark[hits[q]] = False
    return hits[:count]


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
