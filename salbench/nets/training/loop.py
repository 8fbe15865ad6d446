"""The training loop (design §5.2, §5.4).

The recipe: loss averaged over the batch, SGD with Nesterov momentum 0.9 and weight decay
5e-4, batch 128, the learning rate set at the start of each epoch from ``linspace(0.03,
0.0001, epochs)``; validation loss every 5 epochs, training loss every 5 steps, a
checkpoint every 50 epochs and at the end.

Speed without changing the recipe: the whole split lives on the device (uint8 inputs);
shuffling is a permutation, mirrored copies come from indexing, losses stay on the device
until the end of the epoch (one host sync per epoch), SGD runs fused (CUDA) or
multi-tensor; on CUDA the forward pass runs under bf16 autocast (where supported) and
``torch.compile`` (falling back to eager, with a warning, if compiling fails), or with
``compile="reduce-overhead"`` compiled and replayed as CUDA graphs.

Reproducible and resumable: initial weights come from ``seed``, epoch ``e``'s permutation
from a generator seeded with ``(seed, e)``, so a run resumed from a checkpoint replays
exactly what the uninterrupted run would have done — on the CPU bit for bit (tested); on
CUDA as far as PyTorch's deterministic algorithms allow (``deterministic=True`` selects
them; atomics in some kernels can still reorder sums).  Ctrl-C or SIGTERM finishes the
current step and writes a mid-epoch checkpoint, so an interruption loses nothing.  Each
checkpoint records the data's fingerprints, the device type and the precision; resuming
under different ones is refused.

Multi-GPU: launched under ``torchrun``, each process takes its share of every global batch
and PyTorch's DistributedDataParallel averages the gradients (gloo on CPU, nccl on CUDA).
"""

from __future__ import annotations

import math
import signal
import threading
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ...console import note
from ...data.split import Split
from ...errors import UserError
from ...lock import RunLock
from ...loss_spec import PIXEL_LOSSES, describe
from . import checkpoints, log
from .config import GRAPHS, SCHEDULE_FIELDS, TrainConfig, TrainResult
from .data import DeviceData
from .device import bf16_supported, dist_info, launched_by_torchrun, resolve_device

ESTIMATE_STEPS = 20  # steps timed (after the warm-up's) before the duration is estimated
LONG_ON_CPU_S = 3600.0
QUIET_BELOW_S = 30.0  # runs shorter than this get no estimate


class PixelLoss:
    """MSE or L1 over pixels, per image: ``(pred, target, fixations, reduction)``."""

    needs_fixations = False

    def __init__(self, name: str) -> None:
        self.fn = nn.functional.mse_loss if name == "mse" else nn.functional.l1_loss

    def __call__(self, pred, target, fixations=None, reduction: str = "mean"):
        if reduction == "mean":  # equal-sized maps: the batch mean of per-image means
            return self.fn(pred, target)
        per_image = self.fn(pred, target, reduction="none").mean(dim=(1, 2))
        return per_image.sum() if reduction == "sum" else per_image


def loss_function(config: TrainConfig):
    """The config's loss as ``f(pred, target, fixations=None, reduction="mean")``, where
    ``"sum"`` sums per-image values (``salbench.losses`` for the distribution losses)."""
    if config.loss in PIXEL_LOSSES:
        return PixelLoss(config.loss)
    from ...losses import make_loss

    return make_loss(config.loss, config.loss_weights)


def make_optimizer(model: nn.Module, config: TrainConfig, device: torch.device):
    """SGD with Nesterov momentum (the recipe) or Adam; fused kernels on CUDA, multi-tensor
    (foreach) on CPU.  A generator/discriminator pair gets the recipe's optimizer for the
    generator and Adam for the discriminator."""
    fast = {"fused": True} if device.type == "cuda" else {"foreach": True}
    params = (model.generator if _is_pair(model) else model).parameters()
    if config.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=config.lr(0), momentum=config.momentum,
                              nesterov=config.nesterov, weight_decay=config.weight_decay,
                              **fast)
    else:
        opt = torch.optim.Adam(params, lr=config.lr(0), weight_decay=config.weight_decay,
                               **fast)
    if _is_pair(model):
        from .adversarial import AlternatingOptimizers, discriminator_optimizer

        return AlternatingOptimizers(opt, discriminator_optimizer(model, config, fast))
    return opt


