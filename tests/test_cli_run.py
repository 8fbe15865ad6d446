"""End to end: ``salbench run`` on a tiny synthetic configuration."""

import json
import subprocess
import sys

import numpy as np

from salbench.cli import main


def test_run_train_then_load(workdir, capsys):
    assert main(["run", "shallow-pan-tiny", "--train", "--dataset", "synth"]) == 0
    out = capsys.readouterr()
    assert "shallow-pan-tiny on synth-s0-24x12/val (12 images), protocol replication" in out.out
    run = workdir / "runs" / "shallow-pan-tiny" / "synth-s0-24x12" / "seed0"
    for name in ("checkpoint-epoch00004.pt", "train_log.jsonl", "preds.npz",
                 "result-replication.json", "plots/training-curves.png",
                 "plots/filters-conv1.png", "plots/best-cc.png", "plots/worst-cc.png"):
        assert (run / name).exists(), name
    r = json.loads((run / "result-replication.json").read_text())
    assert r["model"] == "shallow-pan-tiny" and r["protocol"]["name"] == "replication"
    assert set(r["metrics"]) == {"cc", "sauc", "auc_borji"}
    assert r["checkpoint"]["sha256"] and r["training"]["epochs_run"] == 4
    assert r["checkpoint"]["epoch"] == 4
    assert r["dataset"]["fingerprint"] and r["model_card"]["params"] == 274_976
    assert r["model_card"]["path"] == "models/shallow-pan-tiny.toml"  # no machine's prefix
    stored = workdir / "leaderboards" / "results" / "synth-s0-24x12" / "replication"
    assert (stored / "shallow-pan-tiny.val.json").exists()
    assert (workdir / "leaderboards" / "synth-s0-24x12-replication.md").exists()
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


def test_run_without_checkpoint_says_what_to_do(workdir, capsys):
    assert main(["run", "shallow-pan-tiny", "--dataset", "synth"]) == 2
    err = capsys.readouterr().err
    assert "no trained 'shallow-pan-tiny'" in err and "add --train" in err


def test_run_baselines_and_protocols(workdir, capsys):
    assert main(["run", "oracle", "--dataset", "synth", "--protocol", "exact",
                 "--metrics", "cc,sauc,auc_borji,kld", "--no-plots"]) == 0
    assert main(["run", "center-bias", "--train", "--dataset", "synth", "--no-plots"]) == 0
    assert main(["run", "uniform", "--dataset", "synth", "--protocol", "exact",
                 "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "protocol exact" in out and "kld ↓" in out
    board = (workdir / "leaderboards" / "synth-s0-24x12-exact.md").read_text()
    assert "`oracle`" in board and "`uniform`" in board


def test_run_errors(workdir, capsys):
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
    assert not (workdir / "runs").exists()


def test_run_metrics_are_split_between_protocols(workdir, capsys):
    assert main(["run", "oracle", "--dataset", "synth", "--metrics", "cc,nss",
                 "--protocol", "replication", "exact", "--no-plots", "--no-record"]) == 0
    run = workdir / "runs" / "oracle" / "synth-s0-24x12" / "seed0"
    assert set(json.loads((run / "result-replication.json").read_text())["metrics"]) == {"cc"}
    assert set(json.loads((run / "result-exact.json").read_text())["metrics"]) == {"cc", "nss"}


def test_help_is_instant_and_torch_free():
    code = ("import sys; from salbench.cli import build_parser; build_parser(); "
            "assert not any(m in sys.modules for m in ('torch', 'numba', 'pandas')), "
            "[m for m in ('torch', 'numba', 'pandas') if m in sys.modules]")
    subprocess.run([sys.executable, "-c", code], check=True)
    out = subprocess.run([sys.executable, "-m", "salbench", "--help"], capture_output=True,
                         text=True, check=True)
    for cmd in ("run", "score", "leaderboard", "compare", "plot", "models", "data", "metrics"):
        assert cmd in out.stdout
