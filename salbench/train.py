"""Training the shallow networks (design §5.2, §5.4).

The recipe: loss averaged over the batch (MSE, or L1 for ``shallow-pan-l1``), SGD with
Nesterov momentum 0.9 and weight decay 5e-4, batch 128, the learning rate set at the start
of each epoch from ``linspace(0.03, 0.0001, epochs)``; validation loss every 5 epochs,
training loss every 5 steps, a checkpoint every 50 epochs and at the end.

Speed without changing the recipe: the whole split lives on the device (uint8 inputs);
shuffling is a permutation drawn on the device, and mirrored copies are made by indexing
(an index past the originals flips its image), so no DataLoader and no workers; losses
stay on the device until the end of the epoch (one host sync per epoch, none per step);
SGD runs fused (CUDA) or multi-tensor; on CUDA the forward pass runs under bf16 autocast
and ``torch.compile``.

Reproducible and resumable: initial weights come from ``seed``, epoch ``e``'s permutation
from a generator seeded with ``(seed, e)``, so an interrupted run resumed from a
checkpoint replays exactly what the uninterrupted run would have done.  Checkpoints are
written atomically and loaded with ``weights_only=True``.

Multi-GPU: launched under ``torchrun``, each process takes its share of every global batch
and PyTorch's DistributedDataParallel averages the gradients (gloo on CPU, nccl on CUDA).
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .console import note
from .data.split import Split
from .io import atomic_write

CKPT_FORMAT = "salbench-checkpoint"
CKPT_VERSION = 1


@dataclass
class TrainConfig:
    loss: str = "mse"
    optimizer: str = "sgd"  # "sgd" (the study's: Nesterov momentum) or "adam"
    epochs: int = 1000
    batch_size: int = 128
    lr_start: float = 0.03
    lr_end: float = 0.0001
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    val_every: int = 5
    log_every_steps: int = 5
    checkpoint_every: int = 50
    keep_checkpoints: int = 2
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"  # "auto": bf16 autocast on CUDA; "bf16"; "off"
    compile: str = "auto"  # "auto": torch.compile on CUDA; "on"; "off"

    def lr(self, epoch: int) -> float:
        """``linspace(lr_start, lr_end, epochs)[epoch]``."""
        if self.epochs == 1:
            return self.lr_start
        return self.lr_start + epoch * (self.lr_end - self.lr_start) / (self.epochs - 1)


@dataclass
class TrainResult:
    epochs_run: int
    resumed_from: int | None
    final_train_loss: float | None
    final_val_loss: float | None
    seconds: float
    images_per_second: float
    checkpoint: str
    device: str
    log: str
    history: list[dict] = field(default_factory=list)


# ---- devices, distribution ----------------------------------------------------------------


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    d = torch.device(device)
    if d.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {device}: CUDA is not available on this machine")
    return d


def dist_info() -> tuple[int, int]:
    """(rank, world size); initialises the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend)
    return dist.get_rank(), dist.get_world_size()


# ---- data on the device -------------------------------------------------------------------


