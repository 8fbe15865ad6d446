"""The SALICON converter on small fixtures written here in the official layouts."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.io import savemat

from salbench.cli import main
from salbench.data import load_split
from salbench.data.salicon import detect_edition, prepare

H, W = 480, 640


def _jpeg(path, rng):
    path.parent.mkdir(parents=True, exist_ok=True)
    small = rng.integers(0, 256, (12, 16, 3)).astype(np.uint8)
    Image.fromarray(small).resize((W, H), Image.BILINEAR).save(path, quality=95)


def _gaze(observers):
    """A MATLAB struct array 1 x n with fields location, timestamp, fixations."""
    g = np.empty((1, len(observers)), dtype=[("location", "O"), ("timestamp", "O"),
                                             ("fixations", "O")])
    for k, (fix_xy, mouse_xy) in enumerate(observers):
        g[0, k] = (np.asarray(mouse_xy, float), np.arange(len(mouse_xy), dtype=float)[:, None],
                   np.asarray(fix_xy, float))
    return g


def make_2017(root, rng, n_train=3, n_val=2):
    """Returns {split: {stem: [(row, col) 0-based expected after clipping, ...]}}."""
    expected = {}
    for split, n in (("train", n_train), ("val", n_val)):
        expected[split] = {}
        for i in range(n):
            stem = f"COCO_{split}2014_{i:012d}"
            _jpeg(root / "images" / split / f"{stem}.jpg", rng)
            observers, exp = [], []
            for _obs in range(3):
                k = int(rng.integers(2, 6))
                x = rng.integers(1, W + 1, k)  # 1-based
                y = rng.integers(1, H + 1, k)
                observers.append((np.stack([x, y], 1), np.stack([x + 0.4, y], 1)))
                exp += list(zip((y - 1).tolist(), (x - 1).tolist(), strict=True))
            # an observer whose points fall outside the image: clipped to the border
            observers.append((np.array([[0, 10], [W + 5, H + 9]]), np.array([[5, 5]])))
            exp += [(9, 0), (H - 1, W - 1)]
            (root / "fixations" / split).mkdir(parents=True, exist_ok=True)
            savemat(str(root / "fixations" / split / f"{stem}.mat"),
                    {"image": stem, "resolution": np.array([H, W]), "gaze": _gaze(observers)})
            m = (rng.random((H // 8, W // 8)) * 255).astype(np.uint8)
            (root / "maps" / split).mkdir(parents=True, exist_ok=True)
            Image.fromarray(m).resize((W, H)).save(root / "maps" / split / f"{stem}.png")
            expected[split][f"{stem}.jpg"] = exp
    return expected


def _as_set(rc):
    return sorted(map(tuple, np.asarray(rc).tolist()))


def test_2017_round_trip(tmp_path, rng):
    src = tmp_path / "salicon"
    expected = make_2017(src, rng)
    assert detect_edition(src) == 2017
    report = prepare(src, tmp_path / "out")
    assert report.images == {"train": 3, "val": 2}
    assert report.items == {"train": 6, "val": 2}  # train: each image and its mirror
    assert report.clipped == {"train": 6, "val": 4}  # 2 per image (W+5 -> x, y both out)
    assert report.unreadable == []
    val = load_split(tmp_path / "out" / "val.npz")
    train = load_split(tmp_path / "out" / "train.npz")
    for s in (val, train):
        assert s.inputs.shape[1:] == (3, 96, 96) and s.inputs.dtype == np.uint8
        assert s.targets.shape[1:] == (48, 48) and s.targets.dtype == np.float32
        assert 0 <= s.targets.min() and s.targets.max() <= 1
        assert (s.sizes == [H, W]).all()
    for i, name in enumerate(val.file_names):
        assert _as_set(val.fixations(i)) == sorted(expected["val"][name])
    n = 3
    for i in range(n):  # mirrored copies are exact mirrors
        assert train.file_names[n + i] == train.file_names[i] and train.mirrored[n + i]
        np.testing.assert_array_equal(train.inputs[n + i], train.inputs[i][..., ::-1])
        np.testing.assert_array_equal(train.targets[n + i], train.targets[i][..., ::-1])
        f, g = train.fixations(i), train.fixations(n + i)
        np.testing.assert_array_equal(g[:, 0], f[:, 0])
        np.testing.assert_array_equal(g[:, 1], W - 1 - f[:, 1])
    # the 96x96 input is the image resized; the target the map resized, in [0, 1]
    img = np.asarray(Image.open(src / "images" / "val" / val.file_names[0]).convert("RGB"))
    expect_in = np.asarray(Image.fromarray(img).resize((96, 96), Image.BICUBIC))
    np.testing.assert_array_equal(val.inputs[0].transpose(1, 2, 0), expect_in)
    # originals are read on demand, mirrored ones flipped
    from salbench.data.salicon import image_loader

    train.image_loader = image_loader(train)
    np.testing.assert_array_equal(train.image(n), train.image(0)[:, ::-1])


def test_2017_mouse_samples(tmp_path, rng):
    src = tmp_path / "salicon"
    make_2017(src, rng, n_train=1, n_val=1)
    prepare(src, tmp_path / "out", fixations="mouse")
    val = load_split(tmp_path / "out" / "val.npz")
    assert val.meta["fixations"] == "mouse"
    # mouse samples were x + 0.4: rounding keeps the same pixels as the fixations here
    assert len(val.fixations(0)) > 0


def test_unreadable_files_are_skipped_and_listed(tmp_path, rng):
    src = tmp_path / "salicon"
    make_2017(src, rng)
    (src / "images" / "val" / "COCO_val2014_000000000001.jpg").write_bytes(b"\xff\xd8\xff")
    (src / "fixations" / "train" / "COCO_train2014_000000000002.mat").write_bytes(b"junk")
    report = prepare(src, tmp_path / "out")
    bad = " ".join(p for p, _ in report.unreadable)
    assert "COCO_val2014_000000000001.jpg" in bad and "COCO_train2014_000000000002.mat" in bad
    assert report.images == {"train": 2, "val": 1}


def make_2015(root, rng):
    images, anns, expected = [], [], {}
    for i in range(3):
        name = f"COCO_val2014_{i:012d}.jpg"
        _jpeg(root / "images" / name, rng)
        images.append({"id": 100 + i, "file_name": name, "width": W, "height": H})
        exp = []
        for worker in range(2):
            rows = rng.integers(1, H + 1, 4)
            cols = rng.integers(1, W + 1, 4)
            anns.append({"id": len(anns), "image_id": 100 + i, "worker_id": worker,
                         "fixations": np.stack([rows, cols], 1).tolist()})
            exp += list(zip((rows - 1).tolist(), (cols - 1).tolist(), strict=True))
        expected[name] = exp
    (root / "fixations_val2014.json").write_text(json.dumps({"images": images,
                                                              "annotations": anns}))
    (root / "fixations_train2014.json").write_text(json.dumps({"images": images[:1],
                                                                "annotations": anns[:2]}))
    return expected


def test_2015_json_round_trip(tmp_path, rng):
    src = tmp_path / "salicon2015"
    expected = make_2015(src, rng)
    assert detect_edition(src) == 2015
    report = prepare(src, tmp_path / "out", edition="2015")
    assert report.images == {"train": 1, "val": 3}
    assert report.maps_from_fixations == {"train": 1, "val": 3}  # 2015 has no maps
    val = load_split(tmp_path / "out" / "val.npz")
    for i, name in enumerate(val.file_names):
        assert _as_set(val.fixations(i)) == sorted(expected[name])
        assert val.targets[i].max() == pytest.approx(1.0)


def test_2015_annotation_not_in_pairs_is_listed_not_paired(tmp_path, rng):
    """A worker's fixations that are not [[row, col], ...] (three columns, a flat list)
    are listed as unreadable, not regrouped into pairs; the other workers' are kept."""
    src = tmp_path / "salicon2015"
    expected = make_2015(src, rng)
    path = src / "fixations_val2014.json"
    data = json.loads(path.read_text())
    data["annotations"][0]["fixations"] = [[1, 2, 3], [4, 5, 6]]
    data["annotations"][2]["fixations"] = [1, 2, 3, 4]
    path.write_text(json.dumps(data))
    report = prepare(src, tmp_path / "out", edition="2015")
    why = [w for f, w in report.unreadable if f == str(path)]
    assert any("of image 100: fixations of shape (2, 3)" in w for w in why)
    assert any("of image 101: fixations of shape (4,)" in w for w in why)
    val = load_split(tmp_path / "out" / "val.npz")
    got = {name: _as_set(val.fixations(i)) for i, name in enumerate(val.file_names)}
    for i, name in enumerate(sorted(expected)):
        assert got[name] == sorted(expected[name][4:] if i < 2 else expected[name])


