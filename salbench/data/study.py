"""The replication study's files: ``train.pkl``, ``val.pkl`` and ``preds.pkl``.

``train.pkl``: a list of dicts with ``X`` (3x96x96 float), ``y`` (48x48 in [0, 1]) and
``file_name``; ``val.pkl`` adds ``y_original`` (the fixation map at the image's size, > 0
at fixated pixels) and ``X_original`` (3xHxW).  ``preds.pkl``: a list (or array) of
2304-vectors, one per val item, in val order.

Reading goes through :mod:`salbench.data.safe_pickle`; nothing in these files can run code.
A directory holding the study's pickles is a data set (``--dataset study --data-dir
DIR``): it is converted once into salbench's own files under ``$SALBENCH_HOME/study``
(originals as an 8-bit memory-mapped array), so later runs read it lean.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..io import atomic_write, home
from . import safe_pickle
from .split import INPUT_SHAPE, MAP_PIXELS, MAP_SIDE, TARGET_SHAPE, Split, load_split, save_split

STUDY_FILES = ("train.pkl", "val.pkl")
# what to do about an item that is not in the study's layout
LAYOUT = ("each item must be a dict of X (3x96x96 in [0, 1]), y (48x48 in [0, 1]) and "
          "file_name, with y_original and X_original in val.pkl: check the file")


def _items(path: Path) -> list:
    data = safe_pickle.load(path)
    if not isinstance(data, list | tuple):
        raise UserError(f"expected a list of dicts, got {type(data).__name__}", path,
                        "is this the study's train.pkl / val.pkl?")
    return list(data)


def _numeric(value, what: str, where) -> np.ndarray:
    """``value`` as an array, refused unless its dtype is real numeric."""
    a = np.asarray(value)
    if a.dtype == object or a.dtype == bool or not np.issubdtype(a.dtype, np.number):
        raise UserError(f"{what} not numeric ({a.dtype})", where,
                        "save numbers (float or integer arrays)")
    if np.iscomplexobj(a):
        raise UserError(f"{what} complex ({a.dtype})", where,
                        "save real values (e.g. the magnitude) explicitly")
    return a


def _field(path: Path, i: int, item, key: str, shape=None, ndim=None) -> np.ndarray:
    if not isinstance(item, dict):
        raise UserError(f"item {i}: expected a dict, got {type(item).__name__}", path, LAYOUT)
    if key not in item:
        raise UserError(f"item {i}: missing key {key!r} (has {sorted(item)})", path, LAYOUT)
    a = _numeric(item[key], f"item {i}: key {key!r} is", path)
    if shape is not None and a.shape != shape:
        raise UserError(f"item {i}: key {key!r} has shape {a.shape}, expected {shape}", path,
                        LAYOUT)
    if ndim is not None and a.ndim != ndim:
        raise UserError(f"item {i}: key {key!r} has shape {a.shape}, expected {ndim} "
                        "dimensions", path, LAYOUT)
    if not np.isfinite(a).all():
        raise UserError(f"item {i}: key {key!r} has NaN or infinite values", path,
                        "replace them in the file (e.g. np.nan_to_num) or drop the item")
    return a


def _unit(path: Path, i: int, key: str, x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    if lo < 0 or hi > 1:
        raise UserError(f"item {i}: {key!r} values lie in [{lo:g}, {hi:g}], expected [0, 1]",
                        path, "scale the values to [0, 1] in the file")
    return x.astype(np.float32)


def _mirror_flags(names: list[str]) -> np.ndarray:
    """The study's train split lists each image twice (original, then mirror)."""
    seen: set[str] = set()
    flags = np.zeros(len(names), dtype=bool)
    for i, nm in enumerate(names):
        flags[i] = nm in seen
        seen.add(nm)
    return flags


def read_train(path: str | Path) -> Split:
    path = Path(path)
    items = _items(path)
    xs, ys, names = [], [], []
    for i, it in enumerate(items):
        xs.append(_unit(path, i, "X", _field(path, i, it, "X", INPUT_SHAPE)))
        ys.append(_unit(path, i, "y", _field(path, i, it, "y", TARGET_SHAPE)))
        names.append(_file_name(path, i, it))
    n = len(items)
    return Split.from_lists(
        "study", "train",
        inputs=np.stack(xs) if n else np.zeros((0, *INPUT_SHAPE), np.float32),
        targets=np.stack(ys) if n else np.zeros((0, *TARGET_SHAPE), np.float32),
        sizes=[(480, 640)] * n, file_names=names, fixations=[np.zeros((0, 2))] * n,
        mirrored=_mirror_flags(names), meta={"source": str(path)},
    )


