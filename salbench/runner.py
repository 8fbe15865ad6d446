"""``salbench run``: train (or load) a model, predict the val split, evaluate, record.

The run directory (``runs/ENTRY/DATASET`` by default) belongs to one run at a time (a lock
names the holder); the scoring and recording are :func:`salbench.evaluate.evaluate`.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .console import note
from .data import DatasetSpec, load
from .errors import UserError
from .io import atomic_write
from .lock import RunLock, is_rank0
from .registry import Card, get_card
from .results import Result, Stopwatch, Store, check_name
from .rundir import RunDir


@dataclass
class RunOptions:
    model: str
    spec: DatasetSpec
    train: bool = False
    epochs: int | None = None  # the schedule's length (the card's by default)
    stop_after: int | None = None  # stop after this many epochs of the schedule
    checkpoint_every: int | None = None
    seed: int = 0
    device: str = "auto"
    compile: str | None = None  # the card's setting unless given (TrainConfig.compile)
    out: str | None = None
    protocols: tuple = ("replication",)
    metrics: tuple[str, ...] | None = None
    score_seed: int = 0
    resume: bool = True
    resume_from: str | None = None
    preds_pkl: bool = False
    store: str | Path | None = None  # None: nothing recorded
    name: str | None = None
    normalize: str | None = None
    plots: bool = True
    plot_format: str = "png"
    progress: bool = True


@dataclass
class RunOutcome:
    results: list[Result] = field(default_factory=list)
    out: str = ""
    training: dict | None = None
    preds: str | None = None
    interrupted: bool = False
    resume_command: str = ""
    notes: list[str] = field(default_factory=list)


def entry_name(card: Card, opts: RunOptions) -> str:
    """The model plus what differs from its card: ``shallow-pan@3ep``,
    ``shallow-pan@2of1000ep,seed1``; so a short experiment never replaces a full one."""
    if opts.name is not None:  # given, even empty: checked, not replaced by a default
        return check_name(opts.name, "--name")
    quals = []
    card_epochs = card.train.get("epochs")
    epochs = opts.epochs if opts.epochs is not None else card_epochs
    if card.kind == "network":
        if opts.stop_after is not None and epochs and opts.stop_after < epochs:
            quals.append(f"{opts.stop_after}of{epochs}ep")
        elif opts.epochs is not None and opts.epochs != card_epochs:
            quals.append(f"{opts.epochs}ep")
        if opts.seed:
            quals.append(f"seed{opts.seed}")
    if opts.normalize:
        quals.append(f"norm-{opts.normalize}")
    return card.name + ("@" + ",".join(quals) if quals else "")


def checkpoint_entry_name(card: Card, opts: RunOptions, state: dict | None,
                          path: str) -> str:
    """Scoring a checkpoint without training: the entry is named for what the checkpoint
    holds (its epochs of its schedule, its seed), so a partly trained model is never filed
    under the full entry's name; a mid-epoch checkpoint is refused."""
    state = state or {}
    cfg = state.get("config") or {}
    done, total = state.get("epoch"), cfg.get("epochs")
    if done is None or not total:
        return entry_name(card, opts)
    if state.get("step"):
        raise UserError(f"{Path(path).name} is from the middle of epoch {done + 1} "
                        f"({state['step']} steps into it): no whole number of epochs to "
                        "name and score", path,
                        f"finish that epoch first: add --train --stop-after {done + 1}")
    held = replace(opts, epochs=total, stop_after=done if done < total else None,
                   seed=cfg.get("seed", opts.seed))
    return entry_name(card, held)


def default_out(name: str, spec: DatasetSpec) -> Path:
    return Path("runs") / name / spec.label


def run(opts: RunOptions) -> RunOutcome:
    from .evaluate import evaluate, protocols_for
    from .metrics.dataset import check_split

    card = get_card(opts.model)
    protos = [p if not isinstance(p, str) else protocols_for([p])[0] for p in opts.protocols]
    metrics = {p.name: p.select_metrics(opts.metrics) for p in protos}
    if opts.spec.name not in card.datasets:
        raise UserError(f"model {card.name!r} runs on {', '.join(card.datasets)} only, not "
                        f"{opts.spec.name!r}", hint="choose another --dataset")
    if opts.resume_from and not opts.train:
        raise UserError("--resume PATH continues training", hint="add --train")
    name = entry_name(card, opts)
    out = RunDir(opts.out or default_out(name, opts.spec))
    val = load(opts.spec, "val")
    for p in protos:  # a split too small for a protocol is refused before any training
        check_split(p, metrics[p.name], len(val), val.sizes)
    model = _create(card)
    outcome = RunOutcome(out=str(out.path))
    with RunLock(out.path):
        if opts.train and not model.trainable:
            note(f"{card.name} has nothing to train; scoring it")
        if opts.train and model.trainable:
            res = _train(model, card, opts, out, val)
            if res is not None:
                outcome.training = res.summary()
                if res.interrupted:
                    outcome.interrupted = True
                    outcome.resume_command = resume_command()
                    return outcome
            if not is_rank0():
                return outcome
        if model.trainable:
            ckpt = model.load(out.path)
            if ckpt:
                note(f"{card.name}: using {ckpt}")
            if not opts.train and opts.name is None:
                name = checkpoint_entry_name(card, opts, model.checkpoint_state, ckpt)
        watch = Stopwatch()
        preds = model.predict(val, device=opts.device).astype(np.float32)
        with atomic_write(out.preds) as f:
            np.savez(f, preds=preds, file_names=np.asarray(val.file_names, dtype=str))
        outcome.preds = str(out.preds)
        if opts.preds_pkl:
            from .data.study import write_predictions_pkl

            write_predictions_pkl(preds, out.path / "preds.pkl")
        device = _device_info(opts.device) if card.kind == "network" else {"device": "cpu"}
        training = outcome.training or _training_from_checkpoint(model, card)
        literature = None
        if opts.store is not None:
            from .registry import literature as lit

            literature = lit()
        results = evaluate(
            preds, val, name=name, dataset_label=opts.spec.label, protocols=protos,
            metrics=opts.metrics, seed=opts.score_seed, normalize=opts.normalize,
            model=card.name, card=card, checkpoint=model.checkpoint,
            checkpoint_epoch=model.checkpoint_epoch, training=training, device=device,
            store=opts.store, literature=literature, extra_seconds=watch.seconds,
            progress=opts.progress)
        for r in results:
            r.save(out.result_path(r.protocol_name))
        outcome.results = results
        outcome.notes = centre_bias_notes(results, card, opts.store)
        if opts.plots and results:
            from . import plots

            weights = _conv1(model)
            plots.for_run(out, val, preds, results[0], name, weights, fmt=opts.plot_format)
    return outcome


