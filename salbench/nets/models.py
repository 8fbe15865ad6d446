"""What the registry's entries build: one interface for networks and baselines.

``fit(train, val, out, ...)`` trains or fits (and saves to ``out``), ``load(out)`` restores
what ``fit`` saved, ``predict(split)`` returns ``(N, 48, 48)`` float32 maps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.split import Split
from . import baselines


class NetworkModel:
    """A shallow network (torch, imported here) trained with its card's recipe."""

    trainable = True

    def __init__(self, card) -> None:
        from .shallow_pan import VARIANTS

        self.card = card
        self.name = card.name
        self.arch = VARIANTS[card.variant]
        self.module = None
        self.train_result = None
        self.checkpoint: str | None = None
        self.checkpoint_epoch: int | None = None

    def build(self, seed: int = 0):
        import torch

        from .shallow_pan import build

        torch.manual_seed(seed)
        self.module = build(self.arch)
        return self.module

    def train_config(self, **overrides):
        from ..train import TrainConfig

        fields = TrainConfig.__dataclass_fields__
        cfg = {k: v for k, v in self.card.train.items() if k in fields}
        cfg.update({k: v for k, v in overrides.items() if v is not None})
        return TrainConfig(**cfg)

    def fit(self, train: Split, val: Split | None, out: str | Path, *, epochs=None, seed=0,
            device="auto", resume=True, progress=True, **overrides):
        from ..train import train as run_training

        cfg = self.train_config(epochs=epochs, seed=seed, device=device, **overrides)
        self.build(seed)
        self.train_result = run_training(self.module, self.name, train, val, cfg, out,
                                         resume=resume, progress=progress)
        self.checkpoint = self.train_result.checkpoint
        return self.train_result

    def load(self, out: str | Path, checkpoint: str | Path | None = None) -> str:
        from ..train import latest_checkpoint, load_checkpoint

        path = Path(checkpoint) if checkpoint else latest_checkpoint(Path(out))
        if path is None:
            raise FileNotFoundError(
                f"no checkpoint of {self.name!r} in {out}; train it first with "
                f"'salbench run {self.name} --train' (or pass --out to where it was trained)")
        state = load_checkpoint(path, self.name)
        self.build()
        self.module.load_state_dict(state["state_dict"])
        self.checkpoint = str(path)
        self.checkpoint_epoch = int(state["epoch"])
        return str(path)

    def predict(self, split: Split, device: str = "auto") -> np.ndarray:
        """Maps clipped to [0, 1], the targets' range: a saliency map is non-negative (KLD,
        SIM treat it as a distribution); the replication protocol clips there anyway."""
        from ..train import predict

        if self.module is None:
            raise ValueError(f"{self.name}: not trained or loaded")
        return np.clip(predict(self.module, split, device), 0.0, 1.0)


class BaselineModel:
    """A numpy baseline; ``center-bias`` is fitted on the training fixations."""

    def __init__(self, card) -> None:
        self.card = card
        self.name = card.name
        impl = {"uniform": baselines.Uniform, "center-bias": baselines.CenterBias,
                "oracle": baselines.Oracle, "spectral-residual": baselines.SpectralResidual}
        self.impl = impl[card.variant or card.name]()
        self.trainable = self.impl.trainable
        self.checkpoint: str | None = None

    def fit(self, train: Split, val: Split | None, out: str | Path, **_) -> None:
        if not self.trainable:
            return None
        self.impl.fit(train)
        from ..io import atomic_write

        path = Path(out) / "baseline.npz"
        with atomic_write(path) as f:
            np.savez(f, **self.impl.state())
        self.checkpoint = str(path)
        return None

    def load(self, out: str | Path, checkpoint=None) -> str | None:
        if not self.trainable:
            return None
        path = Path(checkpoint) if checkpoint else Path(out) / "baseline.npz"
        if not path.exists():
            raise FileNotFoundError(f"no fitted {self.name!r} in {out}; run with --train")
        with np.load(path, allow_pickle=False) as z:
            self.impl.load_state({k: z[k] for k in z.files})
        self.checkpoint = str(path)
        return str(path)

    def predict(self, split: Split, device: str = "auto") -> np.ndarray:
        return self.impl.predict(split)