def _file_name(path: Path, i: int, item: dict) -> str:
    """An item's ``file_name`` (``item_<i>`` where it has none)."""
    name = item.get("file_name", f"item_{i}")
    if not isinstance(name, str) or not name:
        raise UserError(f"item {i}: file_name is {name!r}, not a file name", path, LAYOUT)
    return name


def _original_u8(path: Path, i: int, x: np.ndarray) -> np.ndarray:
    """``X_original`` (3xHxW, [0, 1] or [0, 255]) as an HxWx3 uint8 image."""
    lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
    if lo < 0.0 or hi > 255.0:
        raise UserError(f"item {i}: 'X_original' values lie in [{lo:g}, {hi:g}], expected "
                        "[0, 1] or [0, 255]", path, LAYOUT)
    x = x * 255.0 if hi <= 1.0 else x
    return np.clip(np.round(x), 0, 255).astype(np.uint8).transpose(1, 2, 0)


def read_val(path: str | Path) -> Split:
    """val.pkl: fixations are the pixels where ``y_original > 0`` (one per pixel; the
    file does not keep duplicates or observers); originals come from ``X_original``
    (kept as 8-bit images, not floats)."""
    path = Path(path)
    items = _items(path)
    xs, ys, names, fixes, sizes, originals = [], [], [], [], [], []
    for i, it in enumerate(items):
        xs.append(_unit(path, i, "X", _field(path, i, it, "X", INPUT_SHAPE)))
        ys.append(_unit(path, i, "y", _field(path, i, it, "y", TARGET_SHAPE)))
        fmap = _field(path, i, it, "y_original", ndim=2)
        fixes.append(np.argwhere(fmap > 0).astype(np.int32))
        sizes.append(fmap.shape)
        names.append(_file_name(path, i, it))
        if "X_original" in it:
            originals.append(_original_u8(path, i, _field(path, i, it, "X_original",
                                                          (3, *fmap.shape))))
            it["X_original"] = None  # let the float copy go as soon as it is converted
    n = len(items)
    loader = None
    if len(originals) == n and n:
        def loader(i: int) -> np.ndarray:
            return originals[i]
    return Split.from_lists(
        "study", "val",
        inputs=np.stack(xs) if n else np.zeros((0, *INPUT_SHAPE), np.float32),
        targets=np.stack(ys) if n else np.zeros((0, *TARGET_SHAPE), np.float32),
        sizes=sizes, file_names=names, fixations=fixes, meta={"source": str(path)},
        image_loader=loader,
    )


# ---- the study's directory as a data set ---------------------------------------------------


def _cache_key(path: Path) -> str:
    st = path.stat()
    return hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()
                          ).hexdigest()[:16]


def load_study(data_dir: str | Path, split: str) -> Split:
    """``DIR/train.pkl`` or ``DIR/val.pkl`` as a split, converted once into salbench's files
    under ``$SALBENCH_HOME/study/<key>`` (re-converted when the pickle changes)."""
    data_dir = Path(data_dir)
    src = data_dir / f"{split}.pkl"
    if not src.is_file():
        raise UserError(f"no {split}.pkl", data_dir,
                        "--dataset study needs a directory holding the study's train.pkl and "
                        "val.pkl")
    cache = home() / "study" / _cache_key(src)
    path = cache / f"{split}.npz"
    images = cache / f"{split}-originals.npy"
    if not path.exists():
        from ..console import note

        note(f"converting {src} to salbench's format (once; cached in {cache})")
        cache.mkdir(parents=True, exist_ok=True)
        s = read_train(src) if split == "train" else read_val(src)
        if s.has_images:
            _write_originals(s, images)
        s.meta["source"] = str(src.resolve())
        save_split(s, path)
    s = load_split(path)
    if images.exists():
        arr = np.load(images, mmap_mode="r", allow_pickle=False)
        offsets = json.loads(str(s.meta.get("original_offsets", "[]")))
        s.image_loader = _memmap_loader(arr, offsets, s.sizes)
    return s


def _write_originals(s: Split, path: Path) -> None:
    """All originals, flattened into one uint8 array (memory-mapped when read)."""
    offsets = [0]
    for i in range(len(s)):
        h, w = s.sizes[i]
        offsets.append(offsets[-1] + int(h) * int(w) * 3)
    flat = np.lib.format.open_memmap(str(path) + ".tmp", mode="w+", dtype=np.uint8,
                                     shape=(offsets[-1],))
    for i in range(len(s)):
        flat[offsets[i]:offsets[i + 1]] = s.image(i).ravel()
    flat.flush()
    del flat
    Path(str(path) + ".tmp").replace(path)
    s.meta["original_offsets"] = json.dumps(offsets)


