"""``@expected``: the exact expectation of the sampled grid AUCs over the random draws."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from salbench.metrics import auc_borji, sauc
from salbench.metrics._auc import GRID_ARANGE, GRID_COLON, _sorted_union, expected_grid_auc

import naive
from conftest import random_fixations

GRIDS = {GRID_ARANGE: "arange", GRID_COLON: "colon"}

# values that hit the grids' awkward spots: exact multiples of 0.1 (numpy excludes them
# as a top, MATLAB includes them), 153/255 (== 0.6 in binary), 1.0, 0
special = st.sampled_from([0.0, 0.1, 0.3, 0.5, 153 / 255, 0.6, 0.7, 1.0, 0.65, 0.95])
value = st.one_of(st.floats(0, 1), special)


@pytest.mark.parametrize("kind", GRIDS)
@given(pos=st.lists(value, min_size=1, max_size=4), pool=st.lists(value, min_size=1, max_size=5),
       m=st.integers(1, 3))
def test_expected_equals_enumeration_with_replacement(kind, pos, pool, m):
    """auc_borji's draws: m values uniformly from the pool, with replacement; every one
    of the len(pool)**m ordered draws is equally likely."""
    areas = [naive.grid_auc_splits(pos, [list(d)], GRIDS[kind])[0]
             for d in itertools.product(pool, repeat=m)]
    got = expected_grid_auc(np.array(pos), np.array(pool), kind, 0.1, m, True)
    assert got == pytest.approx(np.mean(areas), abs=1e-12)


@pytest.mark.parametrize("kind", GRIDS)
@given(pos=st.lists(value, min_size=1, max_size=4), pool=st.lists(value, min_size=1, max_size=5),
       m=st.integers(1, 3))
def test_expected_equals_enumeration_without_replacement(kind, pos, pool, m):
    """sauc's draws: the first m of a random permutation of the pool."""
    m = min(m, len(pool))
    areas = [naive.grid_auc_splits(pos, [list(d)], GRIDS[kind])[0]
             for d in itertools.permutations(pool, m)]
    got = expected_grid_auc(np.array(pos), np.array(pool), kind, 0.1, m, False)
    assert got == pytest.approx(np.mean(areas), abs=1e-12)


@given(rows=st.lists(st.lists(st.one_of(special, st.floats(-1, 2)), max_size=12), min_size=1,
                     max_size=6), ascending=st.booleans())
def test_grid_union_is_numpys_unique(rows, ascending):
    """The thresholds of all grids in one sorted array of distinct values, as ``np.unique``
    gives them, from grids given ascending (as the grids come) or in any order, with
    repeats within and between grids."""
    width = max(len(r) for r in rows) + 1
    grids = np.full((len(rows) + 1, width), np.nan)  # padding the union must not read
    for j, r in enumerate(rows):
        grids[j, :len(r)] = sorted(r) if ascending else r
    lens = np.array([len(r) for r in rows] + [width], dtype=np.int64)
    got = _sorted_union(grids, lens, len(rows))
    want = np.unique(np.concatenate([np.asarray(r, dtype=float) for r in rows]))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("protocol", ["replication", "mit"])
def test_sampled_mean_converges_to_expected(rng, protocol):
    """The mean of many seeded 100-split estimates approaches ``@expected``.

    Splits are independent given the image, so the mean of N split areas has standard
    error sd/sqrt(N); |mean - expected| < 5 standard errors fails with probability below
    1e-6 under the central limit theorem, and a biased expectation (e.g. ignoring that
    the grid's top depends on the draw) is off by far more at this N.
    """
    shape = (60, 80)
    pred = rng.random((12, 12)).astype(np.float32)
    fix = random_fixations(rng, 40, shape)
    other = random_fixations(rng, 400, shape, center_bias=False)
    kw = dict(protocol=protocol, shape=shape)
    for metric, fn, args in (("auc_borji", auc_borji, ()), ("sauc", sauc, (other,))):
        splits = np.concatenate([fn(pred, fix, *args, seed=s, return_splits=True, **kw)
                                 for s in range(60)])
        expected = fn(pred, fix, *args, expected=True, **kw)
        se = splits.std(ddof=1) / np.sqrt(splits.size)
        assert abs(splits.mean() - expected) < 5 * se, metric
        assert se < 2e-3  # the test has power: 6,000 splits pin the mean to ~1e-3


def test_expected_accounts_for_grid_top_depending_on_the_draw():
    """The grid's top is the draw's maximum, and numpy's arange excludes it: a draw whose
    maximum is exactly 0.5 has no 0.5 threshold, a draw reaching 0.55 has one.  So the
    one-pass "fixed grid, pool fractions" expectation is wrong here, by 1/6; salbench's
    expectation equals the enumeration of all draws."""
    pos = np.array([0.45])
    pool = np.array([0.5, 0.55, 0.0])
    areas = [naive.grid_auc_splits(list(pos), [[d]], "arange")[0] for d in pool]
    assert areas == [0.5, 0.0, 1.0]
    truth = np.mean(areas)
    thr = naive.arange_thresholds(pool.max())[::-1]
    tp = [0.0] + [np.mean(pos >= t) for t in thr] + [1.0]
    fp = [0.0] + [np.mean(pool >= t) for t in thr] + [1.0]
    assert naive.trapz(tp, fp) == pytest.approx(1 / 3)
    assert expected_grid_auc(pos, pool, GRID_ARANGE, 0.1, 1, True) == pytest.approx(truth,
                                                                                   abs=1e-12)
