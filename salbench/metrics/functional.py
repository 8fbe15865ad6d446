r"""Saliency metrics for one image, as plain functions.

Each function validates its input, prepares the prediction exactly as the named protocol
prescribes (resize, quantisation, blur) and runs the protocol's kernel.  ``protocol`` is
required: the same metric under two protocols is two different numbers.

Conventions: a saliency map is any 2-D array (it is resized to the image); ``fixations``
is an ``(N, 2)`` integer array of 0-based ``(row, col)`` pixel coordinates at the image's
original resolution, duplicates allowed; ``shape`` is the image's ``(height, width)``
(default: the map's own shape).  ``gt_map`` (cc, kld, sim, emd) is a continuous
ground-truth map used instead of the protocol's blur of the fixations.  ``normalize``
(``"clip"`` or ``"minmax"``) says what to do with a map outside the range a protocol
needs.  An image without fixations scores NaN, as in the references.  Sampled metrics take
``seed`` and ``stream`` (the image's index in a dataset run) and are reproducible from them.
"""

from __future__ import annotations

import numpy as np

from . import _ahead, _validate
from . import protocols as P
from ._engine import Plan, center_prior, score_image
from ._inputs import MapCheck, as_scored, kept_fixations, pool_from_coordinates
from .protocols import Protocol, get_protocol

__all__ = ["auc_borji", "auc_judd", "cc", "center_prior", "emd", "ig", "kld", "nss", "sauc",
           "sim"]


def _run(metric: str, saliency_map, fixations, *, protocol, shape, name, seed=0, stream=0,
         other=None, other_shape=None, baseline=None, gt_map=None, normalize=None):
    proto = get_protocol(protocol)
    proto.check_metrics([metric])
    seed, stream = _validate.counter(seed), _validate.counter(stream, "stream")
    if normalize is not None and normalize not in _validate.NORMALIZATIONS:
        raise _validate.UserError(f"unknown normalize={normalize!r}",
                                  hint=f"choose {' or '.join(_validate.NORMALIZATIONS)}")
    a = _validate.saliency_map(saliency_map, name)
    check = MapCheck(a, name, proto, (metric,), normalize)
    pred, bounds = as_scored(a, check, normalize)
    shape = _validate.image_shape(a.shape if shape is None else shape, name)
    fix = _validate.fixations(fixations, shape, name)
    rows, cols = kept_fixations(proto, np.ascontiguousarray(fix[:, 0]),
                                np.ascontiguousarray(fix[:, 1]))
    gt = _given_gt(proto, gt_map, shape, name)
    pool = None
    if other is not None:
        src = shape if other_shape is None else _validate.image_shape(other_shape, name)
        o = _validate.fixations(other, src, name, what="other fixations")
        pool = pool_from_coordinates(proto, o, src, shape)
    base = None
    if metric == "ig" and baseline is not None:
        base = _validate.baseline_map(baseline, shape)
    _ahead.compile_ahead([(proto, (metric,))], _ahead.API)
    plan = Plan.make(proto, shape, (metric,), base)
    values, splits, _ = score_image(plan, pred, check.f32, check.negative, rows, cols,
                                    seed=seed, stream=stream, pool=pool, gt=gt,
                                    bounds=bounds)
    return values[metric], splits


def _given_gt(proto: Protocol, gt_map, shape, name):
    if gt_map is None:
        if proto.ground_truth == P.GT_MAPS:
            raise _validate.UserError(f"protocol {proto.name!r} scores against given "
                                      "ground-truth maps", name, "pass gt_map=")
        return None
    return _validate.ground_truth_at(_validate.ground_truth_map(gt_map, name), shape)


def cc(saliency_map, fixations, *, protocol: str | Protocol, shape=None, gt_map=None,
       normalize: str | None = None, name: str = "image") -> float:
    r"""Pearson correlation between the prediction and the continuous ground truth.

    .. math:: \mathrm{CC} = \frac{\sum (P-\bar P)(G-\bar G)}
              {\sqrt{\sum (P-\bar P)^2 \sum (G-\bar G)^2}}

    ``G`` is ``gt_map`` when given, else the fixation map blurred as the protocol says
    (``mit``/``exact``: antonioGaussian, fc = 8; ``replication``/``salicon``: sigma 19 px;
    ``pysaliency``: counts, sigma 23.99 px); ``P`` is the prepared prediction.

    >>> import numpy as np
    >>> g = np.zeros((48, 64)); g[10, 12] = g[30, 40] = 1
    >>> from scipy.ndimage import gaussian_filter
    >>> twice = np.array([[10, 12], [10, 12], [30, 40], [30, 40]])  # SALICON keeps repeats
    >>> round(cc(gaussian_filter(g, 19), twice, protocol="salicon"), 6)
    1.0
    >>> cc(gaussian_filter(g, 19), twice[::2], protocol="salicon")  # none repeated: NaN
    nan
    """
    return _run("cc", saliency_map, fixations, protocol=protocol, shape=shape, name=name,
                gt_map=gt_map, normalize=normalize)[0]


