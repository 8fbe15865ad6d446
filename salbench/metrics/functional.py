r"""Saliency metrics for one image, as plain functions.

Each function validates its input, prepares the prediction exactly as the named protocol
prescribes (resize, quantisation, blur) and runs a numba kernel.  ``protocol`` is required:
the same metric under two protocols is two different numbers.

Conventions: a saliency map is any 2-D array (it is resized to the image); ``fixations``
is an ``(N, 2)`` integer array of 0-based ``(row, col)`` pixel coordinates at the image's
original resolution, duplicates allowed; ``shape`` is the image's ``(height, width)``
(default: the map's own shape).  An image without fixations scores NaN, as in the
references.  Sampled metrics take ``seed`` and ``stream`` (the image's index in a dataset
run), and are reproducible from them.
"""

from __future__ import annotations

import numpy as np

from . import _score, _validate
from ._setup import center_prior, kernel_config, slot, want_mask
from .protocols import Protocol, get_protocol

__all__ = ["auc_borji", "auc_judd", "cc", "center_prior", "ig", "kld", "nss", "sauc", "sim"]

_NO_POOL = (np.empty(0, dtype=np.int64), np.empty(0))


def _run(metric: str, saliency_map, fixations, *, protocol, shape, name, seed=0, stream=0,
         other=None, other_shape=None, baseline=None):
    proto = get_protocol(protocol)
    proto.check_metrics([metric])
    p, f32 = _validate.saliency_map(saliency_map, name)
    if metric == "kld":
        _validate.non_negative(p, name)
    shape = _validate.image_shape(p.shape if shape is None else shape, name)
    fix = _validate.fixations(fixations, shape, name)
    pool_idx, pool_w = _NO_POOL
    if other is not None:
        pool_idx, pool_w = _other_pool(proto, other, other_shape, shape, name)
    base = np.zeros((1, 1))
    if metric == "ig":
        base = center_prior(shape) if baseline is None else _validate.baseline_map(baseline, shape)
    n_splits = max(proto.splits, 1)
    out = np.empty(_score.N_SLOTS)
    out_borji = np.empty(n_splits)
    out_sauc = np.empty(n_splits)
    cfg = kernel_config(proto, shape)
    ws = _score.make_workspace(shape[0], shape[1], _score.workspace_like(cfg[0]))
    _score.score_image(
        p, f32, np.ascontiguousarray(fix[:, 0]), np.ascontiguousarray(fix[:, 1]),
        pool_idx, pool_w, False, base, *cfg, want_mask((metric,)), int(seed), int(stream),
        ws, out, out_borji, out_sauc,
    )
    return float(out[slot(metric)]), out_borji, out_sauc