def _memmap_loader(arr: np.ndarray, offsets: list[int], sizes: np.ndarray):
    def load(i: int) -> np.ndarray:
        h, w = sizes[i]
        return np.asarray(arr[offsets[i]:offsets[i + 1]]).reshape(int(h), int(w), 3)

    return load if len(offsets) == len(sizes) + 1 else None


# ---- writing ---------------------------------------------------------------------------


def write_train(split: Split, path: str | Path, progress=None) -> Path:
    items = []
    for i in range(len(split)):
        items.append({"X": split.inputs_float(i), "y": split.targets[i],
                      "file_name": str(split.file_names[i])})
        if progress:
            progress(1)
    return _dump(items, path)


def write_val(split: Split, path: str | Path, originals: bool = True, progress=None) -> Path:
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
        if progress:
            progress(1)
    return _dump(items, path)


def export_size(split: Split, kind: str, originals: bool = True) -> int:
    """Bytes ``write_train`` / ``write_val`` will write (approximately: array payloads)."""
    n = len(split)
    per = (3 * 96 * 96 + MAP_PIXELS) * 4
    if kind == "val":
        px = int((split.sizes[:, 0].astype(np.int64) * split.sizes[:, 1]).sum())
        total = n * per + px * 8
        if originals and split.has_images:
            total += px * 3 * 4
        return total
    return n * per


def _dump(obj, path: str | Path) -> Path:
    with atomic_write(path) as f:
        pickle.dump(obj, f, protocol=4)
    return Path(path)


# ---- predictions -----------------------------------------------------------------------


def read_predictions(path: str | Path) -> np.ndarray:
    """(N, 48, 48) predictions from ``preds.pkl`` (2304-vectors or 48x48 maps), ``.npz``
    (key ``preds``, or its only array) or ``.npy``; values as stored."""
    path = Path(path)
    if not path.exists():
        raise UserError("no such predictions file", path, "check the path")
    if path.is_dir():
        raise UserError("a folder, not a predictions file", path,
                        "give a .pkl/.npz/.npy file, or a folder of map images to "
                        "'salbench score'")
    suffix = path.suffix.lower()
    if suffix == ".pkl":
        data = safe_pickle.load(path)
        if isinstance(data, np.ndarray):
            arr = data
        elif isinstance(data, list | tuple):
            arr = _stack(path, data)
        else:
            raise UserError(f"expected a list of 2304-vectors, got {type(data).__name__}",
                            path, "save one flattened 48x48 map per val item, in val order")
    elif suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                key = "preds" if "preds" in z.files else (z.files[0] if len(z.files) == 1
                                                          else None)
                if key is None:
                    raise UserError(f"holds {z.files}", path, "name the array 'preds'")
                arr = z[key]
        except (OSError, EOFError, zipfile.BadZipFile, ValueError) as exc:
            if isinstance(exc, UserError):
                raise
            raise UserError(f"truncated or corrupt .npz ({exc})", path,
                            "write it again (np.savez)") from None
    elif suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, EOFError, ValueError) as exc:
            raise UserError(f"unreadable .npy ({exc})", path,
                            "write it again (np.save; object arrays are not read)") from None
    else:
        raise UserError(f"unknown predictions format {suffix!r}", path,
                        "use .pkl, .npz, .npy or a folder of PNG maps")
    return as_maps(arr, str(path))


def _stack(path: Path, items: list) -> np.ndarray:
    out = []
    for i, v in enumerate(items):
        a = _numeric(v, f"prediction {i} is", path)
        if a.size != MAP_PIXELS:
            raise UserError(f"prediction {i} has {a.size} values (shape {a.shape}), expected "
                            f"{MAP_PIXELS} (a 48x48 map)", path,
                            "save one 48x48 map per val item (the network's output size)")
        out.append(a.reshape(MAP_SIDE, MAP_SIDE))
    return np.stack(out) if out else np.zeros((0, *TARGET_SHAPE), np.float32)


def as_maps(arr: np.ndarray, source: str) -> np.ndarray:
    arr = _numeric(arr, "predictions are", source)
    if arr.ndim == 2 and arr.shape[1] == MAP_PIXELS:
        arr = arr.reshape(-1, MAP_SIDE, MAP_SIDE)
    if arr.ndim == 4 and arr.shape[1] == 1:  # a network's (N, C=1, H, W) output
        arr = arr[:, 0]
    if arr.ndim != 3:
        raise UserError(f"predictions have shape {arr.shape}", source,
                        f"expected (N, {MAP_PIXELS}), (N, H, W) or (N, 1, H, W)")
    return arr if arr.dtype in (np.float32, np.float64) else arr.astype(np.float64)


def write_predictions_pkl(preds: np.ndarray, path: str | Path) -> Path:
    """The study's format: a list of float32 2304-vectors."""
    return _dump([np.asarray(p, dtype=np.float32).reshape(-1) for p in preds], path)