def nss(saliency_map, fixations, *, protocol: str | Protocol, shape=None,
        normalize: str | None = None, name: str = "image") -> float:
    r"""Normalised scanpath saliency: mean of the z-scored prediction at fixations.

    .. math:: \mathrm{NSS} = \frac{1}{|F|}\sum_{x \in F} \frac{P(x) - \bar P}{\sigma_P}

    ``mit``/``exact``: ``F`` = fixated pixels, ``sigma`` with N-1; ``pysaliency``/``salicon``:
    every fixation, population ``sigma`` (a constant map gives 0).

    >>> import numpy as np
    >>> p = np.array([[0.0, 0.0], [0.0, 1.0]])   # mean 1/4, std (N-1) 1/2
    >>> nss(p, np.array([[1, 1]]), protocol="exact")
    1.5
    """
    return _run("nss", saliency_map, fixations, protocol=protocol, shape=shape, name=name,
                normalize=normalize)[0]


def kld(saliency_map, fixations, *, protocol: str | Protocol, shape=None, gt_map=None,
        normalize: str | None = None, name: str = "image") -> float:
    r"""KL divergence of the prediction from the ground-truth distribution (lower is better).

    .. math:: \mathrm{KLD} = \sum_x G'(x) \log\Bigl(\epsilon + \frac{G'(x)}{P'(x)+\epsilon}\Bigr)

    ``P'``, ``G'``: the maps as distributions (``mit``: divided by their sums; ``pysaliency``:
    shifted to be non-negative, then divided); ``epsilon`` = MATLAB's eps (``pysaliency``:
    2.2204e-16).  A prediction with negative values is NaN under ``mit`` and refused
    under ``exact``.

    >>> import numpy as np
    >>> g = np.zeros((32, 32)); g[8, 9] = 1
    >>> from scipy.ndimage import gaussian_filter
    >>> m = gaussian_filter(g, 19)
    >>> abs(round(kld(m, np.array([[8, 9]]), gt_map=m, protocol="mit"), 9))
    0.0
    """
    return _run("kld", saliency_map, fixations, protocol=protocol, shape=shape, name=name,
                gt_map=gt_map, normalize=normalize)[0]


def sim(saliency_map, fixations, *, protocol: str | Protocol, shape=None, gt_map=None,
        normalize: str | None = None, name: str = "image") -> float:
    r"""Similarity (histogram intersection) of the two maps as distributions.

    .. math:: \mathrm{SIM} = \sum_x \min\bigl(P'(x), G'(x)\bigr)

    ``mit``/``exact``: both maps min-max, then sum-normalised (``similarity.m``);
    ``pysaliency``: shifted to be non-negative, then sum-normalised.

    >>> import numpy as np
    >>> g = np.zeros((32, 32)); g[8, 9] = 1
    >>> sim(g, np.array([[8, 9]]), gt_map=g, protocol="mit")
    1.0
    """
    return _run("sim", saliency_map, fixations, protocol=protocol, shape=shape, name=name,
                gt_map=gt_map, normalize=normalize)[0]


def ig(saliency_map, fixations, *, protocol: str | Protocol, baseline=None, shape=None,
       normalize: str | None = None, name: str = "image") -> float:
    r"""Information gain over a baseline, in bits per fixated pixel (MIT ``InfoGain.m``).

    .. math:: \mathrm{IG} = \frac{1}{|F|}\sum_{x\in F}
              \log_2(\epsilon + P'(x)) - \log_2(\epsilon + B'(x))

    ``P'``, ``B'``: min-max then sum-normalised prediction and baseline.  The default
    baseline is :func:`center_prior` (Gaussian, sigma = H/4, W/4); pass ``baseline`` to use
    another (e.g. a centre-bias model fitted on training fixations).

    >>> import numpy as np
    >>> from salbench.metrics import center_prior
    >>> ig(center_prior((24, 32)), np.array([[3, 4], [12, 16]]), protocol="mit")
    0.0
    """
    return _run("ig", saliency_map, fixations, protocol=protocol, shape=shape, name=name,
                baseline=baseline, normalize=normalize)[0]


