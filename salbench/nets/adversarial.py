"""A SalGAN-style generator/discriminator pair (Pan et al., 2018) around a shallow network.

The discriminator sees an image (the network's 96x96 input average-pooled to the map's
48x48) stacked with a saliency map, and says whether the map is a real target or the
generator's: three 3x3 convolutions with ReLU and 2x2 max-pools, then two fully connected
layers (tanh, then one logit), as SalGAN's discriminator is built, at the shallow
network's scale.  The pair's ``forward`` is the generator's, so predicting, checkpoints and
scoring treat it as any network; :mod:`.training.adversarial` alternates the updates.
"""

from __future__ import annotations

import torch
from torch import nn

HIDDEN = 64


class Discriminator(nn.Module):
    def __init__(self, width: int, side: int) -> None:
        super().__init__()
        c = width
        self.features = nn.Sequential(
            nn.Conv2d(4, c, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(c, 2 * c, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(2 * c, 2 * c, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Linear(2 * c * (side // 8) ** 2, HIDDEN), nn.Tanh(),
                                  nn.Linear(HIDDEN, 1))
        self.side = side

    def forward(self, image: torch.Tensor, saliency: torch.Tensor) -> torch.Tensor:
        """Logits ``(N,)``: high for real (image, map) pairs."""
        img = nn.functional.adaptive_avg_pool2d(image, self.side)
        z = self.features(torch.cat([img, saliency[:, None].to(img.dtype)], dim=1))
        return self.head(z.flatten(1))[:, 0]


class AdversarialPair(nn.Module):
    def __init__(self, generator: nn.Module, width: int, side: int) -> None:
        super().__init__()
        self.generator = generator
        self.discriminator = Discriminator(width, side)
        self.config = getattr(generator, "config", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.generator(x)


def pair(generator: nn.Module, width: int, side: int) -> AdversarialPair:
    return AdversarialPair(generator, width, side)
