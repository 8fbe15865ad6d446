"""Predictions files: the study's ``preds.pkl``, ``.npz``, ``.npy`` and folders of maps,
read and checked against the split they claim to cover.

Every map is read as what it holds or refused: 16-bit PNGs are scaled by 65535, not
clipped at 255; colour images that are not grey are refused, palette images included (a
colour-mapped map would otherwise be read as its luminance); complex arrays are refused;
a folder with two maps for one image (``X.png`` and ``X.jpg``) is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import UserError, os_error
from .split import MAP_PIXELS, TARGET_SHAPE, Split
from .study import as_maps, read_predictions

if TYPE_CHECKING:
    from PIL.Image import Image

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


# image modes whose values are 8-bit (a palette or colour image only when it is grey)
EIGHT_BIT_MODES = ("1", "L", "P", "PA", "LA", "RGB", "RGBA")


def grey_values(im: Image, where: str | Path, dtype: type = np.float32) -> np.ndarray:
    """An opened map image's values in ``dtype``: 8-bit / 255, 16-bit / 65535, float
    (mode ``F``) as stored.  A colour image (a colour palette too: a colour-mapped map
    would otherwise be read as its luminance) or a mode of no known range is refused,
    naming ``where``."""
    mode = im.mode
    if mode in ("1", "L"):
        return np.asarray(im.convert("L"), dtype=dtype) / dtype(255.0)
    if mode.startswith("I;16"):
        return np.asarray(im, dtype=dtype) / dtype(65535.0)
    if mode == "F":
        return np.asarray(im, dtype=dtype)
    if mode in EIGHT_BIT_MODES:
        a = np.asarray(im.convert("RGB"), dtype=dtype)
        if not (np.array_equal(a[..., 0], a[..., 1]) and np.array_equal(a[..., 0], a[..., 2])):
            raise UserError("saliency map is a colour image, not grey", where,
                            "save maps as single-channel greyscale images, not colour-mapped")
        return a[..., 0] / dtype(255.0)
    raise UserError(f"saliency map image mode {mode!r} has no known value range", where,
                    "save maps as 8- or 16-bit greyscale PNG")


def read_map_image(path: Path) -> np.ndarray:
    """One saliency map image as float32 in [0, 1] (:func:`grey_values`)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            return grey_values(im, path)
    except UnidentifiedImageError:
        raise UserError("not an image file", path, "maps must be PNG/JPEG/TIFF images") \
            from None
    except OSError as exc:
        if isinstance(exc, FileNotFoundError | IsADirectoryError | PermissionError):
            raise os_error(exc, path) from None
        raise UserError(f"unreadable or truncated image ({exc})", path,
                        "re-save the map") from None


def read_folder(folder: Path, split: Split):
    """One map image per image of ``split``, named like the image (``X.jpg`` -> ``X.png``)."""
    index: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() not in _IMAGE_SUFFIXES or not p.is_file():
            continue
        if p.stem in index:
            raise UserError(f"two maps for image {p.stem!r} ({index[p.stem].name}, {p.name})",
                            folder, "keep one map per image")
        index[p.stem] = p
    stems = [Path(str(n)).stem for n in split.file_names]
    missing = [str(n) for n, s in zip(split.file_names, stems, strict=True) if s not in index]
    if missing:
        raise UserError(f"no map for {len(missing)} of {len(split)} images, e.g. "
                        f"{', '.join(missing[:3])}", folder, "maps are named like the images")
    extra = len(index) - len(set(stems))
    maps = []
    for n, size in zip(split.file_names, split.sizes.tolist(), strict=True):
        p = index[Path(str(n)).stem]
        m = read_map_image(p)
        if m.shape not in (TARGET_SHAPE, tuple(size)):
            raise UserError(f"map is {m.shape[0]}x{m.shape[1]}", p,
                            f"expected 48x48 (the model output) or its image's size "
                            f"({size[0]}x{size[1]})")
        maps.append(m)
    if extra > 0:
        from ..console import note

        note(f"{folder}: {extra} map(s) match no image of the split; ignored")
    return maps if len({m.shape for m in maps}) > 1 else np.stack(maps)


def read_for_split(path: str | Path, split: Split):
    """Predictions for ``split`` in its order; mismatches are refused with a clear message."""
    path = Path(path)
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except OSError as exc:  # e.g. a name too long for the file system
        raise os_error(exc, path) from None
    if not exists:
        raise UserError("no such predictions file or folder", path, "check the path")
    if is_dir:
        preds = read_folder(path, split)
    else:
        preds = read_predictions(path)
        _check_order(path, split)
    n = len(preds)
    if n != len(split):
        raise UserError(f"{n} predictions but {split.dataset}/{split.name} has {len(split)} "
                        "images", path, "predictions must be one per image, in the split's "
                        "order (salbench data info shows the split)")
    if isinstance(preds, np.ndarray):
        _check_shape(path, preds, split)
        flat = preds.reshape(n, -1)
        bad = ~np.isfinite(flat).all(axis=1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise UserError(f"prediction {i} ({split.file_names[i]}) has NaN or infinite "
                            f"values ({int(bad.sum())} prediction(s) affected)", path,
                            "replace them before saving (e.g. np.nan_to_num) or fix the model")
    return preds


def _check_order(path: Path, split: Split) -> None:
    if path.suffix.lower() != ".npz":
        return
    with np.load(path, allow_pickle=False) as z:
        if "file_names" not in z.files:
            return
        names = [str(x) for x in z["file_names"]]
    expect = [str(x) for x in split.file_names]
    if names != expect:
        if sorted(names) == sorted(expect):
            raise UserError("predictions are for the split's images but in another order",
                            path, "write them in the split's order")
        raise UserError(f"its file_names do not match {split.dataset}/{split.name}", path,
                        "score it against the data set it was made for (--dataset)")


def _check_shape(path: Path, preds: np.ndarray, split: Split) -> None:
    h, w = preds.shape[1:]
    if (h, w) == TARGET_SHAPE:
        return
    sizes = {tuple(s) for s in split.sizes.tolist()}
    if len(sizes) == 1 and (h, w) in sizes:
        return
    raise UserError(f"predictions are {h}x{w}", path,
                    f"expected 48x48 (the model output) or the images' own size "
                    f"({', '.join(f'{a}x{b}' for a, b in sizes)})")


__all__ = ["EIGHT_BIT_MODES", "MAP_PIXELS", "as_maps", "grey_values", "read_folder",
           "read_for_split", "read_map_image"]
