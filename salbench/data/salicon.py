"""Convert an official SALICON release into salbench's split files.

2017 (LSUN'17) layout::

    images/{train,val,test}/COCO_*.jpg          640x480
    fixations/{train,val}/COCO_*.mat           image, resolution [480 640], gaze (struct
                                                array, one per observer: location (mouse
                                                samples), timestamp, fixations), (x, y)
                                                1-based
    maps/{train,val}/COCO_*.png                 continuous maps

2015 (LSUN'15, what Pan et al. used): COCO-style JSON (``fixations_{train,val}2014.json``
or similar) with ``images`` (id, file_name, width, height) and ``annotations`` (image_id,
worker_id, ``fixations`` as [row, col], 1-based); images next to it.

Output: ``train.npz`` (96x96 inputs, 48x48 targets, each image plus its mirror),
``val.npz`` (inputs, targets, fixations as coordinates) and, when the release has maps,
``val-maps.npz`` (the official val maps as their PNG bytes, decoded on access: the given
ground truth of ``GT_MAPS`` protocols).  Every repair is counted and every skipped item
listed with the file to blame: points outside the image are clipped to its border;
points with a NaN or infinite coordinate are dropped; an image without a fixations file,
or whose image or fixations file is unreadable, is skipped; a map that cannot be read, or
is not grey, is replaced by the fixations blurred (the image is kept).  Maps are read at
their bit depth (``predictions.grey_values``): 16-bit maps are not clipped at 255.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..io import atomic_write, check_writable
from ..progress import track
from .maps import fixation_target
from .predictions import EIGHT_BIT_MODES, grey_values
from .split import INPUT_SIDE, MAP_SIDE, Split, save_split

SPLITS = ("train", "val")
MAPS_FILE = "{split}-maps.npz"


@dataclass
class Report:
    edition: int
    source: str
    images: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    fixations: dict[str, int] = field(default_factory=dict)
    clipped: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)  # NaN / infinite points
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (file, why) skipped
    maps_from_fixations: dict[str, int] = field(default_factory=dict)
    repaired: list[tuple[str, str]] = field(default_factory=list)  # (file, what was done)
    maps_kept: dict[str, int] = field(default_factory=dict)


def detect_edition(src: Path) -> int:
    if any(next((src / "fixations" / s).glob("*.mat"), None) for s in SPLITS):
        return 2017
    if _json_files(src):
        return 2015
    raise UserError("neither a SALICON 2017 layout (fixations/{train,val}/*.mat) nor 2015 "
                    "JSON annotations (fixations_*.json) found", src,
                    "point --from at the release's top folder")


def _json_files(src: Path) -> dict[str, Path]:
    out = {}
    for p in sorted(src.rglob("*.json")):
        name = p.name.lower()
        if "fixation" not in name:
            continue
        for s in SPLITS:
            if s in name:
                out.setdefault(s, p)
    return out


def prepare(src: str | Path, out: str | Path, edition: int | str = "auto",
            fixations: str = "fixations") -> Report:
    """Convert ``src`` (an official release) into ``out/{train,val}.npz``."""
    src = Path(src)
    out = Path(out)
    if not src.is_dir():
        raise UserError("no such directory", src, "point --from at the SALICON release")
    if fixations not in ("fixations", "mouse"):
        raise UserError("--fixations must be 'fixations' or 'mouse'",
                        hint="'fixations' (the default) or 'mouse' for the raw samples")
    if edition in ("auto", None):
        ed = detect_edition(src)
    else:
        try:
            ed = int(edition)
        except ValueError:
            ed = 0
    if ed not in (2015, 2017):
        raise UserError(f"unknown SALICON edition {edition!r}", hint="choose 2015 or 2017")
    if ed == 2015 and fixations == "mouse":
        raise UserError("the 2015 release has no mouse samples",
                        hint="use --fixations fixations")
    for split in SPLITS:  # refused now, not after converting the release
        check_writable(out / f"{split}.npz")
    report = Report(edition=ed, source=str(src))
    records = _records_2017(src, fixations, report) if ed == 2017 else \
        _records_2015(src, report)
    for split in SPLITS:
        recs = records.get(split, [])
        s, maps = _build_split(split, recs, report)
        s.meta.update({"edition": ed, "fixations": fixations, "source": str(src.resolve())})
        save_split(s, out / f"{split}.npz")
        report.items[split] = len(s)
        if split == "val" and maps:
            save_maps(maps, out / MAPS_FILE.format(split=split))
            report.maps_kept[split] = len(maps)
    return report


def save_maps(maps: list[bytes], path: Path) -> Path:
    """PNG-encoded maps, concatenated, with offsets (no pickles)."""
    offsets = np.zeros(len(maps) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in maps], out=offsets[1:])
    blob = np.frombuffer(b"".join(maps), dtype=np.uint8)
    with atomic_write(path) as f:
        np.savez(f, png=blob, offsets=offsets)
    return path


def gt_loader(data_dir: Path, split: str, n: int):
    """Decode the prepared split's official maps (``n``, one per image) on access (None
    when there are none): float64 in [0, 1] at the image's size.  A damaged file is
    refused when opened, a map that does not decode when read."""
    import zipfile

    path = data_dir / MAPS_FILE.format(split=split)
    if not path.exists():
        return None
    again = "prepare the data set again ('salbench data prepare')"
    try:
        with np.load(path, allow_pickle=False) as z:
            blob, offsets = z["png"], z["offsets"]
    except (KeyError, OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise UserError(f"unreadable given-maps file ({exc})", path, again) from None
    if not (blob.dtype == np.uint8 and blob.ndim == 1 and offsets.shape == (n + 1,)
            and offsets.dtype.kind in "iu" and offsets[0] == 0 and offsets[-1] == blob.size
            and bool(np.all(np.diff(offsets) >= 0))):
        raise UserError(f"given-maps file does not hold {n} maps (png {blob.dtype} "
                        f"{blob.shape}, offsets {offsets.dtype} {offsets.shape})", path, again)

    def load(i: int) -> np.ndarray:
        import io

        from PIL import Image

        try:
            with Image.open(io.BytesIO(blob[offsets[i]:offsets[i + 1]].tobytes())) as im:
                im.load()
                return grey_values(im, f"{path}, map {i}", np.float64)
        except OSError:  # PIL's UnidentifiedImageError is one
            raise UserError(f"map {i} is not a readable image", path, again) from None

    return load


# ---- reading the two editions ----------------------------------------------------------


@dataclass
class _Record:
    name: str
    image: Path | None
    shape: tuple[int, int] | None  # (H, W) as the annotations state it
    points: list[tuple[np.ndarray, int, str]]  # (K, 2) float (row, col) 0-based, observer,
    # the file they came from
    map_path: Path | None = None


def _records_2017(src: Path, which: str, report: Report) -> dict[str, list[_Record]]:
    from scipy.io import loadmat

    out: dict[str, list[_Record]] = {}
    for split in SPLITS:
        recs = []
        seen: set[str] = set()
        for mat in sorted((src / "fixations" / split).glob("*.mat")):
            try:
                m = loadmat(str(mat), squeeze_me=True, struct_as_record=False)
                gaze = np.atleast_1d(m["gaze"])
                res = np.atleast_1d(m.get("resolution", np.array([480, 640]))).astype(int)
                if res.shape != (2,) or not (res > 0).all():
                    raise UserError(f"resolution is {res.tolist()}",
                                    hint="expected [height width], e.g. [480 640]")
                shape = (int(res[0]), int(res[1]))
                points = []
                for obs, g in enumerate(gaze):
                    xy = np.atleast_2d(np.asarray(getattr(g, which if which == "fixations"
                                                          else "location"), dtype=float))
                    if xy.size == 0:
                        continue
                    if xy.shape[1] != 2:
                        raise UserError(f"gaze({obs + 1}).{which} has shape {xy.shape}",
                                        hint="expected (N, 2) (x, y) points")
                    points.append((np.stack([xy[:, 1] - 1, xy[:, 0] - 1], 1), obs, str(mat)))
            except Exception as exc:  # any unreadable file is skipped and listed
                report.unreadable.append((str(mat), f"{type(exc).__name__}: {exc}"))
                seen.add(mat.stem)
                continue
            stem = mat.stem
            seen.add(stem)
            recs.append(_Record(
                name=f"{stem}.jpg", image=_find(src / "images" / split, stem),
                shape=shape, points=points,
                map_path=_find(src / "maps" / split, stem, (".png", ".jpg"))))
        images = src / "images" / split
        for img in sorted(images.glob("*.jp*g")) if images.is_dir() else []:
            if img.stem not in seen:
                report.unreadable.append((str(img), "no fixations file "
                                          f"(fixations/{split}/{img.stem}.mat); image skipped"))
        out[split] = recs
    return out


def _find(directory: Path, stem: str, suffixes=(".jpg", ".jpeg", ".png")) -> Path | None:
    for s in suffixes:
        p = directory / f"{stem}{s}"
        if p.exists():
            return p
    return None


def _records_2015(src: Path, report: Report) -> dict[str, list[_Record]]:
    out: dict[str, list[_Record]] = {}
    images_index: dict[str, Path] | None = None
    for split, path in _json_files(src).items():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            anns = data["annotations"]
            if not isinstance(data["images"], list) or not isinstance(anns, list):
                raise TypeError("'images' and 'annotations' must be lists")
        except Exception as exc:  # unreadable JSON: listed
            report.unreadable.append((str(path), f"{type(exc).__name__}: {exc}"))
            continue
        images = {}
        for k, im in enumerate(data["images"]):
            entry = _image_entry(im)
            if isinstance(entry, str):
                report.unreadable.append((str(path), f"images[{k}]: {entry}"))
            else:
                images[entry[0]] = entry[1:]
        per_image: dict[int, list] = {i: [] for i in images}
        workers: dict[int, dict] = {i: {} for i in images}
        for k, a in enumerate(anns):
            iid = _whole_id(a.get("image_id") if isinstance(a, dict) else None)
            if iid is None:
                report.unreadable.append((str(path), f"annotations[{k}]: not an object with "
                                                     "a whole-number image_id"))
                continue
            if iid not in per_image:
                report.unreadable.append((str(path), f"annotation for unknown image {iid}"))
                continue
            try:
                pts = np.asarray(a.get("fixations", []), dtype=float)
            except (TypeError, ValueError) as exc:
                report.unreadable.append((str(path), f"annotation of image {iid}: {exc}"))
                continue
            if pts.size and (pts.ndim != 2 or pts.shape[1] != 2):  # not read as pairs
                report.unreadable.append((str(path), f"annotation of image {iid}: fixations "
                                          f"of shape {pts.shape}, not [[row, col], ...]"))
                continue
            pts = pts.reshape(-1, 2) - 1.0
            worker = a.get("worker_id")
            if not isinstance(worker, str | int):  # absent or odd: an observer of its own
                if worker is not None:
                    report.repaired.append((str(path), f"annotations[{k}]: worker_id "
                                            f"{worker!r} counted as an observer of its own"))
                worker = ("annotation", k)
            wid = workers[iid].setdefault(worker, len(workers[iid]))
            per_image[iid].append((pts, wid, str(path)))
        if images_index is None:
            images_index = {p.name: p for p in src.rglob("*") if p.suffix.lower() in
                            (".jpg", ".jpeg", ".png")}
        recs = []
        for iid in sorted(images):
            name, shape = images[iid]
            recs.append(_Record(name=name, image=images_index.get(name), shape=shape,
                                points=per_image[iid]))
        out[split] = recs
    return out


def _whole_id(v) -> int | None:
    """A COCO id as an int (JSON may hold 12 or 12.0), None when it is not one."""
    if isinstance(v, bool) or not isinstance(v, int | float) or not float(v).is_integer():
        return None
    return int(v)


def _image_entry(im) -> tuple[int, str, tuple[int, int] | None] | str:
    """``(id, file name, (height, width) or None)`` of a 2015 ``images`` entry, or what is
    wrong with it."""
    if not isinstance(im, dict):
        return "not an object"
    iid = _whole_id(im.get("id"))
    name = im.get("file_name")
    if iid is None or not isinstance(name, str) or not name:
        return "needs a whole-number id and a file_name"
    if "height" not in im and "width" not in im:
        return iid, name, None
    h, w = _whole_id(im.get("height")), _whole_id(im.get("width"))
    if h is None or w is None or h < 1 or w < 1:
        return f"{name}: height and width must be whole numbers >= 1"
    return iid, name, (h, w)


# ---- building the splits ---------------------------------------------------------------


def _build_split(split: str, recs: list[_Record], report: Report
                 ) -> tuple[Split, list[bytes]]:
    from PIL import Image

    xs, ys, fixes, subjs, sizes, names, maps = [], [], [], [], [], [], []
    clipped = dropped = from_fix = 0
    images_dir = None
    for rec in track(recs, f"SALICON {split}"):
        try:
            if rec.image is None:
                raise UserError(f"no image file for {rec.name}",
                                hint="put it in the release's images folder")
            with Image.open(rec.image) as im:
                rgb = im.convert("RGB")
                rgb.load()
            h, w = rgb.height, rgb.width
            if rec.shape is not None and rec.shape != (h, w):
                raise UserError(f"image is {h}x{w} but its annotation says "
                                f"{rec.shape[0]}x{rec.shape[1]}",
                                hint="check that the image and annotation belong together")
        except Exception as exc:  # skip and list the image, do not crash
            report.unreadable.append((str(rec.image or rec.name), f"{type(exc).__name__}: "
                                                                  f"{exc}"))
            continue
        x = np.asarray(rgb.resize((INPUT_SIDE, INPUT_SIDE), Image.BICUBIC)).transpose(2, 0, 1)
        pts, sub = [], []
        for p, obs, origin in rec.points:
            ok = np.isfinite(p).all(axis=1)
            if not ok.all():
                dropped += int((~ok).sum())
                report.repaired.append((origin, f"{int((~ok).sum())} point(s) with a NaN or "
                                                "infinite coordinate dropped"))
                p = p[ok]
            q = np.round(p).astype(np.int64)
            out = (q[:, 0] < 0) | (q[:, 0] >= h) | (q[:, 1] < 0) | (q[:, 1] >= w)
            clipped += int(out.sum())
            q[:, 0] = np.clip(q[:, 0], 0, h - 1)
            q[:, 1] = np.clip(q[:, 1], 0, w - 1)
            pts.append(q)
            sub.append(np.full(len(q), obs))
        f = np.concatenate(pts).astype(np.int32) if pts else np.zeros((0, 2), np.int32)
        y = None
        if rec.map_path is not None:
            try:
                y, kept = _official_map(rec.map_path, h, w)
                if split == "val":
                    maps.append(kept)
            except Exception as exc:
                report.repaired.append((str(rec.map_path), f"unreadable map "
                                        f"({type(exc).__name__}: {exc}); target made from "
                                        "the fixations instead"))
                y = None
        if y is None:
            y = fixation_target(f, (h, w))
            from_fix += 1
        images_dir = str(rec.image.parent.resolve())
        xs.append(x.astype(np.uint8))
        ys.append(y)
        fixes.append(f)
        subjs.append(np.concatenate(sub).astype(np.int32) if sub else np.zeros(0, np.int32))
        sizes.append((h, w))
        names.append(rec.name)
    n = len(xs)
    report.images[split] = n
    report.clipped[split] = clipped
    report.dropped[split] = dropped
    report.maps_from_fixations[split] = from_fix
    report.fixations[split] = int(sum(len(f) for f in fixes))
    inputs = np.stack(xs) if n else np.zeros((0, 3, INPUT_SIDE, INPUT_SIDE), np.uint8)
    targets = np.stack(ys) if n else np.zeros((0, MAP_SIDE, MAP_SIDE), np.float32)
    split_obj = Split.from_lists(
        "salicon", split, inputs=inputs, targets=targets, sizes=sizes, file_names=names,
        fixations=fixes, subjects=subjs, mirror=split == "train",
        meta={"images_dir": images_dir},
    )
    if maps and len(maps) != n:  # some images had no map: no given maps for this split
        report.repaired.append((f"maps/{split}", f"only {len(maps)} of {n} images have a "
                                "readable map, so the given maps are not kept (protocols "
                                "with given maps cannot score this split)"))
        maps = []
    return split_obj, maps


def _official_map(path: Path, h: int, w: int) -> tuple[np.ndarray, bytes]:
    """An official map's 48x48 training target and the PNG bytes kept for scoring: 8-bit
    maps as the study resized them (Pillow bicubic in 8 bits), 16-bit ones in float
    (not clipped at 255); colour maps and float TIFFs are refused."""
    import io

    from PIL import Image

    raw = path.read_bytes()
    with Image.open(io.BytesIO(raw)) as m:
        m.load()
        values = grey_values(m, path)
        if m.mode == "F":
            raise UserError("float TIFF map", path, "save maps as 8- or 16-bit greyscale PNG")
        if values.shape != (h, w):
            raise UserError(f"map is {values.shape[0]}x{values.shape[1]}, image {h}x{w}",
                            hint="give the map at the image's size")
        if m.mode in EIGHT_BIT_MODES:
            grey = m.convert("L")  # grey_values checked that it is grey
            y = np.asarray(grey.resize((MAP_SIDE, MAP_SIDE), Image.BICUBIC),
                           dtype=np.float32) / 255.0
        else:  # 16-bit
            grey = m
            small = Image.fromarray(values).resize((MAP_SIDE, MAP_SIDE), Image.BICUBIC)
            y = np.clip(np.asarray(small, dtype=np.float32), 0.0, 1.0)  # bicubic overshoot
        is_png = m.format == "PNG"
    return y, raw if is_png else _png_bytes(grey)  # JPEG maps are kept lossless


def _png_bytes(img) -> bytes:
    import io

    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def image_loader(split: Split):
    """Read original images of a prepared split from its ``images_dir`` (None if gone)."""
    root = split.meta.get("images_dir")
    if not root or not Path(root).is_dir():
        return None

    def load(i: int) -> np.ndarray:
        from PIL import Image

        path = Path(root) / str(split.file_names[i])
        try:
            with Image.open(path) as im:
                img = np.asarray(im.convert("RGB"))
        except OSError:  # gone, or damaged since it was prepared (PIL's errors are OSErrors)
            raise UserError("the original image is missing or unreadable", path,
                            "keep the release's images where 'salbench data prepare' read "
                            "them, or prepare the data set again") from None
        return img[:, ::-1].copy() if split.mirrored[i] else img

    return load
