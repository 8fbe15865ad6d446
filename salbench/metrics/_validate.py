"""Input checks shared by the per-image functions and the dataset scorer.

Bad input raises :class:`~salbench.errors.UserError` (a ``ValueError``) naming the image,
what is wrong and what to do; nothing is silently repaired.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import UserError, is_whole

NORMALIZE_CLIP = "clip"
NORMALIZE_MINMAX = "minmax"
NORMALIZATIONS = (NORMALIZE_CLIP, NORMALIZE_MINMAX)


def saliency_map(smap, name: str = "image") -> np.ndarray:
    """A 2-D, non-empty, real numeric map (not copied, not converted)."""
    if isinstance(smap, np.ma.MaskedArray) and np.ma.getmaskarray(smap).any():
        raise UserError("saliency map is a masked array with masked values (a mask is not "
                        "read: they would be scored as they are)", name,
                        "fill them explicitly first (np.ma.filled)")
    a = np.asarray(smap)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise UserError(f"saliency map must be numeric, got dtype {a.dtype}", name,
                        "convert it to a float array first")
    if np.iscomplexobj(a):
        raise UserError(f"saliency map must be real, got dtype {a.dtype}", name,
                        "pass its real part or magnitude explicitly")
    if a.ndim != 2:
        raise UserError(f"saliency map must be 2-D (H, W), got shape {a.shape}", name,
                        "give one grey map per image (a colour image: convert it to grey "
                        "first; a batch: one map at a time)")
    if a.size == 0:
        raise UserError(f"saliency map is empty (shape {a.shape})", name,
                        "give a map with at least one pixel")
    return a


def counter(value, what: str = "seed") -> int:
    """A seed or stream of the counter-based draws: an integer in [0, 2**64)."""
    if not is_whole(value) or not 0 <= int(value) < 2**64:
        raise UserError(f"{what} must be an integer in [0, 2**64), got {value!r}",
                        hint="give a whole number such as 0")
    return int(value)


def as_float64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def finite_range(smap: np.ndarray, name: str = "image", what: str = "saliency map",
                 hint: str = "fix the model's output; NaN maps cannot be scored"
                 ) -> tuple[float, float]:
    """``(min, max)`` of a map with only finite values.  numpy's min and max propagate NaN
    and show ±inf, so finiteness costs no pass of its own (a full-size map is read twice,
    not four times); only a bad map is read again, to count what is wrong."""
    lo, hi = float(np.min(smap)), float(np.max(smap))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        nan = int(np.isnan(smap).sum())
        inf = int(np.isinf(smap).sum())
        raise UserError(f"{what} has {nan} NaN and {inf} infinite values", name, hint)
    return lo, hi


def unit_range(lo: float, hi: float, name: str, protocol: str) -> None:
    """The replication protocol's 8-bit cast needs maps in [0, 1]."""
    if lo < 0.0 or hi > 1.0:
        raise UserError(f"saliency map values lie in [{lo:g}, {hi:g}], but protocol "
                        f"{protocol!r} needs [0, 1] (its 8-bit cast would wrap or clip them)",
                        name, "rescale the maps, or say how: --normalize minmax (or clip), "
                        "normalize='minmax' in Python")


def non_negative_for_kld(lo: float, name: str, protocol: str) -> None:
    if lo < 0:
        raise UserError(f"kld under protocol {protocol!r} needs a non-negative saliency map "
                        f"(min {lo:g})", name, "use --normalize minmax (or clip), or leave kld "
                        "out (--metrics)")


def normalized_range(lo: float, hi: float, how: str | None) -> tuple[float, float]:
    """``(min, max)`` of :func:`normalized`'s map, from the map's ``(lo, hi)``: exact, as
    each normalisation is monotone and maps the extremes exactly (``(hi - lo) / (hi - lo)``
    is 1)."""
    if how == NORMALIZE_CLIP:
        return min(max(lo, 0.0), 1.0), min(max(hi, 0.0), 1.0)
    if how == NORMALIZE_MINMAX:
        return 0.0, (1.0 if hi > lo else 0.0)
    return lo, hi


def normalized(a: np.ndarray, how: str | None, lo: float, hi: float) -> np.ndarray:
    """The map after the user's explicit normalisation (float64 copy), or as it is."""
    if how is None:
        return a
    if how == NORMALIZE_CLIP:
        return np.clip(as_float64(a), 0.0, 1.0)
    if how == NORMALIZE_MINMAX:
        out = as_float64(a) - lo
        if hi > lo:
            out /= (hi - lo)
        return out
    raise UserError(f"unknown normalisation {how!r}", hint=f"choose {' or '.join(NORMALIZATIONS)}")


def image_shape(shape, name: str = "image") -> tuple[int, int]:
    try:
        h, w = (int(v) for v in shape)
    except (TypeError, ValueError, OverflowError):
        raise UserError(f"image shape must be (height, width), got {shape!r}", name,
                        "give two whole numbers, e.g. (480, 640)") from None
    if h <= 0 or w <= 0 or (h, w) != tuple(np.asarray(shape).tolist()):
        raise UserError(f"image shape must be two positive integers, got {shape!r}", name,
                        "give two whole numbers above 0, e.g. (480, 640)")
    if h * w > 2**31:
        raise UserError(f"image of {h}x{w} pixels is too large to score", name,
                        "score it at a smaller size (at most 2**31 pixels)")
    return h, w


