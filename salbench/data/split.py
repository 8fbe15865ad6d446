"""One split of a dataset in memory, and salbench's ``.npz`` file format for it.

Fixations are kept as coordinates (row-compressed: image ``i`` owns
``fix_rc[fix_offsets[i]:fix_offsets[i + 1]]``); binary fixation maps are made on demand
and never stored dense.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..io import atomic_write

FORMAT = "salbench-split"
FORMAT_VERSION = 1
# what to do about a split that fails its checks: it is made, not edited by hand
REMAKE = ("make it again (salbench data synth --force, salbench data prepare), or fix the "
          "file it was read from")
INPUT_SIDE = 96  # model inputs are 3 x 96 x 96
MAP_SIDE = 48  # the shallow network's output and the targets: 48 x 48
INPUT_SHAPE = (3, INPUT_SIDE, INPUT_SIDE)
TARGET_SHAPE = (MAP_SIDE, MAP_SIDE)
MAP_PIXELS = MAP_SIDE * MAP_SIDE  # 2,304: one prediction in the study's preds.pkl


@dataclass
class Split:
    """Images (lazily), model inputs, targets and fixations of one split.

    ``inputs``: ``(N, 3, 96, 96)``, uint8 (salbench's own files) or float32 in [0, 1] (the
    study's pickles); :meth:`inputs_float` gives float32 in [0, 1] either way.
    ``targets``: ``(N, 48, 48)`` float32 in [0, 1].  ``sizes``: original ``(H, W)``.
    ``fix_rc``: int32 0-based ``(row, col)`` at the original resolution; ``fix_subject``:
    observer id per fixation (-1 when unknown).  ``mirrored``: True for the horizontally
    mirrored copies of training items.  ``extras``: per-image arrays such as the synthetic
    set's true ``density`` (48x48).
    """

    dataset: str
    name: str
    inputs: np.ndarray
    targets: np.ndarray
    sizes: np.ndarray
    file_names: np.ndarray
    fix_offsets: np.ndarray
    fix_rc: np.ndarray
    fix_subject: np.ndarray
    mirrored: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    image_loader: Callable[[int], np.ndarray] | None = field(default=None, repr=False)
    gt_loader: Callable[[int], np.ndarray] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.validate(f"{self.dataset}/{self.name}")

    def __len__(self) -> int:
        return len(self.targets)

    # ---- access ------------------------------------------------------------------------

    def fixations(self, i: int) -> np.ndarray:
        """(k, 2) int32 (row, col) of image ``i``."""
        return self.fix_rc[self.fix_offsets[i]:self.fix_offsets[i + 1]]

    def fixation_list(self) -> list[np.ndarray]:
        return [self.fixations(i) for i in range(len(self))]

    def fixation_map(self, i: int) -> np.ndarray:
        """Binary fixation map of image ``i`` at its original size."""
        h, w = self.sizes[i]
        m = np.zeros((h, w), dtype=bool)
        f = self.fixations(i)
        m[f[:, 0], f[:, 1]] = True
        return m

    def inputs_float(self, index=slice(None)) -> np.ndarray:
        x = self.inputs[index]
        if x.dtype == np.uint8:
            return x.astype(np.float32) / np.float32(255.0)
        return x.astype(np.float32, copy=False)

    def image(self, i: int) -> np.ndarray:
        """The original image (H, W, 3) uint8, read or rendered on demand."""
        if self.image_loader is None:
            raise UserError(f"{self.dataset}/{self.name}: original images are not available "
                             "(prepare the dataset with its images directory)",
                            hint="keep the release's images where 'salbench data prepare "
                                 "--from' read them, or prepare it again")
        return self.image_loader(i)

    @property
    def has_images(self) -> bool:
        return self.image_loader is not None

    def gt_maps(self) -> LazyMaps | None:
        """The data set's own continuous ground-truth maps (SALICON 2017's ``maps/``), one
        per item at the image's size, decoded on access; None when it has none."""
        if self.gt_loader is None:
            return None
        return LazyMaps(self.gt_loader, len(self))

    def fingerprint(self) -> str:
        """Content hash of everything that defines the split (16 hex digits)."""
        h = hashlib.sha256()
        for a in (self.inputs, self.targets, self.sizes, self.fix_offsets, self.fix_rc,
                  self.fix_subject, self.mirrored):
            h.update(str((a.dtype, a.shape)).encode())
            h.update(np.ascontiguousarray(a).tobytes())
        h.update("\n".join(map(str, self.file_names)).encode())
        for k in sorted(self.extras):
            h.update(k.encode())
            h.update(np.ascontiguousarray(self.extras[k]).tobytes())
        return h.hexdigest()[:16]

    def subset(self, index) -> Split:
        """A new split of the images ``index`` (fixations re-packed)."""
        idx = np.arange(len(self))[index]
        loader = None
        if self.image_loader is not None:
            parent = self.image_loader
            loader = lambda j: parent(int(idx[j]))  # noqa: E731
        return Split.from_lists(
            self.dataset, self.name, inputs=self.inputs[idx], targets=self.targets[idx],
            sizes=self.sizes[idx], file_names=self.file_names[idx],
            fixations=[self.fixations(i) for i in idx],
            subjects=[self.fix_subject[self.fix_offsets[i]:self.fix_offsets[i + 1]]
                      for i in idx],
            mirrored=self.mirrored[idx], extras={k: v[idx] for k, v in self.extras.items()},
            meta=dict(self.meta), image_loader=loader,
        )

    @classmethod
    def from_lists(cls, dataset: str, name: str, *, inputs: np.ndarray, targets: np.ndarray,
                   sizes, file_names, fixations: list[np.ndarray],
                   subjects: list[np.ndarray] | None = None, mirrored=None,
                   mirror: bool = False, extras: dict[str, np.ndarray] | None = None,
                   meta: dict | None = None,
                   image_loader: Callable[[int], np.ndarray] | None = None) -> Split:
        """Pack per-image fixation lists into a split.

        ``mirror=True`` appends horizontally mirrored copies of every item (inputs, targets,
        per-image ``extras`` and fixations), as the study's train split has; the copies come
        after all originals and are flagged in ``mirrored``.
        """
        n = len(fixations)
        fixations = [np.asarray(f, dtype=np.int32).reshape(-1, 2) for f in fixations]
        if subjects is None:
            subjects = [np.full(len(f), -1, dtype=np.int32) for f in fixations]
        subjects = [np.asarray(s, dtype=np.int32) for s in subjects]
        sizes = np.asarray(sizes, dtype=np.int32).reshape(n, 2)
        file_names = np.asarray(file_names, dtype=str)
        mirrored = np.zeros(n, dtype=bool) if mirrored is None else np.asarray(mirrored, bool)
        extras = dict(extras or {})
        if mirror:
            inputs = np.concatenate([inputs, inputs[..., ::-1]])
            targets = np.concatenate([targets, targets[..., ::-1]])
            extras = {k: np.concatenate([v, v[..., ::-1]]) for k, v in extras.items()}
            fixations = fixations + [np.stack([f[:, 0], w - 1 - f[:, 1]], 1)
                                     for f, (_, w) in zip(fixations, sizes, strict=True)]
            subjects = subjects + subjects
            sizes = np.concatenate([sizes, sizes])
            file_names = np.concatenate([file_names, file_names])
            mirrored = np.concatenate([mirrored, np.ones(n, dtype=bool)])
        offsets = np.zeros(len(fixations) + 1, dtype=np.int64)
        np.cumsum([len(f) for f in fixations], out=offsets[1:])
        return cls(
            dataset=dataset, name=name, inputs=np.ascontiguousarray(inputs),
            targets=np.ascontiguousarray(targets), sizes=sizes, file_names=file_names,
            fix_offsets=offsets,
            fix_rc=np.concatenate(fixations) if fixations else np.zeros((0, 2), np.int32),
            fix_subject=np.concatenate(subjects) if subjects else np.zeros(0, np.int32),
            mirrored=mirrored, extras={k: np.ascontiguousarray(v) for k, v in extras.items()},
            meta=dict(meta or {}), image_loader=image_loader,
        )

    # ---- checks ------------------------------------------------------------------------

    def validate(self, source: str) -> None:
        """Shapes, dtypes, ranges and fixation bounds; errors name ``source`` and the item."""
        n = len(self.targets)

        def need(cond: bool, what: str) -> None:
            if not cond:
                raise UserError(f"{source}: {what}", hint=REMAKE)

        need(self.inputs.ndim == 4 and self.inputs.shape[1:] == INPUT_SHAPE,
             f"inputs have shape {self.inputs.shape}, expected (N, 3, 96, 96)")
        need(self.inputs.dtype in (np.uint8, np.float32),
             f"inputs have dtype {self.inputs.dtype}, expected uint8 or float32")
        need(self.targets.ndim == 3 and self.targets.shape[1:] == TARGET_SHAPE,
             f"targets have shape {self.targets.shape}, expected (N, 48, 48)")
        need(self.targets.dtype == np.float32,
             f"targets have dtype {self.targets.dtype}, expected float32")
        need(len(self.inputs) == n, f"{len(self.inputs)} inputs but {n} targets")
        need(self.sizes.shape == (n, 2), f"sizes have shape {self.sizes.shape}, expected ({n}, 2)")
        need(len(self.file_names) == n, f"{len(self.file_names)} file names for {n} items")
        need(self.mirrored.shape == (n,), f"mirrored has shape {self.mirrored.shape}")
        need(self.fix_offsets.shape == (n + 1,) and self.fix_offsets[0] == 0
             and np.all(np.diff(self.fix_offsets) >= 0)
             and self.fix_offsets[-1] == len(self.fix_rc), "fixation offsets are inconsistent")
        need(self.fix_rc.ndim == 2 and self.fix_rc.shape[1] == 2,
             f"fixations have shape {self.fix_rc.shape}, expected (M, 2)")
        need(self.fix_subject.shape == (len(self.fix_rc),), "one subject id per fixation")
        for k, v in self.extras.items():
            need(len(v) == n, f"extra {k!r} has {len(v)} items for {n}")
        if n == 0:
            return
        need(bool(np.all(self.sizes > 0)), "image sizes must be positive")
        bad = ~np.isfinite(self.targets).reshape(n, -1).all(axis=1)
        bad |= (self.targets.reshape(n, -1).min(axis=1) < 0) | \
            (self.targets.reshape(n, -1).max(axis=1) > 1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise UserError(f"{source}: item {i} ({self.file_names[i]}): target values must "
                             "be finite and in [0, 1]", hint=REMAKE)
        if self.inputs.dtype == np.float32:
            lo = self.inputs.reshape(n, -1).min(axis=1)
            hi = self.inputs.reshape(n, -1).max(axis=1)
            bad = ~(np.isfinite(lo) & np.isfinite(hi)) | (lo < 0) | (hi > 1)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise UserError(f"{source}: item {i} ({self.file_names[i]}): float inputs "
                                 "must be finite and in [0, 1]", hint=REMAKE)
        if len(self.fix_rc):
            img = np.repeat(np.arange(n), np.diff(self.fix_offsets))
            h = self.sizes[img, 0]
            w = self.sizes[img, 1]
            r, c = self.fix_rc[:, 0], self.fix_rc[:, 1]
            bad = (r < 0) | (r >= h) | (c < 0) | (c >= w)
            if bad.any():
                j = int(np.flatnonzero(bad)[0])
                i = int(img[j])
                raise UserError(f"{source}: item {i} ({self.file_names[i]}): fixation "
                                 f"(row={r[j]}, col={c[j]}) outside the {h[j]}x{w[j]} image",
                                 hint=REMAKE)


class LazyMaps:
    """A read-only sequence of maps produced one at a time by ``loader(i)``."""

    def __init__(self, loader: Callable[[int], np.ndarray], n: int) -> None:
        self._loader = loader
        self._n = n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: int) -> np.ndarray:
        if not -self._n <= i < self._n:
            raise IndexError(i)
        return self._loader(i % self._n)


