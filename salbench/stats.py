"""Small statistics shared by results and comparisons: a seeded percentile bootstrap."""

from __future__ import annotations

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
CI_LEVEL = 0.95


def bootstrap_ci(values, *, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES,
                 level: float = CI_LEVEL) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (resampled with
    replacement, seeded).  NaN when there are no values or any value is NaN: callers
    drop NaN images first when their policy skips them."""
    v = np.asarray(values, dtype=float)
    if v.size == 0 or np.isnan(v).any():
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    chunk = max(1, 4_000_000 // max(v.size, 1))  # bounded memory for large splits
    for lo in range(0, resamples, chunk):
        hi = min(resamples, lo + chunk)
        means[lo:hi] = v[rng.integers(0, v.size, (hi - lo, v.size))].mean(axis=1)
    a = (1 - level) / 2
    lo, hi = np.quantile(means, [a, 1 - a])
    return float(lo), float(hi)
