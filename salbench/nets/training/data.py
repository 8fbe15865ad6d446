"""A split's inputs and targets on the training device, mirrored by indexing."""

from __future__ import annotations

import numpy as np
import torch

from ...data.split import Split


class DeviceData:
    """Inputs (uint8) and targets on the device.  When the split's second half is exactly
    the first half mirrored (salbench's and the study's train splits), only the originals
    are stored and an index ``i >= n`` means "original ``i - n``, flipped"."""

    def __init__(self, split: Split, device: torch.device) -> None:
        x = split.inputs
        y = split.targets
        n = len(split)
        half = n // 2
        self.mirror = bool(n and n % 2 == 0 and split.mirrored[half:].all()
                           and not split.mirrored[:half].any()
                           and np.array_equal(x[half:], x[:half, ..., ::-1])
                           and np.array_equal(y[half:], y[:half, ..., ::-1]))
        if self.mirror:
            x, y = x[:half], y[:half]
        self.base = len(x)
        self.n = n
        self.scale = 255.0 if x.dtype == np.uint8 else 1.0
        self.x = torch.from_numpy(np.ascontiguousarray(x)).to(device)
        self.y = torch.from_numpy(np.ascontiguousarray(y)).to(device)

    def batch(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.mirror:
            flip = idx >= self.base
            base = torch.where(flip, idx - self.base, idx)
            x = self.x[base]
            y = self.y[base]
            f4 = flip.view(-1, 1, 1, 1)
            x = torch.where(f4, x.flip(-1), x)
            y = torch.where(f4[:, 0], y.flip(-1), y)
        else:
            x = self.x[idx]
            y = self.y[idx]
        return x.float() / self.scale, y