# ---- salbench's file format ------------------------------------------------------------

_ARRAYS = ("inputs", "targets", "sizes", "file_names", "fix_offsets", "fix_rc",
           "fix_subject", "mirrored")


def save_split(split: Split, path: str | Path) -> Path:
    """Write ``split`` to ``path`` (.npz, no pickles inside), atomically."""
    path = Path(path)
    arrays = {k: getattr(split, k) for k in _ARRAYS}
    arrays["file_names"] = np.asarray(split.file_names, dtype=str)
    for k, v in split.extras.items():
        arrays[f"extra__{k}"] = v
    meta = {"format": FORMAT, "version": FORMAT_VERSION, "dataset": split.dataset,
            "name": split.name, **split.meta}
    arrays["meta"] = np.array(json.dumps(meta))
    with atomic_write(path) as f:
        np.savez(f, **arrays)
    return path


def load_split(path: str | Path, image_loader: Callable[[int], np.ndarray] | None = None
               ) -> Split:
    """Read a split written by :func:`save_split`; errors name the file and the key."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such split file", hint=REMAKE)
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            missing = [k for k in (*_ARRAYS, "meta") if k not in keys]
            if missing:
                raise UserError(f"{path}: not a salbench split (missing {', '.join(missing)})",
                                hint=REMAKE)
            data = {k: z[k] for k in _ARRAYS}
            extras = {k[len("extra__"):]: z[k] for k in keys if k.startswith("extra__")}
            meta = json.loads(str(z["meta"]))
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as exc:
        raise UserError(f"{path}: truncated or corrupt split file ({exc})",
                        hint=REMAKE) from None
    if meta.get("format") != FORMAT:
        raise UserError(f"{path}: not a salbench split file", hint=REMAKE)
    if meta.get("version", 0) > FORMAT_VERSION:
        raise UserError(f"{path}: written by a newer salbench (format "
                         f"{meta['version']} > {FORMAT_VERSION})", hint="upgrade salbench")
    dataset = meta.pop("dataset", "?")
    name = meta.pop("name", "?")
    for k in ("format", "version"):
        meta.pop(k, None)
    try:
        split = Split(dataset=dataset, name=name, extras=extras, meta=meta,
                      image_loader=image_loader, **data)
    except ValueError as exc:
        raise UserError(f"{path}: {exc}", hint=REMAKE) from None
    return split
