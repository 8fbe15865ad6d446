"""What every model offers (see :mod:`salbench.nets`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.split import Split


class Model:
    """A training-free model: ``fit`` and ``load`` do nothing."""

    trainable = False

    def __init__(self, card=None) -> None:
        self.card = card
        self.name = card.name if card is not None else type(self).__name__.lower()
        self.checkpoint: str | None = None
        self.checkpoint_epoch: int | None = None

    def fit(self, train: Split, val: Split | None, out: str | Path, **options):
        return None

    def load(self, out: str | Path, checkpoint: str | Path | None = None) -> str | None:
        return None

    def predict(self, split: Split, device: str = "auto") -> np.ndarray:
        raise NotImplementedError
