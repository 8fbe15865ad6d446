"""Printing for the CLI: results as rich tables on stdout, notes on stderr."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def note(message: str) -> None:
    """A one-line remark for people (stderr, so stdout stays machine-readable)."""
    print(f"salbench: {message}", file=sys.stderr)


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[object]],
          caption: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    width = max(100, _width())
    # as wide as its title where the console allows (a narrower table wraps the title)
    t = Table(title=title, caption=caption, caption_justify="left",
              min_width=min(len(title), width) if title else None)
    for i, c in enumerate(columns):
        numeric = all(isinstance(r[i], int | float) for r in rows) and i > 0
        t.add_column(c, justify="right" if numeric else "left", overflow="fold")
    for r in rows:
        t.add_row(*(fmt(v) for v in r))
    Console(soft_wrap=False, width=width).print(t)


def _width() -> int:
    import shutil

    return shutil.get_terminal_size((120, 24)).columns


def fmt(v: object) -> str:
    if isinstance(v, float):
        if v != v:  # NaN
            return "nan"
        return f"{v:.4f}"
    return str(v)
