"""The replication study's files: ``train.pkl``, ``val.pkl`` and ``preds.pkl``.

``train.pkl``: a list of dicts with ``X`` (3x96x96 float), ``y`` (48x48 in [0, 1]) and
``file_name``; ``val.pkl`` adds ``y_original`` (the fixation map at the image's size, > 0
at fixated pixels) and ``X_original`` (3xHxW).  ``preds.pkl``: a list (or array) of
2304-vectors, one per val item, in val order.

Reading goes through :mod:`salbench.data.safe_pickle`; nothing in these files can run code.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import numpy as np

from ..io import atomic_write
from . import safe_pickle
from .split import Split


def _items(path: Path) -> list:
    data = safe_pickle.load(path)
    if not isinstance(data, list | tuple):
        raise ValueError(f"{path}: expected a list of dicts, got {type(data).__name__}")
    return list(data)


def _numeric(value, what: str) -> np.ndarray:
    """``value`` as an array, refused unless its dtype is numeric (``what`` starts the
    message: "FILE: item 3: key 'X' is")."""
    a = np.asarray(value)
    if a.dtype == object or not np.issubdtype(a.dtype, np.number):
        raise ValueError(f"{what} not numeric ({a.dtype})")
    return a


def _field(path: Path, i: int, item, key: str, shape=None, ndim=None) -> np.ndarray:
    if not isinstance(item, dict):
        raise ValueError(f"{path}: item {i}: expected a dict, got {type(item).__name__}")
    if key not in item:
        raise ValueError(f"{path}: item {i}: missing key {key!r} (has {sorted(item)})")
    a = _numeric(item[key], f"{path}: item {i}: key {key!r} is")
    if shape is not None and a.shape != shape:
        raise ValueError(f"{path}: item {i}: key {key!r} has shape {a.shape}, "
                         f"expected {shape}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{path}: item {i}: key {key!r} has shape {a.shape}, "
                         f"expected {ndim} dimensions")
    if not np.isfinite(a).all():
        raise ValueError(f"{path}: item {i}: key {key!r} has NaN or infinite values")
    return a


def _inputs(path: Path, i: int, x: np.ndarray) -> np.ndarray:
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"{path}: item {i}: 'X' values lie in [{x.min():g}, {x.max():g}], "
                         "expected [0, 1]")
    return x.astype(np.float32)


def read_train(path: str | Path) -> Split:
    path = Path(path)
    items = _items(path)
    xs, ys, names = [], [], []
    for i, it in enumerate(items):
        xs.append(_inputs(path, i, _field(path, i, it, "X", (3, 96, 96))))
        ys.append(_target(path, i, _field(path, i, it, "y", (48, 48))))
        names.append(str(it.get("file_name", f"item_{i}")))
    n = len(items)
    return Split.from_lists(
        "study", "train",
        inputs=np.stack(xs) if n else np.zeros((0, 3, 96, 96), np.float32),
        targets=np.stack(ys) if n else np.zeros((0, 48, 48), np.float32),
        sizes=[(480, 640)] * n, file_names=names, fixations=[np.zeros((0, 2))] * n,
        mirrored=_mirror_flags(names), meta={"source": str(path)},
    )


def _target(path: Path, i: int, y: np.ndarray) -> np.ndarray:
    if y.min() < 0 or y.max() > 1:
        raise ValueError(f"{path}: item {i}: 'y' values lie in [{y.min():g}, {y.max():g}], "
                         "expected [0, 1]")
    return y.astype(np.float32)


def _mirror_flags(names: list[str]) -> np.ndarray:
    """The study's train split lists each image twice (original, then mirror)."""
    seen: set[str] = set()
    flags = np.zeros(len(names), dtype=bool)
    for i, nm in enumerate(names):
        flags[i] = nm in seen
        seen.add(nm)
    return flags