def _is_pair(model: nn.Module) -> bool:
    return hasattr(model, "discriminator")


def _check_objective(model: nn.Module, config: TrainConfig, loss_fn, distributed: bool,
                     train_split: Split) -> None:
    """The loss, the network's output and the data must fit together."""
    if _is_pair(model) != (config.adversarial_weight > 0):
        raise UserError("adversarial training needs both a discriminator (a variant with "
                        "discriminator > 0) and adversarial_weight > 0; this run has "
                        + ("the discriminator only" if _is_pair(model) else
                           "adversarial_weight only"),
                        hint="fix the model card's variant or [train] adversarial_weight")
    if _is_pair(model) and distributed:
        raise UserError("adversarial training runs on one process",
                        hint="launch it without torchrun")
    if loss_fn.needs_fixations and not len(train_split.fix_rc):
        raise UserError(f"the {config.loss!r} loss needs fixations of the training images, "
                        f"and {train_split.dataset}/{train_split.name} has none",
                        hint="train on a data set with fixations (synth, a prepared SALICON)")


def _perm(n: int, seed: int, epoch: int, device: torch.device) -> torch.Tensor:
    g = torch.Generator(device="cpu")
    g.manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=g).to(device)


class _StopRequest:
    """SIGINT/SIGTERM: finish the step, checkpoint, stop.  A second signal stops at once."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._old: dict = {}

    def __enter__(self) -> _StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.signal is not None:
            raise KeyboardInterrupt
        self.signal = signum
        note("stopping after this step (a checkpoint will be written); press Ctrl-C again "
             "to stop at once, losing the unsaved steps")

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _check_resumable(path: Path, state: dict, config: TrainConfig, meta: dict) -> None:
    """Resuming under other settings, data, device or precision would splice two runs."""
    saved = state.get("config", {})
    now = asdict(config)
    diff = [f"{k} {saved.get(k)!r} -> {now[k]!r}" for k in SCHEDULE_FIELDS
            if k in saved and saved[k] != now[k]]
    for key in ("data", "device_type", "amp"):
        if key in state and state[key] != meta[key]:
            diff.append(f"{key} {state[key]!r} -> {meta[key]!r}")
    if diff:
        raise UserError(f"this checkpoint belongs to a run with other settings "
                        f"({'; '.join(diff)})", path,
                        "resume with the same settings, or start a new run (--no-resume, or "
                        "another --out)")


def _archive_previous(out: Path) -> None:
    """--no-resume: earlier checkpoints and log are moved aside, never deleted."""
    old = checkpoints.listed(out)
    logp = out / log.LOG_NAME
    if not old and not logp.exists():
        return
    aside = out / f"replaced-{time.strftime('%Y%m%dT%H%M%S')}"
    aside.mkdir(exist_ok=True)
    for p in [*old, logp]:
        if p.exists():
            p.rename(aside / p.name)
    note(f"starting over: the earlier checkpoints and log are in {aside}")


def train(model: nn.Module, model_name: str, train_split: Split, val_split: Split | None,
          config: TrainConfig, out: str | Path, resume: bool = True,
          resume_from: str | Path | None = None, progress: bool = True) -> TrainResult:
    """Train ``model`` in place; checkpoints and ``train_log.jsonl`` go to ``out``.

    ``resume``: continue from the newest valid checkpoint in ``out`` (False: start over,
    moving earlier checkpoints aside).  ``resume_from``: continue from this checkpoint.
    """
    out = Path(out)
    if not len(train_split):  # refused before anything is written: no step, a NaN loss
        raise UserError(f"{train_split.dataset}/{train_split.name} has no images to train on",
                        hint="give a training split with images (salbench data synth "
                             "--train N, or SALBENCH_SYNTH=TRAIN,VAL), or run without "
                             "--train")
    device = resolve_device(config.device)
    if config.compile == GRAPHS:  # refused before anything is written
        _check_graphs(model, device, launched_by_torchrun())
    rank, world = dist_info(device.type)
    if rank == 0:
        with RunLock(out):
            return _train(model, model_name, train_split, val_split, config, out, resume,
                          resume_from, progress, rank, world, device)
    return _train(model, model_name, train_split, val_split, config, out, resume,
                  resume_from, progress, rank, world, device)


def _diverged(out: Path, epoch: int, first: int, losses: np.ndarray, rank: int) -> None:
    """Stop a training whose loss stopped being finite in 0-based ``epoch``: its weights
    are no longer numbers, so no checkpoint of them is written, and every later epoch
    would train nothing (a full schedule's hours on a GPU)."""
    bad = int(np.flatnonzero(~np.isfinite(losses))[0])
    kept = checkpoints.latest(out) if rank == 0 else None
    raise UserError(f"training diverged: the loss is {losses[bad]} from step {first + bad + 1} "
                    f"(epoch {epoch + 1}); stopped without saving those weights",
                    out, (f"the newest checkpoint, {kept.name}, holds finite weights; "
                          if kept else "") + "lower the learning rate, or train in fp32 "
                    "(amp = 'off' in the card's [train])")


def _train(model, model_name, train_split, val_split, config, out, resume, resume_from,
           progress, rank, world, device) -> TrainResult:
    distributed = launched_by_torchrun()
    if device.type == "cuda" and distributed:
        device = torch.device("cuda", torch.cuda.current_device())
    if config.batch_size % world:
        raise UserError(f"batch size {config.batch_size} does not split over {world} "
                        "processes", hint="choose a batch size divisible by the process count")
    if config.amp == "bf16" and not bf16_supported(device):
        raise UserError(f"bf16 autocast is not supported on {device}", hint="use amp = 'off'")
    use_amp = config.amp == "bf16" or (config.amp == "auto" and device.type == "cuda"
                                      and bf16_supported(device))
    use_compile = (config.compile in ("on", GRAPHS)
                   or (config.compile == "auto" and device.type == "cuda"))
    graphs = config.compile == GRAPHS
    if device.type == "cuda" and config.deterministic_cuda:
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    loss_fn = loss_function(config)
    _check_objective(model, config, loss_fn, distributed, train_split)
    model.to(device)
    opt = make_optimizer(model, config, device)
    if _is_pair(model):
        from .adversarial import AdversarialStep

        step_loss = AdversarialStep(model, opt, loss_fn, config.adversarial_weight)
    else:
        def step_loss(x, pred, target, fixations):
            loss = loss_fn(pred, target, fixations)
            return loss, loss
    meta = {"data": {"train": train_split.fingerprint(),
                     "val": val_split.fingerprint() if val_split is not None else None},
            "device_type": device.type, "amp": use_amp}

    start, start_step, partial = 0, 0, []
    resumed = None
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        stale = checkpoints.clean_temporaries(out)
        if stale:
            note(f"removed {stale} temporary file(s) left by an interrupted checkpoint write")
    if resume_from is not None:
        found = (Path(resume_from), checkpoints.load(resume_from, model_name))
    elif resume:
        found = checkpoints.latest_valid(out, model_name)
    else:
        found = None
        if rank == 0:
            _archive_previous(out)
    if found is not None:
        ckpt, state = found
        _check_resumable(ckpt, state, config, meta)
        model.load_state_dict(state["state_dict"])
        if state.get("optimizer"):
            opt.load_state_dict(state["optimizer"])
        start, start_step = int(state["epoch"]), int(state.get("step", 0))
        partial = list(state.get("partial_losses", []))
        resumed = start
        if start_step and start >= config.last_epoch:
            raise UserError(
                f"{ckpt.name} holds epoch {start + 1} in part ({start_step} steps), past the "
                f"{config.last_epoch} epochs asked for: its weights are not those of "
                f"{config.last_epoch} epochs", ckpt.parent,
                f"stop after {start + 1} or more epochs to finish that epoch, or --resume an "
                "end-of-epoch checkpoint into another --out")
        if start >= config.last_epoch:
            if rank == 0:
                note(f"{ckpt.name}: already trained {start} epochs; nothing to do")
            return TrainResult(0, resumed, None, None, 0.0, 0.0, str(ckpt), str(device),
                               str(out / log.LOG_NAME), epochs_done=start,
                               schedule_epochs=config.epochs)
        if rank == 0:
            where = f"{start} of {config.epochs} epochs done" + (
                f", {start_step} steps into epoch {start + 1}" if start_step else "")
            note(f"resuming from {ckpt} ({where})")

    net = model
    if distributed:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda"
                                      else None)
    fwd = net
    if use_compile:
        fwd = torch.compile(net, mode=GRAPHS) if graphs else torch.compile(net)

    fix = loss_fn.needs_fixations
    data = DeviceData(train_split, device, fixations=fix)
    val = (DeviceData(val_split, device, fixations=fix)
           if val_split is not None and len(val_split) else None)
    n = data.n
    steps = math.ceil(n / config.batch_size)
    log_path = out / log.LOG_NAME
    if rank == 0:
        log.truncate(log_path, start)

    history: list[dict] = []
    step_losses = torch.zeros(steps, device=device)
    if partial:
        step_losses[:len(partial)] = torch.tensor(partial, device=device)
    t0 = time.perf_counter()
    seen = 0
    last_train = last_val = None
    estimated = False
    interrupted = False
    done = start
    from ...progress import WARMUP_STEPS, TrainProgress

    bar = TrainProgress(model_name, config.epochs, steps, config.batch_size, start, start_step,
                        show=progress and rank == 0,
                        sync=torch.cuda.synchronize if device.type == "cuda" else None)
    with bar, _StopRequest() as stop:
        for epoch in range(start, config.last_epoch):
            t_epoch = time.perf_counter()
            lr = config.lr(epoch)
            for group in opt.param_groups:
                group["lr"] = lr
            net.train()
            perm = _perm(n, config.seed, epoch, device)
            first_step = start_step if epoch == start else 0
            for s in range(first_step, steps):
                batch = perm[s * config.batch_size:(s + 1) * config.batch_size]
                lo = rank * len(batch) // world
                hi = (rank + 1) * len(batch) // world
                x, y, f = data.batch(batch[lo:hi])
                if graphs and fwd is not net:  # a new step: the last one's outputs are free
                    torch.compiler.cudagraph_mark_step_begin()
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                    try:
                        pred = fwd(x)
                    except Exception as exc:  # torch.compile fails lazily, at the first call
                        if fwd is net:
                            raise
                        note(f"torch.compile failed ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:120] if str(exc) else ''}); "
                             "training eagerly")
                        fwd = net
                        pred = fwd(x)
                if world == 1:
                    loss, logged = step_loss(x, pred.float(), y, f)
                else:
                    # DDP averages gradients over processes: scale this shard's summed loss
                    # so the average is the global batch's mean (an empty shard adds 0)
                    loss = loss_fn(pred.float(), y, f, reduction="sum") * (world / len(batch))
                    logged = loss
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                step_losses[s] = logged.detach()
                seen += hi - lo
                bar.step()
                if not estimated and rank == 0 and (bar.steps_run >= WARMUP_STEPS + ESTIMATE_STEPS
                                                   or s == steps - 1):
                    estimated = True
                    _estimate(bar, config, n, device, model_name)
                if s < steps - 1 and stop.signal is not None:
                    if rank == 0:
                        path = checkpoints.path_for(out, epoch, s + 1)
                        checkpoints.save(path, model, opt, config, model_name, epoch=epoch,
                                         step=s + 1,
                                         partial_losses=step_losses[:s + 1].cpu().tolist(),
                                         meta=meta)
                        checkpoints.prune(out, config.keep_checkpoints)
                        note(f"interrupted in epoch {epoch + 1}, step {s + 1}: wrote {path}")
                    interrupted = True
                    break
            if interrupted:
                break
            done = epoch + 1
            if world > 1:  # each process logged its scaled shard; their mean is global
                torch.distributed.all_reduce(step_losses)
                step_losses /= world
            losses = step_losses.cpu().numpy()  # the epoch's one host sync
            last_train = float(losses.mean())
            first = epoch * steps  # 0-based global step of this epoch's first batch
            record = {"epoch": done, "lr": lr, "loss": config.loss,
                      "loss_label": describe(config.loss, config.loss_weights),
                      "train_loss": last_train,
                      # the epoch's steps (after the sync above), validation excluded
                      "train_seconds": round(time.perf_counter() - t_epoch, 4),
                      "step_losses": {first + s + 1: float(losses[s]) for s in range(steps)
                                      if (first + s) % config.log_every_steps == 0}}
            if val is not None and (done % config.val_every == 0 or done == config.epochs):
                last_val = evaluate_loss(model, val, loss_fn, device, use_amp)
                record["val_loss"] = last_val
            history.append(record)
            if rank == 0:
                log.append(log_path, record)
            if not np.isfinite(losses).all():  # every process: the losses are all-reduced
                _diverged(out, epoch, first, losses, rank)
            stopping = stop.signal is not None
            final = done == config.last_epoch or stopping
            if done % config.checkpoint_every == 0 or final:
                if rank == 0:
                    checkpoints.save(checkpoints.path_for(out, done), model, opt, config,
                                     model_name, epoch=done, meta=meta)
                    checkpoints.prune(out, config.keep_checkpoints)
                if world > 1:
                    torch.distributed.barrier()
            bar.epoch_done(done, last_train, record.get("val_loss"))  # only when measured
            if stopping:
                interrupted = done < config.last_epoch
                break
    seconds = time.perf_counter() - t0
    latest = checkpoints.latest(out) if rank == 0 else None
    return TrainResult(
        epochs_run=done - start, resumed_from=resumed, final_train_loss=last_train,
        final_val_loss=last_val, seconds=seconds,
        images_per_second=seen * world / seconds if seconds > 0 else 0.0,
        checkpoint=str(latest or checkpoints.path_for(out, done)), device=str(device),
        log=str(log_path), epochs_done=done, schedule_epochs=config.epochs,
        interrupted=interrupted, processes=world, ddp=distributed, history=history)