def fixation_array(fix, name: str | None = "image", what: str = "fixations") -> np.ndarray:
    """``fix`` as an ``(N, 2)`` array of real numbers, not converted (any empty array: an
    empty int64 one); bool, complex, text and other shapes are refused."""
    try:
        a = np.asarray(fix)
    except ValueError:  # ragged nesting
        raise UserError(f"{what} must be an (N, 2) array of (row, col); got ragged sequences",
                        name, "give two coordinates per fixation") from None
    if a.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if a.ndim != 2 or a.shape[1] != 2:
        raise UserError(f"{what} must be an (N, 2) array of (row, col), got shape {a.shape}",
                        name, "give one (row, col) pair per fixation")
    if a.dtype == bool or not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise UserError(f"{what} must be integer pixel coordinates, got {a.dtype}", name,
                        "give 0-based (row, col) pixel indices")
    return a


def fixations(fix, shape: tuple[int, int], name: str = "image",
              what: str = "fixations") -> np.ndarray:
    """(N, 2) int64 array of 0-based (row, col) pixel coordinates inside ``shape``.

    Float coordinates are accepted only when they are whole numbers; an empty array is
    allowed (metrics then return NaN, as the references do).
    """
    a = fixation_array(fix, name, what)
    if a.size == 0:
        return a
    whole_coordinates(a, lambda j: name, what)
    h, w = shape
    # bounds in the given type: a cast first would wrap 1e30 or a uint64 2**63 to -2**63
    bad = (a[:, 0] < 0) | (a[:, 0] >= h) | (a[:, 1] < 0) | (a[:, 1] >= w)
    if bad.any():
        raise outside_image(a[bad], len(a), h, w, name, what)
    return np.ascontiguousarray(a, dtype=np.int64)


def whole_coordinates(a: np.ndarray, name_of, what: str = "fixations") -> None:
    """Refuse float coordinates ``a`` (N, 2) that are not finite or not whole numbers,
    naming the image of the first bad row ``j`` as ``name_of(j)``; integers pass."""
    if np.issubdtype(a.dtype, np.integer):
        return
    bad = ~np.isfinite(a).all(axis=1)
    if bad.any():
        raise UserError(f"{what} contain NaN or infinite coordinates",
                        name_of(int(np.flatnonzero(bad)[0])), "drop those fixations first")
    bad = (a != np.round(a)).any(axis=1)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise UserError(f"{what} must be whole pixel coordinates (0-based row, col), "
                        f"e.g. (row={coordinate(a[j, 0])}, col={coordinate(a[j, 1])})",
                        name_of(j), "round or floor them explicitly first")


def outside_image(bad: np.ndarray, n: int, h: int, w: int, name: str | None,
                  what: str = "fixations") -> UserError:
    """The error for fixations ``bad`` (as given, not cast) of ``n`` outside an ``h x w``
    image."""
    r, c = (coordinate(v) for v in bad[0])
    return UserError(f"{len(bad)} of {n} {what} lie outside the {h}x{w} image, "
                     f"e.g. (row={r}, col={c})", name, "coordinates are 0-based (row, col)")


def coordinate(v) -> str:
    """A coordinate as the user would write it: whole numbers without a decimal point."""
    v = v.item() if isinstance(v, np.generic) else v
    if isinstance(v, float) and v.is_integer() and abs(v) < 2.0**53:
        return str(int(v))
    return str(v)


def baseline_map(baseline, shape: tuple[int, int], name: str = "baseline") -> np.ndarray:
    b = saliency_map(baseline, name)
    finite_range(b, name, "baseline map", "give a finite map")
    b = as_float64(b)
    if b.shape != tuple(shape):
        from ._maps import flat
        from ._resize import matlab_bicubic

        b = matlab_bicubic(b, shape[0], shape[1])
        lo, hi = b.min(), b.max()
        # a constant map resized is constant up to ~1e-16 ripples, which the min-max
        # scaling of InfoGain.m would turn into the baseline's structure (ig of 14.5 bits
        # against a resized np.ones): taken as the constant it is, as a resized
        # prediction is (ig is then NaN, "constant baseline map", as at the image's size)
        if hi > lo and flat(lo, hi):
            b[...] = b.mean()
    return b


def ground_truth_at(gt, shape: tuple[int, int]) -> np.ndarray:
    """A checked ground-truth map (:func:`ground_truth_map`) as float64 at the image's
    ``shape``: MATLAB's bicubic resize when another size, its overshoot below 0 clipped (a
    density has no negative values, and resized 8-bit maps saturate at 0, as for a
    prediction; kld was NaN, blamed on antonioGaussian's lobes)."""
    g = as_float64(gt)
    if g.shape != tuple(shape):
        from ._resize import matlab_bicubic

        g = np.maximum(matlab_bicubic(g, *shape), 0.0)
    return g


def ground_truth_map(gt, name: str = "image") -> np.ndarray:
    """A given continuous ground-truth map: 2-D, finite, non-negative."""
    g = saliency_map(gt, f"{name}: ground-truth map")
    lo, _ = finite_range(g, name, "ground-truth map", "check the file; ground truths are "
                         "finite densities")
    if lo < 0:
        raise UserError("ground-truth map has negative values", name,
                        "ground-truth maps are densities; check the file")
    return g
