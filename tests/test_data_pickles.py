"""Untrusted pickles: plain data loads, anything that would run code is refused."""

import os
import pickle

import numpy as np
import pytest

from salbench.data import safe_pickle
from salbench.data.study import (
    read_predictions,
    read_train,
    read_val,
    write_predictions_pkl,
    write_train,
    write_val,
)

from conftest import needs_torch


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _EvilEval:
    def __reduce__(self):
        return (eval, ("__import__('os').getcwd()",))


@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
def test_plain_data_loads_in_every_protocol(tmp_path, protocol):
    data = [{"X": np.arange(6, dtype=np.float32).reshape(2, 3), "file_name": "a.jpg",
             "n": 3, "f": 1.5, "t": (1, 2), "s": {1, 2}, "b": b"raw", "z": np.float64(2.0)}]
    p = tmp_path / "x.pkl"
    p.write_bytes(pickle.dumps(data, protocol=protocol))
    back = safe_pickle.load(p)
    np.testing.assert_array_equal(back[0]["X"], data[0]["X"])
    assert back[0]["file_name"] == "a.jpg" and back[0]["s"] == {1, 2}


@pytest.mark.parametrize("payload", ["system", "eval"])
def test_hostile_pickle_is_refused_and_nothing_runs(tmp_path, payload):
    marker = tmp_path / "pwned"
    evil = _Evil(marker) if payload == "system" else _EvilEval()
    p = tmp_path / "val.pkl"
    p.write_bytes(pickle.dumps([{"X": evil}]))
    with pytest.raises(safe_pickle.UnsafePickleError, match=r"val\.pkl: refused to load global"):
        safe_pickle.load(p)
    assert not marker.exists()
    # the same file through the readers of the study's formats
    with pytest.raises(ValueError, match="refused"):
        read_val(p)
    with pytest.raises(ValueError, match="refused"):
        read_predictions(p)
    assert not marker.exists()


def test_hostile_pickle_would_run_with_plain_pickle(tmp_path):
    """The test above can fail: plain pickle does run this payload."""
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(_Evil(marker)))  # deliberately unsafe: the hazard itself
    assert marker.exists()


def test_truncated_pickle_names_the_file(tmp_path):
    p = tmp_path / "train.pkl"
    p.write_bytes(pickle.dumps([{"X": np.zeros((3, 96, 96))}])[:-20])
    with pytest.raises(ValueError, match=r"train\.pkl: not a readable pickle.*truncated"):
        safe_pickle.load(p)


def _val_items(rng, n=3):
    items = []
    for i in range(n):
        fmap = np.zeros((60, 80))
        fmap[rng.integers(0, 60, 5), rng.integers(0, 80, 5)] = 1.0
        items.append({"X": rng.random((3, 96, 96)).astype(np.float32),
                      "y": rng.random((48, 48)).astype(np.float32), "y_original": fmap,
                      "X_original": rng.random((3, 60, 80)).astype(np.float32),
                      "file_name": f"img{i}.jpg"})
    return items


def test_study_val_round_trip(tmp_path, rng):
    items = _val_items(rng)
    p = tmp_path / "val.pkl"
    p.write_bytes(pickle.dumps(items))
    s = read_val(p)
    assert len(s) == 3 and s.sizes.tolist() == [[60, 80]] * 3
    for i, it in enumerate(items):
        np.testing.assert_array_equal(s.fixation_map(i), it["y_original"] > 0)
        np.testing.assert_array_equal(s.inputs[i], it["X"])
    assert s.image(0).shape == (60, 80, 3) and s.image(0).dtype == np.uint8
    write_val(s, tmp_path / "again.pkl")
    t = read_val(tmp_path / "again.pkl")
    np.testing.assert_array_equal(t.fix_rc, s.fix_rc)
    np.testing.assert_array_equal(t.targets, s.targets)
    np.testing.assert_array_equal(t.image(2), s.image(2))


def test_study_train_round_trip_marks_mirrors(tmp_path, rng):
    items = [{"X": rng.random((3, 96, 96)).astype(np.float32),
              "y": rng.random((48, 48)).astype(np.float32), "file_name": n}
             for n in ("a.jpg", "b.jpg", "a.jpg", "b.jpg")]
    (tmp_path / "train.pkl").write_bytes(pickle.dumps(items))
    s = read_train(tmp_path / "train.pkl")
    assert s.mirrored.tolist() == [False, False, True, True]
    write_train(s, tmp_path / "t2.pkl")
    np.testing.assert_array_equal(read_train(tmp_path / "t2.pkl").inputs, s.inputs)


@pytest.mark.parametrize("mutate, msg", [
    (lambda it: it.pop("y"), r"item 1: missing key 'y'"),
    (lambda it: it.update(y=np.zeros((47, 48))), r"item 1: key 'y' has shape \(47, 48\)"),
    (lambda it: it.update(X=np.zeros((3, 96)) + 0.5), r"item 1: key 'X' has shape"),
    (lambda it: it.update(y=np.full((48, 48), 2.0)), r"item 1: 'y' values lie in \[2, 2\]"),
    (lambda it: it.update(y=np.full((48, 48), np.nan)), r"item 1: key 'y' has NaN"),
    (lambda it: it.update(y_original=np.zeros(5)), r"item 1: key 'y_original' has shape"),
    (lambda it: it.update(X="text"), r"item 1: key 'X' is not numeric"),
    # a name that was stringified ("None", "[1]") and an image clipped to 255
    (lambda it: it.update(file_name=None), r"item 1: file_name is None"),
    (lambda it: it.update(file_name=[1]), r"item 1: file_name is \[1\]"),
    (lambda it: it.update(X_original=np.full((3, 60, 80), 300.0)),
     r"item 1: 'X_original' values lie in \[300, 300\]"),
])
def test_bad_items_are_named(tmp_path, rng, mutate, msg):
    items = _val_items(rng)
    mutate(items[1])
    p = tmp_path / "val.pkl"
    p.write_bytes(pickle.dumps(items))
    with pytest.raises(ValueError, match=msg + r".*val\.pkl"):
        read_val(p)


