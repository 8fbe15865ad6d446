"""Scoring files, results and their store, bootstrap CIs, paired tests, leaderboards, plots."""

import copy
import csv
import itertools
import json
import math
import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from salbench.cli import main
from salbench.compare import compare, format_p, holm, p_clause, paired_test
from salbench.data import DatasetSpec, load
from salbench.evaluate import evaluate
from salbench.leaderboard import markdown, rebuild, table
from salbench.results import SCHEMA_VERSION, Result, Store
from salbench.results import load as load_result
from salbench.stats import BOOTSTRAP_RESAMPLES, bootstrap_ci, bootstrap_cis

FIXTURES = Path(__file__).parent / "fixtures" / "results"
SPEC = ["--dataset", "synth"]
DATA = "synth-s0-24x12"


@pytest.fixture
def val(workdir):
    return load(DatasetSpec(n_train=24, n_val=12), "val")


def _store() -> Path:
    return Path(os.environ["SALBENCH_HOME"]) / "results"


# ---- salbench score --------------------------------------------------------------------


def test_score_study_preds_pkl_end_to_end(workdir, val, capsys):
    """The study's format: a pickled list of 2304-vectors, in val order; the result goes
    to the user store (and, with --out, to a file) and nothing else is written here."""
    preds = val.extras["density"]
    path = workdir / "preds.pkl"
    path.write_bytes(pickle.dumps([p.reshape(-1).astype(np.float32) for p in preds]))
    assert main(["score", str(path), *SPEC, "--out", "r.json"]) == 0
    r = load_result("r.json")
    assert r.name == "preds" and r.model is None and r.dataset["n_images"] == 12
    assert r.metrics["cc"].mean > 0.8  # the true density scores high
    assert "protocol replication" in capsys.readouterr().out
    assert (_store() / DATA / "replication" / "preds.json").exists()
    assert (_store() / f"{DATA}-replication.md").exists()
    from importlib.metadata import version

    import numba

    assert r.hardware["libraries"] == {**{n: version(n) for n in
                                          ("numpy", "scipy", "numba", "llvmlite")},
                                       "numba_svml": numba.config.USING_SVML}
    assert r.hardware["cpu_target"]  # e.g. "znver3"
    assert main(["score", str(path), *SPEC, "--protocol", "replication", "exact",
                 "--metrics", "cc", "--name", "density", "--no-store"]) == 0
    assert sorted(p.name for p in workdir.iterdir()) == ["preds.pkl", "r.json"]


def test_one_split_has_no_spread_to_show(workdir, val, capsys):
    """``salicon`` draws one split: its spread over splits is not shown as 0.0000."""
    np.save(workdir / "p.npy", val.extras["density"])
    assert main(["score", "p.npy", *SPEC, "--protocol", "salicon", "replication",
                 "--metrics", "auc_borji", "--no-store"]) == 0
    salicon, replication = capsys.readouterr().out.split("protocol replication")
    assert "(1 split)" in salicon and "0.0000" not in salicon
    assert "(1 split)" not in replication


def test_score_other_formats(workdir, val):
    preds = val.extras["density"]
    np.save(workdir / "p.npy", preds)
    np.savez(workdir / "p.npz", preds=preds, file_names=val.file_names)
    folder = workdir / "maps"
    folder.mkdir()
    for name, p in zip(val.file_names, preds, strict=True):
        Image.fromarray((p * 255).astype(np.uint8)).resize((640, 480)).save(
            folder / (Path(str(name)).stem + ".png"))
    for src in ("p.npy", "p.npz", "maps"):
        assert main(["score", src, *SPEC, "--protocol", "exact", "--metrics", "cc,sauc",
                     "--name", src.replace(".", "-"), "--out", f"{src}.json"]) == 0
    a, b = load_result("p.npy.json"), load_result("maps.json")
    assert abs(a.metrics["cc"].mean - b.metrics["cc"].mean) < 0.05


