"""Where a training step of ``shallow-pan`` spends its time, and which settings change it.

Run on a GPU (``python benchmarks/train_step_variants.py``): each variant trains STEPS
steps of batch 128 on random device-resident data after a warm-up (compile included in the
warm-up, reported apart), synchronises once, and prints images/s; then a torch.profiler
table of the default step's kernels.  Variants: eager or compiled; cuDNN deterministic
(salbench's default, for exact resume) or ``benchmark=True``; NCHW or channels-last; bf16
autocast or fp32 with TF32.  ``python ... graphs`` sets the default step beside CUDA graphs:
``torch.compile(mode="reduce-overhead")`` and the whole step (gather, forward, backward,
optimizer) captured by hand in one ``torch.cuda.CUDAGraph``, replayed per step.  ``trainer``,
``trainer-graphs`` and ``full`` time salbench's own trainer (``full``: the whole 1,000-epoch
schedule).  This is a diagnostic, not a benchmark of record.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from salbench.nets.shallow_pan import VARIANTS, build

STEPS = int(os.environ.get("STEPS", 60))
BATCH = 128
MODEL = os.environ.get("SALBENCH_BENCH_MODEL", "shallow-pan")
DEVICE = torch.device(os.environ.get("DEVICE", "cuda"))  # DEVICE=cpu: a smoke test


def sync() -> None:
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def _setup(deterministic: bool, amp: bool, fmt: torch.memory_format, fused: bool):
    """The backends' settings, the model, its optimizer and 2,048 random device items."""
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = not amp
    torch.manual_seed(0)
    model = build(VARIANTS[MODEL]).to(DEVICE).to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True,
                          weight_decay=5e-4, fused=fused)
    x_all = torch.randint(0, 256, (2048, 3, 96, 96), dtype=torch.uint8, device=DEVICE)
    y_all = torch.rand(2048, 48, 48, device=DEVICE)
    return model, opt, x_all, y_all


def run(compile_: bool | str, deterministic: bool, channels_last: bool, amp: bool,
        steps: int = STEPS, profile: bool = False) -> None:
    """``compile_``: False (eager), True (``torch.compile``) or a ``torch.compile`` mode."""
    dev = DEVICE
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model, opt, x_all, y_all = _setup(deterministic, amp, fmt, fused=dev.type == "cuda")
    mode = compile_ if isinstance(compile_, str) else None
    fwd = torch.compile(model, mode=mode) if compile_ else model

    def step(i: int) -> None:
        if mode == "reduce-overhead":
            torch.compiler.cudagraph_mark_step_begin()
        idx = torch.randint(0, 2048, (BATCH,), device=dev)
        x = (x_all[idx].float() / 255).contiguous(memory_format=fmt)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
            pred = fwd(x)
        loss = torch.nn.functional.mse_loss(pred.float(), y_all[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    t0 = time.perf_counter()
    for i in range(3):
        step(i)
    sync()
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(steps):
        step(i)
    sync()
    dt = time.perf_counter() - t0
    name = (f"{mode or ('compiled' if compile_ else 'eager'):8s} "
            f"{'deterministic' if deterministic else 'benchmark':13s} "
            f"{'channels_last' if channels_last else 'nchw':13s} {'bf16' if amp else 'tf32'}")
    print(f"{name}: {BATCH * steps / dt:9.0f} images/s  {1e3 * dt / steps:7.2f} ms/step  "
          f"(warm-up {warm:5.1f} s)", flush=True)
    if profile:
        from torch.profiler import ProfilerActivity
        from torch.profiler import profile as prof

        kind = ProfilerActivity.CUDA if DEVICE.type == "cuda" else ProfilerActivity.CPU
        with prof(activities=[kind]) as p:
            for i in range(10):
                step(i)
            sync()
        print(p.key_averages().table(sort_by=f"self_{DEVICE.type}_time_total", row_limit=22,
                                     max_name_column_width=70), flush=True)


def main_steps() -> None:
    print(torch.cuda.get_device_name(0) if DEVICE.type == "cuda" else "cpu", torch.__version__,
          flush=True)
    run(False, True, False, True, profile=True)  # eager, salbench's cuDNN setting
    run(False, False, False, True)
    run(False, False, True, True)
    run(False, True, True, True)
    run(False, False, False, False)
    run(True, True, False, True)  # salbench's default on CUDA
    run(True, False, True, True, profile=True)
    run(True, False, False, True)


def run_graphed(deterministic: bool, amp: bool, fused: bool, steps: int = STEPS) -> None:
    """The whole step in one hand-captured CUDA graph: random indices are drawn outside it
    into a static buffer, the gather, forward, backward and SGD step replay inside it."""
    dev = DEVICE
    model, opt, x_all, y_all = _setup(deterministic, amp, torch.contiguous_format, fused)
    idx = torch.zeros(BATCH, dtype=torch.long, device=dev)

    def draw() -> None:
        idx.copy_(torch.randint(0, 2048, (BATCH,), device=dev))

    def body() -> torch.Tensor:
        x = x_all[idx].float() / 255
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp, cache_enabled=False):
            pred = model(x)
        loss = torch.nn.functional.mse_loss(pred.float(), y_all[idx])
        loss.backward()
        opt.step()
        return loss

    t0 = time.perf_counter()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up off the default stream, as capture requires
        for _ in range(3):
            draw()
            opt.zero_grad(set_to_none=True)
            body()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=True)  # backward in the graph writes fresh gradients
    with torch.cuda.graph(graph):
        body()
    sync()
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(steps):
        draw()
        graph.replay()
    sync()
    dt = time.perf_counter() - t0
    name = (f"graphed  {'deterministic' if deterministic else 'benchmark':13s} nchw          "
            f"{'bf16' if amp else 'tf32'} {'fused' if fused else 'foreach'} SGD")
    print(f"{name}: {BATCH * steps / dt:9.0f} images/s  {1e3 * dt / steps:7.2f} ms/step  "
          f"(warm-up and capture {warm:5.1f} s)", flush=True)


