"""Training throughput: salbench's trainer against a plain PyTorch loop, same run, like
with like (fp32 against fp32, bf16 autocast against bf16 autocast, both eager).

The baseline is the loop most re-implementations use: float32 inputs in a TensorDataset,
a shuffling DataLoader, a standard (per-parameter) SGD step, the loss read with
``.item()`` every step, and a final ``torch.save`` of model and optimizer (salbench's
trainer writes its final checkpoint too, so both timings include one).  salbench's trainer
keeps the data on the device, shuffles and mirrors by index, syncs once per epoch and uses
fused (CUDA) or multi-tensor (CPU) SGD.  Both run the same model, recipe, batch and images;
each side runs at least three rounds after a warm-up, and the ratio is of minima.

On CUDA, ``test_trainer_salbench_compiled`` times salbench with ``torch.compile``, with the
compile kept out of the timing (a 1-epoch run and a (1 + E)-epoch run, differenced) and
reported on its own; ``test_full_schedule`` runs the full 1,000-epoch schedule on 20,000
items (the study's setting), after a warm-up that compiles (timed apart), and records wall
time, images/s (overall, and from epoch 2 on) and peak memory.
``SALBENCH_BENCH_TRAIN_ITEMS`` / ``_EPOCHS`` size the comparison.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import time

import numpy as np
import pytest
import torch

from salbench.data.split import Split
from salbench.nets.shallow_pan import VARIANTS, build
from salbench.nets.training.config import TrainConfig
from salbench.nets.training.loop import train

from conftest import RESULTS_DIR, ROUNDS, machine

CUDA = torch.cuda.is_available()
ITEMS = int(os.environ.get("SALBENCH_BENCH_TRAIN_ITEMS", 20_000 if CUDA else 512))
EPOCHS = int(os.environ.get("SALBENCH_BENCH_TRAIN_EPOCHS", 5 if CUDA else 2))
MODEL = os.environ.get("SALBENCH_BENCH_MODEL", "shallow-pan")
PRECISIONS = ["fp32", "bf16"] if CUDA and torch.cuda.is_bf16_supported() else ["fp32"]


def _split(n: int, seed: int = 0) -> Split:
    """``n`` items: ``n // 2`` random images and their mirrors, as a train split has."""
    rng = np.random.default_rng(seed)
    half = n // 2
    return Split.from_lists(
        "bench", "train", inputs=rng.integers(0, 256, (half, 3, 96, 96)).astype(np.uint8),
        targets=rng.random((half, 48, 48)).astype(np.float32), sizes=[(480, 640)] * half,
        file_names=[f"b{i}" for i in range(half)], fixations=[np.zeros((0, 2))] * half,
        mirror=True)


def _peak_memory() -> dict:
    if CUDA:
        return {"peak_gpu_memory_gib": torch.cuda.max_memory_allocated() / 2**30}
    return {"peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}


def naive_loop(split: Split, epochs: int, out, seed: int = 0, precision: str = "fp32"
               ) -> float:
    """What a straightforward re-implementation does; returns images/s."""
    from torch.utils.data import DataLoader, TensorDataset

    device = torch.device("cuda" if CUDA else "cpu")
    torch.manual_seed(seed)
    model = build(VARIANTS[MODEL]).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, nesterov=True,
                          weight_decay=5e-4, foreach=False)
    ds = TensorDataset(torch.from_numpy(split.inputs_float()), torch.from_numpy(split.targets))
    loader = DataLoader(ds, batch_size=128, shuffle=True)
    log = []
    t0 = time.perf_counter()
    for _ in range(epochs):
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16,
                                enabled=precision == "bf16"):
                pred = model(x)
            loss = torch.nn.functional.mse_loss(pred.float(), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            log.append(loss.item())  # a host sync every step
    if CUDA:
        torch.cuda.synchronize()
    out.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, out / "final.pt")
    return len(split) * epochs / (time.perf_counter() - t0)


def _salbench(split: Split, epochs: int, out, precision: str = "fp32",
              compile_: str = "off") -> tuple[float, float]:
    """(images/s, seconds) of salbench's trainer, eager unless ``compile_ = "on"``."""
    torch.manual_seed(0)
    model = build(VARIANTS[MODEL])
    cfg = TrainConfig(epochs=epochs, checkpoint_every=10**9, val_every=10**9, seed=0,
                      amp="bf16" if precision == "bf16" else "off", compile=compile_)
    res = train(model, MODEL, split, None, cfg, out, resume=False, progress=False)
    return res.images_per_second, res.seconds


@pytest.fixture(scope="module")
def bench_split():
    return _split(ITEMS)


