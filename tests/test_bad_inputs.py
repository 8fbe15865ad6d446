"""A table of bad inputs and faults, run through the command line: each ends with one line,
``salbench: error: <what> (<where>); <what to do>``, exit status 2, no traceback, and
nothing written where it should not be.  (A real bug still shows its traceback: only
salbench's own error type is caught.)"""

import ast
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import salbench
from salbench.cli import main
from salbench.io import home

from conftest import HAS_TORCH

N = 12  # val images of the tiny synthetic set (SALBENCH_SYNTH=24,12 in `workdir`)


def _density():
    from salbench.data import DatasetSpec, load

    return load(DatasetSpec(n_train=24, n_val=N), "val").extras["density"]


def _density_npy(w: Path) -> None:
    """Valid predictions for the tiny val split, as ``p.npy``."""
    np.save(w / "p.npy", _density())


def _names():
    return [f"synth_val_{i:06d}" for i in range(N)]


def _folder(d: Path, make) -> str:
    d.mkdir(exist_ok=True)
    for i, n in enumerate(_names()):
        make(d, n, i)
    return str(d)


def _png(d, n, i, arr=None):
    Image.fromarray(np.zeros((48, 48), np.uint8) if arr is None else arr).save(d / f"{n}.png")


def _setup_run(w: Path) -> str:
    assert main(["run", "uniform", "--dataset", "synth", "--no-plots", "--out",
                 str(w / "urun")]) == 0
    return str(w / "urun")


def _damage_preds(run: str) -> None:
    """A run's preds.npz without its file names (a KeyError from numpy before)."""
    path = Path(run) / "preds.npz"
    with np.load(path) as z:
        preds = z["preds"]
    np.savez(path, preds=preds)


def _store_two(w: Path) -> None:
    np.save(w / "a.npy", _density())
    np.save(w / "b.npy", np.full((N, 48, 48), 0.5, np.float32))
    for n in ("a", "b"):
        assert main(["score", f"{n}.npy", "--dataset", "synth", "--protocol", "exact",
                     "replication"]) == 0


def _result_without_fingerprint(w: Path) -> str:
    np.save(w / "a.npy", _density())
    assert main(["score", "a.npy", "--dataset", "synth", "--protocol", "exact", "--no-store",
                 "--out", "a.json"]) == 0
    r = json.loads((w / "a.json").read_text())
    r["dataset"].pop("fingerprint")
    (w / "nofp.json").write_text(json.dumps(r))
    return "nofp.json"


