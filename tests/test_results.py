"""Scoring files, result JSON, bootstrap CIs, paired tests, leaderboards, plots."""

import itertools
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from salbench.cli import main
from salbench.compare import compare_results, paired_test
from salbench.data import DatasetSpec, load
from salbench.leaderboard import markdown, rebuild, table
from salbench.results import SCHEMA_VERSION, bootstrap_ci, load_result

FIXTURES = Path(__file__).parent / "fixtures" / "results"
SPEC = ["--dataset", "synth"]


@pytest.fixture
def val(workdir):
    return load(DatasetSpec(n_train=24, n_val=12), "val")


# ---- salbench score --------------------------------------------------------------------


def test_score_study_preds_pkl_end_to_end(workdir, val, capsys):
    """The study's format: a pickled list of 2304-vectors, in val order."""
    preds = val.extras["density"]
    path = workdir / "preds.pkl"
    path.write_bytes(pickle.dumps([p.reshape(-1).astype(np.float32) for p in preds]))
    assert main(["score", str(path), *SPEC, "--out", "r.json", "--results", "store"]) == 0
    r = load_result("r.json")
    assert r["model"] == "preds" and r["dataset"]["n_images"] == 12
    assert r["metrics"]["cc"]["mean"] > 0.8  # the true density scores high
    assert "protocol replication" in capsys.readouterr().out
    assert (workdir / "leaderboards" / "synth-s0-24x12-replication.md").exists()
    # without --out the result goes next to where the command runs, one file per protocol
    assert main(["score", str(path), *SPEC, "--protocol", "replication", "exact",
                 "--metrics", "cc"]) == 0
    for proto in ("replication", "exact"):
        assert load_result(f"preds-result-{proto}.json")["protocol"]["name"] == proto


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
                     "--out", f"{src}.json"]) == 0
    a, b = load_result("p.npy.json"), load_result("maps.json")
    assert abs(a["metrics"]["cc"]["mean"] - b["metrics"]["cc"]["mean"]) < 0.05


@pytest.mark.parametrize("make, msg", [
    (lambda v: [np.zeros(2304, np.float32)] * (len(v) - 1), "11 predictions but"),
    (lambda v: [np.full(2304, np.nan, np.float32)] + [np.zeros(2304, np.float32)] * 11,
     r"prediction 0 \(synth_val_000000\.png\) has NaN"),
    (lambda v: [np.zeros(2000, np.float32)] * 12, "prediction 0 has 2000 values"),
])
def test_score_refuses_bad_predictions(workdir, val, capsys, make, msg):
    (workdir / "bad.pkl").write_bytes(pickle.dumps(make(val)))
    assert main(["score", "bad.pkl", *SPEC]) == 2
    err = capsys.readouterr().err
    assert "bad.pkl" in err
    import re

    assert re.search(msg, err), err


def test_score_refuses_wrong_shape_order_and_hostile_files(workdir, val, capsys):
    np.save(workdir / "small.npy", np.zeros((12, 40, 40)))
    assert main(["score", "small.npy", *SPEC]) == 2
    assert "predictions are 40x40; expected 48x48" in capsys.readouterr().err
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
    assert "map is 30x30; expected 48x48" in capsys.readouterr().err


# ---- result files ----------------------------------------------------------------------


def test_every_schema_version_still_loads():
    files = sorted(FIXTURES.glob("result-schema*.json"))
    assert [f.name for f in files] == [f"result-schema{v}.json"
                                       for v in range(1, SCHEMA_VERSION + 1)]
    for f in files:
        r = load_result(f)
        assert r["schema_version"] == SCHEMA_VERSION
        assert r["metrics"]["cc"]["mean"] == pytest.approx(0.39696832, abs=1e-8)
        assert r["dataset"]["label"] and r["protocol"]["name"] == "replication"
        assert len(r["per_image"]["cc"]) == r["dataset"]["n_images"]