class DeviceData:
    """A split's inputs (uint8) and targets on the device.  When the split's second half
    is exactly the first half mirrored (salbench's and the study's train splits), only
    the originals are stored and an index ``i >= n`` means "original ``i - n``, flipped"."""

    def __init__(self, split: Split, device: torch.device) -> None:
        x = split.inputs
        y = split.targets
        n = len(split)
        half = n // 2
        self.mirror = bool(n and n % 2 == 0 and split.mirrored[half:].all()
                           and not split.mirrored[:half].any()
                           and np.array_equal(x[half:], x[:half, ..., ::-1])
                           and np.array_equal(y[half:], y[:half, ..., ::-1]))
        if self.mirror:
            x, y = x[:half], y[:half]
        self.base = len(x)
        self.n = n
        self.scale = 255.0 if x.dtype == np.uint8 else 1.0
        self.x = torch.from_numpy(np.ascontiguousarray(x)).to(device)
        self.y = torch.from_numpy(np.ascontiguousarray(y)).to(device)

    def batch(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.mirror:
            flip = idx >= self.base
            base = torch.where(flip, idx - self.base, idx)
            x = self.x[base]
            y = self.y[base]
            f4 = flip.view(-1, 1, 1, 1)
            x = torch.where(f4, x.flip(-1), x)
            y = torch.where(f4[:, 0], y.flip(-1), y)
        else:
            x = self.x[idx]
            y = self.y[idx]
        return x.float() / self.scale, y


# ---- checkpoints --------------------------------------------------------------------------


def checkpoint_path(out: Path, epoch: int) -> Path:
    return out / f"checkpoint-epoch{epoch:05d}.pt"


def latest_checkpoint(out: Path) -> Path | None:
    found = sorted(Path(out).glob("checkpoint-epoch*.pt"))
    return found[-1] if found else None


def save_checkpoint(path: Path, model: nn.Module, opt, epoch: int, config: TrainConfig,
                    model_name: str, extra: dict | None = None) -> None:
    state = {
        "format": CKPT_FORMAT, "version": CKPT_VERSION, "model": model_name,
        "epoch": epoch, "config": asdict(config), "state_dict": _plain_state(model),
        "optimizer": opt.state_dict() if opt is not None else None, **(extra or {}),
    }
    with atomic_write(path) as f:
        torch.save(state, f)


def _plain_state(model: nn.Module) -> dict:
    m = model.module if hasattr(model, "module") else model
    m = getattr(m, "_orig_mod", m)  # torch.compile wrapper
    return {k: v.detach().cpu() for k, v in m.state_dict().items()}


def load_checkpoint(path: str | Path, model_name: str | None = None) -> dict:
    """Load and check a checkpoint (``weights_only=True``: no code in the file runs)."""
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or foreign files
        raise ValueError(f"{path}: corrupt or not a salbench checkpoint ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    if not isinstance(state, dict) or state.get("format") != CKPT_FORMAT:
        raise ValueError(f"{path}: not a salbench checkpoint")
    if state.get("version", 0) > CKPT_VERSION:
        raise ValueError(f"{path}: written by a newer salbench; upgrade salbench")
    if model_name is not None and state.get("model") != model_name:
        raise ValueError(f"{path}: a checkpoint of {state.get('model')!r}, not {model_name!r}")
    return state


# ---- training -----------------------------------------------------------------------------


_SCHEDULE = ("loss", "optimizer", "epochs", "batch_size", "lr_start", "lr_end", "momentum",
             "nesterov", "weight_decay", "seed")


def _check_same_schedule(path: Path, saved: dict, config: TrainConfig) -> None:
    """Resuming under other settings would splice two different runs together."""
    now = asdict(config)
    diff = [f"{k} {saved.get(k)!r} -> {now[k]!r}" for k in _SCHEDULE
            if k in saved and saved[k] != now[k]]
    if diff:
        raise ValueError(f"{path}: this checkpoint belongs to a run with other settings "
                         f"({'; '.join(diff)}); resume with the same settings, or start a "
                         "new run (--no-resume, or another --out)")


def _loss_fn(name: str):
    if name == "mse":
        return nn.functional.mse_loss
    if name == "l1":
        return nn.functional.l1_loss
    raise ValueError(f"unknown loss {name!r}; choose mse or l1")


def make_optimizer(model: nn.Module, config: TrainConfig, device: torch.device):
    """SGD with Nesterov momentum (the recipe) or Adam; fused kernels on CUDA, multi-tensor
    (foreach) on CPU."""
    fast = {"fused": True} if device.type == "cuda" else {"foreach": True}
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr(0), momentum=config.momentum,
                               nesterov=config.nesterov, weight_decay=config.weight_decay,
                               **fast)
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr(0),
                                weight_decay=config.weight_decay, **fast)
    raise ValueError(f"unknown optimizer {config.optimizer!r}; choose sgd or adam")


def _perm(n: int, seed: int, epoch: int, device: torch.device) -> torch.Tensor:
    g = torch.Generator(device="cpu")
    g.manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=g).to(device)


