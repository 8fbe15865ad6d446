"""The model registry: names -> model cards -> lazily imported implementations.

A card (``models/<name>.toml``) declares a model: its implementation as a
``"module:object"`` string, the variant, the training recipe and the scores reported in
the literature with their sources.  Nothing is imported until a model is built, and an
unknown name gets a did-you-mean error listing what exists.

Cards are read from the package (``salbench/_cards``, where an installed wheel carries them)
or, in a source checkout, from the top-level ``models/`` folder.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


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


@dataclass(frozen=True)
class Card:
    name: str
    kind: str  # "network" | "baseline"
    entry: str  # "module:object"
    summary: str
    variant: str | None = None
    train: dict = field(default_factory=dict)
    reported: tuple[Reported, ...] = ()
    datasets: tuple[str, ...] = ("synth", "salicon")
    test_only: bool = False
    path: str = ""

    def param_count(self) -> int | None:
        """Parameters of a network, counted without torch."""
        if self.kind != "network" or not self.variant:
            return None
        from .nets.shallow_pan import VARIANTS, param_count

        return param_count(VARIANTS[self.variant])


def cards_dir() -> Path:
    packaged = Path(__file__).resolve().parent / "_cards"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "models"


def _parse(path: Path) -> Card:
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ValueError(f"{path}: unreadable model card ({exc})") from None
    missing = [k for k in ("name", "kind", "entry", "summary") if k not in raw]
    if missing:
        raise ValueError(f"{path}: model card lacks {', '.join(missing)}")
    if raw["kind"] not in ("network", "baseline"):
        raise ValueError(f"{path}: kind must be 'network' or 'baseline'")
    if ":" not in raw["entry"]:
        raise ValueError(f"{path}: entry must be 'module:object', got {raw['entry']!r}")
    reported = []
    for r in raw.get("reported", []):
        scores = {k: float(v) for k, v in r.items()
                  if k not in ("label", "source", "dataset", "protocol", "note", "model")}
        reported.append(Reported(label=r["label"], source=r["source"], dataset=r["dataset"],
                                 protocol=r["protocol"], scores=scores, note=r.get("note", ""),
                                 model=r.get("model")))
    return Card(name=raw["name"], kind=raw["kind"], entry=raw["entry"], summary=raw["summary"],
                variant=raw.get("variant"), train=dict(raw.get("train", {})),
                reported=tuple(reported), datasets=tuple(raw.get("datasets",
                                                                 ("synth", "salicon"))),
                test_only=bool(raw.get("test_only", False)), path=str(path))


@lru_cache(maxsize=1)
def cards() -> dict[str, Card]:
    """All cards by name (read once)."""
    out = {}
    d = cards_dir()
    for path in sorted(d.glob("*.toml")):
        card = _parse(path)
        if card.name in out:
            raise ValueError(f"{path}: duplicate model name {card.name!r}")
        out[card.name] = card
    if not out:
        raise ValueError(f"no model cards found in {d}")
    return dict(sorted(out.items(), key=lambda kv: (kv[1].kind != "network", kv[0])))


def names(include_test: bool = False) -> list[str]:
    return [n for n, c in cards().items() if include_test or not c.test_only]


def get_card(name: str) -> Card:
    all_cards = cards()
    if name in all_cards:
        return all_cards[name]
    close = difflib.get_close_matches(name, list(all_cards), n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"unknown model {name!r}{hint} (known: {', '.join(names())})")


def load_object(entry: str) -> Any:
    module, _, obj = entry.partition(":")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == "torch":
            raise ValueError("this model needs PyTorch: pip install 'salbench[torch]' "
                             "(pip install torch==2.13.0 first on a CPU-only machine)") from None
        raise
    try:
        return getattr(mod, obj)
    except AttributeError:
        raise ValueError(f"entry {entry!r}: {module} has no {obj!r}") from None


def create(name: str):
    """Build model ``name`` (imports its implementation now)."""
    card = get_card(name)
    return load_object(card.entry)(card)
