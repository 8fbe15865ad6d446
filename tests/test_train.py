"""The trainer: recipe, learning, checkpoints, resume, DDP."""

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from salbench import registry
from salbench.cli import COMPILE_CHOICES
from salbench.data import DatasetSpec, load, synth
from salbench.errors import UserError
from salbench.nets.training import TrainConfig, checkpoints, read_log
from salbench.nets.training.config import COMPILE_MODES, GRAPHS
from salbench.nets.training.loop import train
from salbench.nets.training.predict import predict

latest_checkpoint = checkpoints.latest
load_checkpoint = checkpoints.load

ROOT = Path(__file__).resolve().parents[1]
# CUDA graphs run only on CUDA: these cases run on a GPU machine and are skipped elsewhere
CUDA_GRAPHS = pytest.param(GRAPHS, id="cuda-graphs", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs CUDA"))


@pytest.fixture(scope="module")
def tiny_data():
    cfg = synth.SynthConfig(n_train=24, n_val=12)
    return synth.generate_split(cfg, "train"), synth.generate_split(cfg, "val")


def _tiny(seed=0):
    m = registry.create("shallow-pan-tiny")
    m.build(seed)
    return m


def test_learning_rate_schedule():
    cfg = TrainConfig()  # the recipe: linspace(0.03, 0.0001, 1000), set per epoch
    expect = np.linspace(0.03, 0.0001, 1000)
    for e in (0, 500, 999):
        assert cfg.lr(e) == pytest.approx(expect[e], rel=1e-12)
    assert cfg.lr(0) == 0.03 and cfg.lr(999) == pytest.approx(0.0001)
    assert registry.get_card("shallow-pan").train["epochs"] == 1000


def test_a_few_steps_reduce_the_loss(tiny_data, tmp_path):
    tr, va = tiny_data
    m = _tiny()
    cfg = TrainConfig(epochs=6, batch_size=16, val_every=2, checkpoint_every=100, seed=1,
                      optimizer="adam", lr_start=1e-3, lr_end=1e-3, weight_decay=0.0)
    res = train(m.module, "shallow-pan-tiny", tr, va, cfg, tmp_path, progress=False)
    losses = [h["train_loss"] for h in res.history]
    assert losses[-1] < 0.92 * losses[0]  # seeded: 0.0204 -> 0.0178 here
    log = read_log(res.log)
    assert [r["epoch"] for r in log] == list(range(1, 7))
    assert all(r["train_seconds"] > 0 for r in log)  # per-epoch time: compile shows apart
    assert all("val_loss" in r for r in log if r["epoch"] % 2 == 0)
    steps = sorted(int(s) for r in log for s in r["step_losses"])
    assert steps[:3] == [1, 6, 11]  # the training loss every 5 steps
    assert latest_checkpoint(tmp_path).name == "checkpoint-epoch00006.pt"


def test_the_recipe_runs_with_sgd(tiny_data, tmp_path):
    tr, va = tiny_data
    m = _tiny()
    res = train(m.module, "shallow-pan-tiny", tr, va, m.train_config(epochs=2), tmp_path,
                progress=False)
    assert res.epochs_run == 2 and np.isfinite(res.final_train_loss)
    p = predict(m.module, va)
    assert p.shape == (12, 48, 48) and p.dtype == np.float32


def test_mirrored_copies_come_from_indexing(tiny_data):
    from salbench.nets.training.data import DeviceData

    tr, _ = tiny_data
    d = DeviceData(tr, torch.device("cpu"))
    assert d.mirror and d.base == 24 and d.n == 48
    x, y, f = d.batch(torch.tensor([3, 27]))  # image 3 and its mirror
    assert f is None  # no loss asked for fixation maps
    np.testing.assert_array_equal(x[1].numpy(), tr.inputs_float(27))
    np.testing.assert_array_equal(y[1].numpy(), tr.targets[27])
    np.testing.assert_array_equal(x[1].numpy(), x[0].numpy()[..., ::-1])


def _state(path):
    return load_checkpoint(path)["state_dict"]


def _assert_same_weights(path_a, path_b):
    """Every tensor of checkpoint ``path_a`` equals its namesake in ``path_b`` bit for bit."""
    a, b = _state(path_a), _state(path_b)
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.parametrize("compile_mode", ["auto", CUDA_GRAPHS])
def test_interrupted_run_resumes_to_the_same_weights(tiny_data, tmp_path, compile_mode):
    """Train 4 epochs straight; train again, stop after epoch 2 (the checkpoint), resume:
    the weights are identical."""
    tr, va = tiny_data
    cfg = TrainConfig(epochs=4, batch_size=16, checkpoint_every=2, val_every=2, seed=3,
                      compile=compile_mode)
    train(_tiny(3).module, "shallow-pan-tiny", tr, va, cfg, tmp_path / "straight",
          progress=False)
    # an interruption after epoch 2: run with a schedule of 4 epochs but stop early
    m = _tiny(3)
    stopped = _run_until(m, tr, va, cfg, tmp_path / "resumed", stop_after=2)
    assert stopped.name == "checkpoint-epoch00002.pt"
    with open(tmp_path / "resumed" / "train_log.jsonl", "a") as f:
        f.write('{"epoch": 3, "lr": 0.0')  # a log line cut short by the kill
    m2 = _tiny(99)  # different fresh weights: everything must come from the checkpoint
    res = train(m2.module, "shallow-pan-tiny", tr, va, cfg, tmp_path / "resumed",
                progress=False)
    assert res.resumed_from == 2 and res.epochs_run == 2
    _assert_same_weights(tmp_path / "straight" / "checkpoint-epoch00004.pt",
                         tmp_path / "resumed" / "checkpoint-epoch00004.pt")
    la = read_log(tmp_path / "straight" / "train_log.jsonl")
    lb = read_log(tmp_path / "resumed" / "train_log.jsonl")
    assert [r["epoch"] for r in lb] == [1, 2, 3, 4]  # nothing lost, nothing doubled
    assert [r["train_loss"] for r in la] == [r["train_loss"] for r in lb]


def _run_until(model, tr, va, cfg, out, stop_after):
    """Run the full schedule but raise after epoch ``stop_after``'s checkpoint."""
    real = checkpoints.save

    class Interrupt(Exception):
        pass

    def save_then_stop(path, *a, **k):
        real(path, *a, **k)
        if k["epoch"] >= stop_after:
            raise Interrupt

    checkpoints.save = save_then_stop
    try:
        with pytest.raises(Interrupt):
            train(model.module, "shallow-pan-tiny", tr, va, cfg, out, progress=False)
    finally:
        checkpoints.save = real
    return latest_checkpoint(out)


@pytest.mark.slow
def test_killed_process_resumes(tmp_path, monkeypatch):
    """A real kill (SIGKILL) of ``salbench run --train`` mid-run; the rerun resumes from the
    last checkpoint and ends with the weights of an uninterrupted run."""
    env = {**os.environ, "SALBENCH_HOME": str(tmp_path / "home"), "SALBENCH_SYNTH": "24,12"}
    args = [sys.executable, "-m", "salbench", "run", "shallow-pan-tiny", "--train",
            "--dataset", "synth", "--epochs", "6", "--no-record", "--no-plots"]
    subprocess.run([*args, "--out", str(tmp_path / "straight")], env=env, check=True,
                   capture_output=True)
    out = tmp_path / "killed"
    proc = subprocess.Popen([*args, "--out", str(out)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (out / "checkpoint-epoch00002.pt").exists():
        assert time.time() < deadline and proc.poll() is None, "no checkpoint appeared"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert latest_checkpoint(out) is not None
    subprocess.run([*args, "--out", str(out)], env=env, check=True, capture_output=True)
    _assert_same_weights(tmp_path / "straight" / "checkpoint-epoch00006.pt",
                         out / "checkpoint-epoch00006.pt")


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # the hand-made hostile file
def test_corrupt_checkpoints_are_refused(tiny_data, tmp_path):
    tr, va = tiny_data
    m = _tiny()
    train(m.module, "shallow-pan-tiny", tr, va, TrainConfig(epochs=1, batch_size=16), tmp_path,
          progress=False)
    good = tmp_path / "checkpoint-epoch00001.pt"
    data = good.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 3])
    with pytest.raises(ValueError, match=r"corrupt or not a salbench checkpoint .*cut\.pt"):
        load_checkpoint(tmp_path / "cut.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="not a salbench checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    with open(tmp_path / "evil.pt", "wb") as f:
        pickle.dump({"format": "salbench-checkpoint", "x": Evil()}, f)
    with pytest.raises(ValueError, match="corrupt or not a salbench checkpoint"):
        load_checkpoint(tmp_path / "evil.pt")  # weights_only=True: nothing runs
    assert not marker.exists()
    with pytest.raises(ValueError, match="not 'shallow-pan'"):
        load_checkpoint(good, "shallow-pan")


def test_a_diverging_loss_stops_before_its_weights_are_saved(tiny_data, tmp_path,
                                                             monkeypatch):
    """A loss that stopped being finite trained on: every later epoch logged NaN, saved
    NaN weights as checkpoints, and the run ended at scoring ("prediction has NaN values")
    after the whole schedule.  It now stops in the epoch it happened, keeping the last
    finite checkpoint."""
    from salbench.nets.training import loop

    tr, va = tiny_data
    cfg = TrainConfig(epochs=4, batch_size=16, checkpoint_every=1, seed=3, compile="off")
    per_epoch = -(-len(tr) // cfg.batch_size)
    real = loop.loss_function
    steps = {"n": 0}

    def poisoned(config):
        fn = real(config)

        def loss(pred, target, fixations, **kw):
            value = fn(pred, target, fixations, **kw)
            if not torch.is_grad_enabled():  # validation
                return value
            steps["n"] += 1  # NaN from epoch 2's first step on
            return value * float("nan") if steps["n"] > per_epoch else value

        loss.needs_fixations = fn.needs_fixations
        return loss

    monkeypatch.setattr(loop, "loss_function", poisoned)
    with pytest.raises(UserError, match=rf"training diverged: the loss is nan from step "
                                        rf"{per_epoch + 1} \(epoch 2\).*"
                                        rf"checkpoint-epoch00001\.pt, holds finite"):
        train(_tiny(3).module, "shallow-pan-tiny", tr, va, cfg, tmp_path, progress=False)
    assert [p.name for p in checkpoints.listed(tmp_path)] == ["checkpoint-epoch00001.pt"]
    assert [r["epoch"] for r in read_log(tmp_path / "train_log.jsonl")] == [1, 2]
    assert "NaN" not in (tmp_path / "train_log.jsonl").read_text()  # null: standard JSON


def test_damaged_last_checkpoint_falls_back(tiny_data, tmp_path, capsys):
    """A truncated newest checkpoint is moved aside and the newest valid one resumes."""
    tr, va = tiny_data
    cfg = TrainConfig(epochs=3, batch_size=16, checkpoint_every=1, keep_checkpoints=3, seed=4)
    train(_tiny(4).module, "shallow-pan-tiny", tr, va, cfg, tmp_path / "straight",
          progress=False)
    m = _tiny(4)
    _run_until(m, tr, va, cfg, tmp_path / "cut", stop_after=2)
    newest = tmp_path / "cut" / "checkpoint-epoch00002.pt"
    data = newest.read_bytes()
    newest.write_bytes(data[: len(data) // 2])  # a kill in the middle of a (non-atomic) copy
    res = train(_tiny(99).module, "shallow-pan-tiny", tr, va, cfg, tmp_path / "cut",
                progress=False)
    assert res.resumed_from == 1
    assert "is damaged" in capsys.readouterr().err
    assert list((tmp_path / "cut").glob("checkpoint-epoch00002.pt.damaged-*"))
    _assert_same_weights(tmp_path / "straight" / "checkpoint-epoch00003.pt",
                         tmp_path / "cut" / "checkpoint-epoch00003.pt")


def test_resuming_under_other_settings_is_refused(tiny_data, tmp_path):
    tr, va = tiny_data
    train(_tiny().module, "shallow-pan-tiny", tr, va, TrainConfig(epochs=2, batch_size=16),
          tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"other settings \(epochs 2 -> 5\).*--no-resume"):
        train(_tiny().module, "shallow-pan-tiny", tr, va, TrainConfig(epochs=5, batch_size=16),
              tmp_path, progress=False)
    res = train(_tiny().module, "shallow-pan-tiny", tr, va,
                TrainConfig(epochs=5, batch_size=16), tmp_path, resume=False, progress=False)
    assert res.resumed_from is None and res.epochs_run == 5


def test_bf16_autocast_matches_fp32(tiny_data, tmp_path):
    """Mixed precision changes the trajectory only slightly: after a few epochs the
    validation loss is within 5% of the fp32 run's (measured here on the CPU; CUDA uses the
    same autocast path)."""
    tr, va = tiny_data
    losses = {}
    for amp in ("off", "bf16"):
        cfg = TrainConfig(epochs=4, batch_size=16, val_every=4, seed=2, amp=amp,
                          optimizer="adam", lr_start=1e-3, lr_end=1e-3, weight_decay=0.0)
        res = train(_tiny(2).module, "shallow-pan-tiny", tr, va, cfg, tmp_path / amp,
                    progress=False)
        losses[amp] = res.final_val_loss
    assert losses["bf16"] == pytest.approx(losses["off"], rel=0.05)


def test_compile_failing_at_first_call_falls_back_to_eager(tiny_data, tmp_path, capsys,
                                                          monkeypatch):
    """torch.compile returns at once and fails at the first forward (how a missing
    backend shows on a GPU box): the trainer says so and trains eagerly, to the weights of
    an eager run."""
    from salbench.nets.training import loop

    class Lazy:
        def __init__(self, net):
            self.net = net

        def __call__(self, x):
            raise RuntimeError("backend compiler failed\nlong inductor log")

    tr, va = tiny_data
    cfg = dict(epochs=2, batch_size=16, seed=0, val_every=2)
    eager = _tiny(0)
    train(eager.module, "shallow-pan-tiny", tr, va, TrainConfig(compile="off", **cfg),
          tmp_path / "eager", progress=False)
    monkeypatch.setattr(loop.torch, "compile", Lazy)
    fell = _tiny(0)
    res = train(fell.module, "shallow-pan-tiny", tr, va, TrainConfig(compile="on", **cfg),
                tmp_path / "fell", progress=False)
    err = capsys.readouterr().err
    assert "torch.compile failed (RuntimeError: backend compiler failed)" in err
    assert "training eagerly" in err and err.count("torch.compile failed") == 1
    assert res.epochs_run == 2
    for k, v in eager.module.state_dict().items():
        assert torch.equal(fell.module.state_dict()[k], v), k


def test_bf16_where_unsupported_is_refused_before_training(tiny_data, tmp_path, monkeypatch):
    """amp = 'bf16' on a device without bf16 is a user error before any step; 'auto'
    then trains in fp32."""
    from salbench.nets.training import loop

    tr, va = tiny_data
    monkeypatch.setattr(loop, "bf16_supported", lambda device: False)
    with pytest.raises(UserError, match="bf16 autocast is not supported"):
        train(_tiny(0).module, "shallow-pan-tiny", tr, va,
              TrainConfig(epochs=1, batch_size=16, amp="bf16"), tmp_path / "a",
              progress=False)
    assert not list((tmp_path / "a").glob("checkpoint-*"))
    res = train(_tiny(0).module, "shallow-pan-tiny", tr, va,
                TrainConfig(epochs=1, batch_size=16, amp="auto"), tmp_path / "b",
                progress=False)
    assert res.epochs_run == 1


@pytest.mark.slow
@pytest.mark.parametrize("compiled", ["on", CUDA_GRAPHS])
def test_torch_compile_matches_eager(tiny_data, tmp_path, compiled):
    """torch.compile (on by default on CUDA), with or without CUDA graphs, changes only
    rounding: same trajectory."""
    tr, va = tiny_data
    out = {}
    for mode in ("off", compiled):
        m = _tiny(0)
        cfg = TrainConfig(epochs=3, batch_size=16, seed=0, compile=mode, val_every=3)
        res = train(m.module, "shallow-pan-tiny", tr, va, cfg, tmp_path / mode, progress=False)
        out[mode] = (res.final_val_loss, m.module.state_dict())
    assert out[compiled][0] == pytest.approx(out["off"][0], rel=1e-4)
    for k, v in out["off"][1].items():
        torch.testing.assert_close(out[compiled][1][k], v, rtol=1e-3, atol=1e-3)


def test_cuda_graphs_only_where_they_were_tested(tiny_data, tmp_path):
    """compile="reduce-overhead" is refused, before anything is written, off CUDA, under
    torchrun and for an adversarial pair; the CLI offers the config's choices."""
    import salbench.nets.training.loop as loop

    tr, va = tiny_data
    with pytest.raises(UserError, match="replays CUDA graphs; this run trains on cpu"):
        train(_tiny().module, "shallow-pan-tiny", tr, va,
              TrainConfig(epochs=1, device="cpu", compile=GRAPHS), tmp_path / "cpu",
              progress=False)
    assert not (tmp_path / "cpu").exists()
    cuda = torch.device("cuda")
    with pytest.raises(UserError, match="not supported under torchrun"):
        loop._check_graphs(_tiny().module, cuda, distributed=True)
    pair = torch.nn.Module()
    pair.discriminator = torch.nn.Linear(1, 1)
    with pytest.raises(UserError, match="not supported for adversarial training"):
        loop._check_graphs(pair, cuda, distributed=False)
    loop._check_graphs(_tiny().module, cuda, distributed=False)  # the tested case passes
    assert COMPILE_CHOICES == COMPILE_MODES  # the CLI's literal copy


def _torchrun_against_one_process(tmp_path, nproc: int, device: str, port: int,
                                  tolerance: dict) -> None:
    """``salbench run shallow-pan-tiny --train`` under torchrun (``nproc`` processes on
    ``device``) ends with the weights of a plain one-process run, up to ``tolerance``."""
    env = {**os.environ, "SALBENCH_HOME": str(tmp_path / "home"), "SALBENCH_SYNTH": "24,12",
           "OMP_NUM_THREADS": "1"}
    common = ["run", "shallow-pan-tiny", "--train", "--dataset", "synth", "--epochs", "2",
              "--device", device, "--no-record", "--no-plots"]
    subprocess.run([sys.executable, "-m", "salbench", "data", "synth", "--train", "24",
                    "--val", "12", "--workers", "1"], env=env, check=True, capture_output=True)
    ddp = subprocess.run([sys.executable, "-m", "torch.distributed.run",
                          f"--nproc_per_node={nproc}", "--master_port", str(port), "-m",
                          "salbench", *common, "--out", str(tmp_path / "ddp")], env=env,
                         capture_output=True, text=True)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    single = subprocess.run([sys.executable, "-m", "salbench", *common, "--out",
                             str(tmp_path / "single")], env=env, capture_output=True, text=True)
    assert single.returncode == 0, single.stderr[-3000:]
    a = _state(tmp_path / "ddp" / "checkpoint-epoch00002.pt")
    b = _state(tmp_path / "single" / "checkpoint-epoch00002.pt")
    for k in a:
        torch.testing.assert_close(a[k], b[k], **tolerance)
    # rank 0 scored it, and the result says how it was trained
    training = json.loads((tmp_path / "ddp" / "result-replication.json").read_text())["training"]
    assert training["ddp"] is True and training["processes"] == nproc


@pytest.mark.slow
def test_ddp_two_processes_gloo(tmp_path):
    """torchrun, 2 CPU processes, gloo: each takes half of every global batch; the result
    matches a single-process run up to float summation order."""
    _torchrun_against_one_process(tmp_path, 2, "cpu", 29517, dict(rtol=1e-4, atol=1e-5))


@pytest.mark.slow
def test_ddp_one_process_gloo(tmp_path):
    """torchrun with one process still trains through DistributedDataParallel (the path a
    one-GPU machine can check); on the CPU it matches a plain run up to summation order."""
    _torchrun_against_one_process(tmp_path, 1, "cpu", 29518, dict(rtol=1e-4, atol=1e-5))


@pytest.mark.slow
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_ddp_one_process_nccl(tmp_path):
    """The CUDA path of DDP: NCCL, torch.compile and bf16 autocast (CUDA's defaults) in one
    process; DDP's compiled graph is split at gradient buckets, so fusion, and with it bf16
    rounding, may differ from the plain run's."""
    _torchrun_against_one_process(tmp_path, 1, "cuda", 29519, dict(rtol=1e-3, atol=1e-3))


def test_more_processes_than_gpus_is_refused(monkeypatch):
    from salbench.nets.training import device

    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "x")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(device.torch.cuda, "device_count", lambda: 1)
    with pytest.raises(UserError, match=r"process 1 .* has 1 GPU\(s\).*--nproc_per_node=1"):
        device.dist_info("cuda")


def test_device_and_batch_checks(tiny_data, tmp_path):
    tr, va = tiny_data
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            train(_tiny().module, "x", tr, va, TrainConfig(epochs=1, device="cuda"), tmp_path,
                  progress=False)
    with pytest.raises(ValueError, match="optimizer 'lbfgs' is unknown"):
        TrainConfig(epochs=1, optimizer="lbfgs")
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        TrainConfig(epochs=0)


@pytest.mark.parametrize("setting, what", [
    ({"epochs": 1.5}, "epochs must be a whole number, got 1.5"),
    ({"batch_size": True}, "batch_size must be a whole number, got True"),
    ({"seed": "3"}, "seed must be a whole number"),
    ({"lr_start": -0.1}, "lr_start must be positive"),
    ({"lr_start": float("nan")}, "lr_start must be a finite number"),
    ({"lr_end": -1e-4}, "lr_end must be >= 0"),
    ({"momentum": 1.0}, r"momentum must be in \[0, 1\)"),
    ({"weight_decay": float("inf")}, "weight_decay must be a finite number"),
    ({"weight_decay": -5e-4}, "weight_decay must be >= 0"),
    ({"keep_checkpoints": -1}, "keep_checkpoints must be >= 0"),
    ({"nesterov": 1}, "nesterov must be true or false"),
    ({"discriminator_lr": "1e-4"}, "discriminator_lr must be a finite number"),
])
def test_settings_of_the_wrong_type_or_range_are_refused(setting, what):
    """A card's TOML or a Python caller: a float epoch count, a negative learning rate
    (gradient ascent) or a NaN one trained silently, and a string raised a TypeError."""
    with pytest.raises(ValueError, match=f"^training setting {what}"):
        TrainConfig(**setting)
    with pytest.raises(ValueError, match=f"^training setting {what}"):
        TrainConfig.from_card(setting)


def test_numpy_numbers_are_taken_as_python_ones():
    cfg = TrainConfig(epochs=np.int64(4), lr_start=np.float32(0.5), keep_checkpoints=0)
    assert type(cfg.epochs) is int and type(cfg.lr_start) is float
    assert cfg.schedule()["epochs"] == 4 and cfg.keep_checkpoints == 0  # 0: keep them all


def test_load_uses_the_latest_checkpoint(tiny_data, tmp_path):
    tr, va = tiny_data
    m = _tiny()
    m.fit(tr, va, tmp_path, epochs=2, progress=False)
    fresh = registry.create("shallow-pan-tiny")
    assert fresh.load(tmp_path).endswith("checkpoint-epoch00002.pt")
    np.testing.assert_array_equal(fresh.predict(va), m.predict(va))
    with pytest.raises(ValueError, match="train it first"):
        registry.create("shallow-pan-tiny").load(tmp_path / "empty")


def test_spec_loading_for_training(tmp_path, monkeypatch):
    monkeypatch.setenv("SALBENCH_HOME", str(tmp_path))
    spec = DatasetSpec(n_train=5, n_val=4)
    tr = load(spec, "train")
    assert len(tr) == 10 and tr.mirrored.sum() == 5


def test_resume_on_other_data_or_precision_is_refused(tiny_data, tmp_path):
    """A checkpoint records the data's fingerprints, the device and the precision: resuming
    on another data set (another seed, size or release) would splice two runs."""
    tr, va = tiny_data
    cfg = TrainConfig(epochs=3, batch_size=16, checkpoint_every=1, amp="off")
    m = _tiny()
    _run_until(m, tr, va, cfg, tmp_path, stop_after=1)
    other = synth.generate_split(synth.SynthConfig(seed=1, n_train=24, n_val=12), "train")
    with pytest.raises(ValueError, match=r"other settings \(data .*--no-resume"):
        train(_tiny().module, "shallow-pan-tiny", other, va, cfg, tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"other settings \(amp False -> True"):
        train(_tiny().module, "shallow-pan-tiny", tr, va,
              TrainConfig(epochs=3, batch_size=16, checkpoint_every=1, amp="bf16"), tmp_path,
              progress=False)


def test_stop_after_then_extend_and_resume_from_a_path(tiny_data, tmp_path):
    """--stop-after N stops inside the full schedule (same learning rates as the full run)
    and a later run continues it; --resume PATH continues from any checkpoint."""
    tr, va = tiny_data
    full = TrainConfig(epochs=4, batch_size=16, checkpoint_every=1, keep_checkpoints=9, seed=5)
    train(_tiny(5).module, "shallow-pan-tiny", tr, va, full, tmp_path / "straight",
          progress=False)
    part = TrainConfig(epochs=4, batch_size=16, checkpoint_every=10, seed=5, stop_after=2)
    res = train(_tiny(5).module, "shallow-pan-tiny", tr, va, part, tmp_path / "staged",
                progress=False)
    assert res.epochs_done == 2 and res.schedule_epochs == 4
    assert checkpoints.latest(tmp_path / "staged").name == "checkpoint-epoch00002.pt"
    log = read_log(tmp_path / "staged" / "train_log.jsonl")
    assert [r["lr"] for r in log] == [full.lr(0), full.lr(1)]  # not a squeezed schedule
    res = train(_tiny(9).module, "shallow-pan-tiny", tr, va,
                TrainConfig(epochs=4, batch_size=16, checkpoint_every=10, seed=5),
                tmp_path / "staged", progress=False)
    assert res.resumed_from == 2 and res.epochs_done == 4
    _assert_same_weights(tmp_path / "straight" / "checkpoint-epoch00004.pt",
                         tmp_path / "staged" / "checkpoint-epoch00004.pt")
    res = train(_tiny(9).module, "shallow-pan-tiny", tr, va, full, tmp_path / "elsewhere",
                resume_from=tmp_path / "straight" / "checkpoint-epoch00002.pt",
                progress=False)
    assert res.resumed_from == 2
    _assert_same_weights(tmp_path / "straight" / "checkpoint-epoch00004.pt",
                         tmp_path / "elsewhere" / "checkpoint-epoch00004.pt")


def test_stale_temporary_checkpoints_are_cleaned(tiny_data, tmp_path, capsys):
    tr, va = tiny_data
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / ".checkpoint-epoch00002.pt.abc123.tmp").write_bytes(b"half a checkpoint")
    train(_tiny().module, "shallow-pan-tiny", tr, va, TrainConfig(epochs=1, batch_size=16),
          tmp_path, progress=False)
    assert not list(tmp_path.glob("*.tmp"))
    assert "removed 1 temporary file" in capsys.readouterr().err


def test_progress_lines_when_not_a_terminal(tiny_data, tmp_path, capsys):
    tr, va = tiny_data
    train(_tiny().module, "shallow-pan-tiny", tr, va,
          TrainConfig(epochs=2, batch_size=16, val_every=2), tmp_path, progress=True)
    lines = [ln for ln in capsys.readouterr().err.splitlines() if "epoch" in ln]
    assert len(lines) == 2 and lines[0].startswith("salbench: shallow-pan-tiny: epoch 1/2")
    assert "train 0." in lines[1] and "val 0." in lines[1] and "img/s" in lines[1]
    assert "val" not in lines[0]  # no validation in epoch 1: no stale value carried over


def test_rate_leaves_out_the_warm_up_steps(monkeypatch):
    """The images/s behind the schedule's estimate: the first steps (compiling, then
    recording CUDA graphs) are left out once later steps have run."""
    from salbench import progress

    clock = iter([0.0, 10.0, 10.5, 10.7, *(10.7 + 0.01 * k for k in range(1, 21))])
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    bar = progress.TrainProgress("m", epochs=1, steps=100, batch=128, start_epoch=0,
                                 start_step=0, show=False)
    rates = []
    for _ in range(23):
        bar.step()
        rates.append((bar.images_per_second(), bar.timed_steps()))
    assert rates[0] == (0.0, 0)  # one step: no rate yet
    assert rates[1] == (pytest.approx(128 / 0.5), 1)  # from the end of the first step
    assert rates[2] == (pytest.approx(2 * 128 / 0.7), 2)
    assert rates[3] == (pytest.approx(128 / 0.01), 1)  # from the end of step WARMUP_STEPS
    assert rates[-1] == (pytest.approx(20 * 128 / 0.2), 20)
    assert progress.WARMUP_STEPS == 3


def test_rate_waits_for_the_device(monkeypatch):
    """On an asynchronous device a step returns once its work is queued: the rate's window
    opens and closes on the device's clock (a sync), not the host's, else it reads the
    host's launch rate (2x too high on an H100 with CUDA graphs)."""
    from salbench import progress

    now = [0.0]
    syncs = []

    def sync():  # the device finishes the queued steps, 0.1 s each
        syncs.append(bar.steps_run)
        now[0] = max(now[0], 0.1 * bar.steps_run)

    def host_clock():  # queueing a step takes the host 1 ms
        return now[0]

    monkeypatch.setattr(progress.time, "perf_counter", host_clock)
    bar = progress.TrainProgress("m", epochs=1, steps=100, batch=128, start_epoch=0,
                                 start_step=0, show=False, sync=sync)
    for _ in range(23):
        now[0] += 0.001
        bar.step()
    assert syncs == [progress.WARMUP_STEPS]  # the window opens on a synced clock
    assert bar.images_per_second() > 20 * 128 / 0.1  # the host's view: far too fast
    bar.synced()
    assert syncs == [progress.WARMUP_STEPS, 23]
    assert bar.images_per_second() == pytest.approx(20 * 128 / (2.3 - 0.3))
    bar.epoch_done(1, 0.5, None)  # an epoch's end reads the device's clock too
    assert syncs == [progress.WARMUP_STEPS, 23, 23]


@pytest.mark.slow
@pytest.mark.parametrize("compile_mode", ["auto", CUDA_GRAPHS])
def test_sigint_stops_cleanly_and_resumes_to_the_same_weights(tmp_path, compile_mode):
    """Ctrl-C: the current step finishes, a mid-epoch checkpoint is written, the command
    that resumes is printed (exit 130, no traceback); resuming ends with the weights of an
    uninterrupted run.  With CUDA graphs too: a real SIGINT stopped an H100 run of
    ``train_step_variants.py full`` silently (no note, no summary; cause not established)."""
    env = {**os.environ, "SALBENCH_HOME": str(tmp_path / "home"), "SALBENCH_SYNTH": "48,12"}
    args = [sys.executable, "-m", "salbench", "run", "shallow-pan-tiny", "--train",
            "--dataset", "synth", "--epochs", "6", "--no-record", "--no-plots",
            "--compile", compile_mode]
    subprocess.run([*args, "--out", str(tmp_path / "straight")], env=env, check=True,
                   capture_output=True)
    out = tmp_path / "stopped"
    proc = subprocess.Popen([*args, "--out", str(out)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not (out / "train_log.jsonl").exists() or \
            (out / "train_log.jsonl").read_text().count("\n") < 2:
        assert time.time() < deadline and proc.poll() is None, "training did not start"
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "Resume with: salbench run shallow-pan-tiny" in err
    assert checkpoints.latest(out) is not None
    subprocess.run([*args, "--out", str(out)], env=env, check=True, capture_output=True)
    _assert_same_weights(tmp_path / "straight" / "checkpoint-epoch00006.pt",
                         out / "checkpoint-epoch00006.pt")


def _stop_request_at_check(n: int):
    """A stand-in for the trainer's signal handler: SIGINT is 'seen' from its ``n``-th
    check on (it is checked after every step but an epoch's last, and once per epoch)."""
    from salbench.nets.training import loop

    class StopAtCheck(loop._StopRequest):
        checks = 0

        @property
        def signal(self):
            StopAtCheck.checks += 1
            return signal.SIGINT if StopAtCheck.checks >= n else None

        @signal.setter
        def signal(self, value):
            pass

    return StopAtCheck


@pytest.mark.parametrize("compile_mode", ["auto", CUDA_GRAPHS])
def test_a_stop_inside_an_epoch_loses_nothing(tiny_data, tmp_path, monkeypatch, capsys,
                                              compile_mode):
    """A stop request in the middle of an epoch writes a mid-epoch checkpoint (with the
    epoch's losses so far); resuming replays the rest of that epoch exactly."""
    import salbench.nets.training.loop as loop

    tr, va = tiny_data
    cfg = TrainConfig(epochs=2, batch_size=16, checkpoint_every=5, seed=7,
                      compile=compile_mode)
    train(_tiny(7).module, "shallow-pan-tiny", tr, va, cfg, tmp_path / "straight",
          progress=False)

    # epoch 1: checked after steps 1 and 2, then once at its end; epoch 2: after step 1
    monkeypatch.setattr(loop, "_StopRequest", _stop_request_at_check(4))
    res = train(_tiny(7).module, "shallow-pan-tiny", tr, va, cfg, tmp_path / "cut",
                progress=False)
    assert res.interrupted and res.epochs_done == 1
    assert checkpoints.latest(tmp_path / "cut").name == "checkpoint-epoch00001-step000001.pt"
    monkeypatch.undo()
    res = train(_tiny(1).module, "shallow-pan-tiny", tr, va, cfg, tmp_path / "cut",
                progress=False)
    assert res.resumed_from == 1 and res.epochs_done == 2
    _assert_same_weights(tmp_path / "straight" / "checkpoint-epoch00002.pt",
                         tmp_path / "cut" / "checkpoint-epoch00002.pt")
    la = read_log(tmp_path / "straight" / "train_log.jsonl")
    lb = read_log(tmp_path / "cut" / "train_log.jsonl")
    assert [r["train_loss"] for r in la] == [r["train_loss"] for r in lb]
    assert not list((tmp_path / "cut").glob("*-step*.pt"))  # dropped once superseded


def test_a_mid_epoch_checkpoint_is_not_passed_off_as_fewer_epochs(tiny_data, tmp_path,
                                                                  monkeypatch):
    """Stopped in epoch 2 (its step-1 checkpoint is the newest), a run that asks to stop
    after epoch 1 is refused: those weights have seen part of epoch 2, and would be scored
    and named as a 1-epoch model."""
    import salbench.nets.training.loop as loop

    tr, va = tiny_data
    cfg = TrainConfig(epochs=2, batch_size=16, checkpoint_every=5, seed=7)

    monkeypatch.setattr(loop, "_StopRequest", _stop_request_at_check(4))
    train(_tiny(7).module, "shallow-pan-tiny", tr, va, cfg, tmp_path, progress=False)
    monkeypatch.undo()
    assert checkpoints.latest(tmp_path).name == "checkpoint-epoch00001-step000001.pt"
    stop1 = TrainConfig(epochs=2, batch_size=16, checkpoint_every=5, seed=7, stop_after=1)
    with pytest.raises(UserError, match=r"holds epoch 2 in part \(1 steps\), past the 1 "
                                        r"epochs.*stop after 2 or more"):
        train(_tiny(7).module, "shallow-pan-tiny", tr, va, stop1, tmp_path, progress=False)
    res = train(_tiny(7).module, "shallow-pan-tiny", tr, va, cfg, tmp_path, progress=False)
    assert res.resumed_from == 1 and res.epochs_done == 2
