"""Continuous maps made from fixations, as SALICON's maps are made."""

from __future__ import annotations

import numpy as np


def fixation_target(fix: np.ndarray, shape: tuple[int, int], size: int = 48,
                    sigma: float = 19.0) -> np.ndarray:
    """A ``size x size`` float32 map in [0, 1]: the fixations (row, col) of an image of
    ``shape`` binned onto the grid and blurred with ``sigma`` pixels of the original image
    (anisotropic on the grid when the image is not square), maximum normalised to 1."""
    from scipy.ndimage import gaussian_filter  # here: scoring loads splits, never needs it

    h, w = shape
    m = np.zeros((size, size))
    if len(fix):
        np.add.at(m, (np.asarray(fix[:, 0]) * size // h, np.asarray(fix[:, 1]) * size // w),
                  1.0)
    m = gaussian_filter(m, (sigma * size / h, sigma * size / w), mode="constant")
    peak = m.max()
    return (m / peak if peak > 0 else m).astype(np.float32)