def _other_pool(proto: Protocol, other, other_shape, shape, name):
    """sauc's negative pool as flat pixel indices (+ weights) in the image's frame."""
    src_shape = shape if other_shape is None else _validate.image_shape(other_shape, name)
    o = _validate.fixations(other, src_shape, name, what="other fixations")
    if src_shape != shape:  # rescale as pysaliency does: floor(x * W / W_other)
        o = np.stack([o[:, 0] * shape[0] // src_shape[0], o[:, 1] * shape[1] // src_shape[1]], 1)
    lin = o[:, 0] * shape[1] + o[:, 1]
    idx, counts = np.unique(lin, return_counts=True)
    if proto.auc == "exact":
        return idx.astype(np.int64), counts.astype(np.float64)
    return idx.astype(np.int64), np.ones(idx.size)


def cc(saliency_map, fixations, *, protocol: str | Protocol, shape=None,
       name: str = "image") -> float:
    r"""Pearson correlation between the prediction and the continuous ground truth.

    .. math:: \mathrm{CC} = \frac{\sum (P-\bar P)(G-\bar G)}
              {\sqrt{\sum (P-\bar P)^2 \sum (G-\bar G)^2}}

    ``G`` is the binary fixation map blurred with the protocol's Gaussian (sigma 19 px for
    ``replication``, 24 px at 640 px for ``mit``/``exact``); ``P`` is the prepared
    prediction.  NaN for a constant prediction or no fixations.

    >>> import numpy as np
    >>> fix = np.array([[10, 12], [30, 40]])
    >>> g = np.zeros((48, 64)); g[10, 12] = g[30, 40] = 1
    >>> from scipy.ndimage import gaussian_filter
    >>> round(cc(gaussian_filter(g, 24 * 64 / 640), fix, protocol="mit"), 6)
    1.0
    """
    return _run("cc", saliency_map, fixations, protocol=protocol, shape=shape, name=name)[0]


def nss(saliency_map, fixations, *, protocol: str | Protocol, shape=None,
        name: str = "image") -> float:
    r"""Normalised scanpath saliency: mean of the z-scored prediction at fixated pixels.

    .. math:: \mathrm{NSS} = \frac{1}{|F|}\sum_{x \in F} \frac{P(x) - \bar P}{\sigma_P}

    ``F``: fixated pixels (duplicates collapse); ``sigma_P`` with N-1 (``mit``, ``exact``).

    >>> import numpy as np
    >>> p = np.array([[0.0, 0.0], [0.0, 1.0]])   # mean 1/4, std (N-1) 1/2
    >>> nss(p, np.array([[1, 1]]), protocol="exact")
    1.5
    """
    return _run("nss", saliency_map, fixations, protocol=protocol, shape=shape, name=name)[0]


def kld(saliency_map, fixations, *, protocol: str | Protocol, shape=None,
        name: str = "image") -> float:
    r"""KL divergence of the prediction from the ground-truth distribution (lower is better).

    .. math:: \mathrm{KLD} = \sum_x G'(x) \log\Bigl(\epsilon + \frac{G'(x)}{P'(x)+\epsilon}\Bigr)

    ``P'``, ``G'``: the maps divided by their sums; ``epsilon`` = MATLAB's eps.  The
    prediction must be non-negative.

    >>> import numpy as np
    >>> from scipy.ndimage import gaussian_filter
    >>> g = np.zeros((32, 32)); g[8, 9] = 1
    >>> round(kld(gaussian_filter(g, 24 * 32 / 640), np.array([[8, 9]]), protocol="mit"), 9)
    0.0
    """
    return _run("kld", saliency_map, fixations, protocol=protocol, shape=shape, name=name)[0]


def sim(saliency_map, fixations, *, protocol: str | Protocol, shape=None,
        name: str = "image") -> float:
    r"""Similarity (histogram intersection) of the two normalised distributions.

    .. math:: \mathrm{SIM} = \sum_x \min\bigl(P'(x), G'(x)\bigr)

    Both maps min-max normalised, then divided by their sums (MIT ``similarity.m``).

    >>> import numpy as np
    >>> from scipy.ndimage import gaussian_filter
    >>> g = np.zeros((32, 32)); g[8, 9] = 1
    >>> round(sim(gaussian_filter(g, 24 * 32 / 640), np.array([[8, 9]]), protocol="mit"), 9)
    1.0
    """
    return _run("sim", saliency_map, fixations, protocol=protocol, shape=shape, name=name)[0]


def ig(saliency_map, fixations, *, protocol: str | Protocol, baseline=None, shape=None,
       name: str = "image") -> float:
    r"""Information gain over a baseline, in bits per fixated pixel.

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
                baseline=baseline)[0]


def auc_judd(saliency_map, fixations, *, protocol: str | Protocol, shape=None, seed: int = 0,
             stream: int = 0, name: str = "image") -> float:
    r"""AUC-Judd: positives at fixations, negatives the unfixated pixels.

    ``mit``: MATLAB ``AUC_Judd.m`` (1e-7 seeded jitter, thresholds at fixated values).
    ``exact``: the Mann-Whitney area :math:`P(P_+ > P_-) + \tfrac12 P(P_+ = P_-)` with every
    fixation a positive.

    >>> import numpy as np
    >>> p = np.array([[0.1, 0.2], [0.3, 0.4]])
    >>> auc_judd(p, np.array([[1, 1]]), protocol="exact")  # 0.4 beats all three others
    1.0
    """
    return _run("auc_judd", saliency_map, fixations, protocol=protocol, shape=shape,
                name=name, seed=seed, stream=stream)[0]


def auc_borji(saliency_map, fixations, *, protocol: str | Protocol, shape=None, seed: int = 0,
              stream: int = 0, expected: bool = False, return_splits: bool = False,
              name: str = "image"):
    r"""AUC-Borji: negatives drawn uniformly from all pixels.

    ``replication``/``mit``: 100 splits of as many uniform negatives as positives, grid
    thresholds (numpy arange / MATLAB colon), mean of the trapezoid areas.  ``expected``
    gives the exact expectation of that estimate (``auc_borji@expected``).
    ``return_splits`` returns the per-split areas instead of their mean.
    ``exact``: Mann-Whitney area against every pixel.

    >>> import numpy as np
    >>> p = np.array([[0.1, 0.2], [0.3, 0.4]])
    >>> auc_borji(p, np.array([[1, 1]]), protocol="exact")  # (3 + 1/2) / 4
    0.875
    """
    metric = "auc_borji@expected" if expected else "auc_borji"
    value, splits, _ = _run(metric, saliency_map, fixations, protocol=protocol, shape=shape,
                            name=name, seed=seed, stream=stream)
    return splits if return_splits and not expected else value


def sauc(saliency_map, fixations, other_fixations, *, protocol: str | Protocol, shape=None,
         other_shape=None, seed: int = 0, stream: int = 0, expected: bool = False,
         return_splits: bool = False, name: str = "image"):
    r"""Shuffled AUC: negatives at other images' fixations, cancelling centre bias.

    ``other_fixations``: the negative pool as ``(row, col)`` coordinates (in an image of
    ``other_shape``, default ``shape``; rescaled as pysaliency does).  ``replication``/``mit``:
    the pool is a binary map (duplicates collapse); per split a random permutation keeps
    ``min(#positives, #pool)`` of its pixels.  ``exact``: Mann-Whitney area against every
    other fixation, count-weighted.  ``expected``/``return_splits`` as in :func:`auc_borji`.

    >>> import numpy as np
    >>> p = np.array([[0.1, 0.2], [0.3, 0.4]])
    >>> sauc(p, np.array([[1, 1]]), np.array([[0, 0], [1, 1]]), protocol="exact")
    0.75
    """
    metric = "sauc@expected" if expected else "sauc"
    value, _, splits = _run(metric, saliency_map, fixations, protocol=protocol, shape=shape,
                            name=name, seed=seed, stream=stream, other=other_fixations,
                            other_shape=other_shape)
    return splits if return_splits and not expected else value
