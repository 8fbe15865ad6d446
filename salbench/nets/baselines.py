"""Training-free and fitted baselines, numpy only (no torch).

* ``uniform``: a constant map (its AUCs are 0.5; CC and NSS are undefined, NaN);
* ``center-bias``: the training fixations' spatial histogram, blurred with the width that
  best predicts held-out training images (fitted, not tuned on val);
* ``oracle``: the synthetic set's true fixation density (synth only): each metric's
  ceiling for a 48x48 prediction;
* ``spectral-residual``: Hou & Zhang (CVPR 2007), from the image alone.

Every model maps a :class:`~salbench.data.Split` to ``(N, 48, 48)`` float32 predictions.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter, uniform_filter

from ..data.split import Split

SIZE = 48


class Uniform:
    name = "uniform"
    trainable = False

    def predict(self, split: Split) -> np.ndarray:
        return np.full((len(split), SIZE, SIZE), 0.5, dtype=np.float32)


class CenterBias:
    """Histogram of all training fixations on the 48x48 grid (relative coordinates),
    blurred with the sigma (in grid cells) that maximises the log-likelihood of one half
    of the training images under the other half's histogram."""

    name = "center-bias"
    trainable = True
    SIGMAS = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)

    def __init__(self) -> None:
        self.map: np.ndarray | None = None
        self.sigma: float | None = None

    @staticmethod
    def _hist(split: Split, images: np.ndarray) -> np.ndarray:
        h = np.zeros((SIZE, SIZE))
        for i in images:
            f = split.fixations(i)
            hh, ww = split.sizes[i]
            np.add.at(h, (f[:, 0] * SIZE // hh, f[:, 1] * SIZE // ww), 1.0)
        return h

    def fit(self, train: Split) -> CenterBias:
        n = len(train)
        if train.fix_offsets[-1] == 0:
            raise ValueError(f"{train.dataset}/{train.name}: no fixations to fit a centre bias")
        idx = np.arange(n)
        a, b = self._hist(train, idx[::2]), self._hist(train, idx[1::2])
        best, best_ll = self.SIGMAS[0], -np.inf
        for s in self.SIGMAS:
            p = gaussian_filter(a, s, mode="constant") + 1e-3 * a.sum() / a.size
            ll = float((b * np.log(p / p.sum())).sum())
            if ll > best_ll:
                best, best_ll = s, ll
        m = gaussian_filter(a + b, best, mode="constant")
        self.sigma = best
        self.map = (m / m.max()).astype(np.float32)
        return self

    def predict(self, split: Split) -> np.ndarray:
        if self.map is None:
            raise ValueError("center-bias is not fitted; call fit(train) first")
        return np.repeat(self.map[None], len(split), axis=0)

    def state(self) -> dict:
        return {"map": self.map, "sigma": np.float64(self.sigma)}

    def load_state(self, state: dict) -> CenterBias:
        self.map = np.asarray(state["map"], dtype=np.float32)
        self.sigma = float(state["sigma"])
        return self


class Oracle:
    name = "oracle"
    trainable = False

    def predict(self, split: Split) -> np.ndarray:
        if "density" not in split.extras:
            raise ValueError(f"oracle needs the true fixation density, which only the "
                             f"synthetic set has (this is {split.dataset!r})")
        return split.extras["density"].astype(np.float32)


class SpectralResidual:
    """Hou & Zhang (2007): log amplitude spectrum minus its 3x3 local average, back to
    the image domain with the original phase, squared, blurred; on a 64x64 grey image."""

    name = "spectral-residual"
    trainable = False

    def __init__(self, size: int = 64, blur: float = 2.5) -> None:
        self.size = size
        self.blur = blur

    def map(self, rgb_chw: np.ndarray) -> np.ndarray:
        from PIL import Image

        grey = rgb_chw.astype(np.float64).mean(axis=0)
        img = np.asarray(Image.fromarray(grey.astype(np.float32)).resize(
            (self.size, self.size), Image.BILINEAR), dtype=np.float64)
        f = np.fft.fft2(img)
        log_amp = np.log(np.abs(f) + 1e-12)
        residual = log_amp - uniform_filter(log_amp, 3, mode="wrap")
        s = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(f)))) ** 2
        s = gaussian_filter(s, self.blur)
        out = np.asarray(Image.fromarray(s.astype(np.float32)).resize((SIZE, SIZE),
                                                                      Image.BILINEAR))
        lo, hi = out.min(), out.max()
        return ((out - lo) / (hi - lo) if hi > lo else np.zeros_like(out)).astype(np.float32)

    def predict(self, split: Split) -> np.ndarray:
        x = split.inputs
        return np.stack([self.map(x[i]) for i in range(len(split))]) if len(split) else \
            np.zeros((0, SIZE, SIZE), np.float32)
