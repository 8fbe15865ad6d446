"""``train_log.jsonl``: one JSON record per finished epoch (no torch here, so plotting a
log never imports it).  A loss that is not finite (a diverged epoch) is written as
``null``, since JSON has neither NaN nor infinity, and read back as NaN."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from ...errors import UserError, is_number, is_whole
from ...io import atomic_write

LOG_NAME = "train_log.jsonl"


def read_log(path: str | Path) -> list[dict]:
    """The records of ``train_log.jsonl``; a last line cut short by a kill is skipped."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError("no training log", path,
                        "only trained networks have one (baselines have no training "
                        "curves); train with 'salbench run MODEL --train'") from None
    lines = [ln for ln in text.splitlines() if ln.strip()]
    out = []
    for i, ln in enumerate(lines):
        try:
            rec = json.loads(ln)
        except json.JSONDecodeError:
            if i < len(lines) - 1:
                raise UserError(f"line {i + 1} is not JSON", path,
                                "the log is damaged; retrain or remove the line") from None
            continue
        why = _odd(rec)
        if why:
            raise UserError(f"line {i + 1}: {why}", path,
                            "the log is damaged; retrain or remove the line")
        out.append(_losses_mapped(rec, _null_as_nan))
    return out


_LOSSES = ("train_loss", "val_loss")


def _is_loss(v) -> bool:
    return v is None or is_number(v)


def _null_as_nan(v):
    return math.nan if v is None else v


def _non_finite_as_null(v):
    return None if is_number(v) and not math.isfinite(v) else v


def _losses_mapped(rec: dict, f) -> dict:
    """A copy of the record with ``f`` applied to each of its losses."""
    rec = dict(rec)
    if "step_losses" in rec:
        rec["step_losses"] = {k: f(v) for k, v in rec["step_losses"].items()}
    for key in _LOSSES:
        if key in rec:
            rec[key] = f(rec[key])
    return rec


def _odd(rec) -> str | None:
    """What is wrong with a log record, for the fields readers use (None when fine)."""
    if not isinstance(rec, dict):
        return "not a record"
    if not (is_whole(rec.get("epoch")) and rec["epoch"] >= 1):
        return f"epoch {rec.get('epoch')!r} is not a whole number >= 1"
    steps = rec.get("step_losses", {})
    if not isinstance(steps, dict) or not all(
            k.isdigit() and _is_loss(v) for k, v in steps.items()):
        return "step_losses must map step numbers to losses"
    for key in _LOSSES:
        if key in rec and not _is_loss(rec[key]):
            return f"{key} {rec[key]!r} is not a number"
    for key in ("loss", "loss_label"):
        if key in rec and not isinstance(rec[key], str):
            return f"{key} {rec[key]!r} is not a text"
    return None


def _line(record: dict) -> str:
    """The record as one line of standard JSON."""
    return json.dumps(_losses_mapped(record, _non_finite_as_null), allow_nan=False)


def append(path: Path, record: dict) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(_line(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def truncate(path: Path, epoch: int) -> None:
    """On resume keep only the epochs the checkpoint holds (a line cut short by a kill is
    dropped with the rest of the lost epochs)."""
    if not path.exists():
        return
    keep = [_line(r) for r in read_log(path) if r.get("epoch", 0) <= epoch]
    with atomic_write(path, "w") as f:
        f.write("".join(ln + "\n" for ln in keep))
