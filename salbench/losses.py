"""Differentiable saliency losses (torch) on batches of maps.

Each function takes predicted maps ``pred`` of shape ``(N, H, W)`` and what it compares
them with, and returns one value per image (``reduction="none"``), their mean (the
default) or their sum.  The values are the MIT benchmark's definitions, so a loss on
``(N, H, W)`` maps equals salbench's metric of the same name under ``protocol="mit"`` on
the same maps (tested):

* ``cc``   Pearson's correlation of ``pred`` and the target density (higher is better);
* ``nss``  the mean of ``(pred - mean) / std`` (``ddof=1``) at the fixated pixels of a
  binary fixation map (higher is better);
* ``kld``  ``sum G log(eps + G / (P + eps))`` with ``P``, ``G`` normalised to sum 1 and
  ``eps`` MATLAB's (lower is better);
* ``sim``  ``sum min(P, G)`` of the maps min-max scaled, then normalised to sum 1 (higher
  is better);
* ``bhattacharyya``  ``-log sum sqrt(P G)`` with ``P``, ``G`` normalised to sum 1 (lower is
  better; no salbench metric: tested against a numpy reference).

``kld``, ``sim`` and ``bhattacharyya`` treat maps as distributions: ``pred`` must be
non-negative (a softmax or ReLU output; the networks trained with them end in a softmax).

A training loss is *minimised*: :func:`make_loss` turns a name or a weighted sum into
``L = sum_k w_k s_k m_k`` with ``s_k = -1`` for the higher-is-better terms, e.g.
``{"kld": 10, "cc": 2, "nss": 1}`` is ``10 KLD - 2 CC - NSS``, the combination SAM
(Cornia et al., 2018) trains with.

>>> import torch
>>> g = torch.rand(2, 8, 8, dtype=torch.float64)
>>> round(float(cc(g, g)), 12), abs(round(float(kld(g, g)), 12))
(1.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .loss_spec import TERMS, check_loss

MATLAB_EPS = 2.220446049250313e-16  # eps in MIT's KLdiv.m (float64's machine epsilon)
SQRT_FLOOR = 1e-30  # Bhattacharyya: keeps sqrt's gradient finite (a float32 normal number)
REDUCTIONS = ("mean", "sum", "none")


def _reduce(values: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    if reduction == "none":
        return values
    raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _check(pred: torch.Tensor, other: torch.Tensor, what: str) -> None:
    if pred.dim() != 3 or pred.shape != other.shape:
        raise ValueError(f"pred must be (N, H, W) and {what} the same shape; got "
                         f"{tuple(pred.shape)} and {tuple(other.shape)}")


def _as_distribution(m: torch.Tensor) -> torch.Tensor:
    return m / m.sum(dim=(1, 2), keepdim=True)


def _standardise(m: torch.Tensor) -> torch.Tensor:
    flat = m.flatten(1)
    mean = flat.mean(dim=1, keepdim=True)
    std = flat.std(dim=1, keepdim=True)  # ddof=1, as MATLAB's std
    return ((flat - mean) / std).view_as(m)


def cc(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Pearson's correlation per image: ``cov(P, G) / (std(P) std(G))``."""
    _check(pred, target, "target")
    p, g = _standardise(pred).flatten(1), _standardise(target).flatten(1)
    return _reduce((p * g).sum(dim=1) / (p.shape[1] - 1), reduction)


def nss(pred: torch.Tensor, fixations: torch.Tensor, reduction: str = "mean",
        empty: float = float("nan")) -> torch.Tensor:
    """Mean of the standardised prediction over the fixated pixels (``fixations`` > 0);
    ``empty`` for an image without fixations (NaN, as the metric; training passes 0)."""
    _check(pred, fixations, "fixations")
    fixed = (fixations > 0).to(pred.dtype)
    z = _standardise(pred)
    count = fixed.sum(dim=(1, 2))
    value = (z * fixed).sum(dim=(1, 2)) / count.clamp_min(1.0)
    return _reduce(torch.where(count > 0, value, torch.full_like(value, empty)), reduction)


def kld(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean",
        eps: float = MATLAB_EPS) -> torch.Tensor:
    """``sum G log(eps + G / (P + eps))``, ``P`` and ``G`` normalised to sum 1."""
    _check(pred, target, "target")
    p, g = _as_distribution(pred), _as_distribution(target)
    return _reduce((g * torch.log(eps + g / (p + eps))).sum(dim=(1, 2)), reduction)


def sim(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """``sum min(P, G)`` of the min-max scaled maps normalised to sum 1."""
    _check(pred, target, "target")

    def scaled(m: torch.Tensor) -> torch.Tensor:
        lo = m.amin(dim=(1, 2), keepdim=True)
        hi = m.amax(dim=(1, 2), keepdim=True)
        return _as_distribution((m - lo) / (hi - lo))

    return _reduce(torch.minimum(scaled(pred), scaled(target)).sum(dim=(1, 2)), reduction)


def bhattacharyya(pred: torch.Tensor, target: torch.Tensor,
                  reduction: str = "mean") -> torch.Tensor:
    """Bhattacharyya distance ``-log sum sqrt(P G)``, ``P`` and ``G`` normalised to sum 1.

    Products below ``1e-30`` count as ``1e-30`` (their gradient is 0, not infinite; the
    value moves by at most ``1e-15`` per pixel).
    """
    _check(pred, target, "target")
    p, g = _as_distribution(pred), _as_distribution(target)
    root = torch.sqrt((p * g).clamp_min(SQRT_FLOOR))
    return _reduce(-torch.log(root.sum(dim=(1, 2))), reduction)


FUNCTIONS: dict[str, Callable[..., torch.Tensor]] = {
    "cc": cc, "nss": nss, "kld": kld, "sim": sim, "bhattacharyya": bhattacharyya}


class Loss:
    """A training loss ``L = sum_k w_k s_k term_k``: call it with ``(pred, target,
    fixations=None, reduction="mean")``.  An image without fixations adds 0 to an NSS
    term (the term has nothing to say about it)."""

    def __init__(self, name: str, weights: dict[str, float]) -> None:
        self.name = name
        self.weights = dict(weights)
        self.terms = {k: TERMS[k] for k in self.weights}
        self.needs_fixations = any(t.uses == "fixations" for t in self.terms.values())

    def __call__(self, pred: torch.Tensor, target: torch.Tensor,
                 fixations: torch.Tensor | None = None,
                 reduction: str = "mean") -> torch.Tensor:
        total = None
        for key, term in self.terms.items():
            other = fixations if term.uses == "fixations" else target
            if other is None:
                raise ValueError(f"the {key!r} term needs fixation maps")
            fn = FUNCTIONS[key]
            values = (fn(pred, other, reduction="none", empty=0.0) if key == "nss"
                      else fn(pred, other, reduction="none"))
            value = values * (term.sign * self.weights[key])
            total = value if total is None else total + value
        return _reduce(total, reduction)

    def __repr__(self) -> str:
        return f"Loss({self.name!r}, {self.weights})"


def make_loss(name: str, weights: dict | None = None) -> Loss:
    """The loss ``name`` (a term of :data:`TERMS`, or ``"combined"`` with ``weights``)."""
    checked = check_loss(name, weights)
    if not checked:
        raise ValueError(f"{name!r} is a pixel loss: use torch.nn.functional")
    return Loss(name, checked)
