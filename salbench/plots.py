"""PNG figures: training curves, first-layer filters, qualitative grids.

* training curves, raw and smoothed (the replication study's Figures 2, 3 and 10): the
  training loss every 5 steps with its exponential moving average, and the validation
  loss every 5 epochs;
* first-layer filters (its Figure 4): each 5x5x3 kernel of conv1 as a colour patch;
* qualitative grids (its Figures 5-9): image | ground truth | prediction for the best and
  the worst images by a chosen metric.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .io import atomic_write


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=110, bbox_inches="tight")
    _plt().close(fig)
    return path


def ema(values: np.ndarray, alpha: float = 0.1) -> np.ndarray:
    out = np.empty(len(values))
    acc = values[0] if len(values) else 0.0
    for i, v in enumerate(values):
        acc = alpha * v + (1 - alpha) * acc
        out[i] = acc
    return out


def training_curves(log_path: str | Path, path: str | Path, title: str = "") -> Path:
    from .train import read_log

    log = read_log(log_path)
    if not log:
        raise ValueError(f"{log_path}: empty training log")
    steps, losses = [], []
    for rec in log:
        for s, v in rec.get("step_losses", {}).items():
            steps.append(int(s))
            losses.append(v)
    order = np.argsort(steps)
    steps = np.asarray(steps)[order]
    losses = np.asarray(losses)[order]
    steps_per_epoch = max(1, (steps.max() if len(steps) else 1) // log[-1]["epoch"])
    val = [(r["epoch"] * steps_per_epoch, r["val_loss"]) for r in log if "val_loss" in r]
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, smooth in zip(axes, (False, True), strict=True):
        if smooth:
            ax.plot(steps, losses, color="tab:blue", alpha=0.25, lw=0.8, label="train (raw)")
            ax.plot(steps, ema(losses), color="tab:blue", lw=1.6, label="train (EMA 0.1)")
        else:
            ax.plot(steps, losses, color="tab:blue", lw=0.9, label="train, every 5 steps")
        if val:
            vx, vy = zip(*val, strict=True)
            ax.plot(vx, vy, "o-", color="tab:orange", ms=3, lw=1.2, label="validation")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(("smoothed" if smooth else "raw") + (f" — {title}" if title else ""),
                     fontsize=10)
    return _save(fig, Path(path))


def filters(weights: np.ndarray, path: str | Path, title: str = "") -> Path:
    """First-layer kernels ``(C_out, 3, k, k)``, each min-max scaled to a colour patch."""
    w = np.asarray(weights, dtype=float)
    n = w.shape[0]
    cols = int(np.ceil(np.sqrt(n * 2)))
    rows = int(np.ceil(n / cols))
    plt = _plt()
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.7, rows * 0.7 + 0.4))
    for i, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if i < n:
            k = w[i].transpose(1, 2, 0)
            lo, hi = k.min(), k.max()
            ax.imshow((k - lo) / (hi - lo) if hi > lo else np.zeros_like(k),
                      interpolation="nearest")
    fig.suptitle(title or "first-layer filters", fontsize=9)
    return _save(fig, Path(path))


def grid(split, preds: np.ndarray, index: list[int], path: str | Path, title: str,
         scores: np.ndarray | None = None, metric: str = "") -> Path:
    """One row per image: the image, its ground truth (fixations blurred) with the
    fixations marked, and the prediction resized to the image."""
    from PIL import Image

    from .data.maps import fixation_target

    plt = _plt()
    fig, axes = plt.subplots(len(index), 3, figsize=(9, 2.4 * len(index)), squeeze=False)
    for row, i in enumerate(index):
        h, w = split.sizes[i]
        img = split.image(i) if split.has_images else \
            np.repeat((split.inputs_float(i).mean(0) * 255).astype(np.uint8)[..., None], 3, 2)
        gt = fixation_target(split.fixations(i), (h, w), size=96)
        pred = preds[i]
        pr = (pred - pred.min()) / (np.ptp(pred) or 1.0)
        pr = np.asarray(Image.fromarray((pr * 255).astype(np.uint8)).resize((w, h),
                                                                              Image.BICUBIC))
        f = split.fixations(i)
        label = f"{split.file_names[i]}"
        if scores is not None:
            label += f"   {metric} = {scores[i]:.3f}"
        for ax, im, name in zip(axes[row], (img, gt, pr), ("image", "ground truth",
                                                             "prediction"), strict=True):
            ax.imshow(im, cmap=None if name == "image" else "inferno",
                      extent=(0, w, h, 0), interpolation="bilinear")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(name, fontsize=10)
        axes[row][1].plot(f[:, 1], f[:, 0], ".", color="cyan", ms=1.5, alpha=0.6)
        axes[row][0].set_ylabel(label, fontsize=7)
    fig.suptitle(title, fontsize=11)
    return _save(fig, Path(path))


def best_worst(split, preds, per_image: np.ndarray, metric: str, higher_is_better: bool,
               out_dir: str | Path, k: int = 4) -> list[Path]:
    v = np.asarray(per_image, dtype=float)
    ok = np.flatnonzero(~np.isnan(v))
    if ok.size == 0:
        return []
    order = ok[np.argsort(v[ok])]
    best = order[::-1][:k] if higher_is_better else order[:k]
    worst = order[:k] if higher_is_better else order[::-1][:k]
    out = Path(out_dir)
    return [grid(split, preds, list(best), out / f"best-{metric}.png",
                 f"best {k} images by {metric}", v, metric),
            grid(split, preds, list(worst), out / f"worst-{metric}.png",
                 f"worst {k} images by {metric}", v, metric)]


def for_run(out: str | Path, val, preds: np.ndarray, result: dict | None, model) -> list[Path]:
    """Every figure a run can make, into ``<out>/plots``."""
    out = Path(out)
    made = []
    plots = out / "plots"
    log = out / "train_log.jsonl"
    if log.exists() and log.stat().st_size:
        made.append(training_curves(log, plots / "training-curves.png", model.name))
    module = getattr(model, "module", None)
    if module is not None:
        w = module.features[0].weight.detach().cpu().numpy()
        made.append(filters(w, plots / "filters-conv1.png", f"{model.name}: conv1"))
    if result is not None:
        from .results import per_image_scores

        metric = next(iter(result["metrics"]))
        made += best_worst(val, preds, per_image_scores(result, metric), metric,
                           result["metrics"][metric]["higher_is_better"], plots)
    return made
