"""Input checks shared by the per-image functions and the dataset scorer.

Bad input raises ``ValueError`` naming the image; nothing is silently repaired.
"""

from __future__ import annotations

import numpy as np


def saliency_map(smap, name: str = "image", check_finite: bool = True
                 ) -> tuple[np.ndarray, bool]:
    """A 2-D float64 map (finite unless ``check_finite`` is off: the dataset scorer checks
    in its parallel kernel), and whether it was float32 (the replication protocol
    quantises in the prediction's own precision)."""
    a = np.asarray(smap)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise ValueError(f"{name}: saliency map must be numeric, got dtype {a.dtype}")
    if np.iscomplexobj(a):
        raise ValueError(f"{name}: saliency map must be real, got dtype {a.dtype}")
    if a.ndim != 2:
        raise ValueError(f"{name}: saliency map must be 2-D (H, W), got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name}: saliency map is empty (shape {a.shape})")
    is_f32 = a.dtype == np.float32
    out = np.ascontiguousarray(a, dtype=np.float64)
    if check_finite:
        finite(out, name)
    return out, is_f32


def finite(smap: np.ndarray, name: str = "image") -> None:
    bad = ~np.isfinite(smap)
    if bad.any():
        nan = int(np.isnan(smap).sum())
        raise ValueError(f"{name}: saliency map has {nan} NaN and {int(bad.sum()) - nan} "
                         "infinite values")


def non_negative(smap: np.ndarray, name: str = "image") -> None:
    """kld treats the map as a distribution: negative values are an error, not clipped."""
    lo = smap.min()
    if lo < 0:
        raise ValueError(f"{name}: kld needs a non-negative saliency map (min {lo:g}); clip "
                         "the predictions at 0 or leave kld out (--metrics)")


def image_shape(shape, name: str = "image") -> tuple[int, int]:
    try:
        h, w = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: image shape must be (height, width), got {shape!r}") from None
    if h <= 0 or w <= 0 or (h, w) != tuple(np.asarray(shape).tolist()):
        raise ValueError(f"{name}: image shape must be two positive integers, got {shape!r}")
    return h, w


def fixations(fix, shape: tuple[int, int], name: str = "image",
              what: str = "fixations") -> np.ndarray:
    """(N, 2) int64 array of 0-based (row, col) pixel coordinates inside ``shape``.

    Float coordinates are accepted only when they are whole numbers; an empty array is
    allowed (metrics then return NaN, as the references do).
    """
    a = np.asarray(fix)
    if a.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if a.ndim != 2 or a.shape[1] != 2:
        raise ValueError(f"{name}: {what} must be an (N, 2) array of (row, col), got shape "
                         f"{a.shape}")
    if a.dtype == bool or not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise ValueError(f"{name}: {what} must be integer pixel coordinates, got {a.dtype}")
    if not np.issubdtype(a.dtype, np.integer):
        if not np.isfinite(a).all():
            raise ValueError(f"{name}: {what} contain NaN or infinite coordinates")
        if (a != np.round(a)).any():
            raise ValueError(f"{name}: {what} must be whole pixel coordinates (0-based row, "
                             "col); round or floor them explicitly first")
    out = a.astype(np.int64)
    h, w = shape
    bad = (out[:, 0] < 0) | (out[:, 0] >= h) | (out[:, 1] < 0) | (out[:, 1] >= w)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}: {int(bad.sum())} of {len(out)} {what} lie outside the "
                         f"{h}x{w} image, e.g. (row={out[i, 0]}, col={out[i, 1]}); "
                         "coordinates are 0-based (row, col)")
    return np.ascontiguousarray(out)


def baseline_map(baseline, shape: tuple[int, int], name: str = "baseline") -> np.ndarray:
    b, _ = saliency_map(baseline, name)
    if b.shape != tuple(shape):
        from ._resize import matlab_bicubic

        b = matlab_bicubic(b, shape[0], shape[1])
    return b
