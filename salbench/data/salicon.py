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

Output: ``train.npz`` (96x96 inputs, 48x48 targets, each image plus its mirror) and
``val.npz`` (inputs, targets, fixations as coordinates), file names kept.  Points outside
the image are clipped to its border and counted; unreadable files are skipped and listed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..progress import track
from .maps import fixation_target
from .split import Split, save_split

SPLITS = ("train", "val")


@dataclass
class Report:
    edition: int
    source: str
    images: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    fixations: dict[str, int] = field(default_factory=dict)
    clipped: dict[str, int] = field(default_factory=dict)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    maps_from_fixations: dict[str, int] = field(default_factory=dict)


def detect_edition(src: Path) -> int:
    if any(next((src / "fixations" / s).glob("*.mat"), None) for s in SPLITS):
        return 2017
    if _json_files(src):
        return 2015
    raise ValueError(f"{src}: neither a SALICON 2017 layout (fixations/{{train,val}}/*.mat) "
                     "nor 2015 JSON annotations (fixations_*.json) found")


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
        raise FileNotFoundError(f"{src}: no such directory")
    if fixations not in ("fixations", "mouse"):
        raise ValueError("--fixations must be 'fixations' or 'mouse'")
    ed = detect_edition(src) if edition in ("auto", None) else int(edition)
    if ed not in (2015, 2017):
        raise ValueError(f"unknown SALICON edition {edition!r}; choose 2015 or 2017")
    if ed == 2015 and fixations == "mouse":
        raise ValueError("the 2015 release has no mouse samples; use --fixations fixations")
    report = Report(edition=ed, source=str(src))
    records = _records_2017(src, fixations, report) if ed == 2017 else \
        _records_2015(src, report)
    for split in SPLITS:
        recs = records.get(split, [])
        s = _build_split(split, recs, report)
        s.meta.update({"edition": ed, "fixations": fixations, "source": str(src.resolve())})
        save_split(s, out / f"{split}.npz")
        report.items[split] = len(s)
    return report


# ---- reading the two editions ----------------------------------------------------------


@dataclass
class _Record:
    name: str
    image: Path | None
    shape: tuple[int, int] | None  # (H, W) as the annotations state it
    points: list[tuple[np.ndarray, int]]  # (K, 2) float (row, col) 0-based, observer id
    map_path: Path | None = None


def _records_2017(src: Path, which: str, report: Report) -> dict[str, list[_Record]]:
    from scipy.io import loadmat

    out: dict[str, list[_Record]] = {}
    for split in SPLITS:
        recs = []
        for mat in sorted((src / "fixations" / split).glob("*.mat")):
            try:
                m = loadmat(str(mat), squeeze_me=True, struct_as_record=False)
                gaze = np.atleast_1d(m["gaze"])
                res = np.atleast_1d(m.get("resolution", np.array([480, 640]))).astype(int)
                points = []
                for obs, g in enumerate(gaze):
                    xy = np.atleast_2d(np.asarray(getattr(g, which if which == "fixations"
                                                          else "location"), dtype=float))
                    if xy.size == 0:
                        continue
                    if xy.shape[1] != 2:
                        raise ValueError(f"gaze({obs + 1}).{which} has shape {xy.shape}")
                    points.append((np.stack([xy[:, 1] - 1, xy[:, 0] - 1], 1), obs))
            except Exception as exc:  # any unreadable file is skipped and listed
                report.unreadable.append((str(mat), f"{type(exc).__name__}: {exc}"))
                continue
            stem = mat.stem
            recs.append(_Record(
                name=f"{stem}.jpg", image=_find(src / "images" / split, stem),
                shape=(int(res[0]), int(res[1])), points=points,
                map_path=_find(src / "maps" / split, stem, (".png", ".jpg"))))
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
            data = json.loads(path.read_text())
            images = {int(im["id"]): im for im in data["images"]}
            anns = data["annotations"]
        except Exception as exc:  # unreadable JSON: listed
            report.unreadable.append((str(path), f"{type(exc).__name__}: {exc}"))
            continue
        per_image: dict[int, list] = {i: [] for i in images}
        workers: dict[int, dict] = {i: {} for i in images}
        for a in anns:
            iid = int(a.get("image_id", -1))
            if iid not in per_image:
                report.unreadable.append((str(path), f"annotation for unknown image {iid}"))
                continue
            pts = np.asarray(a.get("fixations", []), dtype=float).reshape(-1, 2) - 1.0
            wid = workers[iid].setdefault(a.get("worker_id", len(workers[iid])),
                                          len(workers[iid]))
            per_image[iid].append((pts, wid))
        if images_index is None:
            images_index = {p.name: p for p in src.rglob("*") if p.suffix.lower() in
                            (".jpg", ".jpeg", ".png")}
        recs = []
        for iid in sorted(images):
            im = images[iid]
            shape = (int(im["height"]), int(im["width"])) if "height" in im else None
            recs.append(_Record(name=im["file_name"], image=images_index.get(im["file_name"]),
                                shape=shape, points=per_image[iid]))
        out[split] = recs
    return out


