"""Models trained with several seeds, compared with baselines (the study's Table IV,
extended).

Entries that differ only in their training seed (``shallow-pan-small-kld``,
``...@seed1``, ``...@seed2``) form a group.  A group's per-image score is the mean over its
seeds; each (group, baseline, metric) gets a paired test of those per-image means (Wilcoxon
signed-rank, a seeded bootstrap 95% CI of the mean difference), and Holm's correction runs
over every test of the table at once.  The images are the sampling unit of the test; how
much a group's mean moves from seed to seed is reported beside it (the standard deviation
of the per-seed means), because the test does not see it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .compare import ALPHA, PairedTest, check_comparable, format_p, holm, paired_test
from .errors import UserError
from .results import Result

_SEED = re.compile(r"(?<=[@,])seed\d+(,|$)")


def group_name(entry: str) -> str:
    """``shallow-pan-small@seed2`` -> ``shallow-pan-small``; other qualifiers stay."""
    name = _SEED.sub("", entry)
    return name.rstrip("@,").replace("@,", "@")


@dataclass
class Group:
    name: str
    results: list[Result]

    @property
    def seeds(self) -> int:
        return len(self.results)

    def per_image(self, metric: str) -> np.ndarray:
        """Per-image scores averaged over the seeds (NaN where any seed is NaN)."""
        return np.mean([r.scores(metric) for r in self.results], axis=0)

    def seed_means(self, metric: str) -> np.ndarray:
        return np.array([np.nanmean(r.scores(metric)) for r in self.results])


def groups(results: list[Result], protocol: str, dataset: str) -> dict[str, Group]:
    """The results of one data set and protocol, grouped over training seeds; every
    result of a group must be comparable with every other."""
    out: dict[str, Group] = {}
    for r in results:
        if r.protocol_name == protocol and r.dataset_label == dataset:
            out.setdefault(group_name(r.name), Group(group_name(r.name), [])).results.append(r)
    for g in out.values():
        g.results.sort(key=lambda r: r.name)
        for r in g.results[1:]:
            check_comparable(g.results[0], r)
    return out


@dataclass
class Row:
    group: str
    baseline: str
    test: PairedTest
    seeds: int
    seed_sd: float
    baseline_seed_sd: float


def table(found: dict[str, Group], candidates: list[str], baselines: list[str],
          metrics: list[str], alpha: float = ALPHA, seed: int = 0) -> list[Row]:
    """Every candidate against every baseline (itself excluded) on every metric, Holm over
    the whole table."""
    missing = [n for n in [*candidates, *baselines] if n not in found]
    if missing:
        raise UserError(f"no results for {', '.join(missing)}",
                        hint=f"found: {', '.join(sorted(found))}")
    rows = []
    for b in baselines:
        for c in candidates:
            if c == b:
                continue
            gc, gb = found[c], found[b]
            check_comparable(gc.results[0], gb.results[0])
            for m in metrics:
                info = gc.results[0].metrics[m]
                t = paired_test(gc.per_image(m), gb.per_image(m), m, info.higher_is_better,
                                seed=seed, alpha=alpha)
                rows.append(Row(c, b, t, gc.seeds, _sd(gc.seed_means(m)),
                                _sd(gb.seed_means(m))))
    holm([r.test for r in rows])
    return rows


def _sd(x: np.ndarray) -> float:
    return float(np.std(x, ddof=1)) if len(x) > 1 else float("nan")


def markdown(rows: list[Row], protocol: str, dataset: str) -> str:
    """The comparison as a Markdown table, with how to read it."""
    n_tests = len(rows)
    lines = [
        f"### {dataset}, protocol {protocol}: each model against the baselines",
        "",
        f"Per-image scores averaged over each model's training seeds; difference = model "
        f"minus baseline (↑: higher is better, ↓: lower), with a bootstrap 95% CI; Wilcoxon "
        f"signed-rank p, Holm-corrected over all {n_tests} tests of this table (alpha = "
        f"{rows[0].test.alpha if rows else ALPHA}). A verdict needs the corrected test and "
        "the CI to agree. Seed sd: the standard deviation of the per-seed means (not part "
        "of the test).",
        "",
        "| model | vs | metric | model mean (seed sd) | baseline mean (seed sd) | difference "
        "(95% CI) | p (Holm) | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        t = r.test
        arrow = "↑" if t.higher_is_better else "↓"
        verdict = t.verdict(r.group, r.baseline)
        lines.append(
            f"| {r.group} | {r.baseline} | {t.metric} {arrow} | {t.mean_a:.4f} "
            f"({r.seed_sd:.4f}) | {t.mean_b:.4f} ({r.baseline_seed_sd:.4f}) | "
            f"{t.mean_diff:+.4f} ({t.ci95[0]:+.4f} to {t.ci95[1]:+.4f}) | "
            f"{format_p(t.p_adjusted if t.p_adjusted is not None else t.p_wilcoxon)} | "
            f"{verdict} |")
    return "\n".join(lines) + "\n"
