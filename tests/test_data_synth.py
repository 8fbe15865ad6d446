"""The synthetic dataset: deterministic, SALICON-shaped, and a fair learning problem."""

import numpy as np
import pytest

from salbench.cli import main
from salbench.data import DatasetSpec, load, resolve, synth
from salbench.data.datasets import _generate_parallel, synth_dir
from salbench.metrics import score_dataset
from salbench.nets.baselines import CenterBias, Oracle, SpectralResidual, Uniform

SMALL = synth.SynthConfig(seed=0, n_train=40, n_val=40)


@pytest.fixture(scope="module")
def small():
    return {s: synth.generate_split(SMALL, s) for s in ("train", "val")}


def test_same_seed_is_byte_identical_and_other_seed_differs(small):
    again = synth.generate_split(SMALL, "val")
    a, b = small["val"], again
    for k in ("inputs", "targets", "fix_rc", "fix_subject", "fix_offsets"):
        assert getattr(a, k).tobytes() == getattr(b, k).tobytes(), k
    assert a.fingerprint() == b.fingerprint()
    other = synth.generate_split(synth.SynthConfig(seed=1, n_train=40, n_val=40), "val")
    assert other.fingerprint() != a.fingerprint()
    assert not np.array_equal(other.inputs, a.inputs)


def test_parallel_generation_equals_serial(small):
    par = _generate_parallel(SMALL, "val", workers=2)
    assert par.fingerprint() == small["val"].fingerprint()


def test_shapes_dtypes_ranges(small):
    tr, va = small["train"], small["val"]
    assert len(tr) == 80 and tr.mirrored.sum() == 40 and len(va) == 40
    for s in (tr, va):
        assert s.inputs.shape[1:] == (3, 96, 96) and s.inputs.dtype == np.uint8
        assert s.targets.shape[1:] == (48, 48) and s.targets.dtype == np.float32
        assert s.targets.min() >= 0 and s.targets.max() == 1.0
        assert (s.sizes == [480, 640]).all()
        per = np.diff(s.fix_offsets)
        assert 200 < per.mean() < 400  # ~50 observers, a few fixations each
        assert set(np.unique(s.fix_subject)) <= set(range(synth.N_OBSERVERS))
        d = s.extras["density"]
        assert d.shape == (len(s), 48, 48) and d.max() == pytest.approx(1.0)


def test_mirrors_and_originals(small):
    tr = small["train"]
    n = 40
    np.testing.assert_array_equal(tr.inputs[n + 3], tr.inputs[3][..., ::-1])
    np.testing.assert_array_equal(tr.targets[n + 3], tr.targets[3][..., ::-1])
    f, g = tr.fixations(3), tr.fixations(n + 3)
    np.testing.assert_array_equal(g[:, 1], 639 - f[:, 1])
    img = tr.image(3)
    assert img.shape == (480, 640, 3) and img.dtype == np.uint8
    np.testing.assert_array_equal(tr.image(n + 3), img[:, ::-1])
    # the 96x96 input is the same scene: the original averaged down agrees with it
    from PIL import Image

    small_img = np.asarray(Image.fromarray(img).resize((96, 96), Image.BOX), dtype=float)
    diff = np.abs(small_img - tr.inputs[3].transpose(1, 2, 0).astype(float))
    assert diff.mean() < 6


def test_cached_under_salbench_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SALBENCH_HOME", str(tmp_path))
    spec = DatasetSpec(name="synth", n_train=8, n_val=6)
    val = load(spec, "val")
    assert (synth_dir(spec.synth_config) / "val.npz").is_file()
    assert str(synth_dir(spec.synth_config)).startswith(str(tmp_path))
    assert load(spec, "val").fingerprint() == val.fingerprint()
    assert spec.label == "synth-s0-8x6" and DatasetSpec().label == "synth"
    assert val.image(0).shape == (480, 640, 3)


def test_env_sizes_and_auto_dataset(monkeypatch, capsys):
    monkeypatch.setenv("SALBENCH_SYNTH", "12,7")
    monkeypatch.delenv("SALBENCH_DATA", raising=False)
    spec = resolve(None)
    assert (spec.name, spec.n_train, spec.n_val) == ("synth", 12, 7)
    monkeypatch.setenv("SALBENCH_SYNTH", "x")
    with pytest.raises(ValueError, match="TRAIN,VAL"):
        resolve("synth")
    with pytest.raises(ValueError, match="needs --data-dir"):
        resolve("salicon")


def test_learnable(small):
    """The true density beats the centre bias by a wide margin on cc and sauc (exact), the
    centre bias carries real signal (cc well above 0, auc_borji above 0.5) while a constant
    map has no CC at all; content matters: a training-free saliency model beats centre
    bias on sauc, and the oracle beats it."""
    tr, va = small["train"], small["val"]
    fixes, shapes = va.fixation_list(), va.sizes

    def score(model):
        return score_dataset(model.predict(va).astype(np.float64), fixes, shapes,
                             protocol="exact", metrics=["cc", "sauc", "auc_borji", "kld"]).mean

    oracle, cb = score(Oracle()), score(CenterBias().fit_map(tr))
    sr, uni = score(SpectralResidual()), score(Uniform())
    assert oracle["cc"] > cb["cc"] + 0.4 and oracle["sauc"] > cb["sauc"] + 0.2
    assert cb["cc"] > 0.2 and cb["auc_borji"] > 0.6 and abs(cb["sauc"] - 0.5) < 0.03
    assert np.isnan(uni["cc"]) and uni["auc_borji"] == 0.5 and uni["kld"] > cb["kld"]
    assert oracle["sauc"] > sr["sauc"] > cb["sauc"] + 0.1
    assert oracle["cc"] > sr["cc"] + 0.2


def test_cli_synth(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SALBENCH_HOME", str(tmp_path))
    assert main(["data", "synth", "--train", "6", "--val", "5", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "synth-s0-6x5" in out and "fingerprint" in out
    assert main(["data", "synth", "--train", "6", "--val", "5"]) == 0
    assert "cached" in capsys.readouterr().out


@pytest.mark.parametrize("spec", [DatasetSpec(), DatasetSpec(seed=3, n_train=24, n_val=12),
                                  DatasetSpec(n_train=synth.DEFAULT_TRAIN, n_val=12)])
def test_a_synthetic_label_names_its_set(spec):
    """``plot grid`` finds a run's data set from its result's label."""
    from salbench.data.datasets import spec_of_label

    assert spec_of_label(spec.label) == spec


@pytest.mark.parametrize("label", ["synth-s3-24x12x", "synth-s-1-2x3", "mydata", "Synth"])
def test_a_label_salbench_did_not_make_names_no_set(label):
    from salbench.data.datasets import spec_of_label

    assert spec_of_label(label) is None
