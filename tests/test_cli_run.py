"""End to end: ``salbench run`` on a tiny synthetic configuration."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from salbench.cli import main

from conftest import needs_torch

ROOT = Path(__file__).resolve().parents[1]
DATA = "synth-s0-24x12"


def _store() -> Path:
    return Path(os.environ["SALBENCH_HOME"]) / "results"


@needs_torch
@pytest.mark.slow
def test_run_train_then_load(workdir, capsys):
    assert main(["run", "shallow-pan-tiny", "--train", "--dataset", "synth"]) == 0
    out = capsys.readouterr()
    assert f"shallow-pan-tiny on {DATA}/val (12 images), protocol replication" in out.out
    run = workdir / "runs" / "shallow-pan-tiny" / DATA
    for name in ("checkpoint-epoch00004.pt", "train_log.jsonl", "preds.npz",
                 "result-replication.json", "plots/training-curves.png",
                 "plots/filters-conv1.png", "plots/best-cc.png", "plots/worst-cc.png"):
        assert (run / name).exists(), name
    r = json.loads((run / "result-replication.json").read_text())
    assert r["name"] == "shallow-pan-tiny" and r["model"] == "shallow-pan-tiny"
    assert r["protocol"]["name"] == "replication"
    assert set(r["metrics"]) == {"cc", "sauc", "auc_borji"}
    assert r["checkpoint"]["sha256"] and r["training"]["epochs_run"] == 4
    assert r["checkpoint"]["epoch"] == 4
    assert r["dataset"]["fingerprint"] and r["model_card"]["params"] == 274_976
    assert r["model_card"]["path"] == "models/shallow-pan-tiny.toml"  # no machine's prefix
    store = _store()
    assert (store / DATA / "replication" / "shallow-pan-tiny.json").exists()
    assert (store / f"{DATA}-replication.md").exists()
    assert not (workdir / "leaderboards").exists()  # the repository's boards are untouched
    with np.load(run / "preds.npz") as z:
        assert z["preds"].shape == (12, 48, 48)
    # --train again on a finished run: nothing to do, same numbers
    assert main(["run", "shallow-pan-tiny", "--train", "--dataset", "synth", "--no-plots"]) == 0
    assert "already trained 4 epochs; nothing to do" in capsys.readouterr().err
    # without --train: loads the checkpoint, same numbers
    assert main(["run", "shallow-pan-tiny", "--dataset", "synth", "--no-plots"]) == 0
    again = json.loads((run / "result-replication.json").read_text())
    assert again["metrics"]["cc"]["mean"] == r["metrics"]["cc"]["mean"]
    assert "using " in capsys.readouterr().err


@needs_torch
@pytest.mark.slow
@pytest.mark.parametrize("name", ["shallow-pan-small-gan", "shallow-pan-small-priors",
                                  "shallow-pan-small-combined"])
def test_future_work_entries_run_end_to_end_with_plots(workdir, capsys, name):
    """Train (2 of the card's 10 epochs on the tiny set), predict, score, plot."""
    assert main(["run", name, "--train", "--stop-after", "2", "--dataset", "synth"]) == 0
    run = workdir / "runs" / f"{name}@2of10ep" / DATA
    assert {p.name for p in (run / "plots").iterdir()} >= {"filters-conv1.png",
                                                           "training-curves.png"}
    log = [json.loads(x) for x in (run / "train_log.jsonl").read_text().splitlines()]
    assert log[-1]["loss_label"] == {"shallow-pan-small-combined": "10 KLD - 2 CC - NSS"
                                     }.get(name, "MSE")


@needs_torch
def test_run_without_checkpoint_says_what_to_do(workdir, capsys):
    assert main(["run", "shallow-pan-tiny", "--dataset", "synth"]) == 2
    err = capsys.readouterr().err
    assert "no checkpoint of 'shallow-pan-tiny'" in err and "--train" in err


def test_entry_names_keep_experiments_apart(workdir, capsys):
    """A short experiment never replaces the card's run on the board: the entry's name says
    what differs from the card."""
    from salbench.data import resolve
    from salbench.registry import get_card
    from salbench.runner import RunOptions, entry_name

    spec = resolve("synth")
    card = get_card("shallow-pan")
    assert entry_name(card, RunOptions("shallow-pan", spec)) == "shallow-pan"
    assert entry_name(card, RunOptions("shallow-pan", spec, epochs=3)) == "shallow-pan@3ep"
    assert entry_name(card, RunOptions("shallow-pan", spec, stop_after=2)) == \
        "shallow-pan@2of1000ep"
    assert entry_name(card, RunOptions("shallow-pan", spec, epochs=3, seed=2)) == \
        "shallow-pan@3ep,seed2"
    assert entry_name(card, RunOptions("shallow-pan", spec, name="mine")) == "mine"
    with pytest.raises(ValueError, match="may hold only"):
        entry_name(card, RunOptions("shallow-pan", spec, name="../../x"))


@pytest.mark.slow
def test_run_baselines_and_protocols(workdir, capsys):
    assert main(["run", "oracle", "--dataset", "synth", "--protocol", "exact",
                 "--metrics", "cc,sauc,auc_borji,kld", "--no-plots"]) == 0
    assert main(["run", "center-bias", "--train", "--dataset", "synth", "--no-plots"]) == 0
    assert main(["run", "uniform", "--dataset", "synth", "--protocol", "exact",
                 "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "protocol exact" in out and "kld ↓" in out
    board = (_store() / f"{DATA}-exact.md").read_text()
    assert "`oracle`" in board and "`uniform`" in board
    assert main(["leaderboard"]) == 0
    shown = capsys.readouterr()
    assert "oracle" in shown.out and f"{DATA} — exact" in shown.out
    assert str(_store()) in shown.err


@needs_torch
def test_run_errors(workdir, capsys, monkeypatch):
    assert main(["run", "shalow-pan", "--dataset", "synth"]) == 2
    assert "did you mean 'shallow-pan'" in capsys.readouterr().err
    assert main(["run", "oracle", "--dataset", "salicon", "--data-dir", str(workdir)]) == 2
    assert "runs on synth only" in capsys.readouterr().err
    # a metric request is checked against every protocol before any work is done
    assert main(["run", "oracle", "--dataset", "synth", "--metrics", "nss",
                 "--protocol", "replication", "exact"]) == 2
    assert "protocol 'replication' defines none of nss" in capsys.readouterr().err
    assert main(["run", "oracle", "--dataset", "synth", "--metrics", "cc,nsss"]) == 2
    assert "did you mean 'nss'" in capsys.readouterr().err
    # a val split too small for a protocol's sauc is refused before any training
    monkeypatch.setenv("SALBENCH_SYNTH", "24,8")
    assert main(["run", "shallow-pan-tiny", "--train", "--dataset", "synth"]) == 2
    err = capsys.readouterr().err
    assert "needs at least 10 images; got 8" in err and "exact protocol" in err
    assert not (workdir / "runs").exists()
    # CUDA graphs off CUDA: refused in one line, before any training step or checkpoint
    monkeypatch.setenv("SALBENCH_SYNTH", "24,12")
    assert main(["run", "shallow-pan-tiny", "--train", "--dataset", "synth", "--device", "cpu",
                 "--compile", "reduce-overhead"]) == 2
    err = capsys.readouterr().err
    assert "compile 'reduce-overhead' replays CUDA graphs; this run trains on cpu" in err
    assert "Traceback" not in err and not list((workdir / "runs").rglob("*.pt"))


def test_run_metrics_are_split_between_protocols(workdir, capsys):
    assert main(["run", "oracle", "--dataset", "synth", "--metrics", "cc,nss",
                 "--protocol", "replication", "exact", "--no-plots", "--no-record"]) == 0
    run = workdir / "runs" / "oracle" / DATA
    assert set(json.loads((run / "result-replication.json").read_text())["metrics"]) == {"cc"}
    assert set(json.loads((run / "result-exact.json").read_text())["metrics"]) == {"cc", "nss"}
    assert not _store().exists()  # --no-record: nothing stored


def test_a_protocol_named_twice_is_scored_once(workdir, capsys):
    from salbench.evaluate import protocols_for

    assert [p.name for p in protocols_for(["mit", "exact", "mit"])] == ["mit", "exact"]
    changed = protocols_for(["mit", "mit"], {"judd_jitter": 0.0})
    assert [p.name for p in changed] == ["mit[judd_jitter=0]"]
    assert main(["run", "oracle", "--dataset", "synth", "--metrics", "cc", "--protocol",
                 "exact", "exact", "--no-plots", "--no-record"]) == 0
    assert capsys.readouterr().out.count("protocol exact, seed 0") == 1


def test_two_runs_cannot_share_a_directory(workdir, capsys):
    """The second run into a directory that a live run holds is refused, naming the holder;
    a lock left by a dead process is taken over."""
    from salbench.lock import RunLock

    run = workdir / "runs" / "oracle" / DATA
    code = ("import sys, time; from salbench.lock import RunLock; "
            f"l = RunLock({str(run)!r}); l.__enter__(); print('held', flush=True); "
            "time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(["run", "oracle", "--dataset", "synth", "--no-plots"]) == 2
        err = capsys.readouterr().err
        assert "another salbench run is using this directory" in err
        assert f"pid {holder.pid}" in err and "started" in err
        assert not (run / "preds.npz").exists()  # nothing written by the refused run
    finally:
        holder.kill()
        holder.wait()
    with RunLock(run):  # the dead holder's lock is taken over
        pass
    assert main(["run", "oracle", "--dataset", "synth", "--no-plots"]) == 0


def test_help_is_instant_and_torch_free():
    code = ("import sys; from salbench.cli import build_parser; build_parser(); "
            "assert not any(m in sys.modules for m in ('torch', 'numba')), "
            "[m for m in ('torch', 'numba') if m in sys.modules]")
    subprocess.run([sys.executable, "-c", code], check=True)
    out = subprocess.run([sys.executable, "-m", "salbench", "--help"], capture_output=True,
                         text=True, check=True)
    for cmd in ("run", "score", "leaderboard", "compare", "plot", "models", "data", "metrics"):
        assert cmd in out.stdout
    score = subprocess.run([sys.executable, "-m", "salbench", "score", "--help"],
                           capture_output=True, text=True, check=True).stdout
    assert "$SALBENCH_HOME/results" in score and "--no-store" in score
    run = subprocess.run([sys.executable, "-m", "salbench", "run", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "default: replication" in run


# a process where torch is not installed: its import fails as it would
_NO_TORCH = """
import sys


class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError("No module named 'torch'", name=name)


sys.meta_path.insert(0, NoTorch())
from salbench.cli import main

sys.exit(main(sys.argv[1:]))
"""


def _without_torch(*args: str) -> subprocess.CompletedProcess:
    """``salbench ARGS`` in a process where torch cannot be imported (this process's
    numba cache, so nothing compiles again)."""
    from numba.core import config

    env = {**os.environ, "NUMBA_CACHE_DIR": str(config.CACHE_DIR)}
    return subprocess.run([sys.executable, "-c", _NO_TORCH, *args], env=env,
                          capture_output=True, text=True)


@pytest.mark.parametrize("entry", ["center-bias", "uniform"])
def test_baselines_run_without_torch(workdir, entry):
    """``pip install -e .`` (no torch) runs the baselines, as the README says; ``run
    center-bias --train`` imported torch (for the torchrun rank, read from the
    environment) and ended in a ModuleNotFoundError."""
    p = _without_torch("run", entry, "--train", "--dataset", "synth", "--no-plots",
                       "--metrics", "cc", "--protocol", "exact")
    assert p.returncode == 0, p.stderr[-2000:]
    assert "cc" in p.stdout and (workdir / "runs" / entry).is_dir()


def test_a_network_without_torch_is_one_line(workdir):
    """Without torch, ``run shallow-pan-tiny`` and ``plot filters`` ended in a
    ModuleNotFoundError traceback; they now say what to install (or, for a baseline's
    run, that it has no filters)."""
    salbench = _without_torch
    for args in (["run", "shallow-pan-tiny", "--dataset", "synth"],
                 ["run", "shallow-pan-tiny", "--train", "--dataset", "synth"]):
        p = salbench(*args)
        assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr[-1500:]
        assert p.stderr.strip().splitlines() == [
            "salbench: error: salbench run needs PyTorch, which is not installed; pip install "
            "'salbench[torch]' (pip install torch==2.13.0 first on a CPU-only machine)"]
    assert salbench("run", "uniform", "--dataset", "synth", "--no-plots", "--metrics", "cc",
                    "--protocol", "exact", "--out", "urun").returncode == 0
    p = salbench("plot", "filters", "urun")
    assert p.returncode == 2 and "baselines have none" in p.stderr and "Traceback" not in \
        p.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                    reason="needs a git checkout")
def test_a_clean_clone_stays_clean(tmp_path):
    """``salbench run uniform`` and ``salbench score`` in a clean clone leave ``git status``
    clean; the results are in the user store and ``salbench leaderboard`` prints them."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {**os.environ, "SALBENCH_HOME": str(tmp_path / "home"), "SALBENCH_SYNTH": "24,12"}
    env.pop("SALBENCH_DATA", None)
    # this salbench, not the clone's: the working directory off sys.path (python -P is
    # Python 3.11's)
    sb = [sys.executable, "-c", "import sys; sys.path.pop(0); from salbench.cli import "
          "console; sys.exit(console(sys.argv[1:]))"]
    subprocess.run([*sb, "run", "uniform", "--no-plots"], cwd=clone, env=env, check=True,
                   capture_output=True)
    preds = tmp_path / "preds.npy"
    np.save(preds, np.full((12, 48, 48), 0.5, np.float32))
    subprocess.run([*sb, "score", str(preds), "--protocol", "exact"], cwd=clone, env=env,
                   check=True, capture_output=True)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True,
                            text=True, check=True).stdout
    assert status == ""
    store = tmp_path / "home" / "results"
    assert (store / DATA / "replication" / "uniform.json").exists()
    assert (store / DATA / "exact" / "preds.json").exists()
    board = subprocess.run([*sb, "leaderboard"], cwd=clone, env=env, check=True,
                           capture_output=True, text=True)
    assert "uniform" in board.stdout and str(store) in board.stderr


@needs_torch
def test_scoring_a_checkpoint_names_what_it_holds(workdir, capsys):
    """Scored without --train, a run stopped after 2 of 4 epochs is filed as @2of4ep, not
    under the full entry's name; a mid-epoch checkpoint is refused."""
    from salbench.errors import UserError
    from salbench.registry import get_card
    from salbench.runner import RunOptions, checkpoint_entry_name

    assert main(["run", "shallow-pan-tiny", "--train", "--dataset", "synth", "--stop-after",
                 "2", "--protocol", "exact", "--metrics", "cc", "--no-plots"]) == 0
    run = workdir / "runs" / "shallow-pan-tiny@2of4ep" / DATA
    capsys.readouterr()
    assert main(["run", "shallow-pan-tiny", "--dataset", "synth", "--out", str(run),
                 "--protocol", "exact", "--metrics", "cc", "--no-plots"]) == 0
    r = json.loads((run / "result-exact.json").read_text())
    assert r["name"] == "shallow-pan-tiny@2of4ep"
    card = get_card("shallow-pan-tiny")
    opts = RunOptions("shallow-pan-tiny", spec=None)
    state = {"epoch": 1, "step": 3, "config": {"epochs": 4, "seed": 0}}
    with pytest.raises(UserError, match=r"middle of epoch 2 \(3 steps.*--stop-after 2"):
        checkpoint_entry_name(card, opts, state, "run/checkpoint-epoch00001-step000003.pt")
    state = {"epoch": 4, "step": 0, "config": {"epochs": 4, "seed": 2}}
    assert checkpoint_entry_name(card, opts, state, "x.pt") == "shallow-pan-tiny@seed2"


@needs_torch
def test_a_network_at_centre_bias_level_is_told_why(workdir, capsys):
    assert main(["run", "shallow-pan-tiny", "--train", "--dataset", "synth", "--stop-after",
                 "1", "--protocol", "exact", "--metrics", "cc,sauc", "--no-plots"]) == 0
    err = capsys.readouterr().err
    assert "shallow-pan-tiny@1of4ep scores at the centre-bias level under exact" in err
    assert "ran 1 of its 4-epoch schedule" in err


def test_plot_grid_draws_the_data_set_the_run_was_scored_on(workdir, capsys, monkeypatch):
    """Without --dataset, ``plot grid`` loads the run's own data set (its result's label):
    before, it loaded the default, so a run on a synthetic set of other sizes was refused
    after generating the default set, and with a prepared SALICON in $SALBENCH_DATA a
    synthetic run was drawn against SALICON (refused) and the user told "no prepared
    SALICON found" when none was in play."""
    assert main(["run", "center-bias", "--train", "--dataset", "synth", "--no-plots", "--out",
                 "cb"]) == 0
    monkeypatch.setenv("SALBENCH_SYNTH", "30,14")  # another default than the run's 24,12
    (workdir / "prepared").mkdir()
    (workdir / "prepared" / "val.npz").write_bytes(b"")  # what resolve() takes for SALICON
    monkeypatch.setenv("SALBENCH_DATA", str(workdir / "prepared"))
    capsys.readouterr()
    assert main(["plot", "grid", "cb", "--k", "2"]) == 0
    err = capsys.readouterr().err
    assert "best-cc.png" in err and "no prepared SALICON" not in err
    assert not list((Path(os.environ["SALBENCH_HOME"]) / "synth").glob("*train30-val14"))
    # a data set named on the command line is the one loaded (and this one is not the run's)
    monkeypatch.delenv("SALBENCH_DATA")
    assert main(["plot", "grid", "cb", "--dataset", "synth"]) == 2
    assert "12 other images than synth-s0-30x14/val's 14" in capsys.readouterr().err
    assert main(["plot", "grid", "cb", "--data-seed", "0"]) == 2
    assert "it was scored on synth-s0-24x12: leave out --dataset" in capsys.readouterr().err
    # a run on SALICON without its folder: said so, not drawn against synth
    path = workdir / "cb" / "result-replication.json"
    r = json.loads(path.read_text())
    r["dataset"]["label"] = "salicon"
    path.write_text(json.dumps(r))
    assert main(["plot", "grid", "cb"]) == 2
    assert "scored on 'salicon', whose folder is not known" in capsys.readouterr().err


def test_plot_curves_titles_the_entry_not_the_directory(workdir, capsys):
    """``plot curves`` titled the figure with the run directory's name: by default
    ``runs/ENTRY/DATA``, so the data set's name stood where ``salbench run`` puts the
    entry's."""
    assert main(["run", "uniform", "--dataset", "synth", "--no-plots", "--out",
                 "runs/uniform/synth"]) == 0
    run = workdir / "runs" / "uniform" / "synth"
    (run / "train_log.jsonl").write_text("".join(
        json.dumps({"epoch": e, "loss": "mse", "loss_label": "MSE",
                    "step_losses": {str(e): 1.0 / e}}) + "\n" for e in range(1, 4)))
    assert main(["plot", "curves", str(run), "--format", "svg"]) == 0
    text = (run / "plots" / "training-curves.svg").read_text()
    assert "raw — uniform" in text and "— synth" not in text
