"""``salbench score``: predictions from a file or a folder, checked against the split."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .data.split import Split
from .data.study import as_maps, read_predictions

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def read_folder(folder: Path, split: Split) -> np.ndarray:
    """One PNG (or JPEG) map per image, named like the image (``X.jpg`` -> ``X.png``)."""
    from PIL import Image

    index = {p.stem: p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES}
    missing = [str(n) for n in split.file_names if Path(str(n)).stem not in index]
    if missing:
        raise ValueError(f"{folder}: no map for {len(missing)} of {len(split)} images, e.g. "
                         f"{', '.join(missing[:3])} (maps are named like the images)")
    extra = len(index) - len({Path(str(n)).stem for n in split.file_names})
    maps = []
    shapes = set()
    for n, size in zip(split.file_names, split.sizes.tolist(), strict=True):
        p = index[Path(str(n)).stem]
        with Image.open(p) as im:
            m = np.asarray(im.convert("L"), dtype=np.float32) / 255.0
        if m.shape not in ((48, 48), tuple(size)):
            raise ValueError(f"{p}: map is {m.shape[0]}x{m.shape[1]}; expected 48x48 (the "
                             f"model output) or its image's size ({size[0]}x{size[1]})")
        maps.append(m)
        shapes.add(m.shape)
    if extra > 0:
        from .console import note

        note(f"{folder}: {extra} map(s) match no image of the split; ignored")
    return np.stack(maps) if len(shapes) == 1 else maps  # type: ignore[return-value]


def read_for_split(path: str | Path, split: Split):
    """Predictions for ``split`` in its order; refuses mismatches with a clear message."""
    path = Path(path)
    if path.is_dir():
        preds = read_folder(path, split)
    else:
        preds = read_predictions(path)
        _check_order(path, split)
    n = len(preds)
    if n != len(split):
        raise ValueError(f"{path}: {n} predictions but {split.dataset}/{split.name} has "
                         f"{len(split)} images; predictions must be one per image, in order")
    if isinstance(preds, np.ndarray):
        _check_shape(path, preds, split)
        bad = ~np.isfinite(preds.reshape(n, -1)).all(axis=1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{path}: prediction {i} ({split.file_names[i]}) has NaN or "
                             f"infinite values ({int(bad.sum())} prediction(s) affected)")
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
            raise ValueError(f"{path}: predictions are for the split's images but in another "
                             "order; write them in the split's order")
        raise ValueError(f"{path}: its file_names do not match {split.dataset}/{split.name}")


def _check_shape(path: Path, preds: np.ndarray, split: Split) -> None:
    h, w = preds.shape[1:]
    if (h, w) == (48, 48):
        return
    sizes = {tuple(s) for s in split.sizes.tolist()}
    if len(sizes) == 1 and (h, w) in sizes:
        return
    raise ValueError(f"{path}: predictions are {h}x{w}; expected 48x48 (the model output) "
                     f"or the images' own size ({', '.join(f'{a}x{b}' for a, b in sizes)})")


__all__ = ["as_maps", "read_folder", "read_for_split"]
