"""Tiny cases whose values are worked out by hand in the comments."""

import math

import numpy as np
import pytest

from salbench.metrics import auc_borji, auc_judd, cc, nss, sauc
from salbench.metrics._auc import (
    GRID_ARANGE,
    GRID_COLON,
    arange_grid,
    colon_grid,
    grid_auc,
    make_grid_cache,
)

P = np.array([[0.1, 0.2], [0.3, 0.4]])


def test_exact_aucs_on_a_2x2_map():
    fix = np.array([[1, 1]])  # the 0.4 pixel
    # borji: negatives = all 4 pixels; 0.4 beats 0.1, 0.2, 0.3 and ties itself: 3.5 / 4
    assert auc_borji(P, fix, protocol="exact") == 0.875
    # judd: negatives = the 3 unfixated pixels, all below: 3 / 3
    assert auc_judd(P, fix, protocol="exact") == 1.0
    # two fixations, one on the lowest pixel: (3.5 + 0.5) / (2 * 4) for borji
    fix2 = np.array([[1, 1], [0, 0]])
    assert auc_borji(P, fix2, protocol="exact") == 0.5
    # judd: negatives 0.2, 0.3: 0.4 beats both, 0.1 none: 2 / (2 * 2)
    assert auc_judd(P, fix2, protocol="exact") == 0.5
    # duplicates count: 0.4 twice, 0.1 once: (3.5 + 3.5 + 0.5) / (3 * 4)
    fix3 = np.array([[1, 1], [1, 1], [0, 0]])
    assert auc_borji(P, fix3, protocol="exact") == pytest.approx(7.5 / 12)


def test_exact_sauc_counts_other_fixations_with_multiplicity():
    fix = np.array([[1, 1]])
    other = np.array([[0, 0], [0, 0], [1, 1]])  # 0.1 twice, 0.4 once
    # 0.4 beats the two 0.1s and ties the 0.4: (2 + 0.5) / 3
    assert sauc(P, fix, other, protocol="exact") == pytest.approx(2.5 / 3)


def test_constant_map_exact_auc_is_one_half():
    flat = np.ones((3, 3))
    assert auc_borji(flat, np.array([[1, 1]]), protocol="exact") == 0.5
    assert auc_judd(flat, np.array([[1, 1]]), protocol="exact") == 0.5


def test_nss_by_hand():
    p = np.array([[0.0, 0.0], [0.0, 1.0]])
    # mean 1/4; sample std (N-1): sqrt((3/16 + 9/16) / 3) = 1/2; (1 - 1/4) / (1/2) = 1.5
    assert nss(p, np.array([[1, 1]]), protocol="mit") == 1.5
    # duplicates collapse: the same pixel twice is one fixated pixel
    assert nss(p, np.array([[1, 1], [1, 1]]), protocol="mit") == 1.5
    # (0.75 + (-0.25)) / 0.5 / 2 = 0.5
    assert nss(p, np.array([[1, 1], [0, 0]]), protocol="mit") == pytest.approx(0.5)


def test_cc_by_hand():
    """Against a given ground truth F = [0, 0, 0, 1], CC is the Pearson correlation of
    P = [1, 2, 3, 4] with F: cov = 1.5, var P = 5, var F = 0.75, r = 1.5 / sqrt(3.75) =
    sqrt(0.6)."""
    p = np.array([[1.0, 2.0, 3.0, 4.0]])
    f = np.array([[0.0, 0.0, 0.0, 1.0]])
    for protocol in ("mit", "exact", "pysaliency"):
        assert cc(p, np.array([[0, 3]]), protocol=protocol, gt_map=f) == pytest.approx(
            math.sqrt(0.6), abs=1e-15)
        assert cc(-p, np.array([[0, 3]]), protocol=protocol, gt_map=f) == pytest.approx(
            -math.sqrt(0.6), abs=1e-15)


