"""Printing for the CLI: results as rich tables on stdout, notes on stderr."""

from __future__ import annotations

import sys
from collections.abc import Sequence

# salbench's own characters, as ASCII where a stream cannot encode them (one character
# for one where they can stand in a table, whose columns rich measures before printing)
_PLAIN = {"—": "-", "–": "-", "−": "-", "↑": "^", "↓": "v", "·": ".", "σ": "s", "…": "...",
          "±": "+/-"}
_ERRORS = "salbench.plain"


def _plain(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    return "".join(_PLAIN.get(c, "?") for c in exc.object[exc.start:exc.end]), exc.end


def readable_streams() -> None:
    """Let stdout and stderr print what salbench writes where their encoding cannot
    (a non-UTF-8 locale, ``PYTHONIOENCODING=ascii``): its own
    characters as ASCII look-alikes and anything else as ``?``, instead of a
    ``UnicodeEncodeError`` once the work is done.  For the command line: it reconfigures
    the process's streams."""
    import codecs

    codecs.register_error(_ERRORS, _plain)
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None)
        if not encoding or not hasattr(stream, "reconfigure"):
            continue
        try:
            "".join(_PLAIN).encode(encoding)
        except UnicodeEncodeError:
            stream.reconfigure(errors=_ERRORS)
        except LookupError:
            continue


def note(message: str) -> None:
    """A one-line remark for people (stderr, so stdout stays machine-readable)."""
    print(f"salbench: {message}", file=sys.stderr)


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[object]],
          caption: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    width = max(100, _width())
    # every string as plain Text: rich reads "[...]" as markup and drops it, and a
    # variant's name is "mit[judd_jitter=0]" (tables read "protocol mit"); as wide as
    # its title where the console allows (a narrower table wraps the title)
    t = Table(title=Text(title) if title else None,
              caption=Text(caption) if caption else None, caption_justify="left",
              min_width=min(len(title), width) if title else None)
    cells = [[fmt(v) for v in r] for r in rows]
    need = 1  # the narrowest the table can be: its names, its longest words, its borders
    for i, c in enumerate(columns):
        numeric = all(isinstance(r[i], int | float) for r in rows) and i > 0
        # names and numbers are kept whole (an entry was folded as "shallow-pan-smal" /
        # "l"); other cells wrap between words, never inside one
        whole = all(len(r[i].split()) <= 1 for r in cells)
        texts = [r[i] for r in cells] + [c]
        words = max((len(w) for x in texts for w in x.split()), default=1)
        t.add_column(Text(c), justify="right" if numeric else "left", overflow="fold",
                     no_wrap=whole, min_width=None if whole else words)
        need += (max(map(len, texts)) if whole else words) + 3
    for r in cells:
        t.add_row(*map(Text, r))
    # wider than the console rather than cropped when that does not fit
    Console(soft_wrap=False, width=max(width, need)).print(t)


def _width() -> int:
    import shutil

    return shutil.get_terminal_size((120, 24)).columns


def fmt(v: object) -> str:
    if isinstance(v, float):
        if v != v:  # NaN
            return "nan"
        return f"{v:.4f}"
    return str(v)
