"""Figures for papers: training curves, first-layer filters, qualitative grids.

* training curves, raw and smoothed (the replication study's Figures 2, 3 and 10): the
  training loss every 5 steps with a centred moving average (no lag behind the raw
  curve), and the validation loss every 5 epochs; the loss is named on the axis;
* first-layer filters (its Figure 4): each kernel of conv1 as an enlarged colour patch,
  each min-max scaled on its own (said in the title);
* qualitative grids (its Figures 5-9): image | ground truth | prediction for the best and
  the worst images by a metric, with colour bars and the protocol in the title.

PNG, PDF or SVG (``fmt``), at ``dpi``; writes are atomic.  Nothing here imports torch.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .errors import UserError, is_whole
from .io import atomic_write

FORMATS = ("png", "pdf", "svg")
DPI = 150
MAX_DPI = 1200  # a 1-column figure at 1200 dpi is ~4,000 px wide: print quality and more
MAX_GRID_ROWS = 32  # images per qualitative grid (a page holds far fewer)
LABEL_CHARS = 36


def check_output(fmt: str, dpi: int) -> None:
    """A known figure format and a resolution in ``1..MAX_DPI``, before any drawing."""
    if fmt not in FORMATS:
        raise UserError(f"unknown figure format {fmt!r}", hint=f"choose {', '.join(FORMATS)}")
    if not is_whole(dpi) or not 1 <= dpi <= MAX_DPI:
        raise UserError(f"dpi must be a whole number from 1 to {MAX_DPI}, got {dpi!r}",
                        hint=f"e.g. --dpi {DPI} (the default) or 300 for print")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path, fmt: str, dpi: int) -> Path:
    """``fig`` written atomically as ``path`` in ``fmt`` (checked by the figure's function
    before it drew anything)."""
    path = path.with_name(f"{path.stem}.{fmt}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as f:
        fig.savefig(f, format=fmt, dpi=dpi, bbox_inches="tight")
    _plt().close(fig)
    return path


def short(text: str, n: int = LABEL_CHARS) -> str:
    """``text`` shortened in the middle to at most ``n`` characters."""
    text = str(text)
    if len(text) <= n:
        return text
    keep = n - 1
    return text[: keep - keep // 2] + "…" + text[-(keep // 2):]


def centred_average(values: np.ndarray, window: int) -> np.ndarray:
    """Moving average over a window centred on each point (shrinking at the ends), so the
    smoothed curve does not lag behind the raw one."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return v
    half = max(window // 2, 0)
    c = np.concatenate([[0.0], np.cumsum(v)])
    i = np.arange(v.size)
    lo = np.maximum(i - half, 0)
    hi = np.minimum(i + half + 1, v.size)
    return (c[hi] - c[lo]) / (hi - lo)


def log_axis(values: np.ndarray) -> bool:
    """A log axis only when every value is positive (it would silently drop the rest:
    the metric losses, e.g. -CC or 10 KLD - 2 CC - NSS, go negative)."""
    return bool(len(values) and (np.asarray(values) > 0).all())


def training_curves(log_path: str | Path, path: str | Path, title: str = "",
                    fmt: str = "png", dpi: int = DPI) -> Path:
    check_output(fmt, dpi)
    from .nets.training.log import read_log

    log = read_log(log_path)
    if not log:
        raise UserError("the training log is empty", log_path, "train at least one epoch")
    steps, losses = [], []
    for rec in log:
        for s, v in rec.get("step_losses", {}).items():
            steps.append(int(s))
            losses.append(v)
    order = np.argsort(steps)
    steps = np.asarray(steps)[order]
    losses = np.asarray(losses, dtype=float)[order]
    steps_per_epoch = max(1, (steps.max() if len(steps) else 1) // log[-1]["epoch"])
    # a diverged training's last epoch has losses that are not numbers: the curves stop
    # there and a line marks the step (a gap at the end would pass unseen)
    finite = np.isfinite(losses)
    diverged = int(steps[~finite][0]) if not finite.all() else None
    steps, losses = steps[finite], losses[finite]
    val = [(r["epoch"] * steps_per_epoch, r["val_loss"]) for r in log
           if "val_loss" in r and math.isfinite(r["val_loss"])]
    from .loss_spec import NAMES

    last = log[-1]
    loss = last.get("loss_label") or NAMES.get(last.get("loss", ""), last.get("loss", "loss"))
    every = int(np.diff(steps).min()) if len(steps) > 1 else 1
    positive = log_axis(np.concatenate([losses, [v for _, v in val]]))
    window = max(3, len(losses) // 25)
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, smooth in zip(axes, (False, True), strict=True):
        if smooth:
            ax.plot(steps, losses, color="tab:blue", alpha=0.25, lw=0.8, label="train (raw)")
            ax.plot(steps, centred_average(losses, window), color="tab:blue", lw=1.6,
                    label=f"train (centred mean of {window} points)")
        else:
            ax.plot(steps, losses, color="tab:blue", lw=0.9,
                    label=f"train, every {every} steps" if every > 1 else "train")
        if val:
            vx, vy = zip(*val, strict=True)
            ax.plot(vx, vy, "o-", color="tab:orange", ms=3, lw=1.2, label="validation")
        if diverged is not None:
            ax.axvline(diverged, color="tab:red", ls="--", lw=1.0,
                       label=f"loss not finite from step {diverged}")
        ax.set_xlabel("training step")
        ax.set_ylabel(f"loss: {loss}")
        if positive:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(("smoothed" if smooth else "raw") + (f" — {short(title, 60)}"
                                                          if title else ""), fontsize=10)
    fig.tight_layout()
    return _save(fig, Path(path), fmt, dpi)


def filters(weights: np.ndarray, path: str | Path, title: str = "", fmt: str = "png",
            dpi: int = DPI) -> Path:
    """First-layer kernels ``(C_out, 3, k, k)`` as colour patches, each min-max scaled on
    its own (so patches show each filter's pattern, not their relative strengths)."""
    check_output(fmt, dpi)
    w = np.asarray(weights, dtype=float)
    n = w.shape[0]
    cols = int(np.ceil(np.sqrt(n * 2)))
    rows = int(np.ceil(n / cols))
    plt = _plt()
    size = 0.9  # inches per filter: readable at print size
    fig, axes = plt.subplots(rows, cols, figsize=(cols * size, rows * size + 0.6),
                             squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < n:
            k = w[i].transpose(1, 2, 0)
            lo, hi = k.min(), k.max()
            ax.imshow((k - lo) / (hi - lo) if hi > lo else np.zeros_like(k),
                      interpolation="nearest")
    fig.suptitle(f"{title or 'first-layer filters'} ({n} filters, "
                 f"{w.shape[2]}x{w.shape[3]}x{w.shape[1]}; each min-max scaled on its own)",
                 fontsize=9)
    return _save(fig, Path(path), fmt, dpi)


def grid(split, preds: np.ndarray, index: list[int], path: str | Path, title: str,
         scores: np.ndarray | None = None, metric: str = "", fmt: str = "png",
         dpi: int = DPI) -> Path:
    """One row per image: the image, its ground truth (fixations blurred, fixations
    marked) and the prediction resized to the image, each map with a colour bar."""
    check_output(fmt, dpi)
    if not 1 <= len(index) <= MAX_GRID_ROWS:
        raise UserError(f"a grid holds 1 to {MAX_GRID_ROWS} images, got {len(index)}",
                        hint="choose fewer images per figure")
    from PIL import Image

    from .data.maps import fixation_target

    plt = _plt()
    fig, axes = plt.subplots(len(index), 3, figsize=(10, 2.6 * len(index)), squeeze=False)
    for row, i in enumerate(index):
        h, w = split.sizes[i]
        img = split.image(i) if split.has_images else \
            np.repeat((split.inputs_float(i).mean(0) * 255).astype(np.uint8)[..., None], 3, 2)
        gt = fixation_target(split.fixations(i), (h, w), size=96)
        pred = np.asarray(preds[i], dtype=float)
        pr = (pred - pred.min()) / (np.ptp(pred) or 1.0)
        pr = np.asarray(Image.fromarray((pr * 255).astype(np.uint8)).resize((w, h),
                                                                              Image.BICUBIC))
        f = split.fixations(i)
        label = short(split.file_names[i])
        if scores is not None:
            label += f"\n{metric} = {scores[i]:.3f}"
        panels = ((img, "image", None),
                  (gt, "ground truth (fixations, σ 19 px)", "density (peak = 1)"),
                  (pr / 255.0, "prediction (min-max scaled)", "saliency"))
        for ax, (im, name, bar) in zip(axes[row], panels, strict=True):
            shown = ax.imshow(im, cmap=None if bar is None else "inferno",
                              extent=(0, w, h, 0), interpolation="bilinear",
                              vmin=None if bar is None else 0.0,
                              vmax=None if bar is None else 1.0)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(name, fontsize=9)
            if bar is not None:
                cb = fig.colorbar(shown, ax=ax, fraction=0.035, pad=0.02)
                cb.ax.tick_params(labelsize=7)
                cb.set_label(bar, fontsize=7)
        axes[row][1].plot(f[:, 1], f[:, 0], ".", color="cyan", ms=1.5, alpha=0.6)
        axes[row][0].set_ylabel(label, fontsize=7)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return _save(fig, Path(path), fmt, dpi)


def best_worst(split, preds, result, metric: str, out_dir: str | Path, k: int = 4,
               fmt: str = "png", dpi: int = DPI) -> list[Path]:
    """The ``k`` best and worst images of ``result`` (a :class:`~salbench.results.Result`)
    by ``metric``; refused when the result was scored on other data than ``split``."""
    check_output(fmt, dpi)
    if not is_whole(k) or not 1 <= k <= MAX_GRID_ROWS:
        raise UserError(f"images per grid must be a whole number from 1 to {MAX_GRID_ROWS}, "
                        f"got {k!r}", hint="e.g. --k 4 (the default)")
    if result.dataset.get("fingerprint") != split.fingerprint():
        raise UserError(f"this result was scored on {result.dataset_label}/"
                        f"{result.dataset.get('split')} (fingerprint "
                        f"{result.dataset.get('fingerprint')}), not on the loaded "
                        f"{split.dataset}/{split.name} ({split.fingerprint()})",
                        result.source, "pass the --dataset (and --data-dir) it was scored on")
    v = result.scores(metric)
    higher = result.metrics[metric].higher_is_better
    ok = np.flatnonzero(~np.isnan(v))
    if ok.size == 0:
        return []
    order = ok[np.argsort(v[ok], kind="stable")]
    best = order[::-1][:k] if higher else order[:k]
    worst = order[:k] if higher else order[::-1][:k]
    out = Path(out_dir)
    where = f"{result.name} on {result.dataset_label}, protocol {result.protocol_name}"
    return [grid(split, preds, list(best), out / f"best-{metric}",
                 f"best {len(best)} images by {metric} — {where}", v, metric, fmt, dpi),
            grid(split, preds, list(worst), out / f"worst-{metric}",
                 f"worst {len(worst)} images by {metric} — {where}", v, metric, fmt, dpi)]


def for_run(run, split, preds: np.ndarray, result, name: str, weights=None,
            fmt: str = "png", dpi: int = DPI) -> list[Path]:
    """Every figure a run can make, into ``<run>/plots`` (``run``: a RunDir)."""
    check_output(fmt, dpi)
    made = []
    if run.log.exists() and run.log.stat().st_size:
        made.append(training_curves(run.log, run.plots / "training-curves", name, fmt, dpi))
    if weights is not None:
        made.append(filters(weights, run.plots / "filters-conv1", f"{name}: conv1", fmt, dpi))
    if result is not None:
        metric = next(iter(result.metrics))
        made += best_worst(split, preds, result, metric, run.plots, fmt=fmt, dpi=dpi)
    return made
