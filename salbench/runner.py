"""``salbench run``: train (or load) a model, predict the val split, score it, record it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .console import note
from .data import DatasetSpec, load
from .io import atomic_write
from .registry import get_card


@dataclass
class RunOptions:
    model: str
    spec: DatasetSpec
    train: bool = False
    epochs: int | None = None
    seed: int = 0
    device: str = "auto"
    out: str | None = None
    protocols: tuple[str, ...] = ("replication",)
    metrics: tuple[str, ...] | None = None
    score_seed: int = 0
    resume: bool = True
    preds_pkl: bool = False
    results_dir: str | None = "leaderboards/results"
    leaderboard_dir: str | None = "leaderboards"
    plots: bool = True
    progress: bool = True


def default_out(model: str, spec: DatasetSpec, seed: int) -> Path:
    return Path("runs") / model / spec.label / f"seed{seed}"


def run(opts: RunOptions) -> dict:
    """Returns ``{"results": [...], "out": ..., "training": ..., "preds": ...}``."""
    from . import registry
    from .metrics import score_dataset
    from .metrics.protocols import get_protocol
    from .results import Stopwatch, build_result, result_path, save_result

    card = get_card(opts.model)
    metrics = {p: get_protocol(p).select_metrics(opts.metrics) for p in opts.protocols}
    if opts.spec.name not in card.datasets:
        raise ValueError(f"model {card.name!r} runs on {', '.join(card.datasets)} only, "
                         f"not {opts.spec.name!r}")
    out = Path(opts.out) if opts.out else default_out(card.name, opts.spec, opts.seed)
    model = registry.create(card.name)
    val = load(opts.spec, "val")
    training = None
    if opts.train and not model.trainable:
        note(f"{card.name} has nothing to train; scoring it")
    if opts.train and model.trainable:
        train_split = load(opts.spec, "train")
        res = model.fit(train_split, val, out, epochs=opts.epochs, seed=opts.seed,
                        device=opts.device, resume=opts.resume, progress=opts.progress)
        if res is not None:
            training = {k: v for k, v in asdict(res).items() if k != "history"}
        if not _is_rank0():
            return {"results": [], "out": str(out), "training": training}
    if model.trainable:
        try:
            ckpt = model.load(out)
        except FileNotFoundError:
            raise FileNotFoundError(f"no trained {card.name!r} in {out}; add --train to train "
                                    "it (or --out to point at an earlier run)") from None
        if ckpt:
            note(f"{card.name}: using {ckpt}")
    watch = Stopwatch()
    preds = model.predict(val, device=opts.device).astype(np.float32)
    out.mkdir(parents=True, exist_ok=True)
    preds_path = out / "preds.npz"
    with atomic_write(preds_path) as f:
        np.savez(f, preds=preds, file_names=np.asarray(val.file_names, dtype=str))
    if opts.preds_pkl:
        from .data.study import write_predictions_pkl

        write_predictions_pkl(preds, out / "preds.pkl")
    predict_s = watch.seconds
    results = []
    # baselines are numpy: importing torch just to name the device would cost seconds
    device = _device_info(opts.device) if card.kind == "network" else {"device": "cpu"}
    fixations, names, fingerprint = val.fixation_list(), list(val.file_names), val.fingerprint()
    for protocol in opts.protocols:
        watch = Stopwatch()
        scores = score_dataset(preds, fixations, val.sizes, protocol=protocol,
                               metrics=metrics[protocol], seed=opts.score_seed, names=names)
        r = build_result(scores, model=card.name, dataset_label=opts.spec.label, split="val",
                         fingerprint=fingerprint, card=card,
                         checkpoint=model.checkpoint,
                         checkpoint_epoch=getattr(model, "checkpoint_epoch", None),
                         training=training,
                         wall_time_s=predict_s + watch.seconds, device=device)
        save_result(r, out / f"result-{protocol}.json")
        if opts.results_dir:
            save_result(r, result_path(opts.results_dir, opts.spec.label, protocol,
                                       card.name))
        results.append(r)
    if opts.leaderboard_dir and opts.results_dir:
        from .leaderboard import rebuild

        rebuild(opts.results_dir, opts.leaderboard_dir)
    if opts.plots:
        from . import plots

        plots.for_run(out, val, preds, results[0] if results else None, model)
    return {"results": results, "out": str(out), "training": training,
            "preds": str(preds_path)}


def _is_rank0() -> bool:
    import os

    return int(os.environ.get("RANK", "0")) == 0


def _device_info(device: str) -> dict:
    try:
        import torch
    except ImportError:
        return {"device": "cpu"}
    if device in ("auto", "cuda") and torch.cuda.is_available():
        return {"device": torch.cuda.get_device_name(0), "torch": torch.__version__}
    return {"device": "cpu", "torch": torch.__version__}
