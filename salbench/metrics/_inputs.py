"""Per-image input handling shared by the per-image functions and the dataset scorer:
checks against the protocol, the user's normalisation, float64 conversion, pools."""

from __future__ import annotations

import math

import numpy as np

from . import _pools, _validate
from . import protocols as P
from ._engine import salicon_filter
from .protocols import Protocol

# maps beyond these magnitudes are rescaled by a power of two (exact) before scoring, so
# squares and sums neither overflow nor underflow; every metric here is scale-invariant
_HUGE = 2.0**400
_TINY = 2.0**-400


class MapCheck:
    """What the protocol needs to know about one prediction before scoring."""

    __slots__ = ("f32", "hi", "lo", "negative")

    def __init__(self, a: np.ndarray, name: str, proto: Protocol, metrics, normalize) -> None:
        lo, hi = _validate.finite_range(a, name)
        lo2, hi2 = _validate.normalized_range(lo, hi, normalize)
        if proto.unit_range:
            _validate.unit_range(lo2, hi2, name, proto.name)
        if "kld" in metrics and proto.kld_negative == P.NEGATIVE_REFUSE:
            _validate.non_negative_for_kld(lo2, name, proto.name)
        self.lo, self.hi = lo, hi
        self.negative = lo2 < 0.0
        self.f32 = a.dtype == np.float32 and normalize is None


def as_scored(a: np.ndarray, check: MapCheck, normalize
              ) -> tuple[np.ndarray, tuple[float, float]]:
    """The float64 map the kernels read (normalised as asked; power-of-two rescaled when
    its magnitude would overflow or underflow in squares), and its ``(min, max)``.  Those
    come from the check's without a pass over the map: the float64 cast and the
    power-of-two rescaling are monotone and exact at the extremes, as the normalisations
    are (:func:`~._validate.normalized_range`)."""
    m = _validate.normalized(a, normalize, check.lo, check.hi)
    m = _validate.as_float64(m)
    lo, hi = _validate.normalized_range(check.lo, check.hi, normalize)
    big = max(abs(lo), abs(hi)) if normalize is None else 1.0
    if big > _HUGE or 0.0 < big < _TINY:
        e = -math.frexp(big)[1]
        m = np.ldexp(m, e)
        lo, hi = math.ldexp(lo, e), math.ldexp(hi, e)
    return m, (lo, hi)


def kept_fixations(proto: Protocol, rows: np.ndarray, cols: np.ndarray):
    if proto.fixation_filter == P.FILTER_SALICON:
        return salicon_filter(rows, cols)
    return rows, cols


def pool_from_coordinates(proto: Protocol, other: np.ndarray, src_shape, shape):
    """sauc's pool ``(flat indices, weights, own)`` from explicit other fixations."""
    w = shape[1]
    r, c = _pools.rescaled(other[:, 0], other[:, 1], src_shape, shape,
                           proto.rescale == P.RESCALE_FLOAT)
    lin = r * w + c
    if proto.sauc_pool in (P.POOL_RANDOM_10, P.POOL_OTHER_10):
        idx = np.unique(lin).astype(np.int64)
        return idx, np.ones(idx.size), np.empty(0, dtype=np.int64)
    idx, counts = _pools.counted(lin)
    return idx, counts, np.empty(0, dtype=np.int64)
