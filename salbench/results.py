"""Results: one :class:`Result` per (entry, dataset, split, protocol), and the store they
live in.

A result names everything needed to trust or reproduce its numbers: the protocol (and every
field that differs from the named protocol it derives from), the seed, how predictions were
normalised, the dataset's fingerprint, the model card and checkpoint hashes, salbench's
version and git commit, the hardware, the library versions and the wall time.  Per-metric
summaries hold the dataset score, a 95% bootstrap confidence interval over images, the NaN
count (with the reasons) and, for sampled metrics, the spread over splits; per-image scores
are kept so that entries can be compared image by image (:mod:`salbench.compare`).

The JSON schema is versioned: :meth:`Result.from_json` upgrades older files through
``_UPGRADES`` and validates every field (a file that fails is refused with what is wrong;
:meth:`Store.results` skips and reports such files and keeps the rest).
``tests/fixtures/results/`` keeps a file of every schema version ever written.

Only this module knows a store's layout: ``ROOT/<dataset>/<protocol>/<entry>.json``, with
the leaderboards (``ROOT/<dataset>-<protocol>.md`` and ``.csv``) beside them.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import re
import subprocess
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from . import __version__
from .errors import UserError, is_number, is_whole, os_error
from .io import home, write_json
from .stats import BOOTSTRAP_RESAMPLES, bootstrap_cis, dataset_mean
from .suggest import did_you_mean

SCHEMA = "salbench-result"
SCHEMA_VERSION = 2
NAME_MAX = 100
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+=,-]*$")
_CI_TOLERANCE = 1e-9
# a stored mean against the mean of its stored per-image scores (the same sum in float64;
# room for another numpy's summation order)
_MEAN_TOLERANCE = 1e-12


def check_name(name: str, what: str = "name") -> str:
    """A name that becomes a file name or a table cell: letters, digits and ``._@+=,-``,
    starting with a letter or digit, at most 100 characters (no path separators)."""
    if not isinstance(name, str) or not name:
        raise UserError(f"{what} must be a non-empty string, got {name!r}",
                        hint="give a name of letters, digits and ._@+=,-")
    if len(name) > NAME_MAX:
        raise UserError(f"{what} is {len(name)} characters long", name[:40] + "…",
                        f"use at most {NAME_MAX}")
    if not _NAME_RE.match(name) or ".." in name:
        raise UserError(f"{what} {name!r} may hold only letters, digits and . _ @ + = , -",
                        hint="no slashes, spaces or '..'; choose another name")
    return name


def default_store() -> Path:
    """The user's result store: ``$SALBENCH_HOME/results``."""
    return home() / "results"


# ---- the result type ---------------------------------------------------------------------


def _split_std(e: dict) -> float | None:
    """A sampled metric's spread over splits: a NaN one (every image NaN) is written as
    null, as JSON has no NaN."""
    std = e.get("split_std")
    return math.nan if std is None and e.get("splits") is not None else std


@dataclass
class MetricSummary:
    mean: float
    ci95: tuple[float, float]
    nan_count: int
    n_images: int
    higher_is_better: bool
    splits: int | None = None
    split_std: float | None = None
    nan_reasons: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        d = {"mean": self.mean, "ci95": list(self.ci95), "nan_count": self.nan_count,
             "n_images": self.n_images, "higher_is_better": self.higher_is_better}
        if self.splits is not None:
            d["splits"] = self.splits
            d["split_std"] = self.split_std
        if self.nan_reasons:
            d["nan_reasons"] = dict(self.nan_reasons)
        return d