def read_val(path: str | Path) -> Split:
    """val.pkl: fixations are the pixels where ``y_original > 0`` (one per pixel; the
    file does not keep duplicates or observers); originals come from ``X_original``."""
    path = Path(path)
    items = _items(path)
    xs, ys, names, fixes, sizes, originals = [], [], [], [], [], []
    for i, it in enumerate(items):
        xs.append(_inputs(path, i, _field(path, i, it, "X", (3, 96, 96))))
        ys.append(_target(path, i, _field(path, i, it, "y", (48, 48))))
        fmap = _field(path, i, it, "y_original", ndim=2)
        fixes.append(np.argwhere(fmap > 0).astype(np.int32))
        sizes.append(fmap.shape)
        names.append(str(it.get("file_name", f"item_{i}")))
        if "X_original" in it:
            xo = _field(path, i, it, "X_original", (3, *fmap.shape))
            originals.append(xo)
    n = len(items)
    loader = None
    if len(originals) == n and n:
        def loader(i: int) -> np.ndarray:
            x = originals[i]
            x = x * 255.0 if x.max() <= 1.0 else x
            return np.clip(np.round(x), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    return Split.from_lists(
        "study", "val",
        inputs=np.stack(xs) if n else np.zeros((0, 3, 96, 96), np.float32),
        targets=np.stack(ys) if n else np.zeros((0, 48, 48), np.float32),
        sizes=sizes, file_names=names, fixations=fixes, meta={"source": str(path)},
        image_loader=loader,
    )


def write_train(split: Split, path: str | Path) -> Path:
    items = [{"X": split.inputs_float(i), "y": split.targets[i],
              "file_name": str(split.file_names[i])} for i in range(len(split))]
    return _dump(items, path)


def write_val(split: Split, path: str | Path, originals: bool = True) -> Path:
    """val.pkl as the study's code expects it (``y_original`` as float64 0/1 maps;
    ``X_original`` in [0, 1] when the split can produce its images)."""
    items = []
    for i in range(len(split)):
        item = {"X": split.inputs_float(i), "y": split.targets[i],
                "y_original": split.fixation_map(i).astype(np.float64),
                "file_name": str(split.file_names[i])}
        if originals and split.has_images:
            item["X_original"] = split.image(i).transpose(2, 0, 1).astype(np.float32) / 255
        items.append(item)
    return _dump(items, path)


def _dump(obj, path: str | Path) -> Path:
    with atomic_write(path) as f:
        pickle.dump(obj, f, protocol=4)
    return Path(path)


# ---- predictions -----------------------------------------------------------------------


def read_predictions(path: str | Path) -> np.ndarray:
    """(N, 48, 48) float32 predictions from ``preds.pkl`` (2304-vectors or 48x48 maps),
    ``.npz`` (key ``preds``, or its only array) or ``.npy``."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such predictions file")
    suffix = path.suffix.lower()
    if suffix == ".pkl":
        data = safe_pickle.load(path)
        if isinstance(data, np.ndarray):
            arr = data
        elif isinstance(data, list | tuple):
            arr = _stack(path, data)
        else:
            raise ValueError(f"{path}: expected a list of 2304-vectors, got "
                             f"{type(data).__name__}")
    elif suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                key = "preds" if "preds" in z.files else (z.files[0] if len(z.files) == 1
                                                          else None)
                if key is None:
                    raise ValueError(f"{path}: holds {z.files}; name the array 'preds'")
                arr = z[key]
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{path}: truncated or corrupt .npz ({exc})") from None
    elif suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, EOFError, ValueError) as exc:
            raise ValueError(f"{path}: unreadable .npy ({exc})") from None
    else:
        raise ValueError(f"{path}: unknown predictions format {suffix!r} (use .pkl, .npz, "
                         ".npy or a folder of PNG maps)")
    return as_maps(arr, str(path))


def _stack(path: Path, items: list) -> np.ndarray:
    out = []
    for i, v in enumerate(items):
        a = _numeric(v, f"{path}: prediction {i} is")
        if a.size != 2304:
            raise ValueError(f"{path}: prediction {i} has {a.size} values (shape {a.shape}), "
                             "expected 2304 (a 48x48 map)")
        out.append(a.reshape(48, 48))
    return np.stack(out) if out else np.zeros((0, 48, 48), np.float32)


def as_maps(arr: np.ndarray, source: str) -> np.ndarray:
    arr = _numeric(arr, f"{source}: predictions are")
    if arr.ndim == 2 and arr.shape[1] == 2304:
        arr = arr.reshape(-1, 48, 48)
    if arr.ndim != 3:
        raise ValueError(f"{source}: predictions have shape {arr.shape}; expected (N, 2304) "
                         "or (N, H, W)")
    return arr if arr.dtype in (np.float32, np.float64) else arr.astype(np.float32)


def write_predictions_pkl(preds: np.ndarray, path: str | Path) -> Path:
    """The study's format: a list of float32 2304-vectors."""
    return _dump([np.asarray(p, dtype=np.float32).reshape(-1) for p in preds], path)
