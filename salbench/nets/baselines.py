"""Training-free and fitted baselines, numpy only (no torch).

* ``uniform``: a constant map (its AUCs are 0.5; CC and NSS are undefined, NaN);
* ``center-bias``: the training fixations' spatial histogram, blurred with the width that
  best predicts held-out training images (fitted, not tuned on val);
* ``oracle``: the synthetic set's true fixation density (synth only): each metric's
  ceiling for a 48x48 prediction;
* ``spectral-residual``: Hou & Zhang (CVPR 2007), from the image alone.

Every model maps a :class:`~salbench.data.Split` to ``(N, 48, 48)`` float32 predictions.
A card's ``entry`` names the class (``salbench.nets.baselines:CenterBias``), so adding a
baseline touches its card and this module only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter, uniform_filter

from ..data.split import MAP_SIDE, Split
from ..errors import UserError
from ..io import atomic_write
from .base import Model

SIZE = MAP_SIDE
STATE_FILE = "baseline.npz"


class Uniform(Model):
    """A constant map."""

    def predict(self, split: Split, device: str = "auto") -> np.ndarray:
        return np.full((len(split), SIZE, SIZE), 0.5, dtype=np.float32)


class CenterBias(Model):
    """Histogram of all training fixations on the 48x48 grid (relative coordinates),
    blurred with the sigma (in grid cells) that maximises the log-likelihood of one half
    of the training images under the other half's histogram."""

    trainable = True
    SIGMAS = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)

    def __init__(self, card=None) -> None:
        super().__init__(card)
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

    def fit(self, train: Split, val: Split | None = None, out: str | Path | None = None,
            **options) -> None:
        """Fit on ``train``'s fixations; with ``out``, save the map there."""
        self.fit_map(train)
        if out is not None:
            path = Path(out) / STATE_FILE
            with atomic_write(path) as f:
                np.savez(f, **self.state())
            self.checkpoint = str(path)

    def load(self, out: str | Path, checkpoint: str | Path | None = None) -> str:
        path = Path(checkpoint) if checkpoint else Path(out) / STATE_FILE
        if not path.exists():
            raise UserError(f"no fitted {self.name!r}", out, "run it with --train first")
        with np.load(path, allow_pickle=False) as z:
            self.load_state({k: z[k] for k in z.files})
        self.checkpoint = str(path)
        return str(path)

    def fit_map(self, train: Split) -> CenterBias:
        n = len(train)
        if train.fix_offsets[-1] == 0:
            raise UserError("no fixations to fit a centre bias", f"{train.dataset}/{train.name}",
                            "fit it on a split with fixations")
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

    def predict(self, split: Split, device: str = "auto") -> np.ndarray:
        if self.map is None:
            raise UserError("center-bias is not fitted", hint="call fit(train) first")
        return np.repeat(self.map[None], len(split), axis=0)

    def state(self) -> dict:
        return {"map": self.map, "sigma": np.float64(self.sigma)}

    def load_state(self, state: dict) -> CenterBias:
        self.map = np.asarray(state["map"], dtype=np.float32)
        self.sigma = float(state["sigma"])
        return self


class Oracle(Model):
    """The synthetic set's true fixation density."""

    def predict(self, split: Split, device: str = "auto") -> np.ndarray:
        if "density" not in split.extras:
            raise UserError(f"oracle needs the true fixation density, which only the "
                            f"synthetic set has (this is {split.dataset!r})",
                            hint="use --dataset synth")
        return split.extras["density"].astype(np.float32)


class SpectralResidual(Model):
    """Hou & Zhang (2007): log amplitude spectrum minus its 3x3 local average, back to
    the image domain with the original phase, squared, blurred; on a 64x64 grey image."""

    def __init__(self, card=None, size: int = 64, blur: float = 2.5) -> None:
        super().__init__(card)
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

    def predict(self, split: Split, device: str = "auto") -> np.ndarray:
        x = split.inputs
        return np.stack([self.map(x[i]) for i in range(len(split))]) if len(split) else \
            np.zeros((0, SIZE, SIZE), np.float32)
