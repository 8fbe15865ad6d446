"""What the training losses are, without torch: each term's sign and inputs, and the
check of a card's ``loss`` / ``loss_weights`` (the functions are in :mod:`salbench.losses`)."""

from __future__ import annotations

from dataclasses import dataclass

from .suggest import did_you_mean

PIXEL_LOSSES = ("mse", "l1")  # torch.nn.functional's, averaged over pixels
USES_TARGET = "target"  # the target density map
USES_FIXATIONS = "fixations"  # a binary map of the fixated cells


@dataclass(frozen=True)
class LossTerm:
    sign: float  # +1: the value is minimised; -1: it is maximised (higher is better)
    uses: str
    distribution: bool  # treats the prediction as a distribution: it must be non-negative


TERMS: dict[str, LossTerm] = {
    "cc": LossTerm(-1.0, USES_TARGET, False),
    "nss": LossTerm(-1.0, USES_FIXATIONS, False),
    "kld": LossTerm(1.0, USES_TARGET, True),
    "sim": LossTerm(-1.0, USES_TARGET, True),
    "bhattacharyya": LossTerm(1.0, USES_TARGET, True),
}
COMBINED = "combined"  # a weighted sum of TERMS, weights from the card's loss_weights
LOSS_NAMES = (*PIXEL_LOSSES, *TERMS, COMBINED)


def check_loss(name: str, weights: dict | None) -> dict[str, float]:
    """The term weights of loss ``name`` (``{}`` for a pixel loss, ``{name: 1}`` for one
    term), or a ValueError saying what is wrong."""
    weights = dict(weights or {})
    if name in PIXEL_LOSSES:
        if weights:
            raise ValueError(f"loss {name!r} takes no loss_weights")
        return {}
    if name in TERMS:
        if weights and set(weights) != {name}:
            raise ValueError(f"loss {name!r} takes no weights of other terms; use "
                             f"loss = {COMBINED!r} for a weighted sum")
        weights = weights or {name: 1.0}
    elif name == COMBINED:
        if not weights:
            raise ValueError(f"loss {COMBINED!r} needs loss_weights, e.g. "
                             "{kld = 10, cc = 2, nss = 1}")
    else:
        raise ValueError(f"unknown loss {name!r}{did_you_mean(name, LOSS_NAMES)}; known: "
                         f"{', '.join(LOSS_NAMES)}")
    for k, w in weights.items():
        if k not in TERMS:
            raise ValueError(f"unknown loss term {k!r}{did_you_mean(k, list(TERMS))}; known: "
                             f"{', '.join(TERMS)}")
        if isinstance(w, bool) or not isinstance(w, int | float) or not w > 0:
            raise ValueError(f"loss weight {k} = {w!r} must be a positive number (the sign "
                             "comes from the term: higher-is-better terms are subtracted)")
    return {k: float(w) for k, w in weights.items()}


def needs_fixations(weights: dict[str, float]) -> bool:
    return any(TERMS[k].uses == USES_FIXATIONS for k in weights)


def needs_distribution(weights: dict[str, float]) -> bool:
    return any(TERMS[k].distribution for k in weights)


NAMES = {"mse": "MSE", "l1": "L1", "cc": "CC", "nss": "NSS", "kld": "KLD", "sim": "SIM",
         "bhattacharyya": "Bhattacharyya distance"}


def describe(name: str, weights: dict[str, float]) -> str:
    """What is minimised, for people: ``MSE``, ``-CC``, ``10 KLD - 2 CC - NSS``."""
    if not weights:
        return NAMES.get(name, name)
    parts = []
    for i, (k, w) in enumerate(weights.items()):
        sign = "-" if TERMS[k].sign < 0 else "+"
        if i == 0 and sign == "+":
            sign = ""
        coef = "" if w == 1 else f"{w:g} "
        parts.append(f"{sign}{coef}{NAMES[k]}".strip() if i == 0 else
                     f"{sign} {coef}{NAMES[k]}")
    return " ".join(parts)
