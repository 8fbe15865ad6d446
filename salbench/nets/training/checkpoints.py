"""Checkpoints: written atomically, loaded with ``weights_only=True`` (no code in a
checkpoint file ever runs), found newest-valid-first.

Names: ``checkpoint-epoch00050.pt`` after a whole epoch, ``checkpoint-epoch00049-step
000012.pt`` when a run was interrupted inside epoch 50 (49 done, 12 steps of the next).
A damaged newest checkpoint is moved aside (``*.damaged``) and the newest valid one is
used instead.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from ...console import note
from ...errors import UserError
from ...io import atomic_write
from .config import TrainConfig

FORMAT = "salbench-checkpoint"
VERSION = 2  # 2: data fingerprint, device and precision, mid-epoch position
_NAME = re.compile(r"^checkpoint-epoch(\d{5})(?:-step(\d{6}))?\.pt$")


def path_for(out: Path, epoch: int, step: int = 0) -> Path:
    if step:
        return out / f"checkpoint-epoch{epoch:05d}-step{step:06d}.pt"
    return out / f"checkpoint-epoch{epoch:05d}.pt"


def position(path: Path) -> tuple[int, int] | None:
    m = _NAME.match(path.name)
    return (int(m.group(1)), int(m.group(2) or 0)) if m else None


def listed(out: Path) -> list[Path]:
    """Checkpoints in ``out``, oldest first."""
    found = [p for p in Path(out).glob("checkpoint-epoch*.pt") if position(p)]
    return sorted(found, key=position)


def latest(out: Path) -> Path | None:
    found = listed(out)
    return found[-1] if found else None


def save(path: Path, model: nn.Module, opt, config: TrainConfig, model_name: str, *,
         epoch: int, step: int = 0, partial_losses=None, meta: dict | None = None) -> None:
    state = {
        "format": FORMAT, "version": VERSION, "model": model_name, "epoch": epoch,
        "step": step, "partial_losses": list(partial_losses or []),
        "config": asdict(config), "state_dict": plain_state(model),
        "optimizer": opt.state_dict() if opt is not None else None, **(meta or {}),
    }
    with atomic_write(path) as f:
        torch.save(state, f)


def plain_state(model: nn.Module) -> dict:
    m = model.module if hasattr(model, "module") else model
    m = getattr(m, "_orig_mod", m)  # torch.compile wrapper
    return {k: v.detach().cpu() for k, v in m.state_dict().items()}


def load(path: str | Path, model_name: str | None = None) -> dict:
    """Load and check a checkpoint (``weights_only=True``: nothing in the file runs)."""
    path = Path(path)
    if not path.is_file():
        raise UserError("no such checkpoint", path, "give the path of a checkpoint-*.pt file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or foreign files
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise UserError(f"corrupt or not a salbench checkpoint ({type(exc).__name__}: "
                        f"{first[:200]})", path, "delete it (an earlier checkpoint resumes) or "
                        "give another") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise UserError("not a salbench checkpoint", path,
                        "give a checkpoint-*.pt file that salbench wrote")
    if state.get("version", 0) > VERSION:
        raise UserError("written by a newer salbench", path, "upgrade salbench")
    if model_name is not None and state.get("model") != model_name:
        raise UserError(f"a checkpoint of {state.get('model')!r}, not {model_name!r}", path,
                        f"give a checkpoint of {model_name!r}, or run {state.get('model')!r}")
    return state


def latest_valid(out: Path, model_name: str | None = None) -> tuple[Path, dict] | None:
    """The newest checkpoint that loads; damaged newer ones are moved aside with a note."""
    for path in reversed(listed(out)):
        try:
            return path, load(path, model_name)
        except UserError as exc:
            if "a checkpoint of" in exc.what:  # another model's: not damage
                raise
            aside = path.with_name(path.name + f".damaged-{int(time.time())}")
            path.rename(aside)
            note(f"{path.name} is damaged ({exc.what}); moved it to {aside.name} and "
                 "fell back to the newest valid checkpoint")
    return None


def prune(out: Path, keep: int) -> None:
    """Keep the ``keep`` newest whole-epoch checkpoints; mid-epoch ones are dropped once a
    newer checkpoint exists."""
    found = listed(out)
    if not found:
        return
    newest = found[-1]
    whole = [p for p in found if position(p)[1] == 0]
    for p in found:
        if p == newest:
            continue
        if position(p)[1] != 0 or (keep > 0 and p in whole[:-keep]):
            p.unlink(missing_ok=True)


def clean_temporaries(out: Path) -> int:
    """Remove temp files a killed checkpoint write left behind (the caller holds the run
    directory's lock, so none of them is being written)."""
    n = 0
    for p in Path(out).glob(".checkpoint-epoch*.tmp"):
        p.unlink(missing_ok=True)
        n += 1
    return n
