"""Score a whole split at once: every image on a pool of threads, per-image scores, means.

Everything the protocol needs is checked before the first image is scored (so a bad
image stops the run at once, named, and nothing is half-written); then images are
handed to threads one at a time (dynamic scheduling: a stalled thread holds back one
image, not a share of the split).  Each image's random draws depend only on (seed, image
index), so results do not depend on the number of threads.  Predictions are read and
converted one image at a time, never copied as a whole; fixations stay packed.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

import numpy as np

from ..errors import UserError, is_whole
from ..stats import dataset_mean
from . import _ahead, _pools, _validate
from . import protocols as P
from ._engine import Plan, score_image
from ._inputs import MapCheck, as_scored, kept_fixations
from .protocols import Protocol, get_protocol

T = TypeVar("T")

SAUC_MAPS = 10  # images in the union of maps of the sampled protocols' sauc


class Checked(NamedTuple):
    """A request that :func:`check_request` passed: what :func:`score_checked` scores."""

    proto: Protocol
    wanted: tuple[str, ...]
    preds: Sequence
    packed: PackedFixations
    sizes: np.ndarray
    names: list[str]
    checks: list[MapCheck]
    gt_maps: Sequence[np.ndarray] | None
    normalize: str | None


@dataclass
class PackedFixations:
    """All fixations of a split, packed: image ``i`` owns rows
    ``offsets[i]:offsets[i + 1]`` of ``rc`` (0-based ``(row, col)``)."""

    offsets: np.ndarray
    rc: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @classmethod
    def of(cls, fixations, names: Sequence[str] | None = None) -> PackedFixations:
        """``fixations`` packed: one ``(k_i, 2)`` array per image (any empty array: none).
        Packed column by column (``rc`` is a column-major view), so scoring reads the rows
        and the columns where they lie instead of copying them."""
        if isinstance(fixations, PackedFixations):
            return fixations
        arrays = [_fixation_array(f, i, names) for i, f in enumerate(fixations)]
        offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
        np.cumsum([len(a) for a in arrays], out=offsets[1:])
        parts = [a for a in arrays if a.size]
        if not parts:
            return cls(offsets, np.zeros((0, 2), dtype=np.int64))
        # pairwise: np.result_type(*parts) takes at most 32 arrays under numpy 1.x
        dtype = functools.reduce(np.promote_types, dict.fromkeys(a.dtype for a in parts))
        columns = np.empty((2, offsets[-1]), dtype=dtype)
        for k in range(2):
            np.concatenate([a[:, k] for a in parts], out=columns[k])
        return cls(offsets, columns.T)


def _fixation_array(f, i: int, names: Sequence[str] | None) -> np.ndarray:
    """Image ``i``'s fixations as an ``(N, 2)`` array, checked before packing: packed, a
    ``(4, 3)`` array would be read as six pairs and shift every later image's, and
    booleans would be promoted to 0s and 1s by the integer arrays beside them."""
    where = names[i] if names is not None and i < len(names) else f"image {i}"
    return _validate.fixation_array(f, where)


@dataclass
class DatasetScores:
    """Per-image scores of one split under one protocol.

    ``per_image[m]``: one value per image (NaN where the metric is undefined);
    ``splits[m]``: per-split values ``(n_images, n_splits)`` for the sampled metrics;
    ``mean[m]``: the dataset score under the protocol's NaN policy; ``nan_count[m]``: how
    many images were NaN (skipped under ``omit``, poisoning the mean under ``propagate``);
    ``nan_reasons[m]``: which images were NaN, by reason.
    """

    protocol: Protocol
    metrics: tuple[str, ...]
    seed: int
    names: list[str]
    per_image: dict[str, np.ndarray]
    splits: dict[str, np.ndarray] = field(default_factory=dict)
    mean: dict[str, float] = field(default_factory=dict)
    nan_count: dict[str, int] = field(default_factory=dict)
    nan_reasons: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    ig_baseline: str | None = None
    normalize: str | None = None

    @property
    def n_images(self) -> int:
        return len(self.names)

    def split_means(self, metric: str) -> np.ndarray:
        """Dataset score of each split (the spread that the 100-split mean hides)."""
        per_split = self.splits[metric]
        if self.protocol.nan_policy == P.NAN_OMIT:
            keep = ~np.isnan(per_split).all(axis=1)
            return per_split[keep].mean(axis=0) if keep.any() else \
                np.full(per_split.shape[1], np.nan)
        return per_split.mean(axis=0)


def _predictions(predictions) -> Sequence:
    if isinstance(predictions, np.ndarray):
        if predictions.ndim == 3:
            return predictions
        if predictions.ndim == 2 and predictions.dtype != object:
            raise UserError(f"predictions must be a sequence of 2-D maps or an (N, H, W) "
                            f"array; got one array of shape {predictions.shape}",
                            hint="wrap a single map as a list: [m]")
    return predictions if isinstance(predictions, Sequence) else list(predictions)


def check_request(protocol, metrics, predictions, fixations, shapes, *, names=None,
                  gt_maps=None, normalize=None, threads: int | None = None) -> Checked:
    """Everything ``protocol`` needs, checked without scoring: metric names, counts,
    shapes, fixations, prediction values, pools, ground-truth maps.  Returns what
    :func:`score_checked` scores.  Maps are checked on ``threads`` threads (default:
    numba's), each error that of the first bad image, as in one thread."""
    _check_threads(threads)
    proto = get_protocol(protocol)
    wanted = proto.check_metrics(metrics)
    if "emd" in wanted:  # before any work: an unusable pyemd is an installation's fault
        from ._emd import require_pyemd

        require_pyemd()
    if normalize is not None and normalize not in _validate.NORMALIZATIONS:
        raise UserError(f"unknown normalize={normalize!r}",
                        hint=f"choose {' or '.join(_validate.NORMALIZATIONS)}")
    preds = _predictions(predictions)
    n = len(preds)
    if n == 0:
        raise UserError("no predictions to score", hint="give one map per image")
    names = [f"image {i}" for i in range(n)] if names is None else [str(s) for s in names]
    if len(names) != n:
        raise UserError(f"got {n} predictions but {len(names)} names",
                        hint="give one name per prediction")
    packed = _checked_packing(PackedFixations.of(fixations, names), names)
    if len(packed) != n:
        raise UserError(f"got {n} predictions but fixations for {len(packed)} images",
                        hint="give one prediction per image, in the same order")
    shp = np.asarray(shapes)
    if shp.shape != (n, 2):
        raise UserError(f"shapes must be ({n}, 2) (height, width) per image, got {shp.shape}",
                        hint="give each image's original size")
    sizes = np.empty((n, 2), dtype=np.int64)
    for i in range(n):
        sizes[i] = _validate.image_shape(shp[i], names[i])
    _checked_fixations(packed, sizes, names)
    def check(i: int) -> MapCheck:
        return MapCheck(_validate.saliency_map(preds[i], names[i]), names[i], proto, wanted,
                        normalize)

    checks = _each(check, n, threads)
    if any(m.startswith("sauc") for m in wanted):
        _check_pool(proto, n, sizes)
    if gt_maps is not None:
        if len(gt_maps) != n:
            raise UserError(f"got {n} predictions but {len(gt_maps)} ground-truth maps",
                            hint="give one ground-truth map per image")
        _each(lambda i: _validate.ground_truth_map(gt_maps[i], names[i]), n, threads)
    elif proto.ground_truth == P.GT_MAPS and set(wanted) & {"cc", "kld", "sim", "emd"}:
        raise UserError(f"protocol {proto.name!r} scores against given ground-truth maps, and "
                        "none were given", hint="pass gt_maps= (a prepared SALICON keeps its "
                        "maps), or use the named protocol")
    return Checked(proto, wanted, preds, packed, sizes, names, checks, gt_maps, normalize)


def _checked_packing(packed: PackedFixations, names: list[str]) -> PackedFixations:
    """Offsets that partition ``rc``: from 0, never decreasing, to its length (a packing
    built by hand that skips, drops or overlaps fixations would score silently); returned
    with both as arrays (one built from lists scores as the arrays would)."""
    off = np.asarray(packed.offsets)
    rc = _validate.fixation_array(packed.rc, None)
    if off.ndim != 1 or not off.size or not np.issubdtype(off.dtype, np.integer):
        raise UserError(f"fixation offsets must be a 1-D integer array (one more than the "
                        f"images), got shape {off.shape} of {off.dtype}",
                        hint="or pass one (N, 2) array of (row, col) per image")
    off = off.astype(np.int64, copy=False)  # unsigned differences would wrap, not go negative
    n_fix = rc.shape[0]
    if off[0] != 0 or off[-1] != n_fix:
        raise UserError(f"fixation offsets run from {off[0]} to {off[-1]}, but must run from 0 "
                        f"to the number of fixations, {n_fix}",
                        hint="or pass one (N, 2) array of (row, col) per image")
    down = np.flatnonzero(np.diff(off) < 0)
    if down.size:
        i = int(down[0])
        raise UserError(f"fixation offsets decrease: this image's fixations would end at "
                        f"{off[i + 1]}, before they start at {off[i]}",
                        names[i] if i < len(names) else f"image {i}",
                        "or pass one (N, 2) array of (row, col) per image")
    if off is packed.offsets and rc is packed.rc:
        return packed
    return PackedFixations(off, rc)


def _checked_fixations(packed: PackedFixations, sizes, names) -> None:
    """Every fixation: whole coordinates inside its image (bounds checked per image)."""
    rc = packed.rc  # its shape and kind were checked with the offsets
    if not rc.size:
        return
    off = packed.offsets
    _validate.whole_coordinates(
        rc, lambda j: names[int(np.searchsorted(off, j, side="right") - 1)])
    # per-image extremes, in the given type (a cast to int64 first would wrap 1e30 or a
    # uint64 2**63 to -2**63), not per-fixation temporaries: memory per image counts
    rows, cols = rc[:, 0], rc[:, 1]
    has = np.flatnonzero(np.diff(off) > 0)
    first = off[:-1][has]
    outside = ((np.minimum.reduceat(rows, first) < 0) | (np.minimum.reduceat(cols, first) < 0)
               | (np.maximum.reduceat(rows, first) >= sizes[has, 0])
               | (np.maximum.reduceat(cols, first) >= sizes[has, 1]))
    if outside.any():
        i = int(has[np.flatnonzero(outside)[0]])
        own = rc[off[i]:off[i + 1]]
        h, w = (int(v) for v in sizes[i])
        bad = (own[:, 0] < 0) | (own[:, 0] >= h) | (own[:, 1] < 0) | (own[:, 1] >= w)
        raise _validate.outside_image(own[bad], len(own), h, w, names[i])


def _columns(packed: PackedFixations) -> tuple[np.ndarray, np.ndarray]:
    """int64 rows and cols of every fixation (made again where they are used, not kept
    between checking and scoring: a split's fixations can be many)."""
    rc = packed.rc
    if not rc.size:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return (np.ascontiguousarray(rc[:, 0], dtype=np.int64),
            np.ascontiguousarray(rc[:, 1], dtype=np.int64))


def _check_pool(proto: Protocol, n: int, sizes) -> None:
    if proto.sauc_pool in (P.POOL_RANDOM_10, P.POOL_OTHER_10):
        need = SAUC_MAPS + (proto.sauc_pool == P.POOL_OTHER_10)
        if n < need:
            other = "other " if proto.sauc_pool == P.POOL_OTHER_10 else ""
            raise UserError(f"sauc under protocol {proto.name!r} pools the fixations of "
                            f"{SAUC_MAPS} {other}images, so the split needs at least {need} "
                            f"images; got {n}", hint="score more images, leave sauc out "
                            "(--metrics), or use the exact protocol")
    if proto.sauc_pool == P.POOL_SALICON and len({tuple(s) for s in sizes.tolist()}) > 1:
        raise UserError("sauc under protocol 'salicon' needs every image of the split to have "
                        "one size (the SALICON evaluation builds one 480x640 shuffled map)",
                        hint="leave sauc out (--metrics), or use the exact protocol")


def score_dataset(
    predictions: np.ndarray | Sequence[np.ndarray],
    fixations: Sequence[np.ndarray] | PackedFixations,
    shapes: np.ndarray | Sequence[tuple[int, int]],
    *,
    protocol: str | Protocol,
    metrics: Sequence[str] | None = None,
    seed: int = 0,
    names: Sequence[str] | None = None,
    baseline: np.ndarray | None = None,
    baseline_name: str | None = None,
    gt_maps: Sequence[np.ndarray] | None = None,
    normalize: str | None = None,
    threads: int | None = None,
    progress=None,
) -> DatasetScores:
    """Score ``N`` predictions against their images' fixations under ``protocol``.

    ``predictions``: ``(N, h, w)`` array or ``N`` 2-D maps (any sizes, any numeric dtype;
    read one at a time); ``fixations``: ``N`` ``(k_i, 2)`` arrays of 0-based ``(row, col)``,
    or a :class:`PackedFixations`; ``shapes``: the ``N`` original image sizes.  ``metrics``
    defaults to the protocol's set.  sauc's other images come from this same split.
    ``baseline`` (for ig): one map for every image (resized as needed), by default the
    centre prior.  ``gt_maps``: given continuous ground truths (cc, kld, sim, emd), one per
    image, any size.  ``normalize``: ``"clip"`` or ``"minmax"`` maps first (recorded).
    ``progress``: called with the number of images just finished.
    """
    _validate.counter(seed)
    checked = check_request(protocol, metrics, predictions, fixations, shapes, names=names,
                            gt_maps=gt_maps, normalize=normalize, threads=threads)
    return score_checked(checked, seed=seed, baseline=baseline, baseline_name=baseline_name,
                         threads=threads, progress=progress)


def _check_threads(threads) -> None:
    if threads is not None and (not is_whole(threads) or threads < 1):
        raise UserError(f"threads must be a whole number >= 1 (or None: numba's), got "
                        f"{threads!r}", hint="e.g. threads=2")


def score_checked(checked: Checked, *, seed: int = 0, baseline: np.ndarray | None = None,
                  baseline_name: str | None = None, threads: int | None = None,
                  progress=None) -> DatasetScores:
    """:func:`score_dataset` of a request :func:`check_request` returned (checked once:
    ``evaluate`` checks every protocol's request before scoring any)."""
    _validate.counter(seed)
    _check_threads(threads)
    proto, wanted, preds, packed, sizes, names, checks, gt_maps, normalize = checked
    rows, cols = _columns(packed)
    n = len(preds)
    seed = int(seed)
    n_splits = max(proto.splits, 1)
    out = {m: np.full(n, np.nan) for m in wanted}
    out_splits = {m: np.full((n, n_splits), np.nan) for m in ("auc_borji", "sauc")
                  if m in wanted and proto.sampled}
    reasons: dict[str, dict[str, list[int]]] = {}

    _ahead.compile_ahead([(proto, wanted)], _ahead.DATASET)
    kept = _kept(proto, packed, rows, cols)
    shape_list = sorted({tuple(s) for s in sizes.tolist()})
    plans = {}
    for shape in shape_list:
        base = None
        if "ig" in wanted and baseline is not None:
            base = _validate.baseline_map(baseline, shape)
        plans[shape] = Plan.make(proto, shape, wanted, base)
    pools = _shared_pools(proto, wanted, kept, sizes, shape_list)

    def work(i: int) -> None:
        shape = tuple(sizes[i])
        plan = plans[shape]
        a = np.asarray(preds[i])
        pred, bounds = as_scored(a, checks[i], normalize)
        r, c = kept[0][kept[2][i]:kept[2][i + 1]], kept[1][kept[2][i]:kept[2][i + 1]]
        gt = None
        if gt_maps is not None:
            gt = _validate.ground_truth_at(gt_maps[i], shape)
        pool = _pool_for(proto, wanted, i, shape, pools, kept, sizes, seed)
        values, split_vals, why = score_image(plan, pred, checks[i].f32, checks[i].negative,
                                              r, c, seed=seed, stream=i, pool=pool, gt=gt,
                                              bounds=bounds)
        for m, v in values.items():
            out[m][i] = v
        for m, v in split_vals.items():
            if m in out_splits:
                out_splits[m][i] = v
        for m, reason in why.items():
            reasons.setdefault(m, {}).setdefault(reason, []).append(i)
        if progress is not None:
            progress(1)

    from threadpoolctl import threadpool_limits

    # our threads are the parallelism: a BLAS of several threads per call would fight them
    with threadpool_limits(limits=1, user_api="blas"):
        _each(work, n, threads)

    res = DatasetScores(
        protocol=proto, metrics=wanted, seed=seed, names=names, per_image=out,
        splits=out_splits, normalize=normalize,
        nan_reasons={m: {k: sorted(v) for k, v in r.items()} for m, r in reasons.items()},
        ig_baseline=("ig" in wanted and (baseline_name or
                                         ("given map" if baseline is not None else
                                          "center-prior"))) or None)
    for m in wanted:
        v = out[m]
        res.nan_count[m] = int(np.isnan(v).sum())
        res.mean[m] = dataset_mean(v, proto.nan_policy == P.NAN_OMIT)
    return res


def _each(fn: Callable[[int], T], n: int, threads: int | None) -> list[T]:
    """``[fn(0), ..., fn(n - 1)]`` on ``threads`` threads (default: numba's), this one
    among them; the first image's error in index order is raised, and images not yet
    started after it are dropped.

    Each thread takes the next index as it finishes one (so a stalled thread delays only
    its own image).  An executor's future per image cost more than the work of some
    images: the main thread spent 67 ms of a 0.27 s call submitting them, against the
    workers for the GIL (the exact sauc of 500 maps: 0.182 -> 0.160 s without them;
    ``replication``'s default metrics 0.497 -> 0.445 s; Zen 5 VM, best of 6)."""
    nt = threads or _threads()
    if nt <= 1 or n <= 1:
        return [fn(i) for i in range(n)]
    out: list = [None] * n
    errors: dict[int, BaseException] = {}
    take = threading.Lock()
    state = {"next": 0, "stop": n}  # indices from "stop" on are not started

    def run() -> None:
        while True:
            with take:
                i = state["next"]
                if i >= state["stop"]:
                    return
                state["next"] = i + 1
            try:
                out[i] = fn(i)
            except BaseException as exc:
                with take:
                    errors[i] = exc
                    state["stop"] = min(state["stop"], i)

    workers = [threading.Thread(target=run, daemon=True) for _ in range(min(nt, n) - 1)]
    for w in workers:
        w.start()
    try:
        run()
        for w in workers:
            w.join()
    except BaseException:  # Ctrl-C here: the others finish their image and start no other
        with take:
            state["stop"] = -1
        for w in workers:
            w.join()
        raise
    if errors:
        stops = [e for e in errors.values() if not isinstance(e, Exception)]  # Ctrl-C
        raise stops[0] if stops else errors[min(errors)]
    return out


def _threads() -> int:
    try:
        import numba

        return numba.get_num_threads()
    except ImportError:  # pragma: no cover
        return os.cpu_count() or 1


def _kept(proto: Protocol, packed: PackedFixations, rows, cols):
    """(rows, cols, offsets) of the fixations each image keeps (SALICON filters)."""
    if proto.fixation_filter == P.FILTER_NONE:
        return rows, cols, packed.offsets
    rs, cs, off = [], [], [0]
    for i in range(len(packed)):
        a, b = packed.offsets[i], packed.offsets[i + 1]
        r, c = kept_fixations(proto, rows[a:b], cols[a:b])
        rs.append(r)
        cs.append(c)
        off.append(off[-1] + r.size)
    return (np.concatenate(rs).astype(np.int64), np.concatenate(cs).astype(np.int64),
            np.asarray(off, dtype=np.int64))


def _shared_pools(proto, wanted, kept, sizes, shape_list) -> dict:
    """Per image size: the count-weighted pools of ``exact``/``pysaliency``/``salicon``."""
    if not any(m.startswith("sauc") for m in wanted):
        return {}
    rows, cols, off = kept
    img = np.repeat(np.arange(len(sizes)), np.diff(off))
    out = {}
    for shape in shape_list:
        h, w = shape
        if proto.sauc_pool == P.POOL_ALL_OTHER:
            r, c = _pools.rescaled(rows, cols, sizes[img], shape,
                                   proto.rescale == P.RESCALE_FLOAT)
            out[shape] = _pools.counted(r * w + c)
        elif proto.sauc_pool == P.POOL_SALICON:
            # each image's kept fixated pixels once: how many images fixate a pixel
            lin = np.unique(img * (h * w) + rows * w + cols) % (h * w)
            out[shape] = _pools.counted(lin)
    return out


class _Marks:
    def __init__(self) -> None:
        import threading

        self.local = threading.local()

    def get(self, size: int) -> np.ndarray:
        """This thread's all-False marks for at least ``size`` pixels."""
        m = getattr(self.local, "mark", None)
        if m is None or m.size < size:
            m = self.local.mark = np.zeros(size, dtype=np.bool_)
        return m


_MARKS = _Marks()


def _pool_for(proto, wanted, i, shape, pools, kept, sizes, seed):
    if not any(m.startswith("sauc") for m in wanted):
        return None
    rows, cols, off = kept
    h, w = shape
    if proto.sauc_pool in (P.POOL_RANDOM_10, P.POOL_OTHER_10):
        idx = _pools.union_of_maps(i, len(sizes), h, w, off, rows, cols, sizes, seed,
                                   SAUC_MAPS, proto.sauc_pool == P.POOL_OTHER_10,
                                   _MARKS.get(h * w), proto.rescale == P.RESCALE_FLOAT)
        return idx, np.ones(idx.size), np.empty(0, dtype=np.int64)
    idx, wgt = pools[shape]
    if proto.sauc_pool == P.POOL_SALICON:
        return idx, wgt, np.empty(0, dtype=np.int64)
    own = rows[off[i]:off[i + 1]] * w + cols[off[i]:off[i + 1]]
    return idx, wgt, np.ascontiguousarray(own, dtype=np.int64)


def check_split(protocol, metrics, n_images: int, sizes) -> None:
    """Whether a split of ``n_images`` images of ``sizes`` can be scored under
    ``protocol`` (sauc's pools need enough images, or one size), before any work."""
    proto = get_protocol(protocol)
    wanted = proto.check_metrics(metrics)
    if any(m.startswith("sauc") for m in wanted):
        _check_pool(proto, n_images, np.asarray(sizes))