def train(model: nn.Module, model_name: str, train_split: Split, val_split: Split | None,
          config: TrainConfig, out: str | Path, resume: bool = True,
          progress: bool = True) -> TrainResult:
    """Train ``model`` in place; checkpoints and ``train_log.jsonl`` go to ``out``."""
    out = Path(out)
    rank, world = dist_info()
    device = resolve_device(config.device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", torch.cuda.current_device())
    if config.batch_size % world:
        raise ValueError(f"batch size {config.batch_size} does not split over {world} processes")
    loss_fn = _loss_fn(config.loss)
    model.to(device)
    opt = make_optimizer(model, config, device)

    start = 0
    resumed = None
    ckpt = latest_checkpoint(out) if resume else None
    if ckpt is not None:
        state = load_checkpoint(ckpt, model_name)
        _check_same_schedule(ckpt, state.get("config", {}), config)
        model.load_state_dict(state["state_dict"])
        if state.get("optimizer"):
            opt.load_state_dict(state["optimizer"])
        start = resumed = int(state["epoch"])
        if start >= config.epochs:
            if rank == 0:
                note(f"{ckpt.name}: already trained {start} epochs; nothing to do")
            return TrainResult(0, resumed, None, None, 0.0, 0.0, str(ckpt), str(device),
                               str(out / "train_log.jsonl"))
        if rank == 0:
            note(f"resuming from {ckpt} (epoch {start} of {config.epochs})")

    net = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda"
                                      else None)
    use_amp = config.amp == "bf16" or (config.amp == "auto" and device.type == "cuda")
    use_compile = config.compile == "on" or (config.compile == "auto" and device.type == "cuda")
    fwd = net
    if use_compile:
        try:
            fwd = torch.compile(net)
        except Exception as exc:  # an environment without a working compiler
            if rank == 0:
                note(f"torch.compile unavailable ({type(exc).__name__}); running eagerly")

    data = DeviceData(train_split, device)
    val = DeviceData(val_split, device) if val_split is not None and len(val_split) else None
    n = data.n
    steps = math.ceil(n / config.batch_size)
    log_path = out / "train_log.jsonl"
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        _truncate_log(log_path, start)

    history: list[dict] = []
    step_losses = torch.zeros(steps, device=device)
    t0 = time.perf_counter()
    seen = 0
    last_train = last_val = None
    from .progress import progress_bar

    with progress_bar(f"training {model_name}", config.epochs - start,
                      show=progress and rank == 0) as advance:
        for epoch in range(start, config.epochs):
            lr = config.lr(epoch)
            for group in opt.param_groups:
                group["lr"] = lr
            net.train()
            perm = _perm(n, config.seed, epoch, device)
            for s in range(steps):
                batch = perm[s * config.batch_size:(s + 1) * config.batch_size]
                lo = rank * len(batch) // world
                hi = (rank + 1) * len(batch) // world
                x, y = data.batch(batch[lo:hi])
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                    pred = fwd(x)
                if world == 1:
                    loss = loss_fn(pred.float(), y)
                else:
                    # DDP averages gradients over processes: scale this shard's summed loss
                    # so the average is the global batch's mean (an empty shard adds 0)
                    scale = world / (len(batch) * y.shape[-2] * y.shape[-1])
                    loss = loss_fn(pred.float(), y, reduction="sum") * scale
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                step_losses[s] = loss.detach()
            seen += n
            done = epoch + 1
            if world > 1:  # each process logged its scaled shard; their mean is global
                torch.distributed.all_reduce(step_losses)
                step_losses /= world
            losses = step_losses.cpu().numpy()  # the epoch's one host sync
            last_train = float(losses.mean())
            first = epoch * steps  # 0-based global step of this epoch's first batch
            record = {"epoch": done, "lr": lr, "train_loss": last_train,
                      "step_losses": {first + s + 1: float(losses[s]) for s in range(steps)
                                      if (first + s) % config.log_every_steps == 0}}
            if val is not None and (done % config.val_every == 0 or done == config.epochs):
                last_val = evaluate_loss(model, val, loss_fn, device, use_amp)
                record["val_loss"] = last_val
            history.append(record)
            if rank == 0:
                _append_log(log_path, record)
            if done % config.checkpoint_every == 0 or done == config.epochs:
                if rank == 0:
                    save_checkpoint(checkpoint_path(out, done), model, opt, done, config,
                                    model_name)
                    _prune(out, config.keep_checkpoints)
                if world > 1:
                    torch.distributed.barrier()
            advance()
    seconds = time.perf_counter() - t0
    return TrainResult(
        epochs_run=config.epochs - start, resumed_from=resumed,
        final_train_loss=last_train, final_val_loss=last_val, seconds=seconds,
        images_per_second=seen / seconds if seconds > 0 else 0.0,
        checkpoint=str(checkpoint_path(out, config.epochs)), device=str(device),
        log=str(log_path), history=history)


@torch.no_grad()
def evaluate_loss(model: nn.Module, data: DeviceData, loss_fn, device, use_amp: bool,
                  batch: int = 256) -> float:
    model.eval()
    total = torch.zeros((), device=device)
    for s in range(0, data.n, batch):
        idx = torch.arange(s, min(data.n, s + batch), device=device)
        x, y = data.batch(idx)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            pred = model(x)
        total += loss_fn(pred.float(), y, reduction="sum")
    model.train()
    return float(total) / (data.n * data.y.shape[-1] * data.y.shape[-2])


@torch.no_grad()
def predict(model: nn.Module, split: Split, device: str = "auto", batch: int = 256
            ) -> np.ndarray:
    """(N, 48, 48) float32 predictions for every item of ``split`` (fp32, eval mode)."""
    dev = resolve_device(device)
    model.to(dev).eval()
    out = []
    for s in range(0, len(split), batch):
        x = torch.from_numpy(split.inputs_float(slice(s, s + batch))).to(dev)
        out.append(model(x).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 48, 48), np.float32)


def _truncate_log(path: Path, epoch: int) -> None:
    """On resume, keep only the log lines of epochs the checkpoint contains (a line cut
    short by a kill is dropped with the rest of the lost epochs)."""
    if not path.exists():
        return
    keep = [json.dumps(r) for r in read_log(path) if r.get("epoch", 0) <= epoch]
    with atomic_write(path, "w") as f:
        f.write("".join(ln + "\n" for ln in keep))


def _append_log(path: Path, record: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _prune(out: Path, keep: int) -> None:
    found = sorted(out.glob("checkpoint-epoch*.pt"))
    for p in found[:-keep] if keep > 0 else []:
        p.unlink(missing_ok=True)


def read_log(path: str | Path) -> list[dict]:
    """The records of ``train_log.jsonl``; a last line cut short by a kill is skipped."""
    lines = [ln for ln in Path(path).read_text().splitlines() if ln.strip()]
    out = []
    for i, ln in enumerate(lines):
        try:
            out.append(json.loads(ln))
        except json.JSONDecodeError:
            if i < len(lines) - 1:
                raise ValueError(f"{path}: line {i + 1} is not JSON") from None
    return out