def _check_graphs(model: nn.Module, device: torch.device, distributed: bool) -> None:
    """CUDA graphs (``compile="reduce-overhead"``) only where they were tested on a GPU: one
    CUDA process training one network (not an adversarial pair)."""
    hint = "use compile = 'auto' (the default)"
    if device.type != "cuda":
        raise UserError(f"compile 'reduce-overhead' replays CUDA graphs; this run trains on "
                        f"{device}", hint=hint + " or train with --device cuda")
    if distributed:
        raise UserError("compile 'reduce-overhead' is not supported under torchrun", hint=hint)
    if _is_pair(model):
        raise UserError("compile 'reduce-overhead' is not supported for adversarial training",
                        hint=hint)


def _estimate(bar, config: TrainConfig, n: int, device: torch.device, name: str) -> None:
    """Measured throughput so far, and what the whole schedule will take at that rate."""
    bar.synced()
    ips = bar.images_per_second()
    if not ips:
        return
    remaining = (config.last_epoch * n - bar.items_done(n)) / ips
    total = config.epochs * n / ips
    if remaining < QUIET_BELOW_S:
        return
    msg = (f"{ips:,.0f} images/s over {bar.timed_steps()} steps: this run needs about "
           f"{_hms(remaining)}; the full {config.epochs}-epoch schedule about {_hms(total)}")
    if device.type == "cpu" and total > LONG_ON_CPU_S:
        msg += (". The recipe is meant for a GPU (--device cuda); on a CPU, train "
                "'shallow-pan-small', or stop early with --stop-after N (resumable)")
    note(msg)


def _hms(seconds: float) -> str:
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@torch.no_grad()
def evaluate_loss(model: nn.Module, data: DeviceData, loss_fn, device, use_amp: bool,
                  batch: int = 256) -> float:
    model.eval()
    total = torch.zeros((), device=device)
    for s in range(0, data.n, batch):
        idx = torch.arange(s, min(data.n, s + batch), device=device)
        x, y, f = data.batch(idx)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            pred = model(x)
        total += loss_fn(pred.float(), y, f, reduction="sum")
    model.train()
    return float(total) / data.n
