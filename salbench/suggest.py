"""Did-you-mean hints for unknown names (models, metrics, protocols, results, keys)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x' or 'y'?)`` for close matches, else an empty string."""
    close = difflib.get_close_matches(str(name), [str(o) for o in options], n=3, cutoff=0.5)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def unknown(kind: str, name: str, options: Iterable[str]) -> str:
    """``unknown model 'x' (did you mean 'y'?); known: a, b, c``."""
    opts = list(options)
    return f"unknown {kind} {name!r}{did_you_mean(name, opts)}; known: {', '.join(opts)}"