def main_graphs() -> None:
    """salbench's default step against CUDA graphs (``python ... graphs``); each variant
    reports its error and the next one runs."""
    print(torch.cuda.get_device_name(0), torch.__version__, flush=True)
    variants = [lambda: run(True, True, False, True),  # salbench's default on CUDA
                lambda: run(False, True, False, True),
                lambda: run("reduce-overhead", True, False, True),
                lambda: run_graphed(True, True, fused=True),
                lambda: run_graphed(True, True, fused=False),
                lambda: run_graphed(False, True, fused=True)]
    for variant in variants:
        try:
            variant()
        except Exception as exc:  # a diagnostic: say what failed and go on
            print(f"variant failed: {type(exc).__name__}: {exc}"[:400], flush=True)


def _train_random(items: int, epochs: int, **settings):
    """salbench's own trainer on ``items`` random items, no validation (``settings``: more
    ``TrainConfig`` fields): its result, its config and how long each checkpoint write
    took."""
    import tempfile

    from test_train import _split  # the benchmarks' random mirrored train split

    from salbench.nets.training import checkpoints
    from salbench.nets.training.config import TrainConfig
    from salbench.nets.training.loop import train

    split = _split(items)
    saves = []
    real = checkpoints.save

    def timed_save(*a, **k):
        t = time.perf_counter()
        real(*a, **k)
        saves.append(time.perf_counter() - t)

    torch.manual_seed(0)
    model = build(VARIANTS[MODEL])
    cfg = TrainConfig(epochs=epochs, val_every=10**9, device=DEVICE.type, **settings)
    checkpoints.save = timed_save
    try:
        with tempfile.TemporaryDirectory() as out:
            res = train(model, MODEL, split, None, cfg, out, resume=False, progress=False)
    finally:
        checkpoints.save = real
    return res, cfg, saves


def trainer(items: int, epochs: int, **settings) -> None:
    """salbench's own trainer on ``items`` random items: its time per step with the final
    checkpoint's write taken out (timed apart)."""
    res, cfg, saves = _train_random(items, epochs, checkpoint_every=10**9, **settings)
    steps = epochs * -(-items // cfg.batch_size)
    work = res.seconds - sum(saves)
    print(f"trainer {settings or 'defaults'} {items} items x {epochs} epochs: "
          f"{res.seconds:6.2f} s, checkpoint writes {sum(saves):5.2f} s, "
          f"{1e3 * work / steps:6.2f} ms/step, {items * epochs / work:8.0f} images/s", flush=True)


def main_trainer() -> None:
    """The trainer against the bare steps above (``python ... trainer``)."""
    items = int(os.environ.get("ITEMS", 20_000))
    epochs = int(os.environ.get("EPOCHS", 2))
    trainer(items, epochs)  # compiles (in the timing: the first epoch's number is high)
    trainer(items, epochs)  # compiled code reused: the steady state
    trainer(items - items % 256, epochs)  # no short last batch
    trainer(items, epochs, compile="off")
    trainer(items, epochs, compile="off", deterministic_cuda=False)


def main_trainer_graphs() -> None:
    """The trainer's default against ``compile="reduce-overhead"`` (``python ...
    trainer-graphs``): each run twice, the second reusing the first's compiled code."""
    items = int(os.environ.get("ITEMS", 20_000))
    epochs = int(os.environ.get("EPOCHS", 2))
    for settings in ({}, {"compile": "reduce-overhead"}):
        trainer(items, epochs, **settings)
        trainer(items, epochs, **settings)


def main_full() -> None:
    """The whole schedule end to end (``python ... full``): salbench's trainer, 1,000 epochs
    of 20,000 random items with the recipe's checkpoints (every 50 epochs, their writes
    counted) and no validation; ``COMPILE`` picks the mode (reduce-overhead by default)."""
    t0 = time.perf_counter()
    items = int(os.environ.get("ITEMS", 20_000))
    res, cfg, saves = _train_random(items, int(os.environ.get("EPOCHS", 1000)),
                                    compile=os.environ.get("COMPILE", "reduce-overhead"))
    print(f"{torch.cuda.get_device_name(0) if DEVICE.type == 'cuda' else 'cpu'} "
          f"compile={cfg.compile}: {res.epochs_done} epochs, interrupted {res.interrupted}, "
          f"train {res.seconds:.1f} s ({len(saves)} checkpoint writes {sum(saves):.1f} s), "
          f"process {time.perf_counter() - t0:.1f} s, {res.images_per_second:.0f} images/s, "
          f"final train loss {res.final_train_loss}", flush=True)
    epochs = [r["train_seconds"] for r in res.history]
    for i in sorted({0, 1, len(epochs) - 2, len(epochs) - 1} & set(range(len(epochs)))):
        print(f"epoch {i + 1}: {epochs[i]:.4f} s", flush=True)
    if len(epochs) > 1:  # the rate once compiled and recorded: from epoch 2 on
        print(f"steady {items * (len(epochs) - 1) / sum(epochs[1:]):.0f} images/s "
              f"(epochs 2-{len(epochs)})")
    if DEVICE.type == "cuda":
        print(f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")


if __name__ == "__main__":
    {"trainer": main_trainer, "graphs": main_graphs,
     "trainer-graphs": main_trainer_graphs, "full": main_full}.get(
        sys.argv[1] if len(sys.argv) > 1 else "", main_steps)()