def test_sixteen_bit_png_maps_are_read_as_sixteen_bit(workdir, val):
    from salbench.data.predictions import read_map_image

    m = np.linspace(0, 65535, 48 * 48).reshape(48, 48).astype(np.uint16)
    Image.fromarray(m).save(workdir / "m16.png")
    got = read_map_image(workdir / "m16.png")
    np.testing.assert_allclose(got, m / 65535.0, atol=1e-7)  # not clipped at 255
    assert got.max() == pytest.approx(1.0)
    rgb = np.zeros((48, 48, 3), np.uint8)
    rgb[..., 0] = 200
    Image.fromarray(rgb).save(workdir / "colour.png")
    with pytest.raises(ValueError, match="colour image, not grey"):
        read_map_image(workdir / "colour.png")
    # a palette image is grey only when its colours are: a colour-mapped map (jet as an
    # indexed PNG) was read as its luminance
    ramp = np.arange(48 * 48, dtype=np.uint16).reshape(48, 48) % 256
    Image.fromarray(ramp.astype(np.uint8)).convert("P").save(workdir / "grey-p.png")
    np.testing.assert_array_equal(read_map_image(workdir / "grey-p.png"),
                                  ramp.astype(np.float32) / np.float32(255.0))
    jet = np.stack([ramp, 255 - ramp, ramp // 2], -1).astype(np.uint8)
    Image.fromarray(jet).quantize(64).save(workdir / "jet-p.png")
    assert Image.open(workdir / "jet-p.png").mode == "P"
    with pytest.raises(ValueError, match="colour image, not grey"):
        read_map_image(workdir / "jet-p.png")
    (workdir / "trunc.png").write_bytes((workdir / "m16.png").read_bytes()[:60])
    with pytest.raises(ValueError, match=r"trunc\.png"):
        read_map_image(workdir / "trunc.png")


@pytest.mark.parametrize("make, msg", [
    (lambda v: [np.zeros(2304, np.float32)] * (len(v) - 1), "11 predictions but"),
    (lambda v: [np.full(2304, np.nan, np.float32)] + [np.zeros(2304, np.float32)] * 11,
     r"prediction 0 \(synth_val_000000\.png\) has NaN"),
    (lambda v: [np.zeros(2000, np.float32)] * 12, "prediction 0 has 2000 values"),
    (lambda v: [np.zeros(2304, np.complex64)] * 12, "complex"),
])
def test_score_refuses_bad_predictions(workdir, val, capsys, make, msg):
    (workdir / "bad.pkl").write_bytes(pickle.dumps(make(val)))
    assert main(["score", "bad.pkl", *SPEC]) == 2
    err = capsys.readouterr().err
    assert "bad.pkl" in err and err.count("\n") == 1 and "Traceback" not in err
    assert re.search(msg, err), err


def test_score_refuses_wrong_shape_order_and_hostile_files(workdir, val, capsys):
    np.save(workdir / "small.npy", np.zeros((12, 40, 40)))
    assert main(["score", "small.npy", *SPEC]) == 2
    assert "predictions are 40x40" in capsys.readouterr().err
    np.savez(workdir / "shuffled.npz", preds=val.extras["density"],
             file_names=val.file_names[::-1])
    assert main(["score", "shuffled.npz", *SPEC]) == 2
    assert "in another order" in capsys.readouterr().err
    marker = workdir / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (workdir / "evil.pkl").write_bytes(pickle.dumps([Evil()]))
    assert main(["score", "evil.pkl", *SPEC]) == 2
    assert "refused to load global" in capsys.readouterr().err
    assert not marker.exists()
    folder = workdir / "maps"
    folder.mkdir()
    assert main(["score", "maps", *SPEC]) == 2
    assert "no map for 12 of 12 images" in capsys.readouterr().err
    for name in val.file_names:
        Image.fromarray(np.zeros((30, 30), np.uint8)).save(folder / (Path(str(name)).stem
                                                                     + ".png"))
    assert main(["score", "maps", *SPEC]) == 2
    assert "map is 30x30" in capsys.readouterr().err
    Image.fromarray(np.zeros((48, 48), np.uint8)).save(folder / "synth_val_000003.jpg")
    assert main(["score", "maps", *SPEC]) == 2
    assert "two maps for image 'synth_val_000003'" in capsys.readouterr().err


def test_replication_refuses_maps_outside_unit_range_and_normalize_records(workdir, val,
                                                                          capsys):
    """A map in 0-255 scores garbage under the 8-bit cast: refused, naming the image, the
    range and the option; --normalize makes the intent explicit and is recorded."""
    np.save(workdir / "u8.npy", (val.extras["density"] * 255).astype(np.uint8))
    assert main(["score", "u8.npy", *SPEC, "--no-store"]) == 2
    err = capsys.readouterr().err
    assert "synth_val_000000.png" in err and "lie in [0, 255]" in err
    assert "--normalize" in err
    assert main(["score", "u8.npy", *SPEC, "--no-store", "--normalize", "minmax",
                 "--out", "n.json"]) == 0
    r = load_result("n.json")
    assert r.preprocessing == {"normalize": "minmax"}
    plain = evaluate(val.extras["density"], val, name="d", protocols=["replication"],
                     progress=False)[0]
    assert r.metrics["cc"].mean == pytest.approx(plain.metrics["cc"].mean, abs=0.01)


def test_evaluate_checks_each_map_once_per_protocol(val, monkeypatch):
    """evaluate checks every protocol's request before scoring any, and scores what it
    checked: each map is checked once per protocol (not again when scored), and the scores
    equal score_dataset's."""
    from salbench.metrics import _inputs, score_dataset
    from salbench.metrics.dataset import PackedFixations

    calls = []
    real = _inputs.MapCheck.__init__

    def counting(self, *args, **kw):
        calls.append(1)
        real(self, *args, **kw)

    monkeypatch.setattr(_inputs.MapCheck, "__init__", counting)
    preds = val.extras["density"]
    got = evaluate(preds, val, name="d", protocols=["exact", "mit"], metrics=["cc", "sauc"],
                   seed=3, progress=False)
    assert len(calls) == 2 * len(val)
    fix = PackedFixations(val.fix_offsets, val.fix_rc)
    for r, proto in zip(got, ["exact", "mit"]):
        ref = score_dataset(preds, fix, val.sizes, protocol=proto, metrics=["cc", "sauc"],
                            seed=3)
        for m in ("cc", "sauc"):
            assert r.metrics[m].mean == ref.mean[m]
    # a protocol named twice is scored once; metrics as one string are a list, not letters
    calls.clear()
    again = evaluate(preds, val, name="d", protocols=["exact", "exact"], metrics="cc, sauc",
                     seed=3, progress=False)
    assert [r.protocol_name for r in again] == ["exact"] and len(calls) == len(val)
    assert list(again[0].metrics) == ["cc", "sauc"]
    assert again[0].metrics["cc"].mean == got[0].metrics["cc"].mean


def test_nothing_is_written_when_one_protocol_cannot_score(workdir, val, capsys):
    """score --protocol replication mit: mit's kld of a negative map is NaN, exact refuses
    it; the refusal comes before the first result is written."""
    np.save(workdir / "neg.npy", val.extras["density"] - 0.5)
    assert main(["score", "neg.npy", *SPEC, "--protocol", "mit", "exact",
                 "--metrics", "kld,cc", "--out", "x.json"]) == 2
    assert "needs a non-negative saliency map" in capsys.readouterr().err
    assert not list(workdir.glob("x*.json")) and not _store().exists()


# ---- result files ----------------------------------------------------------------------


def test_every_schema_version_still_loads():
    files = sorted(FIXTURES.glob("result-schema*.json"))
    assert [f.name for f in files] == [f"result-schema{v}.json"
                                       for v in range(1, SCHEMA_VERSION + 1)]
    for f in files:
        r = load_result(f)
        assert r.metrics["cc"].mean == pytest.approx(0.39696832, abs=1e-8)
        assert r.dataset_label and r.protocol_name == "replication"
        assert r.name == "center-bias"
        assert len(r.scores("cc")) == r.dataset["n_images"]
        again = Result.from_json(json.loads(json.dumps(r.to_json())))
        np.testing.assert_array_equal(again.scores("sauc"), r.scores("sauc"))


def _fixture():
    return json.loads((FIXTURES / f"result-schema{SCHEMA_VERSION}.json").read_text())


def _broken(change):
    r = _fixture()
    change(r)
    return r


BAD_RESULTS = [
    (lambda r: r["metrics"]["cc"].update(mean=5.0), "outside its own 95% CI"),
    (lambda r: r["metrics"]["cc"].update(mean=float("inf")), "infinite"),
    (lambda r: r["metrics"]["cc"].update(mean="NaN"), "must be a number"),
    (lambda r: r["metrics"].update(cc=0.5), "must be an object"),
    (lambda r: r.update(schema_version=None), "schema_version must be an integer"),
    (lambda r: r.update(created="2999-01-01T00:00:00+00:00"), "lies in the future"),
    (lambda r: r["protocol"].update(name="mitt", base="mitt"), "unknown protocol 'mitt'"),
    (lambda r: r["metrics"].update(ccc=r["metrics"]["cc"]), "unknown metric 'ccc'"),
    (lambda r: r["dataset"].update(label="../../x"), "may hold only"),
    (lambda r: r.update(name="a|b"), "may hold only"),
    (lambda r: r["per_image"]["scores"]["cc"].pop(), "one value per image"),
    # fields a board reads: a traceback from the leaderboard before, or a silent int(1.5)
    (lambda r: r.update(model_card={"kind": "network", "params": "abc"}),
     "'model_card.params' must be a count, got 'abc'"),
    (lambda r: r.update(model_card={"kind": "network", "params": 1.5}),
     "'model_card.params' must be a count, got 1.5"),
    (lambda r: r["dataset"].update(n_images="many"), "'dataset.n_images' must be a count"),
    (lambda r: r["dataset"].update(preparation=[1]), "'dataset.preparation' must be an obj"),
    (lambda r: r.update(checkpoint={"sha256": 7}), "'checkpoint.sha256' must be a string"),
    (lambda r: r.update(training={"epochs_done": -1}), "'training.epochs_done' must be a c"),
    (lambda r: r.update(preprocessing={"normalize": 3}), "'preprocessing.normalize' must"),
    (lambda r: r["metrics"]["cc"].update(nan_count=1.5), "nan_count must be a count"),
    # a summary its own per-image scores do not give (a mean edited within its CI)
    (lambda r: r["metrics"]["cc"].update(mean=0.4), "is not the mean of its per-image"),
    (lambda r: r["metrics"]["cc"].update(nan_count=2), "nan_count is 2 but 0 per-image"),
    (lambda r: r["per_image"]["scores"]["cc"].__setitem__(0, None),
     "nan_count is 0 but 1 per-image"),
    (lambda r: r["metrics"]["cc"].update(nan_reasons={"x": "y"}), "must map reasons to c"),
    (lambda r: r.update(git_commit=7), "'git_commit' must be a string"),
    (lambda r: r.update(seed=-3), "'seed' must be a whole number >= 0"),
    (lambda r: r["metrics"]["cc"].update(n_images="x"), "cc.n_images must be a count"),
    (lambda r: r["protocol"].update(base=[1]), "'protocol.base' must be a string"),
]


def _field_paths(obj, prefix=()):
    """Every key path of a result's JSON, per-image score lists taken whole."""
    for k, v in obj.items():
        yield (*prefix, k)
        if isinstance(v, dict) and prefix[-1:] != ("scores",):
            yield from _field_paths(v, (*prefix, k))


def test_odd_values_in_any_field_are_refused_or_read_never_a_traceback(tmp_path):
    """Each field of a result (with a card, checkpoint, training and preparation filled
    in) replaced by each of nine odd values: the file is read, or refused with what is
    wrong, and what is read builds a board and compares; nothing else escapes (six
    fields gave tracebacks, and a nan_count of 1.5 read as 1)."""
    from salbench.errors import UserError

    base = _fixture()
    base.update(model_card={"kind": "network", "params": 10, "train": {"epochs": 3}},
                checkpoint={"sha256": "ab" * 32, "epoch": 2},
                training={"epochs_done": 2, "schedule_epochs": 3, "device": "cpu"})
    base["dataset"]["preparation"] = {"edition": 2017, "fixations": "fixations"}
    base["metrics"]["cc"]["nan_reasons"] = {}
    odd = [None, 7, -3, 1.5, "x", [1], {"a": 1}, True, float("nan")]
    read = refused = 0
    for path in _field_paths(base):
        for value in odd:
            r = copy.deepcopy(base)
            where = r
            for k in path[:-1]:
                where = where[k]
            where[path[-1]] = value
            f = tmp_path / "store" / "synth" / "replication" / "r.json"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(json.dumps({**r, "name": "r"} if path != ("name",) else r))
            try:
                got = load_result(f)
            except UserError:
                refused += 1
                continue
            read += 1
            markdown(table([got], got.protocol_name), "synth", got.protocol_name)
            table([got], got.protocol_name).to_csv()
            try:
                compare(got, got)
            except UserError as exc:  # e.g. a result without its data's fingerprint
                assert exc.hint, exc
    assert read > 100 and refused > 100, (read, refused)


@pytest.mark.parametrize("change, msg", BAD_RESULTS)
def test_bad_result_files_are_refused(tmp_path, change, msg):
    (tmp_path / "r.json").write_text(json.dumps(_broken(change)))
    with pytest.raises(ValueError, match=msg):
        load_result(tmp_path / "r.json")


def test_unreadable_result_files(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(ValueError, match="unreadable result file"):
        load_result(tmp_path / "x.json")
    (tmp_path / "y.json").write_text(json.dumps({"schema": "other"}))
    with pytest.raises(ValueError, match="not a salbench result"):
        load_result(tmp_path / "y.json")
    r = _fixture()
    r["schema_version"] = SCHEMA_VERSION + 1
    (tmp_path / "z.json").write_text(json.dumps(r))
    with pytest.raises(ValueError, match="newer salbench"):
        load_result(tmp_path / "z.json")


def test_boards_skip_bad_files_and_build_the_rest(tmp_path):
    store = Store(tmp_path / "store")
    good = Result.from_json(_fixture())
    good.dataset["label"] = "synth"
    store.save(good)
    bad_dir = tmp_path / "store" / "synth" / "replication"
    for i, (change, _) in enumerate(BAD_RESULTS[:6]):
        broken = _broken(change)
        broken["dataset"]["label"] = "synth"
        broken["name"] = f"bad{i}"
        (bad_dir / f"bad{i}.json").write_text(json.dumps(broken))
    boards = rebuild(store)
    assert len(boards.skipped) == 6
    df = boards.tables[("synth", "replication")]
    assert list(df["name"]) == ["center-bias"]


def _one_bootstrap(v, seed, resamples=BOOTSTRAP_RESAMPLES, chunk_values=4_000_000):
    """One column on its own, drawn in the same chunks (a chunk's last 32-bit draw is not
    carried into the next, so the chunking is part of the stream)."""
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    chunk = max(1, chunk_values // v.size)
    for lo in range(0, resamples, chunk):
        hi = min(resamples, lo + chunk)
        idx = rng.integers(0, v.size, (hi - lo, v.size))
        means[lo:hi] = v[idx].mean(axis=1)
    return tuple(float(x) for x in np.quantile(means, [0.025, 0.975]))


def test_bootstrap_cis_are_those_of_one_call_each(rng):
    """Columns of one length share their draws, which one call each would repeat: the
    same numbers, bit for bit, in one chunk (500 images) or several (2,500: 1,600 and 400
    resamples), with NaN and empty columns and columns of other lengths among them."""
    cols = [rng.random(500), rng.random(500), np.r_[rng.random(499), np.nan], rng.random(80),
            np.zeros(0), rng.random(500), rng.random(2500), rng.random(2500)]
    got = bootstrap_cis(cols, seed=7)
    for c, ci in zip(cols, got, strict=True):
        if c.size == 0 or np.isnan(c).any():
            assert np.isnan(ci).all()
        else:
            assert ci == _one_bootstrap(c, 7)
            assert ci == bootstrap_ci(c, seed=7)
    assert got[0] != got[1] and got[6] != got[7]  # shared draws, not shared results


def test_stored_results_keep_their_intervals():
    """The committed boards' results were written by earlier versions: their 95% CIs come
    out of their per-image scores the same, bit for bit."""
    files = sorted(Path(__file__).resolve().parents[1].glob("leaderboards/**/*.json"))
    assert len(files) > 100
    for f in files[::10]:  # every store and protocol among them
        r = json.loads(f.read_text())
        names = list(r["metrics"])
        cols = []
        for m in names:
            v = np.asarray(r["per_image"]["scores"][m], dtype=float)
            cols.append(v[~np.isnan(v)] if r["protocol"]["nan_policy"] == "omit" else v)
        for m, ci in zip(names, bootstrap_cis(cols, seed=r["seed"]), strict=True):
            # exact, NaN where the stored one is NaN (e.g. salicon's, all images NaN)
            np.testing.assert_array_equal(ci, r["metrics"][m]["ci95"], err_msg=f"{f} {m}")


def test_bootstrap_ci_contains_the_mean_and_shrinks(rng):
    widths = []
    for n in (20, 80, 320, 1280):
        v = rng.normal(0.6, 0.1, n)
        lo, hi = bootstrap_ci(v, seed=1)
        assert lo < v.mean() < hi
        widths.append(hi - lo)
    assert all(a > b for a, b in itertools.pairwise(widths))
    assert widths[0] / widths[-1] == pytest.approx(8, rel=0.3)  # ~ 1/sqrt(n)
    assert np.isnan(bootstrap_ci(np.r_[rng.normal(0.5, 0.1, 50), np.nan])[0])


# ---- the store -------------------------------------------------------------------------


def test_store_writes_only_inside_its_folder(tmp_path):
    store = Store(tmp_path / "store")
    r = Result.from_json(_fixture())
    for label in ("salicon-v1.2", "synth"):
        r.dataset["label"] = label
        store.save(r)
    r.protocol = {**r.protocol, "name": "mit", "base": "mit"}
    store.save(r)
    names = sorted(p.name for p in (tmp_path / "store").iterdir())
    assert names == ["salicon-v1.2", "synth"]
    rebuild(store)
    boards = sorted(p.name for p in (tmp_path / "store").glob("*.md"))
    # a dot in a label never truncates a board's name; protocols never share a file
    assert boards == ["salicon-v1.2-replication.md", "synth-mit.md", "synth-replication.md"]
    assert [p for p in tmp_path.iterdir()] == [tmp_path / "store"]
    with pytest.raises(ValueError, match="at most 100"):
        r.name = "x" * 300
        store.save(r)


def test_store_find_did_you_mean(tmp_path):
    store = Store(tmp_path)
    r = Result.from_json(_fixture())
    store.save(r)
    assert store.find("center-bias").name == "center-bias"
    with pytest.raises(ValueError, match="did you mean 'center-bias'"):
        store.find("centre-bias")


# ---- paired comparison -----------------------------------------------------------------


def _signed_rank_exact(d: np.ndarray) -> float:
    """Two-sided exact p of the signed-rank statistic, by every one of the 2^n sign
    patterns (no zeros or ties in ``d``)."""
    ranks = np.argsort(np.argsort(np.abs(d))) + 1
    w = ranks[d > 0].sum()
    total = ranks.sum()
    stat = min(w, total - w)
    count = 0
    for signs in itertools.product((0, 1), repeat=d.size):
        wp = int(np.dot(signs, ranks))
        count += min(wp, total - wp) <= stat
    return count / 2**d.size


def _signed_rank_normal(d: np.ndarray) -> float:
    """Two-sided normal approximation, zeros dropped (Wilcoxon's), average ranks for tied
    ``|d|`` and the tie-corrected variance; no continuity correction."""
    from scipy.stats import norm, rankdata

    d = d[d != 0]
    n = d.size
    r = rankdata(np.abs(d))
    w = min(r[d > 0].sum(), r[d < 0].sum())
    _, t = np.unique(np.abs(d), return_counts=True)
    var = n * (n + 1) * (2 * n + 1) / 24 - (t**3 - t).sum() / 48
    return float(2 * norm.sf(abs(w - n * (n + 1) / 4) / math.sqrt(var)))


def test_signed_rank_p_values_by_hand_whatever_the_scipy(rng):
    """Exact tables for up to 50 pairs without zeros or ties, the normal approximation
    otherwise: scipy's ``"auto"`` took the exact tables for zeros and ties from scipy 1.13
    (12 pairs with two zeros: p 0.2026 under 1.11, 0.2324 under 1.17)."""
    a = rng.random(12)
    d = rng.normal(0.05, 0.1, 12)
    assert paired_test(a + d, a).p_wilcoxon == pytest.approx(_signed_rank_exact(d), rel=1e-12)
    zeros = d.copy()
    zeros[:2] = 0.0
    ties = np.round(d, 1)
    ties[ties == 0] = 0.1
    big = rng.normal(0.05, 0.1, 60)
    for diff in (zeros, ties, big):
        assert len(np.unique(np.abs(diff))) < diff.size or 0 in diff or diff.size > 50
        b = rng.random(diff.size)
        assert paired_test(b + diff, b).p_wilcoxon == pytest.approx(
            _signed_rank_normal((b + diff) - b), rel=1e-9)


def test_paired_test_finds_a_planted_difference_and_not_a_null_one(rng):
    base = rng.normal(0.6, 0.15, 300)  # images differ a lot; models differ a little
    better = base + 0.02 + rng.normal(0, 0.02, 300)
    t = paired_test(better, base, "cc")
    assert t.significant and t.better == "A" and t.ci95[0] > 0
    null = base + rng.normal(0, 0.02, 300)
    t0 = paired_test(null, base, "cc")
    assert not t0.significant and t0.better is None and t0.ci95[0] < 0 < t0.ci95[1]
    kld = paired_test(base + 0.05, base, "kld", higher_is_better=False)
    assert kld.better == "B"  # lower KLD wins
    assert kld.p_ttest == 0.0  # a constant shift: no variance, not a NaN p-value
    assert "B is better" in kld.sentence() and "(lower is better)" in kld.sentence()
    assert "p < 1e-16" in kld.sentence()  # not "p = 0"


def test_identical_scores_are_no_difference(rng):
    """An entry against itself, NaN images included: no difference, p = 1 on both tests
    (scipy's Wilcoxon has no non-zero difference to rank), a CI of exactly 0."""
    a = rng.random(50)
    a[[3, 9]] = np.nan
    t = paired_test(a, a.copy(), "cc")
    assert t.n == 48 and t.mean_diff == 0.0 and t.ci95 == (0.0, 0.0)
    assert t.p_wilcoxon == 1.0 and t.p_ttest == 1.0
    assert not t.significant and t.better is None
    assert holm([t]) == [t] and t.p_adjusted is None  # one test: nothing to correct
    for alpha in (0.0, 1.0, -0.05, float("nan")):  # never / always rejects, or nonsense
        with pytest.raises(ValueError, match="alpha must lie strictly between 0 and 1"):
            paired_test(a, a + 1, "cc", alpha=alpha)


def test_verdict_agrees_with_its_ci_and_test():
    t = paired_test(np.arange(10.0), np.arange(10.0) - 1, "cc")
    t.ci95 = (-0.1, 2.0)  # a CI that covers 0 while the test rejects: no verdict of "better"
    assert t.test_says and not t.ci_says and t.better is None
    assert "disagree" in t.verdict()


def test_holm_correction(rng):
    base = rng.normal(0.6, 0.1, 200)
    tests = [paired_test(base + d + rng.normal(0, 0.02, 200), base, f"m{i}")
             for i, d in enumerate((0.0, 0.002, 0.01))]
    raw = [t.p_wilcoxon for t in tests]
    holm(tests)
    order = np.argsort(raw)
    assert tests[order[0]].p_adjusted == pytest.approx(min(1, 3 * raw[order[0]]))
    assert all(t.p_adjusted >= t.p_wilcoxon for t in tests)
    assert all(t.correction == "Holm" for t in tests)
    assert format_p(0.0) == "< 1e-16" and format_p(0.0123) == "0.0123"
    assert p_clause(0.0) == "p < 1e-16" and p_clause(0.0123) == "p = 0.0123"


def test_sentence_reads_p_below_precision_as_less_than():
    """A difference on every one of 500 images: both p-values print as ``p < 1e-16``."""
    rng = np.random.default_rng(3)
    b = rng.random(500)
    t = paired_test(b + 0.1 + rng.random(500) * 0.01, b, "cc")
    holm([t, paired_test(b + 0.2, b, "sauc")])  # two tests: a correction is reported
    text = t.sentence("a", "b")
    assert t.p_wilcoxon < 1e-16 and t.p_ttest < 1e-16
    assert "Wilcoxon p < 1e-16 (Holm-corrected p < 1e-16), paired t p < 1e-16" in text, text


def test_compare_cli(workdir, val, capsys):
    d = val.extras["density"]
    np.save(workdir / "good.npy", d)
    np.save(workdir / "blurry.npy", np.repeat(d.mean(0, keepdims=True), len(d), 0))
    for n in ("good", "blurry"):
        assert main(["score", f"{n}.npy", *SPEC, "--protocol", "exact", "--metrics",
                     "cc,auc_borji,kld"]) == 0
    capsys.readouterr()
    assert main(["compare", "good", "blurry", "--protocol", "exact", "--sentences"]) == 0
    out = capsys.readouterr().out
    assert "cc (higher is better): good" in out and "good is better" in out
    assert "kld (lower is better)" in out and "Holm-corrected" in out
    assert "Wilcoxon p" in out and "p = <" not in out  # a tiny p reads "p < 1e-16"
    sentences = out
    assert main(["compare", "good", "blurry", "--protocol", "exact"]) == 0
    out = capsys.readouterr().out  # the table, one row per metric, numbers as in words
    assert re.search(r"A = good, B = blurry: synth\S*/val, protocol exact, 12 images", out)
    assert "Wilcoxon p (Holm)" in out and "images │" not in out  # one count: in the title
    for t in compare(Store(_store()).find("good", protocol="exact"),
                     Store(_store()).find("blurry", protocol="exact")):
        row = next(line for line in out.splitlines() if line.startswith(f"│ {t.metric} "))
        assert f"{t.mean_a:.4f}" in row and f"{t.mean_diff:+.4f}" in row
        assert f"{t.ci95[0]:+.4f} to {t.ci95[1]:+.4f}" in row
        assert format_p(t.p_decision) in row and t.short_verdict() in row
        assert f"difference {t.mean_diff:+.4f}" in sentences
    assert "│ A better" in out
    assert main(["compare", "god", "blurry", "--protocol", "exact"]) == 2
    assert "did you mean 'good'" in capsys.readouterr().err
    st = Store(_store())
    r1 = st.find("good", protocol="exact")
    r2 = copy.deepcopy(r1)
    r2.protocol = {**r2.protocol, "name": "mit"}
    with pytest.raises(ValueError, match="different protocols"):
        compare(r1, r2)
    r3 = copy.deepcopy(r1)
    r3.dataset.pop("fingerprint")
    with pytest.raises(ValueError, match="no dataset fingerprint"):
        compare(r1, r3)


def test_compare_table_counts_images_per_metric_when_they_differ(workdir, val, capsys):
    """Two constant maps: cc is NaN there (left out of its test), auc_borji is not."""
    d = val.extras["density"]
    part = d.copy()
    part[:2] = 0.5
    np.save(workdir / "good.npy", d)
    np.save(workdir / "part.npy", part)
    for n in ("good", "part"):
        assert main(["score", f"{n}.npy", *SPEC, "--protocol", "exact", "--metrics",
                     "cc,auc_borji"]) == 0
    capsys.readouterr()
    assert main(["compare", "good", "part", "--protocol", "exact"]) == 0
    out = capsys.readouterr().out
    assert "images" not in out.splitlines()[0]  # no one count in the title
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("│ ")
            and line.split()[1] in ("cc", "auc_borji")}
    assert "│     10 │" in rows["cc"] and "│     12 │" in rows["auc_borji"], out


def test_compare_with_a_constant_map_tests_the_metrics_it_defines(workdir, val, capsys):
    """A constant map's cc is NaN on every image: the whole comparison stopped at cc.
    Now cc is listed as not compared (with why) and the rest are tested, Holm over
    those; asked for alone, it is still an error."""
    np.save(workdir / "good.npy", val.extras["density"])
    np.save(workdir / "flat.npy", np.full((len(val), 48, 48), 0.5, np.float32))
    for n in ("good", "flat"):
        assert main(["score", f"{n}.npy", *SPEC, "--protocol", "exact", "--metrics",
                     "cc,kld,auc_borji"]) == 0
    capsys.readouterr()
    assert main(["compare", "good", "flat", "--protocol", "exact"]) == 0
    out, err = capsys.readouterr()
    assert f"cc not compared: flat is NaN on {len(val)} of {len(val)} images (constant " \
           "prediction)" in err
    rows = [line.split()[1] for line in out.splitlines() if line.startswith("│ ")]
    assert rows == ["kld", "auc_borji"]
    st = Store(_store())
    skipped: list = []
    tests = compare(st.find("good", protocol="exact"), st.find("flat", protocol="exact"),
                    untestable=skipped)
    assert [t.metric for t in tests] == ["kld", "auc_borji"] and skipped[0][0] == "cc"
    assert all(t.correction == "Holm" for t in tests)  # over the two tested
    assert main(["compare", "good", "flat", "--protocol", "exact", "--metric", "cc"]) == 2
    assert "fewer than 2 images" in capsys.readouterr().err


def test_compare_names_how_the_two_were_scored_differently(workdir, val, capsys):
    """Two comparable results scored with other seeds or normalisations: the comparison
    stands, with a line on stderr saying what differs (nothing when nothing does)."""
    from salbench.compare import scoring_differences

    d = val.extras["density"]
    np.save(workdir / "good.npy", d)
    np.save(workdir / "flat.npy", np.repeat(d.mean(0, keepdims=True), len(d), 0))
    for n, extra in (("good", []), ("flat", ["--seed", "7", "--normalize", "minmax"])):
        assert main(["score", f"{n}.npy", *SPEC, "--protocol", "mit", "--metrics",
                     "cc,auc_borji", *extra]) == 0
    capsys.readouterr()
    assert main(["compare", "good", "flat", "--protocol", "mit"]) == 0
    err = capsys.readouterr().err
    assert "good was scored with seed 0 and flat with seed 7" in err
    assert "good's maps were scored as given and flat's after --normalize minmax" in err
    r = Store(_store()).find("good", protocol="mit")
    assert scoring_differences(r, copy.deepcopy(r), ("a", "b")) == []
    exact = copy.deepcopy(r)
    for m in exact.metrics.values():
        m.splits = None
    other_seed = copy.deepcopy(exact)
    other_seed.seed = 3
    assert scoring_differences(exact, other_seed, ("a", "b")) == []  # nothing was drawn


# ---- leaderboards ----------------------------------------------------------------------


def _result(name, protocol, metrics, **dataset):
    r = Result.from_json(_fixture())
    r.name = name
    r.protocol = {"name": protocol, "base": protocol, "changed": {}}
    r.dataset = {"label": "synth", "split": "val", "n_images": 10, "fingerprint": "f",
                 **dataset}
    r.metrics = {}
    from salbench.results import MetricSummary

    for m, v in metrics.items():
        r.metrics[m] = MetricSummary(v, (v - 0.01, v + 0.01), 0, 10, m != "kld")
        r.per_image[m] = np.full(len(r.image_names), v)  # what the summary says
    return r


def test_leaderboard_sorts_lower_is_better_metrics_ascending():
    rs = [_result("a", "exact", {"cc": 0.5, "kld": 0.9}),
          _result("b", "exact", {"cc": 0.7, "kld": 0.2}),
          _result("c", "exact", {"cc": 0.6, "kld": 0.5})]
    assert list(table(rs, "exact")["name"]) == ["b", "c", "a"]  # by cc, descending
    assert list(table(rs, "exact", sort="kld")["name"]) == ["b", "c", "a"]  # kld ascending
    rs[0].metrics["kld"].mean = 0.1
    assert list(table(rs, "exact", sort="kld")["name"]) == ["a", "b", "c"]
    md = markdown(table(rs, "exact"), "synth", "exact")
    assert "kld ↓" in md and "cc ↑" in md
    assert "Warning" not in md
    with pytest.raises(ValueError, match=r"cannot sort by 'kdl'.*did you mean 'kld'"):
        table(rs, "exact", sort="kdl")


def test_board_csv_cells_by_hand():
    """Every digit of a number kept (``repr``), blank where unknown, a name with a comma
    quoted; ranks by cc, the entry without cc last (what pandas' ``to_csv`` wrote)."""
    from salbench.results import MetricSummary

    rs = [_result("b,c", "exact", {"cc": 1 / 3, "kld": 1e-20}),
          _result("a", "exact", {"kld": 0.25}), _result("d", "exact", {"cc": 0.5})]
    rs[0].seed = 7
    rs[2].metrics["cc"] = MetricSummary(math.nan, (math.nan, math.nan), 10, 10, True)
    rows = list(csv.DictReader(table(rs, "exact").to_csv().splitlines()))
    assert [r["name"] for r in rows] == ["b,c", "a", "d"]  # NaN cc sorts with no cc
    assert rows[0]["cc"] == "0.3333333333333333" and rows[0]["kld"] == "1e-20"
    assert rows[0]["seed"] == "7" and rows[0]["kld_nan"] == "0"
    assert rows[1]["cc"] == rows[1]["cc_ci_lo"] == rows[2]["cc"] == ""
    assert rows[2]["cc_nan"] == "10" and [r["rank"] for r in rows] == ["1", "2", "3"]
    assert '"b,c"' in table(rs, "exact").to_csv()


def test_boards_say_why_images_are_nan():
    """Each reason an image is NaN, with its count, under the table: once for a reason shared
    by every entry and metric, else per entry; the CSV's columns are unchanged."""
    rs = [_result("a", "exact", {"cc": 0.5, "nss": 1.0}),
          _result("b", "exact", {"cc": 0.6, "nss": 1.2})]
    for r in rs:
        for m in ("cc", "nss"):
            r.metrics[m].nan_reasons = {"no fixations": 3}
    rs[0].metrics["cc"].nan_reasons["constant prediction"] = 2
    df = table(rs, "exact")
    md = markdown(df, "synth", "exact")
    assert "NaN images, by reason:" in md
    assert "- no fixations: 3 images, in every entry and metric" in md
    assert "- constant prediction: `a` (cc 2)" in md
    assert not any("reason" in c for c in df.columns)
    rs[1].metrics["nss"].nan_reasons = {}  # no longer everywhere: listed per entry
    md = markdown(table(rs, "exact"), "synth", "exact")
    assert "- no fixations: `b` (cc 3); `a` (cc 3, nss 3)" in md  # in the board's order
    clean = [_result("a", "exact", {"cc": 0.5})]
    assert "NaN images" not in markdown(table(clean, "exact"), "synth", "exact")
    assert "NaN images" not in markdown(table([], "exact"), "synth", "exact")  # no rows


def test_boards_show_the_data_version_per_row():
    rs = [_result("a", "exact", {"cc": 0.5}, fingerprint="f1",
                  preparation={"edition": 2017, "fixations": "fixations"}),
          _result("b", "exact", {"cc": 0.6}, fingerprint="f2",
                  preparation={"edition": 2017, "fixations": "mouse"})]
    md = markdown(table(rs, "exact"), "salicon", "exact")
    assert "2 different versions of the data" in md
    assert "2017/mouse" in md and "2017/fixations" in md


def test_boards_say_where_a_network_was_trained():
    from salbench.leaderboard import trained_on

    gpu = _result("g", "exact", {"cc": 0.5})
    gpu.model_card = {"kind": "network", "train": {"epochs": 1000}}
    gpu.training = {"epochs_done": 314, "schedule_epochs": 1000, "device": "cuda"}
    gpu.hardware = {"device": "NVIDIA H200"}
    cpu = _result("c", "exact", {"cc": 0.4})
    cpu.model_card = gpu.model_card
    cpu.training = {"epochs_done": 3, "schedule_epochs": 1000, "device": "cpu"}
    loaded = _result("l", "exact", {"cc": 0.3})
    loaded.model_card = gpu.model_card
    loaded.training = {"epochs_done": 7, "schedule_epochs": 1000, "from_checkpoint": True}
    assert trained_on(gpu) == "314/1000 epochs on NVIDIA H200"
    assert trained_on(cpu) == "3/1000 epochs on CPU"
    assert trained_on(loaded) == "7/1000 epochs"  # scored from a checkpoint: not known here
    md = markdown(table([gpu, cpu, loaded], "exact"), "synth", "exact")
    assert "314/1000 epochs on NVIDIA H200" in md


def test_names_in_tables_are_escaped():
    rs = [_result("a", "exact", {"cc": 0.5})]
    lit = [{"model": "deep | net\nv2", "label": "paper", "dataset": "salicon",
            "protocol": "pan2016", "cc": 0.61}]
    md = markdown(table(rs, "exact"), "synth", "exact", lit)
    row = next(ln for ln in md.splitlines() if ln.startswith("| paper"))
    assert "deep \\| net v2" in row and row.count(" | ") == 4  # five cells, pipe escaped


def test_leaderboard_keeps_literature_separate(tmp_path):
    from salbench.registry import literature

    store = Store(tmp_path / "store")
    store.save(_result("shallow-pan", "replication", {"cc": 0.4, "sauc": 0.6,
                                                      "auc_borji": 0.7}))
    boards = rebuild(store, literature())
    md = (tmp_path / "store" / "synth-replication.md").read_text()
    measured, lit = md.split("## Reported in the literature")
    assert "| 1 | `shallow-pan` | 0.400" in measured
    assert "0.659" not in measured and "0.659" in lit  # never mixed
    # each row's full source and note beneath the table (the table shows its label)
    assert "- Pan et al. 2016: deep convnet: Pan et al., Shallow and Deep Convolutional " \
        "Networks for Saliency Prediction, CVPR 2016; the paper's own evaluation" in lit
    with open(tmp_path / "store" / "synth-replication.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["name"] for r in rows] == ["shallow-pan"] and "cc_ci_lo" in rows[0]
    assert {p.suffix for p in boards.written} == {".md", ".csv"}


def test_a_recorded_result_rebuilds_its_own_board_only(tmp_path):
    """A stored score read every result of the store to rebuild every board; its own
    board, rebuilt alone, is the one a full rebuild writes, and the others are left."""
    from salbench.evaluate import record

    store = Store(tmp_path / "store")
    for name, cc in (("a", 0.4), ("b", 0.5)):
        store.save(_result(name, "replication", {"cc": cc}))
        store.save(_result(name, "exact", {"cc": cc}))
    rebuild(store)
    other = tmp_path / "store" / "synth-exact.md"
    other.unlink()
    written = record([_result("c", "replication", {"cc": 0.45})], store)
    assert sorted(p.name for p in written) == ["synth-replication.csv", "synth-replication.md"]
    assert not other.exists()
    mine = (tmp_path / "store" / "synth-replication.md").read_text()
    assert "`c`" in mine
    rebuild(store)  # everything, from every file
    assert (tmp_path / "store" / "synth-replication.md").read_text() == mine
    assert other.exists()
    got, _ = store.results([("synth", "exact")])
    assert sorted(r.name for r in got) == ["a", "b"]


def test_leaderboard_cli_sort_must_be_on_a_board(workdir, val, capsys):
    np.save(workdir / "p.npy", val.extras["density"])
    assert main(["score", "p.npy", *SPEC, "--protocol", "exact", "--metrics", "cc"]) == 0
    assert main(["leaderboard", "--sort", "kld"]) == 2
    assert "cannot sort by 'kld'" in capsys.readouterr().err
    assert main(["leaderboard", "--sort", "cc"]) == 0


def test_leaderboard_cli_shows_a_missing_metric_as_a_dash(workdir, val, capsys):
    np.save(workdir / "p.npy", val.extras["density"])
    assert main(["score", "p.npy", *SPEC, "--protocol", "exact", "--metrics", "cc",
                 "--name", "only-cc"]) == 0
    assert main(["score", "p.npy", *SPEC, "--protocol", "exact", "--metrics", "cc,sim",
                 "--name", "both"]) == 0
    capsys.readouterr()
    assert main(["leaderboard"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if "only-cc" in ln)
    assert "—" in line


# ---- plots -----------------------------------------------------------------------------


def test_plots_are_real_images(workdir, val):
    from salbench import plots

    log = workdir / "train_log.jsonl"
    log.write_text("".join(json.dumps({"epoch": e, "train_loss": 1 / e, "loss": "mse",
                                       "step_losses": {str(5 * k + 1 + 10 * (e - 1)): 1 / (e + k)
                                                       for k in range(2)},
                                       **({"val_loss": 1.2 / e} if e % 2 == 0 else {})}) + "\n"
                           for e in range(1, 7)))
    r = evaluate(val.extras["density"], val, name="density", protocols=["exact"],
                 metrics=["cc"], progress=False)[0]
    paths = [plots.training_curves(log, workdir / "p" / "curves", "t"),
             plots.filters(np.random.default_rng(0).normal(size=(32, 3, 5, 5)),
                           workdir / "p" / "filters")]
    paths += plots.best_worst(val, val.extras["density"], r, "cc", workdir / "p", k=3)
    for p in paths:
        with Image.open(p) as im:
            assert im.format == "PNG" and im.width > 300 and im.height > 100
            assert np.asarray(im.convert("L")).std() > 5  # not blank
    assert {p.name for p in paths} == {"curves.png", "filters.png", "best-cc.png",
                                       "worst-cc.png"}
    pdf = plots.filters(np.ones((4, 3, 5, 5)), workdir / "p" / "f", fmt="pdf")
    assert pdf.suffix == ".pdf" and pdf.read_bytes()[:4] == b"%PDF"
    for dpi in (0, -5, 1201, 2.5, True):  # refused before any drawing, by every figure
        with pytest.raises(ValueError, match="dpi must be a whole number from 1 to 1200"):
            plots.training_curves(log, workdir / "q" / "curves", "t", dpi=dpi)
        with pytest.raises(ValueError, match="dpi must be"):
            plots.filters(np.ones((4, 3, 5, 5)), workdir / "q" / "f", dpi=dpi)
    for k in (0, -3, 33, 2.0):
        with pytest.raises(ValueError, match="images per grid must be a whole number"):
            plots.best_worst(val, val.extras["density"], r, "cc", workdir / "q", k=k)
    with pytest.raises(ValueError, match="a grid holds 1 to 32 images, got 0"):
        plots.grid(val, val.extras["density"], [], workdir / "q" / "g", "t")
    assert not (workdir / "q").exists()


def test_a_loss_that_goes_negative_gets_a_linear_axis_and_its_name(workdir):
    from salbench import plots

    assert plots.log_axis(np.array([0.3, 0.01])) and not plots.log_axis(np.array([0.3, -2.0]))
    log = workdir / "train_log.jsonl"
    log.write_text("".join(json.dumps({"epoch": e, "loss": "combined",
                                       "loss_label": "10 KLD - 2 CC - NSS",
                                       "step_losses": {str(e): 1.0 - e}}) + "\n"
                           for e in range(1, 5)))
    path = plots.training_curves(log, workdir / "curves", "t", fmt="svg")
    text = path.read_text()
    assert "10 KLD - 2 CC - NSS" in text and "train" in text


@pytest.mark.parametrize("record, why", [
    ({"step_losses": {"1": 0.5}}, "epoch None is not a whole number >= 1"),
    ({"epoch": 0, "step_losses": {"1": 0.5}}, "epoch 0 is not"),
    ({"epoch": 1, "step_losses": None}, "step_losses must map step numbers to losses"),
    ({"epoch": 1, "step_losses": {"a": 0.5}}, "step_losses must map"),
    ({"epoch": 1, "step_losses": {"1": "x"}}, "step_losses must map"),
    ({"epoch": 1, "val_loss": "x"}, "val_loss 'x' is not a number"),
    ({"epoch": 1, "loss": [1]}, "loss [1] is not a text"),
    (5, "not a record"),
])
def test_a_damaged_training_log_names_its_line(workdir, record, why):
    """Each of these stopped ``plot curves`` with a traceback (a KeyError, a TypeError
    from a null loss, int('a') on a step), or, for a bare number, was dropped unseen."""
    from salbench import plots

    log = workdir / "train_log.jsonl"
    good = {"epoch": 1, "step_losses": {"1": 0.5, "2": 0.4}, "val_loss": 0.45}
    log.write_text(json.dumps(good) + "\n" + json.dumps(record) + "\n")
    with pytest.raises(ValueError, match=f"line 2: {re.escape(why)}"):
        plots.training_curves(log, workdir / "curves", "t")


def test_a_diverged_loss_is_logged_as_null_and_read_as_nan(workdir):
    """JSON has no NaN: the log held a bare ``NaN`` (and would hold ``Infinity``) for a
    diverged epoch, which strict parsers refuse.  Now ``null``, read back as NaN; logs
    written before still read."""
    from salbench.nets.training import log

    path = workdir / "train_log.jsonl"
    log.append(path, {"epoch": 1, "train_loss": 0.5, "step_losses": {"1": 0.5}})
    log.append(path, {"epoch": 2, "train_loss": math.nan, "val_loss": math.inf,
                      "step_losses": {"2": 0.4, "3": math.nan, "4": -math.inf}})
    lines = path.read_text().splitlines()

    def strict(text):
        raise ValueError(f"not standard JSON: {text}")

    records = [json.loads(ln, parse_constant=strict) for ln in lines]
    assert records[1]["step_losses"] == {"2": 0.4, "3": None, "4": None}
    assert records[1]["train_loss"] is None and records[1]["val_loss"] is None
    got = log.read_log(path)
    assert got[0] == records[0]
    assert got[1]["step_losses"]["2"] == 0.4
    assert math.isnan(got[1]["step_losses"]["3"]) and math.isnan(got[1]["step_losses"]["4"])
    assert math.isnan(got[1]["train_loss"]) and math.isnan(got[1]["val_loss"])
    path.write_text(lines[0] + "\n" + '{"epoch": 2, "step_losses": {"2": NaN}}\n')
    assert math.isnan(log.read_log(path)[1]["step_losses"]["2"])
    log.truncate(path, 2)  # a resume rewrites the kept epochs as standard JSON too
    assert "NaN" not in path.read_text() and len(log.read_log(path)) == 2


def test_the_curves_mark_where_the_loss_stopped_being_finite(workdir):
    from salbench import plots

    log = workdir / "train_log.jsonl"
    log.write_text("".join(json.dumps({"epoch": e, "val_loss": 0.3 if e < 3 else None,
                                       "step_losses": {str(2 * e - 1): 1.0 / e,
                                                       str(2 * e): 0.9 / e if e < 3 else None}})
                           + "\n" for e in range(1, 4)))
    text = plots.training_curves(log, workdir / "curves", "t", fmt="svg").read_text()
    assert "loss not finite from step 6" in text


def test_centred_smoothing_does_not_lag():
    from salbench.plots import centred_average

    ramp = np.arange(100.0)
    np.testing.assert_allclose(centred_average(ramp, 9)[10:90], ramp[10:90])  # no lag


def test_grid_refuses_a_result_of_other_data(workdir, val):
    from salbench import plots

    r = evaluate(val.extras["density"], val, name="density", protocols=["exact"],
                 metrics=["cc"], progress=False)[0]
    other = load(DatasetSpec(seed=1, n_train=24, n_val=12), "val")
    with pytest.raises(ValueError, match=r"scored on synth/val \(fingerprint"):
        plots.best_worst(other, other.extras["density"], r, "cc", workdir / "p")


# ---- seed groups (the future-work comparison) ------------------------------------------


def _seeded(name, cc, rng):
    r = Result.from_json(_fixture())
    r.name = name
    n = len(r.image_names)
    r.per_image = {**r.per_image, "cc": np.asarray(cc, dtype=float)[:n]}
    return r


def test_entries_that_differ_in_their_seed_form_one_group():
    from salbench.groups import group_name

    assert group_name("shallow-pan-small-kld@seed2") == "shallow-pan-small-kld"
    assert group_name("shallow-pan@2of1000ep,seed1") == "shallow-pan@2of1000ep"
    assert group_name("shallow-pan@seed1,norm-clip") == "shallow-pan@norm-clip"
    assert group_name("shallow-pan-small") == "shallow-pan-small"
    assert group_name("seed1-model") == "seed1-model"  # only the qualifier


def test_group_table_averages_seeds_and_corrects_over_the_whole_table(rng):
    from salbench.groups import groups, markdown, table

    n = len(_fixture()["per_image"]["names"])
    base = rng.normal(0.6, 0.1, n)
    results = []
    for s in range(3):
        suffix = f"@seed{s}" if s else ""
        results.append(_seeded("mse" + suffix, base + rng.normal(0, 0.01, n), rng))
        results.append(_seeded("better" + suffix, base + 0.05 + rng.normal(0, 0.01, n), rng))
        results.append(_seeded("same" + suffix, base + rng.normal(0, 0.01, n), rng))
    found = groups(results, results[0].protocol_name, results[0].dataset_label)
    assert {g: found[g].seeds for g in found} == {"mse": 3, "better": 3, "same": 3}
    np.testing.assert_allclose(found["better"].per_image("cc"),
                               np.mean([r.scores("cc") for r in results[1::3]], axis=0))
    rows = table(found, ["better", "same"], ["mse"], ["cc"])
    by = {r.group: r for r in rows}
    assert by["better"].test.better == "A" and by["same"].test.better is None
    assert all(r.test.correction == "Holm" for r in rows)
    raw = sorted(r.test.p_wilcoxon for r in rows)
    assert max(r.test.p_adjusted for r in rows) >= raw[-1]
    assert min(r.test.p_adjusted for r in rows) == pytest.approx(min(1.0, 2 * raw[0]))
    assert by["better"].seed_sd > 0
    text = markdown(rows, "replication", "synth")
    assert "Holm-corrected over all 2 tests" in text and "better is better" in text
    with pytest.raises(ValueError, match="no results for nope"):
        table(found, ["nope"], ["mse"], ["cc"])


def test_a_table_is_as_wide_as_its_title(capsys, monkeypatch):
    """A title longer than the columns stays on one line (rich wraps a title at the
    table's width: a result's title broke as "..., seed" / "0")."""
    from salbench.console import table

    monkeypatch.setenv("COLUMNS", "120")
    title = "shallow-pan-small-priors@3of1000ep on synth/val (500 images), protocol mit, seed 0"
    table(title, ["metric", "mean"], [("cc ↑", 0.5), ("nss ↑", 1.25)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].strip() == title
    assert len(lines[1]) == len(title)  # the table's top border spans it
    assert "0.5000" in lines[4] and "1.2500" in lines[5]


def test_a_narrow_table_keeps_names_and_words_whole(capsys, monkeypatch):
    """Rich collapses a table too wide for the console by folding its widest columns: an
    entry name read "shallow-pan-smal" / "l" and "1000/1000" broke inside.  Names stay on
    one line, words wrap between each other, and the table is widened past the console
    rather than cropped."""
    from salbench.console import table

    monkeypatch.setenv("COLUMNS", "100")
    name = "shallow-pan-small-combined@seed2"
    heads = ["#", "entry", *(f"metric_{k} ↑" for k in range(8)), "trained"]
    table("board", heads, [(1, name, *[0.5] * 8, "1000/1000 epochs on NVIDIA H200")])
    lines = capsys.readouterr().out.splitlines()
    body = [line for line in lines if line.startswith("│")]
    assert name in body[0] and all(len(line) == len(lines[1]) for line in lines[1:])
    assert lines[1].endswith("┓") and lines[-1].endswith("┘")  # whole, not cropped
    trained = " ".join(line.split("│")[-2].strip() for line in body)
    assert trained == "1000/1000 epochs on NVIDIA H200"


def test_tables_and_progress_show_brackets_as_written(capsys, monkeypatch):
    """rich reads "[...]" as markup and drops it: a variant's result table read "protocol
    mit" for mit[judd_jitter=0], and its progress bar lost the same part."""
    import io

    from rich.console import Console

    from salbench import progress
    from salbench.console import table

    table("p on synth/val, protocol mit[judd_jitter=0], seed 0", ["metric", "[b]x[/b]"],
          [("cc ↑", "[red]0.5[/red]")], caption="see [docs]")
    out = capsys.readouterr().out
    for text in ("protocol mit[judd_jitter=0]", "[b]x[/b]", "[red]0.5[/red]", "see [docs]"):
        assert text in out, out
    sink = io.StringIO()
    monkeypatch.setattr(progress, "enabled", lambda: True)
    monkeypatch.setattr(progress, "_console",
                        lambda: Console(file=sink, force_terminal=True, width=120))
    with progress.progress_bar("scoring p (mit[judd_jitter=0])", 2) as advance:
        advance(2)
    assert "scoring p (mit[judd_jitter=0])" in sink.getvalue()


# ---- a store written by several processes at once ----------------------------------------


RECORDS_EACH = 6


def _record_at_once(store: Path, i: int, barrier) -> None:
    from salbench.evaluate import record

    rs = [_result(f"m{i}-{k}", "exact", {"cc": 0.5 + i / 100}) for k in range(RECORDS_EACH)]
    barrier.wait()  # every process files and rebuilds at the same moments
    for r in rs:
        record([r], store)


def test_results_recorded_at_once_are_all_on_the_board(tmp_path):
    """Processes recording into one store at once each rebuilt the board from the results
    filed so far, and the board written last could lack another's entry (without the
    store's lock this test failed in 2 of 4 runs: a race; the two tests below check the
    lock itself)."""
    import multiprocessing

    n = 8
    ctx = multiprocessing.get_context("spawn")  # fresh processes, as users run them
    barrier = ctx.Barrier(n)
    procs = [ctx.Process(target=_record_at_once, args=(tmp_path, i, barrier)) for i in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * n
    rows = list(csv.DictReader((tmp_path / "synth-exact.csv").read_text().splitlines()))
    assert sorted(r["name"] for r in rows) == sorted(f"m{i}-{k}" for i in range(n)
                                                     for k in range(RECORDS_EACH))


def test_a_store_is_locked_while_a_result_is_filed_and_its_boards_rebuilt(tmp_path,
                                                                          monkeypatch):
    import fcntl

    from salbench import leaderboard
    from salbench.evaluate import record
    from salbench.lock import STORE_LOCK_NAME

    seen = []
    real = leaderboard._rebuild

    def rebuild_and_try_the_lock(*args):
        fd = os.open(tmp_path / STORE_LOCK_NAME, os.O_RDWR)
        try:  # another open file: refused while the store is held
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            seen.append("free")
        except BlockingIOError:
            seen.append("held")
        finally:
            os.close(fd)
        assert (tmp_path / "synth" / "exact" / "a.json").exists()  # filed first
        return real(*args)

    monkeypatch.setattr(leaderboard, "_rebuild", rebuild_and_try_the_lock)
    record([_result("a", "exact", {"cc": 0.5})], tmp_path)
    rebuild(tmp_path)
    assert seen == ["held", "held"]


def test_a_store_held_too_long_is_refused_naming_the_holder(tmp_path, monkeypatch):
    import fcntl

    from salbench import lock
    from salbench.errors import UserError
    from salbench.evaluate import record

    fd = os.open(tmp_path / lock.STORE_LOCK_NAME, os.O_RDWR | os.O_CREAT)
    os.write(fd, json.dumps({"pid": 4242, "host": "h", "started": "t"}).encode())
    fcntl.flock(fd, fcntl.LOCK_EX)
    monkeypatch.setattr(lock, "STORE_WAIT_S", 0.2)
    try:
        with pytest.raises(UserError, match=r"writing to this result store for over 0.2 s "
                                             r"\(pid 4242 on h"):
            record([_result("a", "exact", {"cc": 0.5})], tmp_path)
    finally:
        os.close(fd)
    assert not (tmp_path / "synth").exists()  # nothing filed while refused
    assert rebuild(tmp_path / "nowhere").tables == {} and not (tmp_path / "nowhere").exists()


def test_a_result_with_nan_summaries_is_standard_json(workdir, val):
    """A constant map's cc has a NaN mean, CI and split spread: Python wrote them as bare
    ``NaN``, which JSON does not have (JavaScript's JSON.parse refused the file).  They
    are null now, and read back as NaN."""
    preds = np.full((len(val), 48, 48), 0.5, np.float32)
    r = evaluate(preds, val, name="flat", protocols=["replication"], progress=False)[0]
    path = r.save(workdir / "r.json")

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    raw = json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)
    for m in ("cc", "sauc"):
        assert raw["metrics"][m]["mean"] is None and raw["metrics"][m]["ci95"] == [None, None]
    assert raw["metrics"]["sauc"]["split_std"] is None
    back = load_result(path)
    for m, s in r.metrics.items():
        b = back.metrics[m]
        for x, y in ((s.mean, b.mean), *zip(s.ci95, b.ci95, strict=True),
                     (s.split_std, b.split_std)):
            assert x == y or (x != x and y != y) or (x is None and y is None), (m, x, y)
        np.testing.assert_array_equal(r.scores(m), back.scores(m))
