"""Which dataset a command means, and loading its splits.

``synth`` (the default everywhere) is generated on first use and cached under
``$SALBENCH_HOME/synth``; ``salicon`` is a directory prepared by ``salbench data
prepare`` (``--data-dir`` or ``$SALBENCH_DATA``); ``study`` is a directory holding the
replication study's ``train.pkl`` and ``val.pkl``.
"""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..console import note
from ..errors import UserError, is_whole
from ..io import home
from . import synth
from .split import Split, load_split, save_split

_NOTED: set[str] = set()


@dataclass(frozen=True)
class DatasetSpec:
    """``name``: ``synth``, ``salicon`` or ``study``; synth's generator seed and sizes; the
    others' directory.  ``auto``: chosen for the user (said once, when data is loaded)."""

    name: str = "synth"
    seed: int = 0
    n_train: int = synth.DEFAULT_TRAIN
    n_val: int = synth.DEFAULT_VAL
    data_dir: str | None = None
    auto: bool = False

    @property
    def label(self) -> str:
        """How results and leaderboards name the dataset (non-default synth sizes and
        seeds are spelled out: they are different datasets)."""
        if self.name != "synth":
            return self.name
        if (self.seed, self.n_train, self.n_val) == (0, synth.DEFAULT_TRAIN, synth.DEFAULT_VAL):
            return "synth"
        return f"synth-s{self.seed}-{self.n_train}x{self.n_val}"

    @property
    def synth_config(self) -> synth.SynthConfig:
        return synth.SynthConfig(seed=self.seed, n_train=self.n_train, n_val=self.n_val)


def resolve(name: str | None = None, data_dir: str | None = None, seed: int = 0,
            n_train: int | None = None, n_val: int | None = None) -> DatasetSpec:
    """The dataset a command means.  ``name=None``: SALICON when a prepared copy is found
    (``data_dir`` or ``$SALBENCH_DATA``), else the synthetic set, saying so once."""
    data_dir = data_dir or os.environ.get("SALBENCH_DATA")
    auto = name is None
    if name is None:
        if data_dir and (Path(data_dir) / "val.npz").exists():
            name = "salicon"
        elif data_dir and (Path(data_dir) / "val.pkl").exists():
            name = "study"
        else:
            name = "synth"
    if name not in DATASETS:
        raise UserError(f"unknown dataset {name!r}", hint=f"choose {', '.join(DATASETS)}")
    if name in ("salicon", "study"):
        if not data_dir:
            what = "a directory made by 'salbench data prepare'" if name == "salicon" else \
                "the directory holding the study's train.pkl and val.pkl"
            raise UserError(f"dataset {name!r} needs --data-dir (or $SALBENCH_DATA)",
                            hint=f"point it at {what}")
        return DatasetSpec(name=name, data_dir=str(data_dir), auto=auto)
    sizes = _env_synth_sizes()
    if seed < 0 or seed >= 2**32:
        raise UserError(f"--data-seed must be in [0, 2**32), got {seed}",
                        hint="e.g. --data-seed 0")
    return DatasetSpec(name="synth", seed=seed,
                       n_train=n_train if n_train is not None else sizes[0],
                       n_val=n_val if n_val is not None else sizes[1], auto=auto)


DATASETS = ("synth", "salicon", "study")

_SYNTH_LABEL = re.compile(r"synth-s(\d+)-(\d+)x(\d+)")


def spec_of_label(label: str, data_dir: str | None = None) -> DatasetSpec | None:
    """The dataset a result's label names: the synthetic set it spells out
    (:attr:`DatasetSpec.label`), or ``salicon``/``study`` in ``data_dir`` (or
    ``$SALBENCH_DATA``); None for a label salbench did not make (``evaluate``'s own)."""
    if label == "synth":
        return DatasetSpec()
    m = _SYNTH_LABEL.fullmatch(label)
    if m:
        seed, n_train, n_val = (int(v) for v in m.groups())
        return DatasetSpec(seed=seed, n_train=n_train, n_val=n_val)
    if label in ("salicon", "study"):
        return resolve(label, data_dir)
    return None


def _env_synth_sizes() -> tuple[int, int]:
    """``$SALBENCH_SYNTH=TRAIN,VAL`` changes the default synthetic sizes (tests, demos)."""
    raw = os.environ.get("SALBENCH_SYNTH")
    if not raw:
        return synth.DEFAULT_TRAIN, synth.DEFAULT_VAL
    try:
        a, b = (int(v) for v in raw.split(","))
    except ValueError:
        raise UserError(f"SALBENCH_SYNTH must be 'TRAIN,VAL' image counts, got {raw!r}",
                        hint="e.g. SALBENCH_SYNTH=64,32, or unset it") from None
    return a, b


def synth_dir(config: synth.SynthConfig) -> Path:
    return home() / "synth" / config.key