@dataclass
class Result:
    """One entry's scores on one split under one protocol.

    ``name`` is the entry (a board row): the model plus what differs from its card, e.g.
    ``shallow-pan@3ep``; ``model`` the registry name (None for a predictions file).
    """

    name: str
    model: str | None
    dataset: dict  # label, split, fingerprint, n_images (+ preparation)
    protocol: dict  # name, base, changed, summary, details, nan_policy
    seed: int
    metrics: dict[str, MetricSummary]
    image_names: list[str]
    per_image: dict[str, np.ndarray]
    preprocessing: dict = field(default_factory=dict)
    model_card: dict | None = None
    checkpoint: dict | None = None
    training: dict | None = None
    ig_baseline: str | None = None
    salbench_version: str = __version__
    git_commit: str | None = None
    hardware: dict = field(default_factory=dict)
    wall_time_s: float | None = None
    created: str = ""
    source: str | None = None  # the file it was read from

    @property
    def dataset_label(self) -> str:
        return self.dataset["label"]

    @property
    def protocol_name(self) -> str:
        return self.protocol["name"]

    def scores(self, metric: str) -> np.ndarray:
        """Per-image scores of ``metric`` (NaN where undefined)."""
        if metric not in self.per_image:
            raise UserError(f"metric {metric!r} is not in this result"
                            f"{did_you_mean(metric, self.per_image)}", self.source or self.name,
                            f"it has {', '.join(self.per_image)}")
        return self.per_image[metric]

    def to_json(self) -> dict:
        return {
            "schema": SCHEMA, "schema_version": SCHEMA_VERSION,
            "name": self.name, "model": self.model,
            "dataset": self.dataset, "protocol": self.protocol,
            "preprocessing": self.preprocessing, "seed": self.seed,
            "ig_baseline": self.ig_baseline,
            "metrics": {m: s.to_json() for m, s in self.metrics.items()},
            "per_image": {"names": list(self.image_names),
                          "scores": {m: [None if math.isnan(x) else float(x) for x in v]
                                     for m, v in self.per_image.items()}},
            "model_card": self.model_card, "checkpoint": self.checkpoint,
            "training": self.training, "salbench_version": self.salbench_version,
            "git_commit": self.git_commit, "hardware": self.hardware,
            "wall_time_s": self.wall_time_s, "created": self.created,
        }

    @classmethod
    def from_json(cls, raw, source: str = "<result>") -> Result:
        """A validated result (older schemas upgraded); anything malformed is refused with
        a message naming the file and the field."""
        r = _upgrade(raw, source)
        return _validated(r, source)

    def save(self, path: str | Path) -> Path:
        return write_json(path, self.to_json())


def load(path: str | Path) -> Result:
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, OSError):
            raise os_error(exc, path) from None
        raise UserError("unreadable result file (not UTF-8 text)", path,
                        "give a result JSON that salbench wrote") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"unreadable result file (JSON error at line {exc.lineno})", path,
                        "regenerate it") from None
    return Result.from_json(raw, str(path))


# ---- building a result from scores ---------------------------------------------------------