# (id, setup(workdir) -> dict of names, argv (format fields from the dict), expected text)
CASES = [
    # ---- predictions files -----------------------------------------------------------
    ("missing-file", None, ["score", "nope.npy"], "no such predictions file"),
    ("unknown-format", lambda w: (w / "p.txt").write_text("1"), ["score", "p.txt"],
     "unknown predictions format"),
    ("truncated-npz", lambda w: (w / "p.npz").write_bytes(b"PK\x03\x04junk"),
     ["score", "p.npz"], "truncated or corrupt .npz"),
    ("two-arrays-npz", lambda w: np.savez(w / "p.npz", a=np.zeros(1), b=np.zeros(1)),
     ["score", "p.npz"], "name the array 'preds'"),
    ("object-npy", lambda w: np.save(w / "p.npy", np.empty(2, object), allow_pickle=True),
     ["score", "p.npy"], "unreadable .npy"),
    ("complex-npy", lambda w: np.save(w / "p.npy", np.zeros((N, 48, 48), np.complex64)),
     ["score", "p.npy"], "complex"),
    ("bool-npy", lambda w: np.save(w / "p.npy", np.zeros((N, 48, 48), bool)),
     ["score", "p.npy"], "not numeric"),
    ("wrong-count", lambda w: np.save(w / "p.npy", np.zeros((N - 1, 48, 48))),
     ["score", "p.npy"], "11 predictions but"),
    ("wrong-shape", lambda w: np.save(w / "p.npy", np.zeros((N, 40, 40))),
     ["score", "p.npy"], "predictions are 40x40"),
    ("nan-values", lambda w: np.save(w / "p.npy", np.full((N, 48, 48), np.nan)),
     ["score", "p.npy"], "has NaN or infinite values"),
    ("inf-values", lambda w: np.save(w / "p.npy", np.full((N, 48, 48), np.inf)),
     ["score", "p.npy"], "has NaN or infinite values"),
    ("1d-array", lambda w: np.save(w / "p.npy", np.zeros(7)), ["score", "p.npy"],
     "predictions have shape (7,)"),
    ("pickle-not-list", lambda w: (w / "p.pkl").write_bytes(pickle.dumps({"a": 1})),
     ["score", "p.pkl"], "expected a list of 2304-vectors"),
    ("pickle-truncated", lambda w: (w / "p.pkl").write_bytes(pickle.dumps([1, 2])[:-3]),
     ["score", "p.pkl"], "not a readable pickle"),
    ("pickle-hostile", lambda w: (w / "p.pkl").write_bytes(
        b"cos\nsystem\n(S'true'\ntR."), ["score", "p.pkl"], "refused to load global"),
    ("pickle-ragged", lambda w: (w / "p.pkl").write_bytes(pickle.dumps(
        [np.zeros(2304)] * 3 + [np.zeros(10)])), ["score", "p.pkl"], "has 10 values"),
    ("uint8-range-replication", lambda w: np.save(w / "p.npy", (_density() * 255).astype(
        np.uint8)), ["score", "p.npy"], "lie in [0, 255], but protocol 'replication'"),
    ("negative-replication", lambda w: np.save(w / "p.npy", _density() - 0.5),
     ["score", "p.npy"], "--normalize"),
    ("log-density-exact-kld", lambda w: np.save(w / "p.npy", np.log(_density() + 1e-6)),
     ["score", "p.npy", "--protocol", "exact"], "non-negative saliency map"),
    ("folder-empty", lambda w: (w / "maps").mkdir(), ["score", "maps"], "no map for 12"),
    ("folder-duplicate-map", lambda w: _folder(w / "maps", lambda d, n, i: (
        _png(d, n, i), Image.fromarray(np.zeros((48, 48), np.uint8)).save(d / f"{n}.jpg"))),
     ["score", "maps"], "two maps for image"),
    ("folder-truncated-png", lambda w: _folder(w / "maps", lambda d, n, i: (
        _png(d, n, i, np.random.default_rng(i).integers(0, 255, (48, 48)).astype(np.uint8)),
        (d / f"{n}.png").write_bytes((d / f"{n}.png").read_bytes()[:300]))),
     ["score", "maps"], "unreadable or truncated image"),
    ("folder-not-image", lambda w: _folder(w / "maps", lambda d, n, i: (
        (d / f"{n}.png").write_text("hello"))), ["score", "maps"], "not an image file"),
    ("folder-colour-map", lambda w: _folder(w / "maps", lambda d, n, i: Image.fromarray(
        np.dstack([np.full((48, 48), 9, np.uint8), np.zeros((48, 48, 2), np.uint8)])).save(
        d / f"{n}.png")), ["score", "maps"], "colour image, not grey"),
    ("folder-wrong-size", lambda w: _folder(w / "maps", lambda d, n, i: _png(
        d, n, i, np.zeros((30, 30), np.uint8))), ["score", "maps"], "map is 30x30"),
    ("name-too-long-stem", None, ["score", "x" * 300 + ".npy"], "300 characters long"),
    ("name-too-long-path", None, ["score", "x" * 300 + ".npy", "--name", "x"],
     "file name too long"),
    ("out-is-a-directory", lambda w: (np.save(w / "p.npy", _density()), (w / "d").mkdir()),
     ["score", "p.npy", "--out", "d"], "cannot write a directory"),
    ("out-under-a-file", lambda w: (np.save(w / "p.npy", _density()),
                                    (w / "f").write_text("x")),
     ["score", "p.npy", "--protocol", "mit", "exact", "--out", "f/r.json"],
     "a part of the path is a file"),
    ("name-with-slash", _density_npy,
     ["score", "p.npy", "--name", "../../x"], "may hold only"),
    ("name-300", _density_npy,
     ["score", "p.npy", "--name", "n" * 300], "300 characters long"),
    ("name-empty", _density_npy, ["score", "p.npy", "--name", ""], "non-empty"),
    ("run-name-empty", None, ["run", "uniform", "--name", ""], "non-empty"),
    ("name-with-pipe", _density_npy,
     ["score", "p.npy", "--name", "a|b"], "may hold only"),
    ("stem-with-space", lambda w: np.save(w / "my preds.npy", _density()),
     ["score", "my preds.npy"], "give one with --name"),
    # ---- options -------------------------------------------------------------------
    ("seed-2**70", _density_npy,
     ["score", "p.npy", "--seed", str(2**70)], "seed must be an integer"),
    ("seed-negative", _density_npy,
     ["score", "p.npy", "--seed", "-1"], "seed must be an integer"),
    ("seed-not-a-number", None, ["score", "p.npy", "--seed", "x"], "invalid int value"),
    ("metric-unknown", _density_npy,
     ["score", "p.npy", "--metrics", "ccc"], "did you mean 'cc'"),
    ("metric-not-in-protocol", _density_npy,
     ["score", "p.npy", "--metrics", "nss"], "defines none of nss"),
    ("protocol-unknown", None, ["score", "p.npy", "--protocol", "mitt"],
     "(did you mean 'mit'?)"),
    ("command-unknown", None, ["scor", "p.npy"], "did you mean 'score'"),
    ("protocol-option-field", _density_npy,
     ["score", "p.npy", "--protocol-option", "judd_jiter=0"], "did you mean 'judd_jitter'"),
    ("protocol-option-form", _density_npy,
     ["score", "p.npy", "--protocol-option", "judd_jitter"], "not FIELD=VALUE"),
    ("protocol-option-value", _density_npy,
     ["score", "p.npy", "--protocol-option", "auc=foo"], "protocol field auc = 'foo'"),
    # these two were tracebacks from inside the AUC kernels' set-up
    ("protocol-option-step-zero", _density_npy,
     ["score", "p.npy", "--protocol", "mit", "--protocol-option", "step=0"],
     "protocol field step must be a finite number above 0.0 and at most 1.0, got 0"),
    ("protocol-option-negatives", _density_npy,
     ["score", "p.npy", "--protocol", "mit", "--protocol-option", "borji_negatives=-5"],
     "protocol field borji_negatives must be a whole number at least 0"),
    ("normalize-unknown", None, ["score", "p.npy", "--normalize", "zscore"], "invalid choice"),
    ("given-maps-absent", _density_npy,
     ["score", "p.npy", "--gt-maps", "--protocol", "mit"], "has no given ground-truth maps"),
    ("salicon-no-data-dir", None, ["score", "p.npy", "--dataset", "salicon"],
     "needs --data-dir"),
    ("salicon-missing-dir", None, ["data", "info", "--dataset", "salicon", "--data-dir",
                                   "nowhere"], "no prepared train split"),
    ("study-no-pickles", lambda w: (w / "st").mkdir(),
     ["data", "info", "--dataset", "study", "--data-dir", "st"], "no train.pkl"),
    ("data-seed-huge", None, ["data", "info", "--data-seed", str(2**40)],
     "--data-seed must be in"),
    ("synth-env-malformed", "SALBENCH_SYNTH=abc", ["data", "info"],
     "SALBENCH_SYNTH must be 'TRAIN,VAL'"),
    # data synth took these: --val -1 made a set named val-1, --data-seed -1 was numpy's
    # traceback, --workers 0 went by unnoticed
    ("synth-val-zero", None, ["data", "synth", "--val", "0"],
     "validation images must be a whole number >= 1, got 0"),
    ("synth-train-negative", None, ["data", "synth", "--train", "-5", "--val", "12"],
     "training images must be a whole number >= 0, got -5"),
    ("synth-seed-negative", None, ["data", "synth", "--data-seed", "-1"],
     "seed must be in [0, 2**32), got -1"),
    ("synth-workers-zero", None, ["data", "synth", "--workers", "0"],
     "workers must be a whole number >= 1, got 0"),
    ("synth-env-negative", "SALBENCH_SYNTH=24,-3", ["data", "info"],
     "validation images must be a whole number >= 1, got -3"),
    # ---- run ------------------------------------------------------------------------
    ("model-unknown", None, ["run", "shalow-pan"], "did you mean 'shallow-pan'"),
    ("oracle-on-salicon", lambda w: (w / "sal").mkdir(),
     ["run", "oracle", "--dataset", "salicon", "--data-dir", "sal"], "runs on synth only"),
    ("no-checkpoint", None, ["run", "shallow-pan-tiny"], "no checkpoint of"),
    ("resume-missing", None, ["run", "shallow-pan-tiny", "--train", "--resume", "no.pt"],
     "no such checkpoint"),
    ("resume-not-a-checkpoint", lambda w: (w / "x.pt").write_bytes(b"junk"),
     ["run", "shallow-pan-tiny", "--train", "--resume", "x.pt"], "corrupt or not a salbench"),
    ("resume-without-train", lambda w: (w / "x.pt").write_bytes(b"junk"),
     ["run", "shallow-pan-tiny", "--resume", "x.pt"], "add --train"),
    ("epochs-zero", None, ["run", "shallow-pan-tiny", "--train", "--epochs", "0"],
     "epochs must be at least 1"),
    ("stop-after-zero", None, ["run", "shallow-pan-tiny", "--train", "--stop-after", "0"],
     "stop_after must be at least 1"),
    ("checkpoint-every-zero", None,
     ["run", "shallow-pan-tiny", "--train", "--checkpoint-every", "0"],
     "checkpoint_every must be at least 1"),
    ("device-cuda", None, ["run", "shallow-pan-tiny", "--train", "--device", "cuda"],
     "CUDA is not available"),
    ("device-bogus", None, ["run", "shallow-pan-tiny", "--train", "--device", "tpu9"],
     "unknown device"),
    ("out-is-a-file", lambda w: (w / "f").write_text("x"),
     ["run", "uniform", "--out", "f", "--no-plots"], "a part of the path is a file"),
    ("split-too-small", "SALBENCH_SYNTH=24,8", ["run", "shallow-pan-tiny", "--train"],
     "needs at least 10 images; got 8"),
    # it trained for 0 steps, logged a NaN loss and scored the untrained network
    ("train-split-empty", "SALBENCH_SYNTH=0,12", ["run", "shallow-pan-tiny", "--train"],
     "synth/train has no images to train on"),
    # ---- leaderboard, compare, plot, metrics ------------------------------------------
    ("sort-unknown", _store_two, ["leaderboard", "--sort", "kdl"], "cannot sort by 'kdl'"),
    ("compare-unknown", _store_two, ["compare", "aa", "b", "--protocol", "exact"],
     "did you mean 'a'"),
    ("compare-ambiguous", _store_two, ["compare", "a", "b"], "say which with --dataset"),
    ("compare-alpha-above-1", _store_two,
     ["compare", "a", "b", "--protocol", "exact", "--alpha", "1.5"],
     "alpha must lie strictly between 0 and 1, got 1.5"),
    ("compare-alpha-nan", _store_two,
     ["compare", "a", "b", "--protocol", "exact", "--alpha", "nan"],
     "alpha must lie strictly between 0 and 1, got nan"),
    ("compare-not-json", lambda w: (w / "x.json").write_text("{"),
     ["compare", "x.json", "x.json"], "unreadable result file"),
    ("compare-no-fingerprint", _result_without_fingerprint,
     ["compare", "nofp.json", "a.json"], "no dataset fingerprint"),
    ("plot-no-run", None, ["plot", "grid", "nowhere"], "no such run directory"),
    ("plot-filters-baseline", _setup_run, ["plot", "filters", "urun"],
     "filters exist for trained networks only"),
    ("plot-curves-baseline", _setup_run, ["plot", "curves", "urun"],
     "baselines have no training curves"),
    ("plot-grid-protocol", _setup_run, ["plot", "grid", "urun", "--protocol", "mit"],
     "no result for protocol 'mit'"),
    # --k 0 was a matplotlib traceback; --k -3 drew a grid of all but 3 images (minutes)
    ("plot-grid-k-zero", _setup_run, ["plot", "grid", "urun", "--k", "0"],
     "images per grid must be a whole number from 1 to 32, got 0"),
    ("plot-grid-k-negative", _setup_run, ["plot", "grid", "urun", "--k", "-3"],
     "images per grid must be a whole number from 1 to 32, got -3"),
    ("plot-dpi-zero", _setup_run, ["plot", "grid", "urun", "--dpi", "0"],
     "dpi must be a whole number from 1 to 1200, got 0"),
    ("plot-grid-other-data", _setup_run, ["plot", "grid", "urun", "--data-seed", "3"],
     "not on the loaded"),
    # every image NaN (a uniform map): it exited 0 and drew nothing
    ("plot-grid-all-nan", _setup_run, ["plot", "grid", "urun"], "every image's cc is NaN"),
    ("plot-grid-preds-damaged", lambda w: _damage_preds(_setup_run(w)),
     ["plot", "grid", "urun"], "not preds and file_names"),
    ("plot-grid-metric", _setup_run, ["plot", "grid", "urun", "--metric", "ccc"],
     "did you mean 'cc'"),
    ("metrics-protocol-unknown", None, ["metrics", "--protocol", "salicn"],
     "did you mean 'salicon'"),
    # ---- data -----------------------------------------------------------------------
    ("prepare-missing", None, ["data", "prepare", "--from", "nope", "--out", "o"],
     "no such directory"),
    ("prepare-empty", lambda w: (w / "e").mkdir(),
     ["data", "prepare", "--from", "e", "--out", "o"], "neither a SALICON 2017 layout"),
    ("prepare-2015-mouse", lambda w: (w / "e").mkdir(),
     ["data", "prepare", "--from", "e", "--out", "o", "--edition", "2015", "--fixations",
      "mouse"], "no mouse samples"),
    ("prepare-into-a-file", lambda w: ((w / "f").write_text("x"), _salicon_2017(w / "s")),
     ["data", "prepare", "--from", "s", "--out", "f/o"], "a part of the path is a file"),
    ("export-into-a-file", lambda w: (w / "f").write_text("x"),
     ["data", "export", "--out", "f"], "a part of the path is a file"),
]