def _group(precision: str) -> str:
    return f"train {MODEL} ({precision}, eager): {ITEMS} items x {EPOCHS} epochs"


@pytest.mark.parametrize("precision", PRECISIONS)
def test_trainer_salbench(benchmark, record, bench_split, tmp_path, precision):
    _salbench(_split(256), 1, tmp_path / "warm", precision)  # warm caches outside timing
    if CUDA:
        torch.cuda.reset_peak_memory_stats()
    rounds = iter(range(10**6))
    ips = benchmark.pedantic(lambda: _salbench(bench_split, EPOCHS,
                                               tmp_path / f"run{next(rounds)}", precision)[0],
                             rounds=ROUNDS, iterations=1)
    record(benchmark, _group(precision), "salbench", images_per_second=ips,
           **_peak_memory(), device=machine().get("device", "cpu"))


@pytest.mark.parametrize("precision", PRECISIONS)
def test_trainer_naive_loop(benchmark, record, bench_split, tmp_path, precision):
    naive_loop(_split(256), 1, tmp_path / "warm", precision=precision)  # warm up
    if CUDA:
        torch.cuda.reset_peak_memory_stats()
    ips = benchmark.pedantic(naive_loop, args=(bench_split, EPOCHS, tmp_path / "run"),
                             kwargs={"precision": precision}, rounds=ROUNDS, iterations=1)
    record(benchmark, _group(precision), "plain PyTorch loop",
           naive_images_per_second=ips, **_peak_memory())


@pytest.mark.skipif(not CUDA, reason="torch.compile is used on CUDA only")
@pytest.mark.parametrize("precision", PRECISIONS)
def test_trainer_salbench_compiled(bench_split, tmp_path, precision):
    """Steady-state throughput with torch.compile, the compile outside the timed window:
    a 1-epoch run and a (1 + EPOCHS)-epoch run, differenced; compile time on its own."""
    from conftest import record_times

    _, eager_one = _salbench(bench_split, 1, tmp_path / "eager", precision)
    _, one = _salbench(bench_split, 1, tmp_path / "one", precision, compile_="on")
    times = []
    for r in range(ROUNDS):
        _, more = _salbench(bench_split, 1 + EPOCHS, tmp_path / f"more{r}", precision,
                            compile_="on")
        times.append(more - one)
    record_times(f"train {MODEL} ({precision}, compiled, steady): {ITEMS} items x "
                 f"{EPOCHS} epochs", "salbench", times,
                 first_epoch_with_compile_s=one, first_epoch_eager_s=eager_one,
                 images_per_second=ITEMS * EPOCHS / min(times))


@pytest.mark.skipif(not CUDA, reason="the full schedule is a GPU benchmark (no CUDA here)")
def test_full_schedule(tmp_path):
    """The design's target: 1,000 epochs on 20,000 items in <= 5 minutes on one H100."""
    split = _split(20_000)

    def recipe(epochs: int) -> TrainConfig:  # CUDA's defaults: compiled, bf16
        return TrainConfig(epochs=epochs, checkpoint_every=50, val_every=10**9, seed=0)

    # warm-up with the same settings: compiles both batch shapes (128, and the last batch's
    # 20,000 % 128 = 32), timed apart, so the run below is the schedule's own time
    t0 = time.perf_counter()
    train(build(VARIANTS[MODEL]), MODEL, _split(256 + 20_000 % 128), None, recipe(1),
          tmp_path / "warm", resume=False, progress=False)
    warmup = time.perf_counter() - t0
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    torch.manual_seed(0)
    model = build(VARIANTS[MODEL])
    cfg = recipe(int(os.environ.get("SALBENCH_BENCH_FULL_EPOCHS", 1000)))
    res = train(model, MODEL, split, None, cfg, tmp_path / "full", resume=False,
                progress=False)
    wall = time.perf_counter() - t0
    from salbench.nets.training import read_log

    epochs = [r["train_seconds"] for r in read_log(res.log)]
    out = {"machine": machine(), "model": MODEL, "items": 20_000, "epochs": cfg.epochs,
           "wall_seconds": wall, "train_seconds": res.seconds,
           "images_per_second": res.images_per_second,
           "warmup_with_compile_seconds": warmup, "first_epoch_seconds": epochs[0],
           "steady_images_per_second": (20_000 * (len(epochs) - 1) / sum(epochs[1:])
                                        if len(epochs) > 1 else None),
           **_peak_memory()}
    RESULTS_DIR.mkdir(exist_ok=True)
    name = torch.cuda.get_device_name(0).replace(" ", "_")
    (RESULTS_DIR / f"train-full-{name}-{platform.node()}.json").write_text(
        json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
