"""Predictions of a trained network for a split."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ...data.split import TARGET_SHAPE, Split
from .device import resolve_device


@torch.no_grad()
def predict(model: nn.Module, split: Split, device: str = "auto", batch: int = 256
            ) -> np.ndarray:
    """``(N, 48, 48)`` float32 predictions for every item of ``split`` (fp32, eval mode)."""
    dev = resolve_device(device)
    model.to(dev).eval()
    out = []
    for s in range(0, len(split), batch):
        x = torch.from_numpy(split.inputs_float(slice(s, s + batch))).to(dev)
        out.append(model(x).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, *TARGET_SHAPE), np.float32)
