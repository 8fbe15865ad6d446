"""A split's inputs and targets on the training device, mirrored by indexing."""

from __future__ import annotations

import numpy as np
import torch

from ...data.split import Split


def fixation_cells(split: Split, count: int, side: int) -> np.ndarray:
    """``(count, side, side)`` uint8: 1 where a fixation of the first ``count`` items falls
    (the cell holding the fixated pixel's centre)."""
    out = np.zeros((count, side, side), np.uint8)
    for i in range(count):
        f = split.fixations(i)
        h, w = split.sizes[i]
        r = np.minimum(((2 * f[:, 0] + 1) * side) // (2 * h), side - 1)
        c = np.minimum(((2 * f[:, 1] + 1) * side) // (2 * w), side - 1)
        out[i, r, c] = 1
    return out


class DeviceData:
    """Inputs (uint8), targets and (when a loss needs them) binary fixation maps on the
    device.  When the split's second half is exactly the first half mirrored (salbench's
    and the study's train splits), only the originals are stored and an index ``i >= n``
    means "original ``i - n``, flipped"."""

    def __init__(self, split: Split, device: torch.device, fixations: bool = False) -> None:
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
        self.f = None
        if fixations:
            cells = fixation_cells(split, self.base, y.shape[-1])
            empty = int((cells.reshape(len(cells), -1).max(axis=1, initial=0) == 0).sum())
            if empty:
                from ...console import note

                note(f"{empty} of {self.base} images of {split.dataset}/{split.name} have no "
                     "fixations: the loss's NSS term is 0 for them")
            self.f = torch.from_numpy(cells).to(device)

    def batch(self, idx: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Inputs in [0, 1], targets and fixation maps (None unless asked for)."""
        f = None
        if self.mirror:
            flip = idx >= self.base
            base = torch.where(flip, idx - self.base, idx)
            f4 = flip.view(-1, 1, 1, 1)
            x = torch.where(f4, self.x[base].flip(-1), self.x[base])
            y = torch.where(f4[:, 0], self.y[base].flip(-1), self.y[base])
            if self.f is not None:
                f = torch.where(f4[:, 0], self.f[base].flip(-1), self.f[base])
        else:
            x, y = self.x[idx], self.y[idx]
            if self.f is not None:
                f = self.f[idx]
        return x.float() / self.scale, y, f
