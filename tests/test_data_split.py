"""salbench's split files: round trips, atomic writes, clear errors on bad files."""

import json
import zipfile

import numpy as np
import pytest

from salbench.data import Split, load_split, save_split
from salbench.io import atomic_write


def make_split(rng, n=4, shape=(60, 80)):
    fixes = [np.stack([rng.integers(0, shape[0], 7), rng.integers(0, shape[1], 7)], 1)
             for _ in range(n)]
    return Split.from_lists(
        "test", "val", inputs=rng.integers(0, 256, (n, 3, 96, 96)).astype(np.uint8),
        targets=rng.random((n, 48, 48)).astype(np.float32), sizes=[shape] * n,
        file_names=[f"im{i}.jpg" for i in range(n)], fixations=fixes,
        subjects=[np.arange(7 * i, 7 * (i + 1)) % 3 for i in range(n)],
        extras={"density": rng.random((n, 48, 48))}, meta={"note": "x"},
    )


def test_round_trip(tmp_path, rng):
    s = make_split(rng)
    save_split(s, tmp_path / "val.npz")
    t = load_split(tmp_path / "val.npz")
    for k in ("inputs", "targets", "sizes", "fix_offsets", "fix_rc", "fix_subject", "mirrored"):
        np.testing.assert_array_equal(getattr(t, k), getattr(s, k))
    assert list(t.file_names) == list(s.file_names)
    np.testing.assert_array_equal(t.extras["density"], s.extras["density"])
    assert t.meta["note"] == "x" and (t.dataset, t.name) == ("test", "val")
    assert t.fingerprint() == s.fingerprint()
    with np.load(tmp_path / "val.npz", allow_pickle=False) as z:  # no pickles inside
        assert "meta" in z.files


def test_fixation_access(rng):
    s = make_split(rng)
    m = s.fixation_map(2)
    assert m.shape == (60, 80) and m.sum() == len({tuple(x) for x in s.fixations(2).tolist()})
    sub = s.subset([2, 0])
    np.testing.assert_array_equal(sub.fixations(0), s.fixations(2))
    np.testing.assert_array_equal(sub.inputs[1], s.inputs[0])
    assert sub.inputs_float().dtype == np.float32 and sub.inputs_float().max() <= 1.0


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as f:
        f.write(b"partial new content")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]  # no temporary left behind


def test_truncated_and_foreign_files(tmp_path, rng):
    s = make_split(rng)
    save_split(s, tmp_path / "val.npz")
    data = (tmp_path / "val.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.npz: truncated or corrupt"):
        load_split(tmp_path / "cut.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match=r"other\.npz: not a salbench split \(missing"):
        load_split(tmp_path / "other.npz")
    with pytest.raises(ValueError, match="no such split file"):
        load_split(tmp_path / "missing.npz")


def _rewrite(path, **changes):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)
    np.savez(path, **arrays)


@pytest.mark.parametrize("key, value, msg", [
    ("targets", np.zeros((4, 47, 48), np.float32), r"targets have shape \(4, 47, 48\)"),
    ("inputs", np.zeros((4, 3, 96, 96), np.float64), "inputs have dtype float64"),
    ("fix_rc", None, r"item 1 \(im1\.jpg\): fixation \(row=60"),
    ("targets", None, r"item 0 \(im0\.jpg\): target values must be finite and in \[0, 1\]"),
    ("fix_offsets", np.array([0, 1, 2, 3, 4]), "fixation offsets are inconsistent"),
])
def test_bad_contents_are_named(tmp_path, rng, key, value, msg):
    s = make_split(rng)
    path = tmp_path / "val.npz"
    save_split(s, path)
    if key == "fix_rc" and value is None:
        value = s.fix_rc.copy()
        value[s.fix_offsets[1], 0] = 60  # first fixation of item 1, one row too far
    if key == "targets" and value is None:
        value = s.targets.copy()
        value[0, 0, 0] = 1.5
    _rewrite(path, **{key: value})
    with pytest.raises(ValueError, match=rf"val\.npz: .*{msg}"):
        load_split(path)


def test_newer_format_is_refused(tmp_path, rng):
    path = tmp_path / "val.npz"
    save_split(make_split(rng), path)
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
    meta["version"] = 99
    _rewrite(path, meta=np.array(json.dumps(meta)))
    with pytest.raises(ValueError, match="newer salbench"):
        load_split(path)
    assert zipfile.is_zipfile(path)
