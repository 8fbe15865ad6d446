"""Alternating generator/discriminator updates, as SalGAN trains (Pan et al., 2018).

Each step first updates the discriminator on the batch (real: the targets; fake: the
generator's maps, detached) with binary cross-entropy, then returns the generator's loss,
``content + adversarial_weight * BCE(D(image, prediction), real)``, for the training loop
to minimise with the recipe's optimizer (the log records the content term).  The
discriminator has its own Adam optimizer (``discriminator_lr``); both optimizers' states
travel in one checkpoint.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import TrainConfig


class AlternatingOptimizers:
    """The recipe's optimizer for the generator, Adam for the discriminator, saved and
    restored together; ``param_groups`` are the generator's (the learning-rate schedule
    applies to it)."""

    def __init__(self, generator_opt, discriminator_opt) -> None:
        self.generator = generator_opt
        self.discriminator = discriminator_opt

    @property
    def param_groups(self):
        return self.generator.param_groups

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.generator.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        self.generator.step()

    def state_dict(self) -> dict:
        return {"generator": self.generator.state_dict(),
                "discriminator": self.discriminator.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])


def discriminator_optimizer(pair: nn.Module, config: TrainConfig, fast: dict):
    return torch.optim.Adam(pair.discriminator.parameters(), lr=config.discriminator_lr,
                            **fast)


class AdversarialStep:
    """``(x, pred, target, fixations) -> (generator loss, content loss)``, updating the
    discriminator first.  The content loss is what the training log records, so the
    curves compare with validation (content only) and with the networks trained without
    a discriminator."""

    def __init__(self, pair: nn.Module, opt: AlternatingOptimizers, content,
                 weight: float) -> None:
        self.d = pair.discriminator
        self.opt_d = opt.discriminator
        self.content = content
        self.weight = weight
        self.bce = nn.functional.binary_cross_entropy_with_logits

    def __call__(self, x: torch.Tensor, pred: torch.Tensor, target: torch.Tensor,
                 fixations: torch.Tensor | None) -> torch.Tensor:
        real = self.d(x, target)
        fake = self.d(x, pred.detach())
        loss_d = (self.bce(real, torch.ones_like(real))
                  + self.bce(fake, torch.zeros_like(fake)))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        fooled = self.d(x, pred)
        adversarial = self.bce(fooled, torch.ones_like(fooled))
        content = self.content(pred, target, fixations)
        return content + self.weight * adversarial, content