def build(scores, *, name: str, model: str | None, dataset: dict, card=None,
          checkpoint: str | None = None, checkpoint_epoch: int | None = None,
          training: dict | None = None, preprocessing: dict | None = None,
          wall_time_s: float | None = None, device: dict | None = None) -> Result:
    """A :class:`Result` from :class:`~salbench.metrics.DatasetScores`."""
    from .metrics.protocols import METRICS, NAN_OMIT

    proto = scores.protocol
    metrics = {}
    kept = [v[~np.isnan(v)] if proto.nan_policy == NAN_OMIT else v
            for v in (scores.per_image[m] for m in scores.metrics)]
    for m, ci in zip(scores.metrics, bootstrap_cis(kept, seed=scores.seed), strict=True):
        v = scores.per_image[m]
        s = MetricSummary(mean=scores.mean[m], ci95=ci, nan_count=scores.nan_count[m],
                          n_images=int(v.size), higher_is_better=METRICS[m].higher_is_better,
                          nan_reasons={k: len(ix) for k, ix in
                                       scores.nan_reasons.get(m, {}).items()})
        if m in scores.splits:
            split_means = scores.split_means(m)
            s.splits = int(split_means.size)
            s.split_std = float(np.std(split_means))
        metrics[m] = s
    card_info = None
    if card is not None:
        card_info = {"name": card.name, "kind": card.kind, "summary": card.summary,
                     "variant": card.variant,
                     "path": f"models/{Path(card.path).name}",  # no machine-specific prefix
                     "sha256": file_sha256(card.path), "params": card.param_count(),
                     "train": card.train}
    return Result(
        name=check_name(name, "result name"), model=model, dataset=dict(dataset),
        protocol=proto.record(), seed=int(scores.seed), metrics=metrics,
        image_names=list(scores.names), per_image={m: np.asarray(scores.per_image[m], float)
                                                   for m in scores.metrics},
        preprocessing=dict(preprocessing or {}), model_card=card_info,
        checkpoint={"path": checkpoint, "sha256": file_sha256(checkpoint),
                    "epoch": checkpoint_epoch} if checkpoint else None,
        training=training, ig_baseline=scores.ig_baseline, git_commit=git_commit(),
        hardware={**hardware(), **(device or {})}, wall_time_s=wall_time_s,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"))


def file_sha256(path: str | Path | None) -> str | None:
    if not path or not Path(path).is_file():
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


# the libraries whose versions can move a score: numpy (sums, sorting), scipy (the zoom
# and blur references, called when salbench's copy fails its check), numba (the kernels)
_LIBRARIES = ("numpy", "scipy", "numba", "llvmlite")


def hardware() -> dict:
    """The machine, and the library versions a score depends on (``libraries``; with
    numba's Intel SVML switch, which changes the last bit of vectorised logarithms)."""
    from importlib.metadata import PackageNotFoundError, version

    info = {"machine": platform.machine(), "processor": platform.processor() or None,
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform()}
    libs = {}
    for name in _LIBRARIES:
        try:
            libs[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover
            libs[name] = None
    try:
        import llvmlite.binding
        import numba

        info["numba_threads"] = numba.get_num_threads()
        # the kernels are compiled for it: its vector width sets the order of block sums
        info["cpu_target"] = numba.config.CPU_NAME or llvmlite.binding.get_host_cpu_name()
        libs["numba_svml"] = bool(numba.config.USING_SVML)
    except ImportError:  # pragma: no cover
        pass
    info["libraries"] = libs
    return info


# ---- reading: upgrades and validation ------------------------------------------------------


def _upgrade_1(r: dict) -> dict:
    """Schema 1 -> 2: the board name becomes ``name``; per-image scores move under
    ``per_image.scores``; the protocol records its base and changed fields."""
    r = dict(r)
    r["name"] = r.get("model")
    r["model"] = r.get("model") if r.get("model_card") else None
    pi = dict(r.get("per_image") or {})
    names = pi.pop("names", [])
    r["per_image"] = {"names": names, "scores": pi}
    proto = dict(r.get("protocol") or {})
    proto.setdefault("base", proto.get("name"))
    proto.setdefault("changed", {})
    r["protocol"] = proto
    r.setdefault("preprocessing", {})
    r["schema_version"] = 2
    return r


_UPGRADES = {1: _upgrade_1}


def _upgrade(raw, source: str) -> dict:
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
        raise UserError("not a salbench result file", source,
                        "give a result JSON that salbench wrote")
    v = raw.get("schema_version")
    if not is_whole(v):
        raise UserError(f"schema_version must be an integer, got {v!r}", source,
                        "regenerate the file")
    if v > SCHEMA_VERSION:
        raise UserError(f"written by a newer salbench (schema {v})", source, "upgrade salbench")
    if v < 1:
        raise UserError(f"unknown schema version {v}", source, "regenerate the file")
    r = raw
    while v < SCHEMA_VERSION:
        r = _UPGRADES[v](r)
        v = r["schema_version"]
    return r


def _validated(r: dict, source: str) -> Result:
    from .metrics.protocols import METRICS, NAN_OMIT, NAN_POLICIES, PROTOCOLS

    def need(cond, what: str) -> None:
        if not cond:
            raise UserError(f"invalid result: {what}", source, "regenerate the file")

    need(isinstance(r.get("name"), str), "'name' must be a string")
    try:
        check_name(r["name"], "result name")
    except UserError as exc:
        raise UserError(f"invalid result: {exc.what}", source, "regenerate the file") from None
    need(r.get("model") is None or isinstance(r.get("model"), str), "'model' must be a string")
    ds = r.get("dataset")
    need(isinstance(ds, dict), "'dataset' must be an object")
    need(isinstance(ds.get("label"), str), "'dataset.label' must be a string")
    try:
        check_name(ds["label"], "dataset label")
    except UserError as exc:
        raise UserError(f"invalid result: {exc.what}", source, "regenerate the file") from None
    need(ds.get("split", "val") in ("train", "val"), "'dataset.split' must be train or val")
    need(ds.get("fingerprint") is None or isinstance(ds.get("fingerprint"), str),
         "'dataset.fingerprint' must be a string")
    proto = r.get("protocol")
    need(isinstance(proto, dict) and isinstance(proto.get("name"), str),
         "'protocol.name' must be a string")
    base = proto.get("base", proto["name"])
    need(isinstance(base, str), "'protocol.base' must be a string")
    need(base in PROTOCOLS, f"unknown protocol {base!r}{did_you_mean(str(base), PROTOCOLS)}")
    need(isinstance(proto.get("changed", {}), dict), "'protocol.changed' must be an object")
    need(proto.get("changed") or proto["name"] == base,
         f"protocol {proto['name']!r} differs from {base!r} but records no changed fields")
    policy = proto.get("nan_policy", PROTOCOLS[base].nan_policy)
    need(policy in NAN_POLICIES, f"'protocol.nan_policy' must be one of {NAN_POLICIES}")
    need(is_number(r.get("seed")) and float(r["seed"]).is_integer() and r["seed"] >= 0,
         "'seed' must be a whole number >= 0")
    metrics = r.get("metrics")
    need(isinstance(metrics, dict) and metrics, "'metrics' must be a non-empty object")
    pi = r.get("per_image")
    need(isinstance(pi, dict) and isinstance(pi.get("names"), list)
         and isinstance(pi.get("scores"), dict), "'per_image' must hold names and scores")
    n_img = len(pi["names"])
    summaries = {}
    per_image = {}
    for m, e in metrics.items():
        need(m in METRICS, f"unknown metric {m!r}{did_you_mean(m, METRICS)}")
        need(isinstance(e, dict), f"metric {m!r} must be an object, got {type(e).__name__}")
        mean = e.get("mean")
        need(mean is None or is_number(mean), f"{m}.mean must be a number, got {mean!r}")
        mean = math.nan if mean is None else float(mean)
        need(not math.isinf(mean), f"{m}.mean is infinite")
        ci = e.get("ci95")
        need(isinstance(ci, list) and len(ci) == 2
             and all(c is None or is_number(c) for c in ci), f"{m}.ci95 must be [low, high]")
        lo, hi = (math.nan if c is None else float(c) for c in ci)
        if not math.isnan(mean) and not (math.isnan(lo) or math.isnan(hi)):
            tol = _CI_TOLERANCE * max(1.0, abs(mean))
            need(lo - tol <= mean <= hi + tol,
                 f"{m}.mean {mean:g} lies outside its own 95% CI [{lo:g}, {hi:g}]")
        nan_count = e.get("nan_count", 0)
        need(is_whole(nan_count) and nan_count >= 0, f"{m}.nan_count must be a count")
        counted = e.get("n_images", n_img)
        need(is_whole(counted) and counted >= 0, f"{m}.n_images must be a count")
        need(isinstance(e.get("higher_is_better", METRICS[m].higher_is_better), bool)
             and e.get("higher_is_better", METRICS[m].higher_is_better)
             == METRICS[m].higher_is_better, f"{m}.higher_is_better is wrong")
        vals = pi["scores"].get(m)
        need(isinstance(vals, list) and len(vals) == n_img,
             f"per-image scores of {m!r} must list one value per image ({n_img})")
        need(all(v is None or is_number(v) for v in vals),
             f"per-image scores of {m!r} must be numbers")
        arr = np.array([math.nan if v is None else float(v) for v in vals], dtype=float)
        need(not np.isinf(arr).any(), f"per-image scores of {m!r} hold infinite values")
        # the summary is what its per-image scores give: a board shows the one, compare
        # and plots read the other
        nans = int(np.isnan(arr).sum())
        need(nan_count == nans, f"{m}.nan_count is {nan_count} but {nans} per-image "
                                f"scores are NaN")
        need(isinstance(e.get("nan_reasons") or {}, dict)
             and all(isinstance(k, str) and is_whole(c) and c >= 0
                     for k, c in (e.get("nan_reasons") or {}).items()),
             f"{m}.nan_reasons must map reasons to counts")
        again = dataset_mean(arr, policy == NAN_OMIT)
        same = (math.isnan(mean) and math.isnan(again)) or \
            abs(mean - again) <= _MEAN_TOLERANCE * max(1.0, abs(again))
        need(same, f"{m}.mean {mean!r} is not the mean of its per-image scores ({again!r} "
                   f"under nan_policy {policy})")
        per_image[m] = arr
        summaries[m] = MetricSummary(
            mean=mean, ci95=(lo, hi), nan_count=int(nan_count),
            n_images=int(counted),
            higher_is_better=METRICS[m].higher_is_better, splits=e.get("splits"),
            split_std=_split_std(e), nan_reasons=dict(e.get("nan_reasons") or {}))
    created = r.get("created", "")
    need(isinstance(created, str), "'created' must be a date string")
    if created:
        try:
            when = datetime.fromisoformat(created)
        except ValueError:
            need(False, f"'created' is not an ISO date: {created!r}")
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        need(when <= datetime.now(timezone.utc) + timedelta(days=1),
             f"'created' lies in the future ({created})")
    for key in ("model_card", "checkpoint", "training", "hardware", "preprocessing"):
        need(r.get(key) is None or isinstance(r.get(key), dict), f"'{key}' must be an object")
    # what a board reads of them: a count, a string or an object each, or absent
    card = r.get("model_card") or {}
    need(card.get("train") is None or isinstance(card["train"], dict),
         "'model_card.train' must be an object")
    need(ds.get("preparation") is None or isinstance(ds["preparation"], dict),
         "'dataset.preparation' must be an object")
    for where, v, kind in (
            ("dataset.n_images", ds.get("n_images"), "count"),
            ("model_card.params", card.get("params"), "count"),
            ("model_card.train.epochs", (card.get("train") or {}).get("epochs"), "count"),
            ("checkpoint.epoch", (r.get("checkpoint") or {}).get("epoch"), "count"),
            ("checkpoint.sha256", (r.get("checkpoint") or {}).get("sha256"), "string"),
            ("training.epochs_done", (r.get("training") or {}).get("epochs_done"), "count"),
            ("training.schedule_epochs", (r.get("training") or {}).get("schedule_epochs"),
             "count"),
            ("preprocessing.normalize", (r.get("preprocessing") or {}).get("normalize"),
             "string"), ("git_commit", r.get("git_commit"), "string")):
        ok = is_whole(v) and v >= 0 if kind == "count" else isinstance(v, str)
        need(v is None or ok, f"'{where}' must be a {kind}, got {v!r}")
    return Result(
        name=r["name"], model=r.get("model"), dataset=dict(ds), protocol=dict(proto),
        seed=int(r["seed"]), metrics=summaries, image_names=[str(x) for x in pi["names"]],
        per_image=per_image, preprocessing=dict(r.get("preprocessing") or {}),
        model_card=r.get("model_card"), checkpoint=r.get("checkpoint"),
        training=r.get("training"), ig_baseline=r.get("ig_baseline"),
        salbench_version=str(r.get("salbench_version", "")), git_commit=r.get("git_commit"),
        hardware=dict(r.get("hardware") or {}), wall_time_s=r.get("wall_time_s"),
        created=created, source=source)


# ---- the store ------------------------------------------------------------------------------


class Store:
    """A folder of results (``ROOT/<dataset>/<protocol>/<entry>.json``) and the boards made
    from them (``ROOT/<dataset>-<protocol>.md/.csv``).  Nothing is written outside ROOT."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_store()

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    def path_for(self, result: Result) -> Path:
        return self._path(result.dataset_label, protocol_slug(result.protocol_name),
                          result.name)

    def _path(self, dataset: str, protocol_slug_: str, name: str) -> Path:
        parts = (check_name(dataset, "dataset label"), check_name(protocol_slug_, "protocol"),
                 check_name(name, "result name") + ".json")
        path = self.root.joinpath(*parts)
        root = self.root.resolve()
        if root not in path.resolve().parents:  # belt and braces: names are checked above
            raise UserError("refusing to write outside the store", path,
                            "choose a result name without path parts")
        return path

    def save(self, result: Result) -> Path:
        path = self.path_for(result)
        try:
            return result.save(path)
        except OSError as exc:
            raise os_error(exc, path, "write") from None

    def board_path(self, dataset: str, protocol: str, suffix: str) -> Path:
        return self.root / (f"{check_name(dataset, 'dataset label')}-"
                            f"{protocol_slug(protocol)}{suffix}")

    def results(self, boards: Iterable[tuple[str, str]] | None = None
                ) -> tuple[list[Result], list[tuple[str, str]]]:
        """Every valid result (of the ``(dataset label, protocol name)`` ``boards`` only,
        when given), and ``(path, why)`` for each file that was skipped."""
        good, bad = [], []
        if not self.root.is_dir():
            return good, bad
        if boards is None:
            paths = self.root.glob("*/*/*.json")
        else:
            folders = {(check_name(d, "dataset label"), protocol_slug(p)) for d, p in boards}
            paths = (p for d, s in folders for p in self.root.joinpath(d, s).glob("*.json"))
        for path in sorted(paths):
            try:
                r = load(path)
            except UserError as exc:
                bad.append((str(path), exc.what))
                continue
            expect = path.relative_to(self.root).parts
            if (r.dataset_label, protocol_slug(r.protocol_name), r.name + ".json") != expect:
                bad.append((str(path), f"holds {r.name!r} on {r.dataset_label}/"
                                       f"{r.protocol_name}, which belongs elsewhere"))
                continue
            good.append(r)
        return good, bad

    def __iter__(self) -> Iterator[Result]:
        return iter(self.results()[0])

    def find(self, name: str, dataset: str | None = None,
             protocol: str | None = None) -> Result:
        """The result of entry ``name`` (narrowed by dataset label and protocol)."""
        found = [r for r in self if r.name == name
                 and (dataset is None or r.dataset_label == dataset)
                 and (protocol is None or r.protocol_name == protocol)]
        if len(found) == 1:
            return found[0]
        where = "/".join(x for x in (dataset, protocol) if x) or "any data set and protocol"
        if not found:
            names = sorted({r.name for r in self if (dataset is None or r.dataset_label == dataset)
                            and (protocol is None or r.protocol_name == protocol)})
            raise UserError(f"no result {name!r} for {where}{did_you_mean(name, names)}",
                            self.root, f"stored: {', '.join(names) or 'none'}")
        options = ", ".join(f"{r.dataset_label}/{r.protocol_name}" for r in found)
        raise UserError(f"{len(found)} results named {name!r} ({options})", self.root,
                        "say which with --dataset and --protocol")


def protocol_slug(protocol_name: str) -> str:
    """A protocol name as a file-name part (variants carry their changed fields)."""
    return re.sub(r"[^A-Za-z0-9._=,+-]", "-", protocol_name).strip("-")[:NAME_MAX] or "protocol"


class Stopwatch:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.t0


__all__ = ["BOOTSTRAP_RESAMPLES", "SCHEMA_VERSION", "MetricSummary", "Result", "Store",
           "build", "check_name", "default_store", "load", "protocol_slug"]
