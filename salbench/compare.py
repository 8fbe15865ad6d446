"""Is model A better than model B?  A paired test over per-image scores.

Two models scored on the same images under the same protocol give paired samples; the
difference is tested with the Wilcoxon signed-rank test (no normality assumption) and
reported with the paired t-test's p-value and a 95% bootstrap CI of the mean difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .results import per_image_scores


@dataclass
class PairedTest:
    metric: str
    n: int
    mean_a: float
    mean_b: float
    mean_diff: float
    ci95: tuple[float, float]
    p_wilcoxon: float
    p_ttest: float
    higher_is_better: bool
    alpha: float = 0.05

    @property
    def significant(self) -> bool:
        return bool(self.p_wilcoxon < self.alpha)

    @property
    def better(self) -> str | None:
        """'A' or 'B' when the difference is significant, else None."""
        if not self.significant or self.mean_diff == 0:
            return None
        a_higher = self.mean_diff > 0
        return "A" if a_higher == self.higher_is_better else "B"

    def sentence(self, name_a: str = "A", name_b: str = "B") -> str:
        verdict = (f"{name_a if self.better == 'A' else name_b} is better"
                   if self.better else "no significant difference")
        return (f"{self.metric}: {name_a} {self.mean_a:.4f} vs {name_b} {self.mean_b:.4f}, "
                f"difference {self.mean_diff:+.4f} (95% CI {self.ci95[0]:+.4f} to "
                f"{self.ci95[1]:+.4f}) over {self.n} images; Wilcoxon p = "
                f"{self.p_wilcoxon:.3g}, paired t p = {self.p_ttest:.3g}: {verdict} at "
                f"alpha = {self.alpha}")


def paired_test(a, b, metric: str = "", higher_is_better: bool = True, seed: int = 0,
                alpha: float = 0.05, resamples: int = 4000) -> PairedTest:
    """Wilcoxon signed-rank and paired t-test of ``a - b`` (images where either is NaN are
    left out), with a seeded percentile-bootstrap 95% CI of the mean difference."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"per-image scores differ in length ({a.size} vs {b.size}): "
                         "compare results on the same images")
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if a.size < 2:
        raise ValueError(f"{metric}: fewer than 2 images with both scores defined")
    d = a - b
    if np.all(d == 0):
        p_w = p_t = 1.0
    else:
        p_w = float(stats.wilcoxon(a, b, zero_method="wilcox").pvalue)
        if np.ptp(d) <= 1e-12 * np.abs(d).max():
            p_t = 0.0  # the same shift on every image (up to rounding): no variance to test
        else:
            p_t = float(stats.ttest_rel(a, b).pvalue)
    rng = np.random.default_rng(seed)
    boot = d[rng.integers(0, d.size, (resamples, d.size))].mean(axis=1)
    lo, hi = np.quantile(boot, [0.025, 0.975])
    return PairedTest(metric=metric, n=int(d.size), mean_a=float(a.mean()),
                      mean_b=float(b.mean()), mean_diff=float(d.mean()),
                      ci95=(float(lo), float(hi)), p_wilcoxon=p_w, p_ttest=p_t,
                      higher_is_better=higher_is_better, alpha=alpha)


def compare_results(ra: dict, rb: dict, metric: str | None = None) -> list[PairedTest]:
    """Paired tests for the metrics two result files share (or ``metric`` only)."""
    if ra["protocol"]["name"] != rb["protocol"]["name"]:
        raise ValueError(f"results use different protocols ({ra['protocol']['name']} vs "
                         f"{rb['protocol']['name']}): their numbers are not comparable")
    fa, fb = ra["dataset"].get("fingerprint"), rb["dataset"].get("fingerprint")
    if fa and fb and fa != fb:
        raise ValueError("results are on different data (dataset fingerprints differ)")
    names_a, names_b = ra["per_image"]["names"], rb["per_image"]["names"]
    if names_a != names_b:
        raise ValueError("results list different images (or in another order)")
    shared = [m for m in ra["metrics"] if m in rb["metrics"]]
    if metric:
        if metric not in shared:
            raise ValueError(f"metric {metric!r} is not in both results (shared: "
                             f"{', '.join(shared)})")
        shared = [metric]
    return [paired_test(per_image_scores(ra, m), per_image_scores(rb, m), m,
                        ra["metrics"][m]["higher_is_better"], seed=int(ra.get("seed") or 0))
            for m in shared]
