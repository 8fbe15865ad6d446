"""The one error type for mistakes a user can fix.

``UserError`` is a ``ValueError`` (library callers catch it as one); the command line
prints it as one line, ``salbench: error: <what> (<where>); <what to do>``, and exits
with status 2.  Anything else that escapes a command is a bug and keeps its traceback.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path


class UserError(ValueError):
    """Bad input, a missing file, a refused request: what, where, and what to do."""

    def __init__(self, what: str, where: str | os.PathLike | None = None,
                 hint: str | None = None) -> None:
        self.what = what
        self.where = None if where is None else str(where)
        self.hint = hint
        text = what
        if self.where:
            text += f" ({self.where})"
        if hint:
            text += f"; {hint}"
        super().__init__(text)


def needs_torch(what: str = "this model") -> UserError:
    """The error for work that needs PyTorch where it is not installed (``pip install -e
    .`` leaves it out: metrics, data, baselines and boards run without it)."""
    return UserError(f"{what} needs PyTorch, which is not installed",
                     hint="pip install 'salbench[torch]' (pip install torch==2.13.0 first on "
                          "a CPU-only machine)")


def is_torch_missing(exc: BaseException) -> bool:
    """``exc`` is the ImportError of a missing torch (or one of its modules)."""
    return isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] == "torch"


def is_whole(v: object) -> bool:
    """``v`` is a whole number given as one: an ``int`` or numpy integer, not a bool."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def is_number(v: object) -> bool:
    """``v`` is a number as JSON gives one: an ``int`` or ``float``, not a bool."""
    return isinstance(v, int | float) and not isinstance(v, bool)


def os_error(exc: OSError, path: str | os.PathLike, action: str = "read") -> UserError:
    """An ``OSError`` met while reading or writing a user's path, as a ``UserError`` that
    says what to do instead of quoting errno."""
    p = Path(path)
    if isinstance(exc, IsADirectoryError):
        return UserError(f"cannot {action} a directory as a file", p,
                         "give the path of a file")
    if isinstance(exc, NotADirectoryError | FileExistsError):
        return UserError("a part of the path is a file, not a folder", p, "check the path")
    if isinstance(exc, FileNotFoundError):
        return UserError("no such file or folder", p, "check the path")
    if isinstance(exc, PermissionError):
        return UserError(f"no permission to {action} this path", p,
                         "choose a location you can " + action)
    if getattr(exc, "errno", None) == 36:  # ENAMETOOLONG
        return UserError("file name too long", str(p)[:80] + "…",
                         "choose a shorter name")
    if getattr(exc, "errno", None) == 28:  # ENOSPC
        return UserError("no space left on the device", p, "free some space or choose "
                         "another location")
    return UserError(f"cannot {action} this path ({exc.strerror or type(exc).__name__})", p,
                     "check the path and the device, or choose another location")
