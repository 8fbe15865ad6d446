"""Is entry A better than entry B?  A paired test over per-image scores.

Two entries scored on the same images under the same protocol give paired samples; the
difference is tested with the Wilcoxon signed-rank test (no normality assumption),
reported with the paired t-test's p-value and a seeded 95% bootstrap CI of the mean
difference.  Several metrics at once: Holm's step-down correction of the Wilcoxon
p-values (family-wise error rate ``alpha``).  The verdict says "A is better" only when the
corrected test and the CI agree; when they disagree it says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import UserError
from .results import Result
from .stats import bootstrap_ci

ALPHA = 0.05
RESAMPLES = 4000
TINY_P = 1e-16
MIN_PAIRS = 2  # images scored in both that a paired test needs


def _both_defined(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The images both results scored (NaN in neither): the pairs a test reads."""
    return ~(np.isnan(a) | np.isnan(b))


def format_p(p: float) -> str:
    """p-values below float precision print as ``< 1e-16``, not 0."""
    if p != p:
        return "nan"
    return f"< {TINY_P:g}" if p < TINY_P else f"{p:.3g}"


def p_clause(p: float) -> str:
    """``p = 0.0123``, or ``p < 1e-16`` below float precision."""
    text = format_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


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
    alpha: float = ALPHA
    p_adjusted: float | None = None  # Holm-corrected, when several metrics are tested
    correction: str = ""

    @property
    def p_decision(self) -> float:
        return self.p_wilcoxon if self.p_adjusted is None else self.p_adjusted

    @property
    def test_says(self) -> bool:
        return bool(self.p_decision < self.alpha)

    @property
    def ci_says(self) -> bool:
        lo, hi = self.ci95
        return bool(lo > 0 or hi < 0)

    @property
    def significant(self) -> bool:
        return self.test_says and self.ci_says

    @property
    def better(self) -> str | None:
        """'A' or 'B' when the test and the CI agree on a difference, else None."""
        if not self.significant or self.mean_diff == 0:
            return None
        a_higher = self.mean_diff > 0
        return "A" if a_higher == self.higher_is_better else "B"

    def verdict(self, name_a: str = "A", name_b: str = "B") -> str:
        if self.better:
            return f"{name_a if self.better == 'A' else name_b} is better"
        if self.test_says != self.ci_says:
            return ("no significant difference (the test and the bootstrap CI disagree: "
                    "treat as inconclusive)")
        return "no significant difference"

    def short_verdict(self) -> str:
        """:meth:`verdict` in a table's few words, naming the entries A and B."""
        if self.better:
            return f"{self.better} better"
        return "inconclusive" if self.test_says != self.ci_says else "no difference"

    def sentence(self, name_a: str = "A", name_b: str = "B") -> str:
        direction = "higher" if self.higher_is_better else "lower"
        adj = "" if self.p_adjusted is None else \
            f" ({self.correction}-corrected {p_clause(self.p_adjusted)})"
        return (f"{self.metric} ({direction} is better): {name_a} {self.mean_a:.4f} vs "
                f"{name_b} {self.mean_b:.4f}, difference {self.mean_diff:+.4f} (95% CI "
                f"{self.ci95[0]:+.4f} to {self.ci95[1]:+.4f}) over {self.n} images; Wilcoxon "
                f"{p_clause(self.p_wilcoxon)}{adj}, paired t {p_clause(self.p_ttest)}: "
                f"{self.verdict(name_a, name_b)} at alpha = {self.alpha}")


# pairs up to which the signed-rank test takes its exact null distribution (scipy's and R's)
EXACT_MAX_PAIRS = 50


def wilcoxon_method(d: np.ndarray) -> str:
    """``"exact"`` for at most ``EXACT_MAX_PAIRS`` differences ``d`` with no zero and no tie
    among ``|d|`` (the exact tables assume neither), else ``"approx"`` (normal, with the
    tie correction).  Named rather than scipy's ``"auto"``, which changed in scipy 1.13: on
    up to 50 pairs with zeros or ties it went from the approximation to the exact tables
    (12 pairs, two of them 0: p 0.2026 under scipy 1.11, 0.2324 under 1.17)."""
    exact = d.size <= EXACT_MAX_PAIRS and np.all(d != 0) and \
        np.unique(np.abs(d)).size == d.size
    return "exact" if exact else "approx"


def paired_test(a, b, metric: str = "", higher_is_better: bool = True, seed: int = 0,
                alpha: float = ALPHA, resamples: int = RESAMPLES) -> PairedTest:
    """Wilcoxon signed-rank and paired t-test of ``a - b`` (images where either is NaN are
    left out), with a seeded percentile-bootstrap 95% CI of the mean difference."""
    from scipy import stats

    check_alpha(alpha)
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise UserError(f"per-image scores differ in length ({a.size} vs {b.size})",
                        hint="compare results on the same images")
    keep = _both_defined(a, b)
    a, b = a[keep], b[keep]
    if a.size < MIN_PAIRS:
        raise UserError(f"{metric}: fewer than {MIN_PAIRS} images with both scores defined",
                        hint="compare on a metric both results scored (the rest are NaN)")
    d = a - b
    if np.all(d == 0):
        p_w = p_t = 1.0
    else:
        with np.errstate(all="ignore"):
            p_w = float(stats.wilcoxon(a, b, zero_method="wilcox",
                                       method=wilcoxon_method(d)).pvalue)
            if np.ptp(d) <= 1e-12 * np.abs(d).max():
                p_t = 0.0  # the same shift on every image (up to rounding): no variance
            else:
                p_t = float(stats.ttest_rel(a, b).pvalue)
    lo, hi = bootstrap_ci(d, seed=seed, resamples=resamples)
    return PairedTest(metric=metric, n=int(d.size), mean_a=float(a.mean()),
                      mean_b=float(b.mean()), mean_diff=float(d.mean()), ci95=(lo, hi),
                      p_wilcoxon=p_w, p_ttest=p_t, higher_is_better=higher_is_better,
                      alpha=alpha)


