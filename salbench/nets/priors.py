"""Learned centre-bias priors, after SAM's learned-priors module (Cornia et al., 2018).

``K`` 2-D Gaussian maps on the output grid, each with a learned mean and a learned full
covariance (standard deviations and a correlation; SAM's are axis-aligned), each scaled to
a peak of 1; a 5x5 convolution combines them with the network's map.  The convolution
starts as the identity on the map (its centre tap 1, every other weight 0), so a network
with priors starts out as the network without them and learns how much prior to add.
SAM combines its priors with 512 feature channels through dilated convolutions; the
shallow network has one output map, so the priors join that.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .shallow_pan import PRIOR_KERNEL as KERNEL

MAX_CORRELATION = 0.9  # keeps each covariance well away from singular


class LearnedPriors(nn.Module):
    def __init__(self, net: nn.Module, k: int, side: int) -> None:
        super().__init__()
        self.net = net
        self.config = getattr(net, "config", None)
        self.mean = nn.Parameter(torch.empty(k, 2).uniform_(0.25, 0.75))  # (y, x) in [0, 1]
        self.log_std = nn.Parameter(torch.empty(k, 2).uniform_(math.log(0.1), math.log(0.3)))
        self.correlation = nn.Parameter(torch.zeros(k))  # tanh-squashed
        self.combine = nn.Conv2d(1 + k, 1, KERNEL, padding=KERNEL // 2)
        with torch.no_grad():
            self.combine.weight.zero_()
            self.combine.weight[0, 0, KERNEL // 2, KERNEL // 2] = 1.0
            self.combine.bias.zero_()
        centres = (torch.arange(side, dtype=torch.float32) + 0.5) / side
        self.register_buffer("grid", torch.stack(torch.meshgrid(centres, centres,
                                                                indexing="ij")), persistent=False)

    def priors(self) -> torch.Tensor:
        """``(K, side, side)`` prior maps, each with peak 1."""
        d = self.grid[None] - self.mean[:, :, None, None]  # (K, 2, S, S)
        std = self.log_std.exp()[:, :, None, None]
        u = d / std
        rho = (MAX_CORRELATION * torch.tanh(self.correlation))[:, None, None]
        q = (u[:, 0] ** 2 - 2 * rho * u[:, 0] * u[:, 1] + u[:, 1] ** 2) / (1 - rho ** 2)
        return torch.exp(-0.5 * q)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.net(x)
        p = self.priors().to(m.dtype).expand(m.shape[0], -1, -1, -1)
        return self.combine(torch.cat([m[:, None], p], dim=1))[:, 0]


def with_priors(net: nn.Module, k: int, side: int) -> LearnedPriors:
    return LearnedPriors(net, k, side)