def test_unknown_layout(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="neither a SALICON 2017 layout"):
        prepare(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(ValueError, match="no such directory"):
        prepare(tmp_path / "nope", tmp_path / "out")


def test_cli_prepare_and_info(tmp_path, rng, capsys, monkeypatch):
    src = tmp_path / "salicon"
    make_2017(src, rng, n_train=2, n_val=2)
    (src / "images" / "val" / "COCO_val2014_000000000001.jpg").write_bytes(b"broken")
    assert main(["data", "prepare", "--from", str(src), "--out", str(tmp_path / "p")]) == 0
    out = capsys.readouterr()
    assert "SALICON 2017" in out.out and "1 item(s) skipped" in out.err
    assert "COCO_val2014_000000000001.jpg" in out.err
    assert f"--dataset salicon --data-dir {tmp_path / 'p'}" in out.err  # what to run next
    monkeypatch.setenv("SALBENCH_DATA", str(tmp_path / "p"))
    assert main(["data", "info", "--split", "val"]) == 0
    assert "salicon / val" in capsys.readouterr().out


def test_every_repair_and_skip_is_counted_and_names_the_right_file(tmp_path, rng):
    """A NaN coordinate is dropped (not a fixation at column 0), an image whose .mat is
    missing is listed, a truncated map is blamed on the map (the image is kept, its target
    made from the fixations)."""
    src = tmp_path / "salicon"
    make_2017(src, rng, n_train=2, n_val=3)
    mat = src / "fixations" / "val" / "COCO_val2014_000000000000.mat"
    observers = [(np.array([[np.nan, 10.0], [20.0, 30.0]]), np.array([[5.0, 5.0]]))]
    savemat(str(mat), {"image": mat.stem, "resolution": np.array([H, W]),
                       "gaze": _gaze(observers)})
    (src / "fixations" / "val" / "COCO_val2014_000000000001.mat").unlink()
    bad_map = src / "maps" / "val" / "COCO_val2014_000000000002.png"
    bad_map.write_bytes(bad_map.read_bytes()[:100])
    report = prepare(src, tmp_path / "out")
    assert report.dropped["val"] == 1
    assert any("COCO_val2014_000000000000.mat" in f and "NaN" in why
               for f, why in report.repaired)
    assert any("COCO_val2014_000000000001.jpg" in f and "no fixations file" in why
               for f, why in report.unreadable)
    assert any(f == str(bad_map) and "unreadable map" in why for f, why in report.repaired)
    assert report.images["val"] == 2 and report.maps_from_fixations["val"] == 1
    val = load_split(tmp_path / "out" / "val.npz")
    assert _as_set(val.fixations(0)) == [(29, 19)]  # (x=20, y=30), 1-based; the NaN gone
    assert "COCO_val2014_000000000002.jpg" in list(val.file_names)


def test_official_val_maps_are_kept_and_scored_against(tmp_path, rng, monkeypatch):
    from salbench.data import DatasetSpec, load
    from salbench.evaluate import evaluate, protocols_for

    src = tmp_path / "salicon"
    make_2017(src, rng, n_train=2, n_val=12)
    report = prepare(src, tmp_path / "out")
    assert report.maps_kept == {"val": 12}
    assert (tmp_path / "out" / "val-maps.npz").stat().st_size < 12 * 480 * 640  # compact
    val = load(DatasetSpec(name="salicon", data_dir=str(tmp_path / "out")), "val")
    maps = val.gt_maps()
    png = src / "maps" / "val" / (Path(str(val.file_names[3])).stem + ".png")
    official = np.asarray(Image.open(png).convert("L"), dtype=float) / 255
    np.testing.assert_array_equal(maps[3], official)
    preds = rng.random((12, 48, 48))
    given = protocols_for(["mit"], given_maps=True)[0]
    assert given.name == "mit[ground_truth=given-maps]"
    r = evaluate(preds, val, name="p", dataset_label="salicon", protocols=[given],
                 metrics=["cc", "kld", "sim"], progress=False)[0]
    from salbench.metrics import cc

    assert r.scores("cc")[3] == pytest.approx(
        cc(preds[3], val.fixations(3), protocol="mit", shape=(H, W), gt_map=official),
        abs=1e-12)
    assert r.protocol["changed"] == {"ground_truth": "given-maps"}


def test_official_maps_are_read_as_their_bit_depth_and_colour_maps_refused(tmp_path, rng):
    """A 16-bit map was clipped at 255 by Pillow's 8-bit convert (its target and its kept
    map all but white); a colour-mapped map was read as its luminance.  The 16-bit map of
    the same values gives the 8-bit map's target (to within the 8-bit resize's rounding)
    and the same kept map; the colour one is reported and replaced by the fixations."""
    from salbench.data import DatasetSpec, load

    src = tmp_path / "salicon"
    make_2017(src, rng, n_train=1, n_val=3)
    prepare(src, tmp_path / "eight")
    eight = load(DatasetSpec(name="salicon", data_dir=str(tmp_path / "eight")), "val")
    maps = src / "maps" / "val"
    first = maps / "COCO_val2014_000000000000.png"
    grey8 = np.asarray(Image.open(first))
    Image.fromarray(grey8.astype(np.uint16) * 257).save(first)  # v/255 == 257v/65535
    assert Image.open(first).mode == "I;16"
    prepare(src, tmp_path / "deep")
    deep = load(DatasetSpec(name="salicon", data_dir=str(tmp_path / "deep")), "val")
    np.testing.assert_allclose(deep.gt_maps()[0], grey8 / 255.0, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(deep.gt_maps()[1], eight.gt_maps()[1])
    # Pillow's 8-bit resize rounds both passes to whole levels and clips the horizontal
    # pass's bicubic overshoot at 0 and 255 (2.05 levels apart at most on this map); the
    # clipped 16-bit read was white almost everywhere
    assert np.abs(deep.targets[0] - eight.targets[0]).max() <= 3 / 255
    assert np.corrcoef(deep.targets[0].ravel(), eight.targets[0].ravel())[0, 1] > 0.999
    colour = maps / "COCO_val2014_000000000001.png"
    g = np.asarray(Image.open(colour))
    Image.fromarray(np.stack([g, 255 - g, g // 2], -1)).quantize(64).save(colour)
    report = prepare(src, tmp_path / "colour")
    assert any(f == str(colour) and "colour image" in why for f, why in report.repaired)
    assert report.maps_from_fixations["val"] == 1 and "val" not in report.maps_kept


@pytest.mark.parametrize("where, value", [
    (("annotations",), None), (("annotations",), "x"), (("annotations", 0), "x"),
    (("annotations", 0, "image_id"), None), (("annotations", 0, "image_id"), "x"),
    (("annotations", 0, "worker_id"), [1]), (("images", 0, "file_name"), [1]),
    (("images", 0, "height"), None), (("images", 0, "width"), "x"), (("images", 0), 7),
    (("images", 0, "id"), 1.5),
])
def test_odd_2015_annotations_are_listed_not_a_traceback(tmp_path, rng, where, value):
    """A field of the 2015 JSON with an odd value: the entry (or the file) is listed as
    unreadable and the rest converted; each of these was a traceback."""
    src = tmp_path / "salicon2015"
    make_2015(src, rng)
    path = src / "fixations_val2014.json"
    data = json.loads(path.read_text())
    obj = data
    for k in where[:-1]:
        obj = obj[k]
    obj[where[-1]] = value
    path.write_text(json.dumps(data))
    report = prepare(src, tmp_path / "out", edition="2015")
    listed = report.repaired if where[-1] == "worker_id" else report.unreadable
    assert any(f == str(path) for f, _ in listed), (report.unreadable, report.repaired)
    assert report.images["train"] == 1  # the other file is converted as before


@pytest.mark.parametrize("resolution", [np.array([480]), np.array([0, 640])])
def test_an_odd_resolution_lists_its_file(tmp_path, rng, resolution):
    """``resolution = [480]`` was an IndexError after the file was read; [0 640] was
    blamed on the image."""
    src = tmp_path / "salicon"
    make_2017(src, rng, n_train=1, n_val=2)
    mat = src / "fixations" / "val" / "COCO_val2014_000000000000.mat"
    savemat(str(mat), {"image": mat.stem, "resolution": resolution,
                       "gaze": _gaze([(np.array([[5, 5]]), np.array([[5, 5]]))])})
    report = prepare(src, tmp_path / "out")
    assert any(f == str(mat) and "resolution is" in why for f, why in report.unreadable)
    assert report.images["val"] == 1


@pytest.mark.parametrize("damage, msg", [
    (lambda z: z.update(offsets=z["offsets"][:5]), "does not hold 12 maps"),
    (lambda z: z.update(offsets=z["offsets"] + 5), "does not hold 12 maps"),
    (lambda z: z.pop("offsets"), "unreadable given-maps file"),
    (lambda z: z.update(png=np.zeros_like(z["png"])), "map 0 is not a readable image"),
])
def test_a_damaged_given_maps_file_is_refused(tmp_path, rng, damage, msg):
    """A damaged val-maps.npz was a KeyError, an IndexError or PIL's
    UnidentifiedImageError from inside the scorer."""
    from salbench.data import DatasetSpec, load

    src = tmp_path / "salicon"
    make_2017(src, rng, n_train=1, n_val=12)
    prepare(src, tmp_path / "out")
    path = tmp_path / "out" / "val-maps.npz"
    z = dict(np.load(path))
    damage(z)
    np.savez(path, **z)
    with pytest.raises(ValueError, match=msg):
        maps = load(DatasetSpec(name="salicon", data_dir=str(tmp_path / "out")), "val")
        maps.gt_maps()[0]


def test_a_vanished_original_image_names_itself(tmp_path, rng):
    """An image removed or damaged after ``data prepare`` was a FileNotFoundError or
    PIL's error when a grid drew it."""
    from salbench.data import DatasetSpec, load

    src = tmp_path / "salicon"
    make_2017(src, rng, n_train=1, n_val=2)
    prepare(src, tmp_path / "out")
    val = load(DatasetSpec(name="salicon", data_dir=str(tmp_path / "out")), "val")
    assert val.image(0).shape == (H, W, 3)
    (src / "images" / "val" / str(val.file_names[0])).unlink()
    (src / "images" / "val" / str(val.file_names[1])).write_bytes(b"not a jpeg")
    for i in (0, 1):
        with pytest.raises(ValueError, match="the original image is missing or unreadable"):
            val.image(i)
