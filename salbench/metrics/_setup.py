"""Turn a :class:`Protocol` and an image size into the kernels' plain arguments."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import _score
from ._blur import filter_tables, gaussian_weights
from .protocols import Protocol

_SLOTS = {
    "cc": _score.CC, "nss": _score.NSS, "kld": _score.KLD, "sim": _score.SIM, "ig": _score.IG,
    "auc_judd": _score.AUC_JUDD, "auc_borji": _score.AUC_BORJI, "sauc": _score.SAUC,
    "auc_borji@expected": _score.AUC_BORJI_EXP, "sauc@expected": _score.SAUC_EXP,
}
_GRID = {"grid-arange": 0, "grid-colon": 1, "exact": _score.AUC_EXACT}
_RESIZE = {"pillow-bicubic-uint8": _score.RESIZE_PILLOW_U8, "matlab-bicubic": _score.RESIZE_MATLAB}


def slot(metric: str) -> int:
    return _SLOTS[metric]


def want_mask(metrics: tuple[str, ...]) -> np.ndarray:
    want = np.zeros(_score.N_SLOTS, dtype=np.bool_)
    for m in metrics:
        want[_SLOTS[m]] = True
    return want


@lru_cache(maxsize=8)
def _pre_weights(sigma: float | None) -> np.ndarray:
    w = np.empty(0) if sigma is None else gaussian_weights(sigma)
    w.setflags(write=False)
    return w


def kernel_config(protocol: Protocol, shape: tuple[int, int]) -> tuple:
    """``(resize_kind, clip01, pre_w, tr, tc, ddof, grid_kind, step, splits, judd_jitter)``"""
    sigma = protocol.gt_sigma_for(shape)
    return (
        _RESIZE[protocol.resize], protocol.clip, _pre_weights(protocol.prediction_blur_sigma),
        filter_tables(shape[0], sigma), filter_tables(shape[1], sigma), protocol.std_ddof,
        _GRID[protocol.auc], protocol.step, protocol.splits, protocol.judd_jitter,
    )


def pool_mode(protocol: Protocol) -> tuple[int, int]:
    """(pool_mode, k_other) for ``_score.score_images``."""
    return {"random-10": (1, 10), "other-10": (2, 10), "all-other-fixations": (3, 0)}[
        protocol.sauc_pool]


def center_prior(shape: tuple[int, int]) -> np.ndarray:
    """The centre-bias baseline of ``ig``: a Gaussian at the image centre with
    ``sigma = (H/4, W/4)`` (stretched to the image's aspect ratio)."""
    h, w = shape
    r = (np.arange(h) - (h - 1) / 2.0) / (h / 4.0)
    c = (np.arange(w) - (w - 1) / 2.0) / (w / 4.0)
    return np.exp(-0.5 * (r[:, None] ** 2 + c[None, :] ** 2))
