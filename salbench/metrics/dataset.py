"""Score a whole split at once: all images in parallel, per-image scores and the mean."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from . import _score, _validate
from ._setup import center_prior, kernel_config, pool_mode, slot, want_mask
from .protocols import METRICS, Protocol, get_protocol


@dataclass
class DatasetScores:
    """Per-image scores of one split under one protocol.

    ``per_image[m]``: one value per image (NaN where the metric is undefined);
    ``splits[m]``: per-split values ``(n_images, n_splits)`` for the sampled metrics;
    ``mean[m]``: the dataset score under the protocol's NaN policy; ``nan_count[m]``: how
    many images were NaN (skipped under ``omit``, poisoning the mean under ``propagate``).
    """

    protocol: str
    metrics: tuple[str, ...]
    seed: int
    names: list[str]
    per_image: dict[str, np.ndarray]
    splits: dict[str, np.ndarray] = field(default_factory=dict)
    mean: dict[str, float] = field(default_factory=dict)
    nan_count: dict[str, int] = field(default_factory=dict)
    ig_baseline: str | None = None

    @property
    def n_images(self) -> int:
        return len(self.names)

    def split_means(self, metric: str) -> np.ndarray:
        """Dataset score of each split (the spread that the 100-split mean hides)."""
        per_split = self.splits[metric]
        return np.nanmean(per_split, axis=0) if self.protocol_policy == "omit" else \
            per_split.mean(axis=0)

    @property
    def protocol_policy(self) -> str:
        return get_protocol(self.protocol).nan_policy


def _as_list(predictions) -> list[np.ndarray]:
    if isinstance(predictions, np.ndarray):
        if predictions.ndim == 3:
            return list(predictions)
        if predictions.ndim == 2 and predictions.dtype != object:
            raise ValueError(f"predictions must be a sequence of 2-D maps or an (N, H, W) array;"
                             f" got one array of shape {predictions.shape}")
    return list(predictions)


def score_dataset(
    predictions: np.ndarray | Sequence[np.ndarray],
    fixations: Sequence[np.ndarray],
    shapes: np.ndarray | Sequence[tuple[int, int]],
    *,
    protocol: str | Protocol,
    metrics: Sequence[str] | None = None,
    seed: int = 0,
    names: Sequence[str] | None = None,
    baseline: np.ndarray | None = None,
    baseline_name: str | None = None,
) -> DatasetScores:
    """Score ``N`` predictions against their images' fixations under ``protocol``.

    ``predictions``: ``(N, h, w)`` array or ``N`` 2-D maps (any sizes); ``fixations``: ``N``
    ``(k_i, 2)`` arrays of 0-based ``(row, col)``; ``shapes``: the ``N`` original image
    sizes.  ``metrics`` defaults to the protocol's set.  sauc's other images come from this
    same split.  ``baseline`` (for ig) is one map used for every image (resized as needed);
    by default the protocol's centre prior.
    """
    proto = get_protocol(protocol)
    wanted = proto.check_metrics(None if metrics is None else list(metrics))
    preds = _as_list(predictions)
    n = len(preds)
    if n == 0:
        raise ValueError("no predictions to score")
    if len(fixations) != n:
        raise ValueError(f"got {n} predictions but fixations for {len(fixations)} images")
    shp = np.asarray(shapes)
    if shp.shape != (n, 2):
        raise ValueError(f"shapes must be ({n}, 2) (height, width) per image, got {shp.shape}")
    names = [f"image {i}" for i in range(n)] if names is None else [str(s) for s in names]
    if len(names) != n:
        raise ValueError(f"got {n} predictions but {len(names)} names")

    # validate (finiteness is checked in the parallel kernel) and pack
    from numba.typed import List

    maps = List()
    f32 = np.empty(n, dtype=bool)
    fix_list = []
    sizes = np.empty((n, 2), dtype=np.int64)
    for i in range(n):
        sizes[i] = _validate.image_shape(shp[i], names[i])
        p, f32[i] = _validate.saliency_map(preds[i], names[i], check_finite=False)
        maps.append(p)
        fix_list.append(_validate.fixations(fixations[i], tuple(sizes[i]), names[i]))
    if proto.resize == "pillow-bicubic-uint8" and f32.any() and not f32.all():
        raise ValueError("predictions mix float32 and float64 maps; the replication protocol "
                         "quantises in the prediction's precision, so pass one dtype")
    pred_f32 = bool(f32.all())
    fix_off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(f) for f in fix_list], out=fix_off[1:])
    all_fix = np.concatenate(fix_list) if fix_off[-1] else np.zeros((0, 2), dtype=np.int64)
    rows = np.ascontiguousarray(all_fix[:, 0])
    cols = np.ascontiguousarray(all_fix[:, 1])

    mode, k_other = pool_mode(proto)
    needs_pool = any(m.startswith("sauc") for m in wanted)
    if not needs_pool:
        mode = 0
    elif mode in (1, 2) and n < k_other + (mode == 2):
        need = k_other + (mode == 2)
        raise ValueError(f"sauc under protocol {proto.name!r} pools the fixations of {k_other} "
                         f"{'other ' if mode == 2 else ''}images, so the split needs at least "
                         f"{need} images; got {n}")

    n_splits = max(proto.splits, 1)
    out = np.full((n, _score.N_SLOTS), np.nan)
    out_borji = np.full((n, n_splits), np.nan)
    out_sauc = np.full((n, n_splits), np.nan)
    want = want_mask(wanted)
    finite = np.ones(n, dtype=np.bool_)
    none_i, none_w = np.empty(0, dtype=np.int64), np.empty(0)
    for shape in {tuple(s) for s in sizes.tolist()}:
        index = np.flatnonzero((sizes[:, 0] == shape[0]) & (sizes[:, 1] == shape[1]))
        glob_idx, glob_w = none_i, none_w
        if mode == 3:
            glob_idx, glob_w = _all_fixations_pool(rows, cols, fix_off, sizes, shape)
        base = np.zeros((1, 1))
        if "ig" in wanted:
            base = center_prior(shape) if baseline is None else \
                _validate.baseline_map(baseline, shape)
        cfg = kernel_config(proto, shape)
        _score.score_images(
            maps, pred_f32, sizes, fix_off, rows, cols, index.astype(np.int64), mode, k_other,
            glob_idx, glob_w, base, *cfg, want, int(seed), _n_chunks(index.size),
            _score.workspace_like(cfg[0]), finite, out, out_borji, out_sauc,
        )
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        _validate.finite(maps[i], names[i])
    if "kld" in wanted:
        for i in range(n):
            _validate.non_negative(maps[i], names[i])

    per_image = {m: out[:, slot(m)].copy() for m in wanted}
    splits = {}
    if proto.auc != "exact":
        if "auc_borji" in wanted:
            splits["auc_borji"] = out_borji
        if "sauc" in wanted:
            splits["sauc"] = out_sauc
    res = DatasetScores(
        protocol=proto.name, metrics=wanted, seed=int(seed), names=names, per_image=per_image,
        splits=splits,
        ig_baseline=("ig" in wanted and (baseline_name or
                                         ("given map" if baseline is not None else
                                          "center-prior"))) or None,
    )
    for m in wanted:
        v = per_image[m]
        bad = int(np.isnan(v).sum())
        res.nan_count[m] = bad
        if proto.nan_policy == "omit":
            res.mean[m] = float(np.nanmean(v)) if bad < n else float("nan")
        else:
            res.mean[m] = float(v.mean())
    return res


def _n_chunks(n_images: int) -> int:
    """Work units for the parallel loop: a few per thread for load balance, each reusing
    one workspace."""
    import numba

    return max(1, min(n_images, 4 * numba.get_num_threads()))


def _all_fixations_pool(rows, cols, fix_off, sizes, shape):
    """Every fixation of the split in the frame of ``shape`` (pysaliency's rescaling
    ``floor(x * W / W_other)``), as unique flat indices with counts."""
    img_of = np.repeat(np.arange(len(sizes)), np.diff(fix_off))
    h_o = sizes[img_of, 0]
    w_o = sizes[img_of, 1]
    r = np.where(h_o == shape[0], rows, rows * shape[0] // h_o)
    c = np.where(w_o == shape[1], cols, cols * shape[1] // w_o)
    idx, counts = np.unique(r * shape[1] + c, return_counts=True)
    return idx.astype(np.int64), counts.astype(np.float64)


def metric_direction(metric: str) -> bool:
    """True when higher is better."""
    return METRICS[metric].higher_is_better
