"""The shallow convolutional network of Pan et al. (CVPR 2016), in its variants.

``shallow-pan`` is the replication study's network: padded convolutions (5x5/2, 3x3/1,
3x3/1), max-pools 2x2/2, 3x3/2, 3x3/2 -> 128x11x11 = 15,488 -> fc 4,608 -> maxout over
adjacent pairs -> 2,304 -> fc 2,304 = a 48x48 map.  ``shallow-pan-paper`` is the network
as published: unpadded convolutions and ceil-rounded pools -> 128x10x10 = 12,800, 64,392,512
parameters.  ``shallow-pan-small`` has the same structure at a quarter of the width with
He-initialised convolutions (its card trains it with Adam): a CPU-sized model that learns
the synthetic set in a minute or two, where the study's recipe needs its full GPU schedule.
``shallow-pan-tiny`` has the same structure with few units, for tests.
Weights start N(0, 0.01), biases 0.1 (``init="he"``: Kaiming-normal convolutions, bias 0).

The study's future work, each a variant that changes one thing (cards in ``models/``):
``output="softmax"`` makes the map a distribution over its pixels, for the losses that
compare distributions (``-kld``, ``-bhatt``, ``-combined``); ``priors=K`` adds SAM's learned
Gaussian priors (:mod:`.priors`); ``discriminator=C`` trains the network as the generator of
a SalGAN-style pair (:mod:`.adversarial`).  Each has a ``-small`` sibling at
``shallow-pan-small``'s width, for CPUs.

Variants are plain :class:`ShallowConfig` values; :func:`param_count` counts parameters
without torch (``salbench models`` stays torch-free).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

from ..data.split import INPUT_SIDE, MAP_SIDE

OUTPUT_LINEAR = "linear"  # the study's: fc2's values as they are
OUTPUT_SOFTMAX = "softmax"  # a distribution over the 48x48 cells
OUTPUTS = (OUTPUT_LINEAR, OUTPUT_SOFTMAX)
PRIOR_KERNEL = 5  # the convolution that combines the learned priors with the map


@dataclass(frozen=True)
class ShallowConfig:
    channels: tuple[int, int, int] = (32, 64, 128)
    kernels: tuple[int, int, int] = (5, 3, 3)
    padding: tuple[int, int, int] = (2, 1, 1)
    pools: tuple[tuple[int, int], ...] = ((2, 2), (3, 2), (3, 2))  # (kernel, stride)
    ceil_pools: bool = False
    hidden: int = 2304  # maxout output; fc1 has twice as many units
    side: int = MAP_SIDE  # the output map is side x side
    input: int = INPUT_SIDE
    init_std: float = 0.01
    init_bias: float = 0.1
    init: str = "normal"  # "normal": N(0, init_std) everywhere; "he": Kaiming convolutions
    output: str = OUTPUT_LINEAR
    priors: int = 0  # learned Gaussian prior maps combined with the output (0: none)
    discriminator: int = 0  # width of a SalGAN-style discriminator (0: none)

    def __post_init__(self) -> None:
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {self.output!r}")
        if self.priors and self.output != OUTPUT_LINEAR:
            raise ValueError("learned priors combine with a linear output")

    def feature_side(self) -> int:
        side = self.input
        for k, p, (pk, ps) in zip(self.kernels, self.padding, self.pools, strict=True):
            side = side + 2 * p - k + 1
            rnd = math.ceil if self.ceil_pools else math.floor
            out = rnd((side - pk) / ps) + 1
            if self.ceil_pools and (out - 1) * ps >= side:  # PyTorch drops a window that
                out -= 1                                  # would start past the input
            side = out
        return side

    def flat_features(self) -> int:
        return self.channels[2] * self.feature_side() ** 2


STUDY = ShallowConfig()
SMALL = ShallowConfig(channels=(8, 16, 16), hidden=256, init="he")
TINY = ShallowConfig(channels=(4, 8, 8), hidden=64)
# the future-work changes, applied to a base width
FUTURE = {
    "kld": {"output": OUTPUT_SOFTMAX},
    "bhatt": {"output": OUTPUT_SOFTMAX},
    "combined": {"output": OUTPUT_SOFTMAX},
    "priors": {"priors": 16},
}
GAN_WIDTH = {"": 32, "-small": 8}  # discriminator width per base

VARIANTS: dict[str, ShallowConfig] = {
    "shallow-pan": STUDY,
    "shallow-pan-l1": STUDY,  # same network, trained with L1 loss
    "shallow-pan-paper": replace(STUDY, padding=(0, 0, 0), ceil_pools=True),
    "shallow-pan-small": SMALL,
    "shallow-pan-small-l1": SMALL,
    "shallow-pan-tiny": TINY,
    **{f"shallow-pan{size}-{name}": replace(base, **change)
       for size, base in (("", STUDY), ("-small", SMALL)) for name, change in FUTURE.items()},
    **{f"shallow-pan{size}-gan": replace(base, discriminator=GAN_WIDTH[size])
       for size, base in (("", STUDY), ("-small", SMALL))},
}


def tiny(cfg: ShallowConfig) -> ShallowConfig:
    """``cfg`` at ``shallow-pan-tiny``'s width (and a narrow discriminator): for tests."""
    return replace(cfg, channels=TINY.channels, hidden=TINY.hidden,
                   discriminator=4 if cfg.discriminator else 0)


