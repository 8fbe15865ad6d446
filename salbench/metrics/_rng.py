"""Counter-based random streams for the sampled metrics.

Every random choice a metric makes is drawn from a stream keyed by
``(seed, image, purpose, split)``.  A stream does not depend on which thread computes
the image or in what order images are scored, so a parallel dataset run gives the same
numbers as a serial one, and a per-image call with ``stream=i`` reproduces image ``i`` of
a dataset run.  The generator is SplitMix64 (Steele, Lea & Flood 2014); bounded integers
use rejection sampling, so they are unbiased.

The ``draw_*`` functions expose the exact draws to Python, so that reference code in the
tests can be fed the same random numbers as the kernels.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import kernel

# purposes: which random choice a stream serves
BORJI = 1  # auc_borji: negatives drawn uniformly from all pixels, with replacement
OTHERS = 2  # sauc: which images make the "other" fixation map
SAUC = 3  # sauc: random permutation of the other map's pixels, per split
JITTER = 4  # auc_judd (mit, pysaliency): 1e-7 jitter

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO32 = np.uint64(1) << np.uint64(32)


@kernel
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@kernel
def new_stream(seed, image, purpose, split):
    """A fresh stream state (a 1-element uint64 array) for one random choice."""
    z = _mix(np.uint64(seed) + _GAMMA)
    z = _mix(z ^ (np.uint64(image) + _GAMMA))
    z = _mix(z ^ (np.uint64(purpose) * _GAMMA))
    z = _mix(z ^ (np.uint64(split) + _GAMMA))
    st = np.empty(1, dtype=np.uint64)
    st[0] = z
    return st


@kernel
def next_u64(st):
    st[0] += _GAMMA
    return _mix(st[0])


@kernel
def below(st, n):
    """Uniform integer in [0, n) for 0 < n < 2**32, unbiased (Lemire's multiply-shift with
    rejection, "Fast random integer generation in an interval", 2019): no division on
    the common path."""
    un = np.uint64(n)
    m = (next_u64(st) >> _S32) * un
    low = m & _LOW32
    if low < un:
        t = (_TWO32 - un) % un
        while low < t:
            m = (next_u64(st) >> _S32) * un
            low = m & _LOW32
    return np.int64(m >> _S32)


@kernel
def _unit(x):
    """The uniform float in [0, 1) of one 64-bit draw (its top 53 bits)."""
    return np.float64(x >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@kernel
def uniform01(st):
    """Uniform float in [0, 1) with 53 random bits."""
    return _unit(next_u64(st))


@kernel
def _box_muller(u1, u2):
    """The normal pair of two uniforms, ``u1`` in (0, 1]: ``|z| <= sqrt(-2 log 2**-53) =
    8.57`` (``NORMAL_BOUND``)."""
    r = math.sqrt(-2.0 * math.log(u1))
    return r * math.cos(2.0 * math.pi * u2), r * math.sin(2.0 * math.pi * u2)


@kernel
def normal_pair(st):
    """Two independent standard normal draws (Box-Muller on two uniforms)."""
    u1 = 1.0 - uniform01(st)  # (0, 1]
    u2 = uniform01(st)
    return _box_muller(u1, u2)


# ---- draws by position: a stream's k-th draw without the k - 1 before it -----------
#
# A stream's state after ``k`` draws is its start plus ``k * _GAMMA`` (SplitMix64 is a
# counter), so any draw can be made alone: the lazy jitter of ``_auc.judd`` draws the
# noise of the few pixels whose noise can change a count, and gets what the sequential
# draws give those pixels.

NORMAL_BOUND = 9.0  # above |z| for every normal draw (8.57, see _box_muller)


@kernel
def start(seed, image, purpose, split):
    """The state of a fresh stream, as a number (for the ``*_at`` draws)."""
    return new_stream(seed, image, purpose, split)[0]


@kernel
def uniform_at(base, k):
    """The ``k``-th uniform (from 0) of the stream that starts at ``base``."""
    return _unit(_mix(np.uint64(base) + np.uint64(k + 1) * _GAMMA))


@kernel
def normal_pair_at(base, j):
    """The ``j``-th normal pair (from 0) of the stream that starts at ``base``: draws
    ``2j`` and ``2j + 1``, as :func:`normal_pair` takes them."""
    return _box_muller(1.0 - uniform_at(base, 2 * j), uniform_at(base, 2 * j + 1))


@kernel
def partial_permutation(st, n, m, out):
    """First ``m`` entries of a Fisher-Yates shuffle of ``range(n)`` into ``out[:m]``.

    The forward algorithm swaps position ``i`` with a uniform position in ``[i, n)``, so
    the first ``m`` entries of a full shuffle made with the same stream are these.
    """
    perm = np.arange(n)
    for i in range(m):
        j = i + below(st, n - i)
        t = perm[i]
        perm[i] = perm[j]
        perm[j] = t
        out[i] = perm[i]


@kernel
def partial_shuffle(st, perm, m, swaps):
    """:func:`partial_permutation` in place: ``perm`` must hold ``range(n)``; afterwards
    ``perm[:m]`` is the draw.  The swap partners go to ``swaps`` for :func:`undo_shuffle`,
    which restores ``range(n)`` in ``O(m)`` instead of re-filling ``n`` entries."""
    n = perm.size
    for i in range(m):
        j = i + below(st, n - i)
        swaps[i] = j
        t = perm[i]
        perm[i] = perm[j]
        perm[j] = t


@kernel
def undo_shuffle(perm, m, swaps):
    for i in range(m - 1, -1, -1):
        j = swaps[i]
        t = perm[i]
        perm[i] = perm[j]
        perm[j] = t


# ---- Python-facing draws (tests, reference ports) -----------------------------------


@kernel
def draw_indices(seed, image, purpose, split, n, count):
    """``count`` uniform integers in [0, n), with replacement."""
    st = new_stream(seed, image, purpose, split)
    out = np.empty(count, dtype=np.int64)
    for i in range(count):
        out[i] = below(st, n)
    return out


@kernel
def draw_permutation(seed, image, purpose, split, n, m):
    """First ``m`` entries of a random permutation of ``range(n)``."""
    st = new_stream(seed, image, purpose, split)
    out = np.empty(m, dtype=np.int64)
    partial_permutation(st, n, m, out)
    return out


@kernel
def draw_uniform(seed, image, purpose, split, count):
    """``count`` uniform floats in [0, 1)."""
    st = new_stream(seed, image, purpose, split)
    out = np.empty(count, dtype=np.float64)
    for i in range(count):
        out[i] = uniform01(st)
    return out


@kernel
def draw_normal(seed, image, purpose, split, count):
    """``count`` standard normal floats (pairs from Box-Muller, in order)."""
    st = new_stream(seed, image, purpose, split)
    out = np.empty(count, dtype=np.float64)
    for i in range(0, count - 1, 2):
        out[i], out[i + 1] = normal_pair(st)
    if count % 2:
        out[count - 1] = normal_pair(st)[0]
    return out