def test_pysaliency_and_salicon_nss_by_hand():
    """pysaliency / SALICON: population std, every fixation (duplicates too).
    P = [[0, 0], [0, 1]]: mean 1/4, std sqrt(3)/4; at (1, 1): (3/4) / (sqrt(3)/4) = sqrt(3);
    at (0, 0): -1/sqrt(3).  Fixations (1,1), (1,1), (0,0): (2 sqrt(3) - 1/sqrt(3)) / 3."""
    p = np.array([[0.0, 0.0], [0.0, 1.0]])
    fix = np.array([[1, 1], [1, 1], [0, 0]])
    expect = (2 * math.sqrt(3) - 1 / math.sqrt(3)) / 3
    assert nss(p, fix, protocol="pysaliency") == pytest.approx(expect, abs=1e-15)
    # SALICON keeps a point seen k times k-1 times: (1, 1) once, (0, 0) not at all
    assert nss(p, fix, protocol="salicon") == pytest.approx(math.sqrt(3), abs=1e-15)


def test_salicon_sauc_by_hand():
    """SALICON's SAUC, no sampling: P = [[0.1, 0.2], [0.3, 0.4]] (min-max: 0, 1/3, 2/3, 1);
    kept fixation (1, 1) (seen twice); other fixations (0, 0) x3 and (0, 1) x1 and (1, 1)
    (removed: this image's own pixel).  Thresholds 0.99 .. 0 in 0.01 steps: the positive
    (1.0) is above all; negatives 0 (weight 3) and 1/3 (weight 1): fp steps to 1/4 at
    t <= 1/3, to 1 at t = 0.  Area = 1 (the positive beats every negative)."""
    p = np.array([[0.1, 0.2], [0.3, 0.4]])
    own = np.array([[1, 1], [1, 1]])
    other = np.array([[0, 0], [0, 0], [0, 0], [0, 1], [1, 1]])
    assert sauc(p, own, other, protocol="salicon") == pytest.approx(1.0, abs=1e-15)
    # within one 0.01 grid cell the grid cannot separate them: positive 1.0, negative
    # 0.995; the first threshold (0.99) passes both: (0,0) -> (1,1), area 1/2
    q = np.array([[0.0, 0.995], [0.5, 1.0]])
    assert sauc(q, own, np.array([[0, 1]]), protocol="salicon") == pytest.approx(0.5)


def _grid_auc(pos, neg, kind):
    return grid_auc(np.array(pos), max(pos), np.array(neg, dtype=float), len(neg), kind, 0.1,
                    make_grid_cache(0.1))


def test_grid_at_153_over_255():
    """153/255 is 0.6 in binary.  numpy's arange(0, 0.6, 0.1) stops at 0.5; MATLAB's
    0:0.1:0.6 ends at 0.6 itself.  With a positive at 0.6 and a negative at 0.5:

    numpy: thresholds 0.5 .. 0; at 0.5 both are above: the curve jumps (0,0)->(1,1): 0.5.
    MATLAB: the 0.6 threshold separates them: (0,0)->(0,1)->(1,1): 1.0.
    """
    top = 153 / 255
    buf = np.empty(16)
    n = arange_grid(top, 0.1, buf)
    assert n == 6 and buf[n - 1] == 0.5
    n = colon_grid(top, 0.1, buf)
    assert n == 7 and buf[n - 1] == top
    assert _grid_auc([top], [0.5], GRID_ARANGE) == 0.5
    assert _grid_auc([top], [0.5], GRID_COLON) == 1.0


def test_colon_matches_documented_matlab_output():
    """MATLAB: ``x = 0:0.1:0.3; y = 0:0.1:0.4; x - y(1:end-1)`` prints
    ``1.0e-16 * [0 0 -0.2776 -0.5551]`` (the symmetric fill of the colon operator)."""
    x = np.empty(8)
    y = np.empty(8)
    nx = colon_grid(0.3, 0.1, x)
    ny = colon_grid(0.4, 0.1, y)
    assert (nx, ny) == (4, 5)
    np.testing.assert_allclose((x[:4] - y[:4]) * 1e16, [0, 0, -0.2776, -0.5551], atol=1e-4)
    assert x[3] == 0.3  # the endpoint is the top itself


def test_grid_auc_by_hand():
    """pos = [0.8], negatives [0.2, 0.9].  numpy grid: arange(0, 0.9, 0.1) = 0 .. 0.8.
    Descending: t=0.8: tp 1, fp 1/2 (0.9); t=0.7..0.3: same point; t=0.2, 0.1, 0: tp 1,
    fp 1.  Curve (0,0), (1/2,1), (1,1), (1,1): area 1/4 + 1/2 = 3/4."""
    assert _grid_auc([0.8], [0.2, 0.9], GRID_ARANGE) == pytest.approx(0.75)