def load(spec: DatasetSpec, split: str) -> Split:
    """Load one split (``train`` or ``val``) of ``spec``, generating synth if needed."""
    if split not in ("train", "val"):
        raise UserError(f"unknown split {split!r}", hint="choose train or val")
    if spec.auto and spec.name == "synth" and "auto-synth" not in _NOTED:
        _NOTED.add("auto-synth")
        note("no prepared SALICON found (--data-dir or SALBENCH_DATA); using the synthetic "
             "dataset 'synth'")
    if spec.name == "study":
        from .study import load_study

        return load_study(spec.data_dir or ".", split)
    if spec.name == "salicon":
        from .salicon import gt_loader, image_loader

        path = Path(spec.data_dir or ".") / f"{split}.npz"
        if not path.exists():
            raise UserError(f"no prepared {split} split", path,
                            "run 'salbench data prepare --from SALICON_DIR --out DIR' first")
        s = load_split(path)
        s.image_loader = image_loader(s)
        s.gt_loader = gt_loader(Path(spec.data_dir or "."), split, len(s))
        return s
    config = spec.synth_config
    path = synth_dir(config) / f"{split}.npz"
    if not path.exists():
        generate(config)
    s = load_split(path)
    s.image_loader = synth.original_loader(config.seed, split, int(s.meta.get("n_base", 0)))
    return s


def generate(config: synth.SynthConfig, workers: int | None = None,
             force: bool = False) -> dict[str, float]:
    """Generate and cache both synthetic splits; returns seconds per split."""
    if workers is not None and (not is_whole(workers) or workers < 1):
        raise UserError(f"workers must be a whole number >= 1, got {workers!r}",
                        hint="e.g. --workers 2, or leave it out to use every core (up to 8)")
    out = synth_dir(config)
    times = {}
    for split in ("train", "val"):
        path = out / f"{split}.npz"
        if path.exists() and not force:
            continue
        t0 = time.perf_counter()
        s = _generate_parallel(config, split, workers)
        save_split(s, path)
        times[split] = time.perf_counter() - t0
    return times


def _generate_parallel(config: synth.SynthConfig, split: str, workers: int | None) -> Split:
    from ..progress import progress_bar

    n = config.n_train if split == "train" else config.n_val
    workers = workers or min(os.cpu_count() or 1, 8)
    if workers <= 1 or n < 64:
        with progress_bar(f"synth {split}", n) as advance:
            return synth.generate_split(config, split, progress=advance)
    chunks = [(config.seed, split, lo, min(n, lo + 64)) for lo in range(0, n, 64)]
    parts = [None] * len(chunks)
    with progress_bar(f"synth {split}", n) as advance, \
            ProcessPoolExecutor(workers) as pool:
        futures = {pool.submit(_chunk, *c): k for k, c in enumerate(chunks)}
        for fut in as_completed(futures):
            k = futures[fut]
            parts[k] = fut.result()
            advance(chunks[k][3] - chunks[k][2])
    return synth.assemble_split(config, split, [item for part in parts for item in part])


def _chunk(seed: int, split: str, lo: int, hi: int):
    return [synth.generate_item(seed, split, i) for i in range(lo, hi)]


def describe(s: Split) -> dict:
    """Counts, sizes, fixations per image and centre-bias strength of a split."""
    originals = ~s.mirrored
    per = np.diff(s.fix_offsets)[originals]  # counted as 'data prepare' counts: originals
    info = {
        "dataset": s.dataset, "split": s.name, "items": len(s),
        "images": int(originals.sum()), "mirrored copies": int(s.mirrored.sum()),
        "image sizes": sorted({f"{h}x{w}" for h, w in s.sizes.tolist()}),
        "fixations (originals)": int(per.sum()),
        "fixations/image (mean, min, max)": (round(float(per.mean()), 1) if len(per) else 0.0,
                                             int(per.min()) if len(per) else 0,
                                             int(per.max()) if len(per) else 0),
        "given ground-truth maps": "yes" if s.gt_loader is not None else "no",
        "fingerprint": s.fingerprint(),
    }
    if len(s.fix_rc):
        img = np.repeat(np.arange(len(s)), np.diff(s.fix_offsets))
        rel = s.fix_rc / s.sizes[img]  # fixations in [0, 1) of their image (mirrors too)
        d = np.hypot(rel[:, 0] - 0.5, rel[:, 1] - 0.5)
        # uniform fixations are at mean distance 0.383 from the centre (unit square)
        info["centre bias (mean distance / uniform's)"] = round(float(d.mean() / 0.3826), 3)
        info["fixations in the central 25% of the area"] = round(float(
            np.mean((np.abs(rel[:, 0] - 0.5) < 0.25) & (np.abs(rel[:, 1] - 0.5) < 0.25))), 3)
    return info