def emd(saliency_map, fixations, *, protocol: str | Protocol, shape=None, gt_map=None,
        normalize: str | None = None, name: str = "image") -> float:
    r"""Earth mover's distance between the two maps as distributions (MIT ``EMD.m``,
    lower is better): both maps ``imresize``'d to 1/32 of the image, sum-normalised, and
    compared with Euclidean ground distance in those coarse pixels, by FastEMD (``mit``)
    or an exact network simplex (``exact``: no rounding of the masses).

    >>> import numpy as np
    >>> g = np.zeros((64, 64)); g[20:40, 20:40] = 1
    >>> emd(g, np.array([[30, 30]]), gt_map=g, protocol="mit")
    0.0
    """
    return _run("emd", saliency_map, fixations, protocol=protocol, shape=shape, name=name,
                gt_map=gt_map, normalize=normalize)[0]


def auc_judd(saliency_map, fixations, *, protocol: str | Protocol, shape=None, seed: int = 0,
             stream: int = 0, normalize: str | None = None, name: str = "image") -> float:
    r"""AUC-Judd: positives at fixations, negatives the unfixated pixels.

    ``mit``: ``AUC_Judd.m`` (1e-7 seeded uniform jitter, thresholds at fixated values).
    ``pysaliency``: its ``AUC_Judd`` (1e-7 normal jitter, every fixation a positive).
    ``exact``: the Mann-Whitney area :math:`P(P_+ > P_-) + \tfrac12 P(P_+ = P_-)`.

    >>> import numpy as np
    >>> p = np.array([[0.1, 0.2], [0.3, 0.4]])
    >>> auc_judd(p, np.array([[1, 1]]), protocol="exact")  # 0.4 beats all three others
    1.0
    """
    return _run("auc_judd", saliency_map, fixations, protocol=protocol, shape=shape,
                name=name, seed=seed, stream=stream, normalize=normalize)[0]


def auc_borji(saliency_map, fixations, *, protocol: str | Protocol, shape=None, seed: int = 0,
              stream: int = 0, expected: bool = False, return_splits: bool = False,
              normalize: str | None = None, name: str = "image"):
    r"""AUC-Borji: negatives drawn uniformly from all pixels.

    ``replication``/``mit``: 100 splits of as many uniform negatives as positives, grid
    thresholds (numpy arange / MATLAB colon), mean of the trapezoid areas; ``salicon``: one
    split of 100,000 negatives, 0.01 grid.  ``expected`` gives the exact expectation of
    that estimate (``auc_borji@expected``); ``return_splits`` the per-split areas.
    ``exact``/``pysaliency``: the Mann-Whitney area against every pixel.

    >>> import numpy as np
    >>> p = np.array([[0.1, 0.2], [0.3, 0.4]])
    >>> auc_borji(p, np.array([[1, 1]]), protocol="exact")  # (3 + 1/2) / 4
    0.875
    """
    metric = "auc_borji@expected" if expected else "auc_borji"
    value, splits = _run(metric, saliency_map, fixations, protocol=protocol, shape=shape,
                         name=name, seed=seed, stream=stream, normalize=normalize)
    if return_splits and not expected:
        return splits.get("auc_borji", np.array([value]))
    return value


def sauc(saliency_map, fixations, other_fixations, *, protocol: str | Protocol, shape=None,
         other_shape=None, seed: int = 0, stream: int = 0, expected: bool = False,
         return_splits: bool = False, normalize: str | None = None, name: str = "image"):
    r"""Shuffled AUC: negatives at other images' fixations, cancelling centre bias.

    ``other_fixations``: the negative pool as ``(row, col)`` coordinates (in an image of
    ``other_shape``, default ``shape``; rescaled into the image's frame as the protocol
    says).  ``replication``/``mit``: the pool is a binary map (duplicates collapse); per
    split a random permutation keeps ``min(#positives, #pool)`` of its pixels.
    ``exact``/``pysaliency``: Mann-Whitney area against every other fixation,
    count-weighted.  ``salicon``: each listed coordinate adds 1 to its pixel's weight
    (the reference counts the images fixating a pixel: list each image's kept fixated
    pixels once), the image's own kept fixated pixels are removed, no sampling.
    ``expected``/``return_splits`` as in :func:`auc_borji`.

    >>> import numpy as np
    >>> p = np.array([[0.1, 0.2], [0.3, 0.4]])
    >>> sauc(p, np.array([[1, 1]]), np.array([[0, 0], [1, 1]]), protocol="exact")
    0.75
    """
    metric = "sauc@expected" if expected else "sauc"
    value, splits = _run(metric, saliency_map, fixations, protocol=protocol, shape=shape,
                         name=name, seed=seed, stream=stream, other=other_fixations,
                         other_shape=other_shape, normalize=normalize)
    if return_splits and not expected:
        return splits.get("sauc", np.array([value]))
    return value
