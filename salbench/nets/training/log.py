"""``train_log.jsonl``: one JSON record per finished epoch (no torch here, so plotting a
log never imports it)."""

from __future__ import annotations

import json
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
        out.append(rec)
    return out


def _odd(rec) -> str | None:
    """What is wrong with a log record, for the fields readers use (None when fine)."""
    if not isinstance(rec, dict):
        return "not a record"
    if not (is_whole(rec.get("epoch")) and rec["epoch"] >= 1):
        return f"epoch {rec.get('epoch')!r} is not a whole number >= 1"
    steps = rec.get("step_losses", {})
    if not isinstance(steps, dict) or not all(
            k.isdigit() and is_number(v) for k, v in steps.items()):
        return "step_losses must map step numbers to losses"
    for key in ("val_loss", "train_loss"):
        if key in rec and not is_number(rec[key]):
            return f"{key} {rec[key]!r} is not a number"
    for key in ("loss", "loss_label"):
        if key in rec and not isinstance(rec[key], str):
            return f"{key} {rec[key]!r} is not a text"
    return None


def append(path: Path, record: dict) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def truncate(path: Path, epoch: int) -> None:
    """On resume keep only the epochs the checkpoint holds (a line cut short by a kill is
    dropped with the rest of the lost epochs)."""
    if not path.exists():
        return
    keep = [json.dumps(r) for r in read_log(path) if r.get("epoch", 0) <= epoch]
    with atomic_write(path, "w") as f:
        f.write("".join(ln + "\n" for ln in keep))
