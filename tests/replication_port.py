"""A plain numpy/scipy port of the replication study's evaluation script.

This is the per-image script the study used (CC with a sigma=19 ground truth, AUC-Borji,
shuffled AUC over a 10-map union), kept in its original shape: Python loops over splits
and thresholds, ``np.arange`` grids, ``np.trapz``.  Two deliberate changes, both part of
salbench's ``replication`` protocol:

* predictions are clipped to [0, 1] before the 8-bit cast (the original wrapped around);
* CC's sums run in float64 (the original summed float32 products in float32, which moves
  the result by ~1e-7 and makes it depend on numpy's summation order).

Random draws come from ``rng`` — ``np.random.RandomState`` for a timing baseline (as the
original, which used the global legacy generator), or :class:`SalbenchDraws`, which
replays salbench's streams so that kernel and port see the same random numbers.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from scipy import ndimage

from salbench.metrics import _rng


class SalbenchDraws:
    """The legacy-numpy methods the script calls, drawing from salbench's streams."""

    def __init__(self, seed: int, image: int):
        self.seed = seed
        self.image = image
        self._perm_calls = 0

    def randint(self, n, size):
        splits, k = size
        return np.stack([_rng.draw_indices(self.seed, self.image, _rng.BORJI, s, n, k)
                         for s in range(splits)])

    def choice(self, n, size, replace):
        assert not replace
        return _rng.draw_permutation(self.seed, self.image, _rng.OTHERS, 0, n, size)

    def permutation(self, n):
        s = self._perm_calls
        self._perm_calls += 1
        return _rng.draw_permutation(self.seed, self.image, _rng.SAUC, s, n, n)


def normalize_map(s_map):
    return (s_map - np.min(s_map)) / (np.max(s_map) - np.min(s_map))


_trapz = getattr(np, "trapezoid", None) or np.trapz  # np.trapz before numpy 2.0  # noqa: NPY201


def auc_borji(s_map, gt, rng, splits=100, stepsize=0.1, per_split=False):
    s_map = normalize_map(s_map)
    S = s_map.flatten()
    F = gt.flatten()
    Sth = S[F > 0]
    num_fixations = Sth.shape[0]
    num_pixels = S.shape[0]
    r = rng.randint(num_pixels, size=(splits, num_fixations))
    randfix = np.zeros((splits, num_fixations))
    for i in range(splits):
        randfix[i, :] = S[r[i, :]]
    aucs = []
    for i in range(splits):
        curfix = randfix[i, :]
        allthreshes = np.arange(0, np.max(np.concatenate((Sth, curfix), axis=0)), stepsize)
        allthreshes = allthreshes[::-1]
        tp = np.zeros(len(allthreshes) + 2)
        fp = np.zeros(len(allthreshes) + 2)
        tp[-1] = 1.0
        fp[-1] = 1.0
        tp[1:-1] = [float(np.sum(Sth >= thresh)) / num_fixations for thresh in allthreshes]
        fp[1:-1] = [float(np.sum(curfix >= thresh)) / num_fixations for thresh in allthreshes]
        aucs.append(_trapz(tp, fp))
    return aucs if per_split else np.mean(aucs)


def auc_shuff(s_map, gt, other_map, rng, splits=100, stepsize=0.1, per_split=False):
    s_map = normalize_map(s_map)
    S = s_map.flatten()
    F = gt.flatten()
    oth = other_map.flatten()
    Sth = S[F > 0]
    num_fixations = Sth.shape[0]
    ind = np.flatnonzero(oth)
    num_fixations_others = min(ind.shape[0], num_fixations)
    randfix = np.zeros((splits, num_fixations_others))
    for i in range(splits):
        randind = ind[rng.permutation(ind.shape[0])]
        randfix[i, :] = S[randind[:num_fixations_others]]
    aucs = []
    for i in range(splits):
        curfix = randfix[i, :]
        allthreshes = np.arange(0, np.max(np.concatenate((Sth, curfix), axis=0)), stepsize)
        allthreshes = allthreshes[::-1]
        tp = np.zeros(len(allthreshes) + 2)
        fp = np.zeros(len(allthreshes) + 2)
        tp[-1] = 1.0
        fp[-1] = 1.0
        tp[1:-1] = [float(np.sum(Sth >= thresh)) / num_fixations for thresh in allthreshes]
        fp[1:-1] = [float(np.sum(curfix >= thresh)) / num_fixations_others
                    for thresh in allthreshes]
        aucs.append(_trapz(tp, fp))
    return aucs if per_split else np.mean(aucs)


def cc(s_map, gt):
    sigma = 19
    gt = ndimage.gaussian_filter(gt, sigma)
    gt = gt - np.min(gt)
    gt = gt / np.max(gt)
    s_map = s_map.astype(np.float64)
    s_map_norm = (s_map - np.mean(s_map)) / np.std(s_map)
    gt_norm = (gt - np.mean(gt)) / np.std(gt)
    a = s_map_norm
    b = gt_norm
    return (a * b).sum() / math.sqrt((a * a).sum() * (b * b).sum())


def prepare(pred, shape):
    """48x48 prediction -> the blurred float32 map at the image's size."""
    pred = np.clip(pred, 0, 1)
    pred = Image.fromarray((pred * 255).astype(np.uint8)).resize((shape[1], shape[0]))
    pred = np.asarray(pred, dtype="float32") / 255.0
    return ndimage.gaussian_filter(pred, sigma=2)


def evaluate(preds, fixation_maps, rng_for, splits=100):
    """Per-image cc, auc_borji and sauc lists, as the script computes them.

    ``fixation_maps``: float64 maps, > 0 at fixated pixels (the study's ``y_original``);
    ``rng_for(i)``: the random source for image ``i``.
    """
    out = {"cc": [], "auc_borji": [], "sauc": []}
    for i in range(len(preds)):
        gt = fixation_maps[i]
        pred = prepare(np.reshape(preds[i], (48, 48)), gt.shape)
        rng = rng_for(i)
        out["cc"].append(cc(pred, gt))
        out["auc_borji"].append(auc_borji(pred, np.asarray(gt, dtype=int), rng, splits))
        other = np.zeros(gt.shape, dtype=int)
        randind_maps = rng.choice(len(fixation_maps), size=10, replace=False)
        for k in range(10):
            other = other | np.asarray(fixation_maps[randind_maps[k]], dtype=int)
        out["sauc"].append(auc_shuff(pred, np.asarray(gt, dtype=int), other, rng, splits))
    return out
