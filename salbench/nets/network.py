"""A shallow network as a registry model: built from its card's variant, trained with its
card's recipe (torch is imported here, on use)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.split import Split
from ..errors import UserError
from .base import Model


class NetworkModel(Model):
    """A shallow Pan network trained with its card's ``[train]`` recipe."""

    trainable = True

    def __init__(self, card) -> None:
        super().__init__(card)
        from .shallow_pan import VARIANTS

        self.arch = VARIANTS[card.variant]
        self.module = None
        self.train_result = None

    def build(self, seed: int = 0):
        import torch

        from .shallow_pan import build

        torch.manual_seed(seed)
        self.module = build(self.arch)
        return self.module

    def train_config(self, **overrides):
        from .training.config import TrainConfig

        return TrainConfig.from_card(self.card.train, self.card.path, **overrides)

    def fit(self, train: Split, val: Split | None, out: str | Path, *, epochs=None,
            seed: int = 0, device: str = "auto", resume: bool = True, resume_from=None,
            progress: bool = True, **overrides):
        from .training.loop import train as run_training

        cfg = self.train_config(epochs=epochs, seed=seed, device=device, **overrides)
        self.build(seed)
        self.train_result = run_training(self.module, self.name, train, val, cfg, out,
                                         resume=resume, resume_from=resume_from,
                                         progress=progress)
        self.checkpoint = self.train_result.checkpoint
        self.checkpoint_epoch = self.train_result.epochs_done
        return self.train_result

    def load(self, out: str | Path, checkpoint: str | Path | None = None) -> str:
        from .training import checkpoints

        if checkpoint:
            path, state = Path(checkpoint), checkpoints.load(checkpoint, self.name)
        else:
            found = checkpoints.latest_valid(Path(out), self.name)
            if found is None:
                raise UserError(f"no checkpoint of {self.name!r}", out,
                                f"train it first with 'salbench run {self.name} --train' (or "
                                "pass --out to where it was trained)")
            path, state = found
        self.build()
        self.module.load_state_dict(state["state_dict"])
        self.checkpoint = str(path)
        self.checkpoint_epoch = int(state["epoch"])
        self.checkpoint_state = {k: state.get(k) for k in ("config", "epoch", "step", "data")}
        return str(path)

    def predict(self, split: Split, device: str = "auto") -> np.ndarray:
        """Maps in [0, 1], the targets' range: a linear output is clipped (a saliency map is
        non-negative: KLD and SIM treat it as a distribution); a softmax output is divided
        by each map's maximum (its values are ~1/2304: the replication protocol's 8-bit
        cast would flatten them)."""
        from .shallow_pan import OUTPUT_SOFTMAX
        from .training.predict import predict

        if self.module is None:
            raise UserError(f"{self.name}: not trained or loaded",
                            hint="train it (--train) or load a checkpoint first")
        maps = predict(self.module, split, device)
        if self.arch.output == OUTPUT_SOFTMAX:
            return maps / maps.max(axis=(1, 2), keepdims=True)
        return np.clip(maps, 0.0, 1.0)
