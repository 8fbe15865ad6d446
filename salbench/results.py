"""Result files: one JSON per (model, dataset, split, protocol), with provenance.

A result names everything needed to trust or reproduce its numbers: the protocol (and each
of its choices), the seed, the dataset's fingerprint, the model card and checkpoint
hashes, salbench's version and git commit, the hardware and the wall time.  Per-metric
entries hold the dataset score, a 95% bootstrap confidence interval over images, the NaN
count and, for sampled metrics, the spread over splits; per-image scores are kept so that
models can be compared image by image (:func:`salbench.compare.paired_test`).

The schema is versioned.  :func:`load_result` upgrades older files through ``_UPGRADES``
(one function per version step); ``tests/fixtures/results/`` keeps a file of every schema
version ever written, and the tests load them all.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import __version__
from .io import write_json

SCHEMA = "salbench-result"
SCHEMA_VERSION = 1
BOOTSTRAP_RESAMPLES = 2000


def bootstrap_ci(values: np.ndarray, *, omit_nan: bool, seed: int = 0,
                 resamples: int = BOOTSTRAP_RESAMPLES, level: float = 0.95
                 ) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean over images (resampling images with
    replacement, seeded).  NaN images are dropped first under ``omit_nan``; otherwise any
    NaN makes the interval NaN, as it makes the mean NaN."""
    v = np.asarray(values, dtype=float)
    if omit_nan:
        v = v[~np.isnan(v)]
    if v.size == 0 or np.isnan(v).any():
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, v.size, (resamples, v.size))
    means = v[idx].mean(axis=1)
    a = (1 - level) / 2
    lo, hi = np.quantile(means, [a, 1 - a])
    return float(lo), float(hi)


def file_sha256(path: str | Path | None) -> str | None:
    if not path or not Path(path).exists():
        return None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_commit() -> str | None:
    """The commit salbench runs from, with ``-dirty`` when tracked files were changed
    (None outside a git checkout, e.g. an installed wheel)."""
    here = Path(__file__).resolve().parent

    def git(*args):
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=here,
                              timeout=5)

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0 or not head.stdout.strip():
            return None
        dirty = git("diff", "--quiet", "HEAD", "--", ".").returncode == 1
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("-dirty" if dirty else "")


def hardware() -> dict:
    info = {"machine": platform.machine(), "processor": platform.processor() or None,
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform()}
    try:
        import numba

        info["numba_threads"] = numba.get_num_threads()
    except ImportError:  # pragma: no cover
        pass
    return info


def build_result(scores, *, model: str, dataset_label: str, split: str, fingerprint: str,
                 card=None, checkpoint: str | None = None, checkpoint_epoch: int | None = None,
                 training: dict | None = None, wall_time_s: float | None = None,
                 device: dict | None = None) -> dict:
    """A result dict (current schema) from :class:`~salbench.metrics.DatasetScores`."""
    from .metrics.protocols import METRICS, get_protocol

    proto = get_protocol(scores.protocol)
    metrics = {}
    for m in scores.metrics:
        v = scores.per_image[m]
        lo, hi = bootstrap_ci(v, omit_nan=proto.nan_policy == "omit", seed=scores.seed)
        entry = {"mean": scores.mean[m], "ci95": [lo, hi], "nan_count": scores.nan_count[m],
                 "n_images": int(v.size), "higher_is_better": METRICS[m].higher_is_better}
        if m in scores.splits:
            split_means = scores.split_means(m)
            entry["splits"] = int(split_means.size)
            entry["split_std"] = float(np.std(split_means))
        metrics[m] = entry
    card_info = None
    if card is not None:
        card_info = {"name": card.name, "kind": card.kind, "summary": card.summary,
                     "variant": card.variant,
                     "path": f"models/{Path(card.path).name}",  # no machine-specific prefix
                     "sha256": file_sha256(card.path), "params": card.param_count(),
                     "train": card.train}
    return {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION,
        "model": model,
        "dataset": {"label": dataset_label, "split": split, "fingerprint": fingerprint,
                    "n_images": scores.n_images},
        "protocol": {"name": proto.name, "summary": proto.summary,
                     "details": list(proto.details), "nan_policy": proto.nan_policy},
        "seed": scores.seed,
        "ig_baseline": scores.ig_baseline,
        "metrics": metrics,
        "per_image": {"names": list(scores.names),
                      **{m: [None if np.isnan(x) else float(x) for x in scores.per_image[m]]
                         for m in scores.metrics}},
        "model_card": card_info,
        "checkpoint": {"path": checkpoint, "sha256": file_sha256(checkpoint),
                       "epoch": checkpoint_epoch} if checkpoint else None,
        "training": training,
        "salbench_version": __version__,
        "git_commit": git_commit(),
        "hardware": {**hardware(), **(device or {})},
        "wall_time_s": wall_time_s,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def result_path(root: str | Path, dataset_label: str, protocol: str, model: str,
                split: str = "val") -> Path:
    return Path(root) / dataset_label / protocol / f"{model}.{split}.json"


def save_result(result: dict, path: str | Path) -> Path:
    return write_json(path, result)


# ---- reading, with upgrades from older schemas ---------------------------------------------

# version -> function turning a file of that version into the next version's layout.
# Empty while schema 1 is the only one; a change of layout adds a step here and a file of
# the old version to tests/fixtures/results/.
_UPGRADES: dict = {}


def load_result(path: str | Path) -> dict:
    path = Path(path)
    try:
        r = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: unreadable result file ({exc})") from None
    if not isinstance(r, dict) or r.get("schema") != SCHEMA:
        raise ValueError(f"{path}: not a salbench result file")
    v = int(r.get("schema_version", 1))
    if v > SCHEMA_VERSION:
        raise ValueError(f"{path}: written by a newer salbench (schema {v}); upgrade salbench")
    while v < SCHEMA_VERSION:
        r = _UPGRADES[v](r)
        v = int(r["schema_version"])
    for key in ("model", "dataset", "protocol", "metrics"):
        if key not in r:
            raise ValueError(f"{path}: result lacks {key!r}")
    r["_path"] = str(path)
    return r


def per_image_scores(result: dict, metric: str) -> np.ndarray:
    """A result's per-image scores of ``metric`` as floats (JSON's null back to NaN)."""
    return np.array([np.nan if x is None else x for x in result["per_image"][metric]],
                    dtype=float)


def iter_results(root: str | Path):
    for path in sorted(Path(root).rglob("*.json")):
        yield load_result(path)


class Stopwatch:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.t0
