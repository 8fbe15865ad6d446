"""EMD as the MIT benchmark's ``EMD.m`` computes it (downsize 32).

The continuous ground truth is ``imresize``'d by ``1/downsize`` (MATLAB: output ``ceil(H /
32) x ceil(W / 32)``, kernel at scale 1/32), the prediction ``imresize``'d to that size,
both divided by their sums; the ground distance is the Euclidean distance between pixel
positions and the flow is solved by FastEMD (Pele & Werman) with extra-mass penalty 0 —
``pyemd``'s ``cpp`` backend is the same C++ code as MATLAB's ``emd_hat_gd_metric_mex``
(it rounds masses to 1e-6 of the total and distances to 1e-6 of the largest before
solving, so two implementations agree to about 1e-6, not to the last digit).  ``exact``
solves the same problem without rounding (POT's network simplex, pyemd's ``pot`` backend).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..errors import UserError
from ._resize import matlab_bicubic, matlab_imresize_scale


def require_pyemd():
    """pyemd, when it has both solvers the protocols name (pyemd 1.x: ``backend="cpp"``,
    FastEMD's C++ code, and ``"pot"``); pyemd 2 dropped the C++ code and the argument."""
    import inspect

    import pyemd

    if "backend" not in inspect.signature(pyemd.emd).parameters:
        from importlib.metadata import version

        raise UserError(f"emd needs pyemd 1.x, whose C++ FastEMD is what MIT's EMD.m runs; "
                        f"pyemd {version('pyemd')} has no such solver",
                        hint="pip install 'pyemd>=1.1,<2', or leave emd out (--metrics)")
    return pyemd


@lru_cache(maxsize=8)
def ground_distance(h: int, w: int) -> np.ndarray:
    """Euclidean distances between the pixels of an ``h x w`` grid, column-major order as
    ``im(:)`` lists them."""
    c, r = np.meshgrid(np.arange(w), np.arange(h))
    pts = np.stack([r.ravel(order="F"), c.ravel(order="F")], 1).astype(float)
    d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1))
    d.setflags(write=False)
    return d


# why emd is NaN (the dataset scorer counts these reasons)
EMPTY_GT = "downsized ground truth sums to 0 or less (EMD.m divides by the sum)"
EMPTY_PREDICTION = "downsized prediction sums to 0 or less (EMD.m divides by the sum)"


def emd(prediction: np.ndarray, ground_truth: np.ndarray, downsize: int = 32,
        exact: bool = False) -> tuple[float, str | None]:
    """``(EMD(saliencyMap, fixationMap) of MIT's code, None)``; ``(NaN, why)`` when a
    downsized map sums to 0 or less (MATLAB divides by that sum): ``EMPTY_GT`` or
    ``EMPTY_PREDICTION``.  Bicubic overshoot below 0 is passed to FastEMD as MATLAB
    passes it."""
    pyemd = require_pyemd()
    im1 = matlab_imresize_scale(ground_truth, 1.0 / downsize)
    im2 = matlab_bicubic(prediction, *im1.shape)
    s1 = im1.sum()
    s2 = im2.sum()
    if not s1 > 0.0:
        return float("nan"), EMPTY_GT
    if not s2 > 0.0:
        return float("nan"), EMPTY_PREDICTION
    p = np.ascontiguousarray((im1 / s1).ravel(order="F"))
    q = np.ascontiguousarray((im2 / s2).ravel(order="F"))
    return float(pyemd.emd(p, q, ground_distance(*im1.shape), extra_mass_penalty=0.0,
                           backend="pot" if exact else "cpp")), None