def test_bad_result_files(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(ValueError, match="unreadable result file"):
        load_result(tmp_path / "x.json")
    (tmp_path / "y.json").write_text(json.dumps({"schema": "other"}))
    with pytest.raises(ValueError, match="not a salbench result"):
        load_result(tmp_path / "y.json")
    r = json.loads((FIXTURES / "result-schema1.json").read_text())
    r["schema_version"] = SCHEMA_VERSION + 1
    (tmp_path / "z.json").write_text(json.dumps(r))
    with pytest.raises(ValueError, match="newer salbench"):
        load_result(tmp_path / "z.json")


def test_bootstrap_ci_contains_the_mean_and_shrinks(rng):
    widths = []
    for n in (20, 80, 320, 1280):
        v = rng.normal(0.6, 0.1, n)
        lo, hi = bootstrap_ci(v, omit_nan=True, seed=1)
        assert lo < v.mean() < hi
        widths.append(hi - lo)
    assert all(a > b for a, b in itertools.pairwise(widths))
    assert widths[0] / widths[-1] == pytest.approx(8, rel=0.3)  # ~ 1/sqrt(n)
    v = np.r_[rng.normal(0.5, 0.1, 50), np.nan]
    assert np.isnan(bootstrap_ci(v, omit_nan=False)[0])  # propagate: NaN like the mean
    lo, hi = bootstrap_ci(v, omit_nan=True)
    assert lo < np.nanmean(v) < hi


# ---- paired comparison -----------------------------------------------------------------


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
    assert "B is better" in kld.sentence()


def test_compare_cli(workdir, val, capsys):
    d = val.extras["density"]
    np.save(workdir / "good.npy", d)
    np.save(workdir / "blurry.npy", np.repeat(d.mean(0, keepdims=True), len(d), 0))
    for n in ("good", "blurry"):
        assert main(["score", f"{n}.npy", *SPEC, "--protocol", "exact", "--metrics",
                     "cc,auc_borji", "--results", "leaderboards/results"]) == 0
    capsys.readouterr()
    assert main(["compare", "good", "blurry", *SPEC, "--protocol", "exact"]) == 0
    out = capsys.readouterr().out
    assert "cc: good" in out and "good is better" in out
    r1 = load_result(workdir / "leaderboards/results/synth-s0-24x12/exact/good.val.json")
    r2 = dict(r1, protocol={"name": "mit"})
    with pytest.raises(ValueError, match="different protocols"):
        compare_results(r1, r2)


# ---- leaderboards ----------------------------------------------------------------------


def _result(model, protocol, metrics, created="2026-01-01"):
    return {"model": model, "protocol": {"name": protocol}, "created": created,
            "dataset": {"label": "synth", "split": "val", "n_images": 10, "fingerprint": "f"},
            "seed": 0, "metrics": {m: {"mean": v, "ci95": [v - 0.01, v + 0.01],
                                        "nan_count": 0, "higher_is_better": m != "kld"}
                                    for m, v in metrics.items()}}


def test_leaderboard_sorts_lower_is_better_metrics_ascending():
    rs = [_result("a", "exact", {"cc": 0.5, "kld": 0.9}), _result("b", "exact",
                                                                   {"cc": 0.7, "kld": 0.2}),
          _result("c", "exact", {"cc": 0.6, "kld": 0.5})]
    assert list(table(rs, "exact")["model"]) == ["b", "c", "a"]  # by cc, descending
    assert list(table(rs, "exact", sort="kld")["model"]) == ["b", "c", "a"]  # kld ascending
    rs[0]["metrics"]["kld"]["mean"] = 0.1
    assert list(table(rs, "exact", sort="kld")["model"]) == ["a", "b", "c"]
    md = markdown(table(rs, "exact"), "synth", "exact")
    assert "kld ↓" in md and "cc ↑" in md
    assert "Warning" not in md
    rs[2]["dataset"]["fingerprint"] = "g"  # scored on a regenerated dataset
    assert "2 different versions of the data" in markdown(table(rs, "exact"), "synth", "exact")


def test_leaderboard_keeps_literature_separate(tmp_path):
    store = tmp_path / "results" / "synth" / "replication"
    store.mkdir(parents=True)
    (store / "shallow-pan.val.json").write_text(json.dumps(
        {"schema": "salbench-result", "schema_version": 1,
         **_result("shallow-pan", "replication", {"cc": 0.4, "sauc": 0.6, "auc_borji": 0.7})}))
    written = rebuild(tmp_path / "results", tmp_path / "boards")
    md = (tmp_path / "boards" / "synth-replication.md").read_text()
    measured, literature = md.split("## Reported in the literature")
    assert "| 1 | `shallow-pan` | 0.400" in measured
    assert "0.659" not in measured and "0.659" in literature  # never mixed
    csv = pd.read_csv(tmp_path / "boards" / "synth-replication.csv")
    assert list(csv["model"]) == ["shallow-pan"] and "cc_ci_lo" in csv.columns
    assert {p.suffix for p in written} == {".md", ".csv"}


# ---- plots -----------------------------------------------------------------------------


def test_plots_are_real_images(workdir, val):
    from salbench import plots

    log = workdir / "train_log.jsonl"
    log.write_text("".join(json.dumps({"epoch": e, "train_loss": 1 / e, "step_losses":
                                       {str(5 * k + 1 + 10 * (e - 1)): 1 / (e + k)
                                        for k in range(2)},
                                       **({"val_loss": 1.2 / e} if e % 2 == 0 else {})}) + "\n"
                           for e in range(1, 7)))
    paths = [plots.training_curves(log, workdir / "p" / "curves.png", "t"),
             plots.filters(np.random.default_rng(0).normal(size=(32, 3, 5, 5)),
                           workdir / "p" / "filters.png")]
    per = np.linspace(0, 1, len(val))
    paths += plots.best_worst(val, val.extras["density"], per, "cc", True, workdir / "p", k=3)
    for p in paths:
        with Image.open(p) as im:
            assert im.format == "PNG" and im.width > 300 and im.height > 100
            assert np.asarray(im.convert("L")).std() > 5  # not blank
    assert {p.name for p in paths} == {"curves.png", "filters.png", "best-cc.png",
                                       "worst-cc.png"}