def test_an_unwritable_out_is_refused_before_the_work(workdir, capsys):
    """``score --out`` and ``data prepare --out`` were refused only when the result was
    written, after the scoring (and its store entry) or the whole conversion."""
    np.save(workdir / "p.npy", _density())
    (workdir / "f").write_text("x")
    assert main(["score", "p.npy", "--dataset", "synth", "--out", "f/r.json"]) == 2
    assert "auc_borji" not in capsys.readouterr().out  # no table: nothing was scored
    assert not list(home().rglob("p.json"))  # nor stored


def _salicon_2017(root: Path) -> None:
    """The smallest 2017 layout ``detect_edition`` accepts (one fixations file)."""
    from scipy.io import savemat

    (root / "fixations" / "val").mkdir(parents=True)
    savemat(str(root / "fixations" / "val" / "COCO_val2014_000000000000.mat"),
            {"image": "x", "resolution": np.array([4, 4])})


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_ends_with_one_clear_line(workdir, monkeypatch, capsys, case):
    _, setup, argv, expect = case
    if not HAS_TORCH and any(a.startswith("shallow-pan") for a in argv):
        pytest.skip("a network's case: needs torch (salbench[torch])")
    if isinstance(setup, str):
        key, value = setup.split("=")
        monkeypatch.setenv(key, value)
    elif setup is not None:
        setup(workdir)
    before = {p.relative_to(workdir) for p in workdir.rglob("*")}
    capsys.readouterr()
    if argv[0] in ("score", "data", "run", "plot") and "--dataset" not in argv \
            and argv[:2] not in (["data", "prepare"], ["data", "synth"]):
        argv = [*argv, "--dataset", "synth"] if argv[0] != "data" or argv[1] != "info" \
            else argv
    ours = True
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
        ours = False
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [ln for ln in err.splitlines() if ln.startswith("salbench: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert expect in lines[0], lines[0]
    if ours:  # what to do comes after the "; " (or the known names of an unknown one)
        assert "; " in lines[0], lines[0]
    if argv[0] in ("score", "compare", "plot", "metrics"):  # a refused command writes nothing
        after = {p.relative_to(workdir) for p in workdir.rglob("*")}
        new = {p for p in after - before if "results" not in p.parts}
        assert not new, new


def _raises_without_hint(source: str, errors=("UserError",)) -> list[int]:
    """Lines of ``source`` that build one of ``errors`` with no hint: neither a third
    argument nor ``hint=``, and a message not made by ``suggest.unknown`` (which lists the
    known names)."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        called = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if called not in errors:  # UserError(...) or module.UserError(...)
            continue
        if len(node.args) >= 3 or any(k.arg == "hint" for k in node.keywords):
            continue
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Call) and getattr(first.func, "id", None) == "unknown":
            continue
        out.append(node.lineno)
    return out


def test_every_user_error_says_what_to_do():
    """Each ``UserError`` salbench builds carries a hint, so the one line ends with what
    to do; the check itself is tried on a raise with and without one."""
    assert _raises_without_hint('raise UserError("bad", path)') == [1]
    assert _raises_without_hint('raise _validate.UserError("bad", path)') == [1]
    assert _raises_without_hint('raise UserError("bad", path, "fix it")') == []
    assert _raises_without_hint('raise UserError("bad", hint="fix it")') == []
    assert _raises_without_hint('raise UserError(unknown("metric", m, METRICS))') == []
    root = Path(salbench.__file__).parent
    sources = {path: path.read_text() for path in sorted(root.rglob("*.py"))}
    errors = {"UserError"} | {  # and its subclasses
        node.name for text in sources.values() for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.ClassDef)
        and any(getattr(b, "id", None) == "UserError" for b in node.bases)}
    assert "UnsafePickleError" in errors
    missing = [f"{path.relative_to(root)}:{line}" for path, text in sources.items()
               for line in _raises_without_hint(text, tuple(errors))]
    assert not missing, missing


def test_a_real_bug_keeps_its_traceback(workdir, monkeypatch):
    """Only salbench's own error type is turned into a one-line message."""
    import salbench.evaluate as ev

    def broken(*a, **k):
        raise KeyError("label")

    monkeypatch.setattr(ev, "evaluate", broken)
    np.save(workdir / "p.npy", _density())
    with pytest.raises(KeyError):
        main(["score", "p.npy", "--dataset", "synth"])


@pytest.fixture(autouse=True)
def _no_leftovers(workdir):
    yield
    shutil.rmtree(workdir / "runs", ignore_errors=True)