def _create(card: Card):
    from .registry import load_object

    return load_object(card.entry)(card)


def _train(model, card: Card, opts: RunOptions, out: RunDir, val):
    train_split = load(opts.spec, "train")
    overrides = {}
    if opts.stop_after is not None:
        overrides["stop_after"] = opts.stop_after
    if opts.checkpoint_every is not None:
        overrides["checkpoint_every"] = opts.checkpoint_every
    if opts.compile is not None:
        overrides["compile"] = opts.compile
    return model.fit(train_split, val, out.path, epochs=opts.epochs, seed=opts.seed,
                     device=opts.device, resume=opts.resume, resume_from=opts.resume_from,
                     progress=opts.progress, **overrides)


def _training_from_checkpoint(model, card: Card) -> dict | None:
    """What a loaded network was trained on (from its checkpoint), for the board."""
    state = getattr(model, "checkpoint_state", None)
    if not state or not state.get("config"):
        return None
    cfg = state["config"]
    return {"epochs_done": state.get("epoch"), "schedule_epochs": cfg.get("epochs"),
            "loss": cfg.get("loss"), "optimizer": cfg.get("optimizer"),
            "seed": cfg.get("seed"), "from_checkpoint": True}


def _conv1(model):
    """The first-layer filters of the network that predicts (inside a priors head or a
    generator/discriminator pair)."""
    module = getattr(model, "module", None)
    if module is None:
        return None
    module = getattr(module, "generator", module)
    module = getattr(module, "net", module)
    return module.features[0].weight.detach().cpu().numpy()


def resume_command() -> str:
    """The command that continues an interrupted run: this one, as typed."""
    args = [a for a in sys.argv[1:] if a not in ("--no-resume",)]
    return "salbench " + " ".join(shlex.quote(a) for a in args)


def centre_bias_notes(results: list[Result], card: Card, store) -> list[str]:
    """One line when an entry scores at the centre-bias level, and why that happens."""
    notes = []
    for r in results:
        s = r.metrics.get("sauc")
        if s is None or card.kind != "network":
            continue
        lo, hi = s.ci95
        at_cb = lo <= 0.5 <= hi
        cb_cc = _center_bias_cc(r, store)
        cc = r.metrics.get("cc")
        if cb_cc is not None and cc is not None and cc.mean == cc.mean:
            at_cb = at_cb and cc.mean <= cb_cc
        if not at_cb:
            continue
        t = r.training or {}
        why = "its predictions carry no more than the centre bias"
        if card.kind == "network" and t.get("schedule_epochs") and \
                (t.get("epochs_done") or 0) < t["schedule_epochs"]:
            why = (f"it ran {t.get('epochs_done')} of its {t['schedule_epochs']}-epoch "
                   "schedule; the study's recipe learns little beyond the centre bias before "
                   "its full (GPU) schedule")
        elif card.kind == "network":
            why = "the recipe or the data gives it nothing beyond the centre bias"
        cmp = f", cc {cc.mean:.3f} vs center-bias {cb_cc:.3f}" if cb_cc is not None and cc \
            else ""
        notes.append(f"{r.name} scores at the centre-bias level under {r.protocol_name} "
                     f"(sauc 95% CI {lo:.3f}–{hi:.3f} covers 0.5{cmp}): {why}")
    return notes


def _center_bias_cc(r: Result, store) -> float | None:
    if store is None:
        return None
    try:
        cb = Store(store).find("center-bias", r.dataset_label, r.protocol_name)
    except UserError:
        return None
    if cb.dataset.get("fingerprint") != r.dataset.get("fingerprint") or "cc" not in cb.metrics:
        return None
    return cb.metrics["cc"].mean


def _device_info(device: str) -> dict:
    try:
        import torch
    except ImportError:
        return {"device": "cpu"}
    if device in ("auto", "cuda") and torch.cuda.is_available():
        return {"device": torch.cuda.get_device_name(0), "torch": torch.__version__}
    return {"device": "cpu", "torch": torch.__version__}
