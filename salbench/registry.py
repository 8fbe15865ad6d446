"""The model registry: names -> model cards -> lazily imported implementations.

A card (``models/<name>.toml``) declares a model: the object that builds it as a
``"module:object"`` string (called with the card), the variant, the training recipe, its
source and the scores reported in the literature.  Nothing is imported until a model is
built; an unknown name gets a did-you-mean error listing what exists, and an unknown or
misspelt key in a card is an error naming the card and the key.

Cards are read from the package (``salbench/_cards``, where an installed wheel carries them)
or, in a source checkout, from the top-level ``models/`` folder.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import UserError, is_torch_missing, needs_torch
from .suggest import did_you_mean, unknown

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KINDS = ("network", "baseline")
CARD_KEYS = ("name", "kind", "entry", "summary", "variant", "train", "reported", "datasets",
             "test_only", "source", "differs")
REPORTED_KEYS = ("label", "source", "dataset", "protocol", "note", "model", "split",
                 "release")
REQUIRED = ("name", "kind", "entry", "summary")


@dataclass(frozen=True)
class Reported:
    """A score from the literature: never mixed with measured ones."""

    label: str
    source: str
    dataset: str
    protocol: str
    scores: dict[str, float]
    note: str = ""
    model: str | None = None  # when the reported model is not the card's own (context rows)
    split: str = ""
    release: str = ""


@dataclass(frozen=True)
class Card:
    name: str
    kind: str  # "network" | "baseline"
    entry: str  # "module:object", called with the card
    summary: str
    variant: str | None = None
    train: dict = field(default_factory=dict)
    reported: tuple[Reported, ...] = ()
    datasets: tuple[str, ...] = ("synth", "salicon", "study")
    test_only: bool = False
    source: str = ""  # the paper the model comes from
    differs: str = ""  # what salbench's version changes from it
    path: str = ""

    def param_count(self) -> int | None:
        """Parameters of a network, counted without torch."""
        if self.kind != "network" or not self.variant:
            return None
        from .nets.shallow_pan import VARIANTS, param_count

        return param_count(VARIANTS[self.variant])

    @property
    def trainable(self) -> bool:
        return self.kind == "network" or bool(self.train.get("fit"))


def cards_dir() -> Path:
    packaged = Path(__file__).resolve().parent / "_cards"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "models"


def _check_keys(keys, allowed, path: Path, table: str) -> None:
    for k in keys:
        if k not in allowed:
            raise UserError(f"unknown key {k!r} in {table}{did_you_mean(k, allowed)}", path,
                            f"known keys: {', '.join(allowed)}")


def _parse(path: Path) -> Card:
    from .metrics.protocols import METRICS
    from .nets.training.config import check_keys

    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise UserError(f"unreadable model card ({exc})", path,
                        "fix the card's TOML (see an existing card in the same folder)") from None
    _check_keys(raw, CARD_KEYS, path, "the card")
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise UserError(f"model card lacks {', '.join(missing)}", path,
                        f"add {', '.join(missing)} (every card needs {', '.join(REQUIRED)})")
    if raw["kind"] not in KINDS:
        raise UserError(f"kind must be one of {', '.join(KINDS)}, got {raw['kind']!r}", path,
                        "set kind to one of them")
    if ":" not in raw["entry"]:
        raise UserError(f"entry must be 'module:object', got {raw['entry']!r}", path,
                        "name the module and the object in it, e.g. "
                        "'salbench.nets.baselines:CenterBias'")
    train = dict(raw.get("train", {}))
    check_keys(train, str(path))
    reported = []
    for r in raw.get("reported", []):
        scores = {k: v for k, v in r.items() if k not in REPORTED_KEYS}
        for k in scores:
            if k not in METRICS:
                raise UserError(f"unknown key {k!r} in [[reported]] (neither a field nor a "
                                f"metric){did_you_mean(k, [*REPORTED_KEYS, *METRICS])}", path,
                                f"use {', '.join(REPORTED_KEYS)} or a metric's name")
        for k in ("label", "source", "dataset", "protocol"):
            if k not in r:
                raise UserError(f"a [[reported]] entry lacks {k!r}", path,
                                "give label, source, dataset and protocol in every entry")
        reported.append(Reported(label=r["label"], source=r["source"], dataset=r["dataset"],
                                 protocol=r["protocol"],
                                 scores={k: float(v) for k, v in scores.items()},
                                 note=r.get("note", ""), model=r.get("model"),
                                 split=r.get("split", ""), release=r.get("release", "")))
    if raw["kind"] == "network":
        from .nets.shallow_pan import VARIANTS

        if raw.get("variant") not in VARIANTS:
            raise UserError(f"network variant {raw.get('variant')!r} is not declared"
                            f"{did_you_mean(str(raw.get('variant')), VARIANTS)}", path,
                            "declare it in salbench/nets/shallow_pan.py VARIANTS")
        _check_recipe(train, VARIANTS[raw["variant"]], path)
    return Card(name=raw["name"], kind=raw["kind"], entry=raw["entry"], summary=raw["summary"],
                variant=raw.get("variant"), train=train, reported=tuple(reported),
                datasets=tuple(raw.get("datasets", ("synth", "salicon", "study"))),
                test_only=bool(raw.get("test_only", False)), source=raw.get("source", ""),
                differs=raw.get("differs", ""), path=str(path))


def _check_recipe(train: dict, arch, path: Path) -> None:
    """The card's loss must suit its network: a distribution loss needs a non-negative
    (softmax) output; adversarial training needs a discriminator and vice versa."""
    from .loss_spec import check_loss, needs_distribution
    from .nets.shallow_pan import OUTPUT_SOFTMAX

    try:
        weights = check_loss(train.get("loss", "mse"), train.get("loss_weights"))
    except ValueError as exc:
        raise UserError(f"[train] {exc}", path, "fix the card's loss settings") from None
    if needs_distribution(weights) and arch.output != OUTPUT_SOFTMAX:
        raise UserError(f"loss {train.get('loss')!r} compares distributions, and the variant's "
                        f"output is {arch.output!r}", path,
                        "use a variant with output = 'softmax'")
    if bool(arch.discriminator) != (float(train.get("adversarial_weight", 0)) > 0):
        raise UserError("a variant with a discriminator needs adversarial_weight > 0 in "
                        "[train], and adversarial_weight needs such a variant", path,
                        "set both, or neither")


@lru_cache(maxsize=1)
def cards() -> dict[str, Card]:
    """All cards by name (read once)."""
    out = {}
    d = cards_dir()
    for path in sorted(d.glob("*.toml")):
        card = _parse(path)
        if card.name in out:
            raise UserError(f"duplicate model name {card.name!r}", path,
                            "give each card its own name")
        out[card.name] = card
    if not out:
        raise UserError("no model cards found", d, "reinstall salbench")
    return dict(sorted(out.items(), key=lambda kv: (kv[1].kind != "network", kv[0])))


def names(include_test: bool = False) -> list[str]:
    return [n for n, c in cards().items() if include_test or not c.test_only]


def get_card(name: str) -> Card:
    all_cards = cards()
    if name in all_cards:
        return all_cards[name]
    raise UserError(unknown("model", name, names()), hint="'salbench models' lists them")


def load_object(entry: str) -> Any:
    module, _, obj = entry.partition(":")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if is_torch_missing(exc):
            raise needs_torch() from None
        raise
    try:
        return getattr(mod, obj)
    except AttributeError:
        raise UserError(f"entry {entry!r}: {module} has no {obj!r}",
                        hint="fix the card's entry") from None


def create(name: str):
    """Build model ``name`` (imports its implementation now)."""
    card = get_card(name)
    return load_object(card.entry)(card)


def literature() -> list[dict]:
    """Every card's reported scores as rows, each labelled with its dataset, split, release
    and protocol (leaderboards show them apart from measured rows)."""
    rows = []
    for card in cards().values():
        for rep in card.reported:
            rows.append({"model": rep.model or card.name, "label": rep.label,
                         "dataset": rep.dataset, "split": rep.split, "release": rep.release,
                         "protocol": rep.protocol, "source": rep.source, "note": rep.note,
                         **rep.scores})
    return rows