# ---- building the splits ---------------------------------------------------------------


def _build_split(split: str, recs: list[_Record], report: Report) -> Split:
    from PIL import Image

    xs, ys, fixes, subjs, sizes, names = [], [], [], [], [], []
    clipped = 0
    from_fix = 0
    images_dir = None
    for rec in track(recs, f"SALICON {split}"):
        try:
            if rec.image is None:
                raise FileNotFoundError(f"no image for {rec.name}")
            with Image.open(rec.image) as im:
                rgb = im.convert("RGB")
                rgb.load()
            h, w = rgb.height, rgb.width
            if rec.shape is not None and rec.shape != (h, w):
                raise ValueError(f"image is {h}x{w} but its annotation says "
                                 f"{rec.shape[0]}x{rec.shape[1]}")
            x = np.asarray(rgb.resize((96, 96), Image.BICUBIC)).transpose(2, 0, 1)
            pts, sub = [], []
            for p, obs in rec.points:
                q = np.round(p).astype(np.int64)
                out = (q[:, 0] < 0) | (q[:, 0] >= h) | (q[:, 1] < 0) | (q[:, 1] >= w)
                clipped += int(out.sum())
                q[:, 0] = np.clip(q[:, 0], 0, h - 1)
                q[:, 1] = np.clip(q[:, 1], 0, w - 1)
                pts.append(q)
                sub.append(np.full(len(q), obs))
            f = np.concatenate(pts).astype(np.int32) if pts else np.zeros((0, 2), np.int32)
            if rec.map_path is not None:
                with Image.open(rec.map_path) as m:
                    y = np.asarray(m.convert("L").resize((48, 48), Image.BICUBIC),
                                   dtype=np.float32) / 255.0
            else:
                y = fixation_target(f, (h, w))
                from_fix += 1
        except Exception as exc:  # skip and list, do not crash
            report.unreadable.append((str(rec.image or rec.name), f"{type(exc).__name__}: "
                                                                  f"{exc}"))
            continue
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
    report.maps_from_fixations[split] = from_fix
    report.fixations[split] = int(sum(len(f) for f in fixes))
    inputs = np.stack(xs) if n else np.zeros((0, 3, 96, 96), np.uint8)
    targets = np.stack(ys) if n else np.zeros((0, 48, 48), np.float32)
    return Split.from_lists(
        "salicon", split, inputs=inputs, targets=targets, sizes=sizes, file_names=names,
        fixations=fixes, subjects=subjs, mirror=split == "train",
        meta={"images_dir": images_dir},
    )


def image_loader(split: Split):
    """Read original images of a prepared split from its ``images_dir`` (None if gone)."""
    root = split.meta.get("images_dir")
    if not root or not Path(root).is_dir():
        return None

    def load(i: int) -> np.ndarray:
        from PIL import Image

        with Image.open(Path(root) / str(split.file_names[i])) as im:
            img = np.asarray(im.convert("RGB"))
        return img[:, ::-1].copy() if split.mirrored[i] else img

    return load