def test_not_a_list(tmp_path):
    p = tmp_path / "val.pkl"
    p.write_bytes(pickle.dumps({"X": 1}))
    with pytest.raises(ValueError, match="expected a list of dicts"):
        read_val(p)


def test_predictions_formats(tmp_path, rng):
    preds = rng.random((4, 48, 48)).astype(np.float32)
    write_predictions_pkl(preds, tmp_path / "preds.pkl")
    raw = safe_pickle.load(tmp_path / "preds.pkl")
    assert isinstance(raw, list) and raw[0].shape == (2304,)  # the study's format
    np.save(tmp_path / "p.npy", preds.reshape(4, 2304))
    np.savez(tmp_path / "p.npz", preds=preds)
    np.savez(tmp_path / "q.npz", anything=preds)
    np.save(tmp_path / "nchw.npy", preds[:, None])  # a network's (N, 1, H, W) output
    for name in ("preds.pkl", "p.npy", "p.npz", "q.npz", "nchw.npy"):
        np.testing.assert_array_equal(read_predictions(tmp_path / name), preds)
    np.save(tmp_path / "rgb.npy", np.repeat(preds[:, None], 3, axis=1))
    with pytest.raises(ValueError, match=r"shape \(4, 3, 48, 48\)"):  # channels: not guessed
        read_predictions(tmp_path / "rgb.npy")


def test_bad_predictions_files(tmp_path, rng):
    (tmp_path / "short.pkl").write_bytes(pickle.dumps([np.zeros(2304), np.zeros(2000)]))
    with pytest.raises(ValueError, match=r"prediction 1 has 2000 values"):
        read_predictions(tmp_path / "short.pkl")
    np.savez(tmp_path / "two.npz", a=np.zeros(3), b=np.zeros(3))
    with pytest.raises(ValueError, match="name the array 'preds'"):
        read_predictions(tmp_path / "two.npz")
    (tmp_path / "cut.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ValueError, match=r"cut\.npz"):
        read_predictions(tmp_path / "cut.npz")
    with pytest.raises(ValueError, match="unknown predictions format"):
        read_predictions(_touch(tmp_path / "p.txt"))
    with pytest.raises(ValueError, match="no such predictions file"):
        read_predictions(tmp_path / "missing.pkl")
    with pytest.raises(ValueError, match="a folder, not a predictions file"):
        read_predictions(tmp_path)
    np.save(tmp_path / "c.npy", np.zeros((2, 48, 48), np.complex128))
    with pytest.raises(ValueError, match="complex"):  # never silently the real part
        read_predictions(tmp_path / "c.npy")
    obj = np.empty(2, dtype=object)
    np.save(tmp_path / "obj.npy", obj, allow_pickle=True)
    with pytest.raises(ValueError, match=r"unreadable \.npy.*obj\.npy"):  # allow_pickle=False
        read_predictions(tmp_path / "obj.npy")


def _touch(p):
    p.write_text("x")
    return p


@needs_torch
def test_the_study_folder_is_a_data_set(workdir, capsys):
    """The study's own workflow: its train.pkl / val.pkl as --dataset study, and its
    preds.pkl scored against them (converted once, then read lean; replication collapses
    duplicate fixations, so the scores equal those on the data it was exported from)."""
    from salbench.cli import main
    from salbench.data import DatasetSpec, load

    assert main(["data", "export", "--dataset", "synth", "--out", "study"]) == 0
    err = capsys.readouterr().err
    assert "GiB" in err and "--no-originals" in err  # says what it will write first
    val = load(DatasetSpec(n_train=24, n_val=12), "val")
    preds = val.extras["density"]
    write_predictions_pkl(preds, workdir / "preds.pkl")
    assert main(["score", "preds.pkl", "--dataset", "study", "--data-dir", "study",
                 "--out", "study.json", "--no-store"]) == 0
    assert main(["score", "preds.pkl", "--dataset", "synth", "--out", "synth.json",
                 "--no-store"]) == 0
    from salbench.results import load as load_result

    a, b = load_result("study.json"), load_result("synth.json")
    assert a.dataset_label == "study" and b.dataset_label.startswith("synth")
    for m in ("cc", "sauc", "auc_borji"):
        np.testing.assert_array_equal(a.scores(m), b.scores(m))
    capsys.readouterr()
    s = load(DatasetSpec(name="study", data_dir="study"), "val")  # from the cache now
    np.testing.assert_array_equal(s.image(3), val.image(3))
    assert s.inputs.dtype == np.float32 and len(s) == 12
    assert "converting" not in capsys.readouterr().err
    assert main(["run", "shallow-pan-tiny", "--train", "--dataset", "study", "--data-dir",
                 "study", "--epochs", "1", "--no-plots", "--no-record"]) == 0