def param_count(cfg: ShallowConfig) -> int:
    c_in = 3
    total = 0
    for c, k in zip(cfg.channels, cfg.kernels, strict=True):
        total += c_in * c * k * k + c
        c_in = c
    f = cfg.flat_features()
    total += f * 2 * cfg.hidden + 2 * cfg.hidden
    out = cfg.side * cfg.side
    total += cfg.hidden * out + out
    if cfg.priors:  # per prior a mean, two log-stds, a correlation; the combining conv
        k = cfg.priors
        total += 5 * k + (1 + k) * PRIOR_KERNEL ** 2 + 1
    return total  # a discriminator is a training aid: not counted (it predicts nothing)


def build(cfg: ShallowConfig):
    """The torch module for ``cfg`` (imports torch): the network, with its priors head,
    inside a generator/discriminator pair when ``cfg.discriminator``."""
    net = _build_network(cfg)
    if cfg.priors:
        from .priors import with_priors

        net = with_priors(net, cfg.priors, cfg.side)
    if cfg.discriminator:
        from .adversarial import pair

        net = pair(net, cfg.discriminator, cfg.side)
    return net


def _build_network(cfg: ShallowConfig):
    return _network_class()(cfg)


@functools.cache
def _network_class():
    """The module class, made once: torch is imported lazily, and one class for every
    build keeps torch.compile's guards (on the module's type) from failing for each new
    model, which after ``recompile_limit`` models silently turned compilation off."""
    import torch
    from torch import nn

    class Maxout(nn.Module):
        """Max over adjacent pairs of units: (x0, x1), (x2, x3), ..."""

        def forward(self, x):
            return x.view(x.shape[0], -1, 2).amax(dim=2)

    class ShallowPan(nn.Module):
        def __init__(self, cfg: ShallowConfig) -> None:
            super().__init__()
            layers = []
            c_in = 3
            for c, k, p, (pk, ps) in zip(cfg.channels, cfg.kernels, cfg.padding, cfg.pools,
                                         strict=True):
                layers += [nn.Conv2d(c_in, c, k, padding=p), nn.ReLU(inplace=True),
                           nn.MaxPool2d(pk, ps, ceil_mode=cfg.ceil_pools)]
                c_in = c
            self.features = nn.Sequential(*layers)
            self.fc1 = nn.Linear(cfg.flat_features(), 2 * cfg.hidden)
            self.maxout = Maxout()
            self.fc2 = nn.Linear(cfg.hidden, cfg.side * cfg.side)
            self.config = cfg
            self.softmax_output = cfg.output == OUTPUT_SOFTMAX
            self.side = cfg.side
            for m in self.modules():
                if isinstance(m, nn.Conv2d) and cfg.init == "he":
                    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Conv2d | nn.Linear):
                    nn.init.normal_(m.weight, 0.0, cfg.init_std)
                    nn.init.constant_(m.bias, cfg.init_bias)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            """(N, 3, 96, 96) in [0, 1] -> (N, 48, 48)."""
            z = self.features(x).flatten(1)
            z = self.fc2(self.maxout(self.fc1(z)))
            if self.softmax_output:
                z = torch.softmax(z.float(), dim=1)
            return z.view(-1, self.side, self.side)

    return ShallowPan