def holm(tests: list[PairedTest]) -> list[PairedTest]:
    """Holm's step-down correction of the Wilcoxon p-values, in place."""
    if len(tests) < 2:
        return tests
    order = sorted(range(len(tests)), key=lambda i: tests[i].p_wilcoxon)
    m = len(tests)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * tests[i].p_wilcoxon))
        tests[i].p_adjusted = running
        tests[i].correction = "Holm"
    return tests


def check_comparable(ra: Result, rb: Result) -> None:
    if ra.protocol_name != rb.protocol_name:
        raise UserError(f"the results use different protocols ({ra.protocol_name} vs "
                        f"{rb.protocol_name})", hint="their numbers are not comparable; "
                        "score both under one protocol")
    fa, fb = ra.dataset.get("fingerprint"), rb.dataset.get("fingerprint")
    if not fa or not fb:
        missing = ra.source or ra.name if not fa else rb.source or rb.name
        raise UserError("a result has no dataset fingerprint, so its data cannot be "
                        "checked", missing, "rescore it with this salbench")
    if fa != fb:
        raise UserError("the results are on different data (dataset fingerprints "
                        f"{fa} and {fb} differ)", hint="score both on the same split")
    if ra.image_names != rb.image_names:
        raise UserError("the results list different images (or in another order)",
                        hint="score both on the same split with this salbench")


def scoring_differences(ra: Result, rb: Result, names: tuple[str, str]) -> list[str]:
    """How two comparable results were scored differently, in words (the comparison still
    stands: these are choices a reader of its numbers should know about)."""
    a, b = names
    out = []
    if ra.seed != rb.seed and any(s.splits for s in (*ra.metrics.values(),
                                                       *rb.metrics.values())):
        out.append(f"{a} was scored with seed {ra.seed} and {b} with seed {rb.seed}: the "
                   "sampled metrics' draws differ, and their noise is part of the difference")
    na, nb = ((r.preprocessing or {}).get("normalize") for r in (ra, rb))
    if na != nb:
        def how(x: str | None) -> str:
            return "as given" if x is None else f"after --normalize {x}"

        out.append(f"{a}'s maps were scored {how(na)} and {b}'s {how(nb)}")
    if ra.ig_baseline != rb.ig_baseline and "ig" in ra.metrics and "ig" in rb.metrics:
        out.append(f"ig's baseline differs: {ra.ig_baseline} for {a}, {rb.ig_baseline} "
                   f"for {b}")
    return out


def check_alpha(alpha: float) -> None:
    """A significance level strictly between 0 and 1 (0 would never reject, 1 always)."""
    if not 0.0 < alpha < 1.0:
        raise UserError(f"alpha must lie strictly between 0 and 1, got {alpha}",
                        hint="e.g. --alpha 0.05 (the default) or 0.01")


def compare(ra: Result, rb: Result, metric: str | None = None, alpha: float = ALPHA,
            untestable: list[tuple[str, str]] | None = None) -> list[PairedTest]:
    """Paired tests for the metrics two results share (or ``metric`` only), Holm-corrected
    when there are several.  With an ``untestable`` list, a shared metric that fewer than
    two images define in both (a constant map's cc) is listed there with why, and the
    others are tested (Holm over those); without one, or when none is left, it is an
    error."""
    check_alpha(alpha)
    check_comparable(ra, rb)
    shared = [m for m in ra.metrics if m in rb.metrics]
    if metric:
        if metric not in shared:
            raise UserError(f"metric {metric!r} is not in both results",
                            hint=f"shared: {', '.join(shared)}")
        shared = [metric]
    if untestable is not None and len(shared) > 1:
        for m in list(shared):
            if _both_defined(ra.scores(m), rb.scores(m)).sum() < MIN_PAIRS:
                untestable.append((m, _why_undefined(m, (ra, rb))))
                shared.remove(m)
        if not shared:
            raise UserError(f"no metric is defined on {MIN_PAIRS} or more images in both results",
                            hint="; ".join(f"{m}: {why}" for m, why in untestable))
    tests = [paired_test(ra.scores(m), rb.scores(m), m, ra.metrics[m].higher_is_better,
                         seed=ra.seed, alpha=alpha) for m in shared]
    return holm(tests)


def _why_undefined(metric: str, results: tuple[Result, Result]) -> str:
    """Which result leaves ``metric`` undefined, with its NaN reasons."""
    parts = []
    for r in results:
        s = r.metrics[metric]
        if s.nan_count:
            reasons = ", ".join(s.nan_reasons) or "no reason recorded"
            parts.append(f"{r.name} is NaN on {s.nan_count} of {s.n_images} images "
                         f"({reasons})")
    return "; ".join(parts) or f"fewer than {MIN_PAIRS} images define it in both"
