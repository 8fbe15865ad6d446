"""AUC-Judd's tie-breaking jitter (mit, pysaliency) drawn lazily: ``_auc.judd`` draws the
noise only of pixels whose jittered value could fall on the other side of a positive, by
position in the stream.  Each value must be what the formed jittered map gives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from salbench.metrics import _auc, _rng

import naive
from conftest import agree

SEED = 5


def _formed(p: np.ndarray, amplitude: float, normal: bool, stream: int) -> np.ndarray:
    """``p + noise * amplitude`` with the stream's sequential draws, as a map."""
    draw = _rng.draw_normal if normal else _rng.draw_uniform
    return p + draw(SEED, stream, _rng.JITTER, 0, p.size).reshape(p.shape) * amplitude


@pytest.mark.parametrize("count", [1, 2, 7, 1000])
def test_draws_by_position_equal_the_sequential_draws(count):
    base = np.uint64(_rng.start(SEED, 3, _rng.JITTER, 0))
    uniform = _rng.draw_uniform(SEED, 3, _rng.JITTER, 0, count)
    assert [_rng.uniform_at(base, k) for k in range(count)] == uniform.tolist()
    normal = _rng.draw_normal(SEED, 3, _rng.JITTER, 0, count)
    pairs = [v for j in range((count + 1) // 2) for v in _rng.normal_pair_at(base, j)]
    assert pairs[:count] == normal.tolist()
    assert np.abs(_rng.draw_normal(SEED, 4, _rng.JITTER, 0, 200_000)).max() \
        < _rng.NORMAL_BOUND


KINDS = ["continuous", "levels", "tiny range", "two clusters", "far offset", "constant",
         "zeros", "negative", "plateau at max"]


def _map(kind: str, shape: tuple[int, int], rng) -> np.ndarray:
    x = rng.random(shape)
    return {"continuous": x,
            "levels": np.floor(x * 4) / 4,  # 8-bit-like ties: most noise is drawn
            "tiny range": 0.5 + x * 1e-9,  # the jitter dwarfs the map
            # each cluster's spread far below the jitter, their distance far above
            "two clusters": 0.5 + 1e-4 * (x > 0.5) + 1e-9 * x,
            "far offset": 1e6 + x,
            "constant": np.full(shape, 0.25),
            "zeros": np.where(x > 0.8, x, 0.0),
            "negative": x - 0.7,
            "plateau at max": np.minimum(x * 1.5, 1.0)}[kind]


@pytest.mark.parametrize("mit", [True, False], ids=["mit", "pysaliency"])
@pytest.mark.parametrize("normal", [False, True], ids=["uniform", "normal"])
@pytest.mark.parametrize("kind", KINDS)
@given(h=st.integers(1, 23), w=st.integers(1, 23), amplitude=st.sampled_from([1e-7, 1e-3]),
       fixated=st.floats(0.02, 1.0), stream=st.integers(0, 50), seed=st.integers(0, 2**32))
def test_lazy_jitter_equals_the_formed_jittered_map(kind, normal, mit, h, w, amplitude,
                                                    fixated, stream, seed):
    rng = np.random.default_rng(seed)
    p = _map(kind, (h, w), rng)
    k = max(1, int(fixated * p.size))
    every = np.sort(rng.integers(0, p.size, k))  # fixations, repeats likely
    ulin = np.unique(every)
    pos_idx = ulin if mit else every
    q = _formed(p, amplitude, normal, stream)
    got = _auc.judd(p, amplitude, normal, mit, SEED, stream, pos_idx, ulin)
    # the formed map, jitter 0: no noise is drawn, every pixel counted at its value
    want = _auc.judd(q, 0.0, normal, mit, SEED, stream, pos_idx, ulin)
    assert got[1] == want[1]
    assert got[0] == want[0] or (np.isnan(got[0]) and np.isnan(want[0]))
    if mit and not got[1] and ulin.size < p.size:
        s = (q - q.min()) / (q.max() - q.min())
        fm = np.zeros(p.size)
        fm[ulin] = 1.0
        agree(got[0], naive.judd_mit(s, fm.reshape(p.shape)), metric="auc_judd",
              protocol="mit", atol=1e-12, reference="MIT's AUC_Judd.m (tests/naive.py)")


@pytest.mark.parametrize("kind", ["continuous", "levels", "tiny range", "zeros"])
def test_pysaliency_curve_of_the_lazy_jitter(rng, kind, monkeypatch):
    roc = pytest.importorskip("pysaliency.roc", reason="pysaliency not installed")
    if not hasattr(np, "trapz"):  # pysaliency 0.2.22 calls np.trapz, removed in numpy 2.4
        monkeypatch.setattr(np, "trapz", np.trapezoid, raising=False)
    shape = (37, 29)
    p = _map(kind, shape, rng)
    every = np.sort(rng.integers(0, p.size, 60))
    ulin = np.unique(every)
    q = _formed(p, 1e-7, True, 2).ravel()
    got, constant = _auc.judd(p, 1e-7, True, False, SEED, 2, every, ulin)
    assert not constant
    negatives = np.delete(q, ulin)
    agree(got, roc.general_roc(q[every], negatives, judd=1)[0], metric="auc_judd",
          protocol="pysaliency", atol=1e-12,
          reference="pysaliency general_roc(judd=1) on the formed jittered map")


def test_a_constant_jittered_map_is_constant_under_mit():
    p = np.full((3, 4), 0.5)
    v, constant = _auc.judd(p, 0.0, False, True, SEED, 0, np.array([1]), np.array([1]))
    assert constant and np.isnan(v)
    v, constant = _auc.judd(p, 1e-7, False, True, SEED, 0, np.array([1]), np.array([1]))
    assert not constant and not np.isnan(v)


@pytest.mark.parametrize("normal", [False, True], ids=["uniform", "normal"])
@pytest.mark.parametrize("kind", KINDS)
@given(h=st.integers(1, 40), w=st.integers(1, 40), amplitude=st.sampled_from([1e-7, 1e-3, 0.0]),
       stream=st.integers(0, 50), seed=st.integers(0, 2**32))
def test_jittered_range_is_the_formed_maps_min_and_max(kind, normal, h, w, amplitude, stream,
                                                      seed):
    """The normalisation's min and max come only from the pixels within reach of the
    map's extremes (AUC-Judd itself depends on them only through rounding ties)."""
    p = _map(kind, (h, w), np.random.default_rng(seed))
    q = _formed(p, amplitude, normal, stream)
    base = np.uint64(_rng.start(SEED, stream, _rng.JITTER, 0))
    assert _auc.jittered_range(p.ravel(), amplitude, normal, base) \
        == (p.min(), p.max(), q.min(), q.max())


def test_values_an_ulp_from_a_positive_normalise_as_in_the_formed_map(rng):
    """A jitter below the map's rounding leaves each value as it is; pixels one ulp from a
    fixated one (some fixated too) then normalise onto it or beside it, and must count as
    they do in the formed map (gaps are found between the positives before normalisation,
    where two positives that normalise to one value are still two)."""
    shape = (16, 16)
    p = 0.3 + 0.4 * rng.random(shape)
    flat = p.ravel()
    order = rng.permutation(p.size)
    first, near = order[:40], order[40:120]
    for k, j in enumerate(near):
        flat[j] = np.nextafter(flat[first[k % 40]], np.inf if k % 2 else -np.inf)
    flat[order[-1]] = -0.7  # q - min then rounds to half the ulps of q: some pairs merge
    fixated = np.sort(np.concatenate((first, near[::4])))
    q = _formed(p, 1e-17, False, 1)
    assert np.array_equal(q, p)  # the noise is below every value's rounding
    s = (q - q.min()) / (q.max() - q.min())
    merged = [s.ravel()[j] == s.ravel()[first[k % 40]] for k, j in enumerate(near)]
    assert 0 < sum(merged) < near.size  # some pairs normalise onto one value, some do not
    assert any(merged[::4])  # and some fixated pairs
    fm = np.zeros(p.size)
    fm[fixated] = 1.0
    got, _ = _auc.judd(p, 1e-17, False, True, SEED, 1, fixated, fixated)
    agree(got, naive.judd_mit(s, fm.reshape(shape)), metric="auc_judd", protocol="mit",
          atol=1e-12, reference="MIT's AUC_Judd.m on the formed map (tests/naive.py)")
