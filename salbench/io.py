"""Atomic file writes and salbench's directories.

Every file salbench writes (datasets, checkpoints, results) goes through
:func:`atomic_write`: the data lands in a temporary file in the target's directory, is
fsynced, and is renamed over the target, so a crash leaves either the old file or the
new one, never a truncated one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def home() -> Path:
    """``$SALBENCH_HOME`` (default ``~/.cache/salbench``): caches such as the synthetic set."""
    env = os.environ.get("SALBENCH_HOME")
    return Path(env) if env else Path.home() / ".cache" / "salbench"


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on success fsync it and rename it to
    ``path`` (atomic on POSIX); on error remove it and leave ``path`` untouched."""
    from .errors import os_error

    path = Path(path)
    fd, tmp = _temp_beside(path)
    os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
    try:
        # text as UTF-8 whatever the locale: salbench reads its files back as UTF-8
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise os_error(exc, path, "write") from None
        _fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writable(path: str | os.PathLike) -> None:
    """Refuse now, before long work, a ``path`` that :func:`atomic_write` could not write
    (its folder is made, a temporary file is created there and removed)."""
    fd, tmp = _temp_beside(Path(path))
    os.close(fd)
    os.unlink(tmp)


def _temp_beside(path: Path) -> tuple[int, str]:
    """A new temporary file in ``path``'s folder (made if missing); the path is the
    user's choice, so an ``OSError`` says what is wrong with it."""
    from .errors import os_error

    try:
        if path.is_dir():
            raise IsADirectoryError(21, "Is a directory", str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(prefix=f".{path.name[:100]}.", suffix=".tmp",
                                dir=path.parent)
    except OSError as exc:
        raise os_error(exc, path, "write") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike, writer: Callable[[IO[bytes]], None]) -> Path:
    with atomic_write(path) as f:
        writer(f)
    return Path(path)


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """``obj`` as standard JSON: NaN as ``null`` (JSON has no NaN; Python writes a bare
    ``NaN``, which strict parsers refuse: JavaScript's ``JSON.parse`` did); an infinity
    is an error."""
    text = json.dumps(_json_plain(obj), indent=2, sort_keys=False, allow_nan=False) + "\n"
    return write_atomic(path, lambda f: f.write(text.encode()))


def _json_plain(o: Any) -> Any:
    """``o`` with numpy values as Python's, paths as text and NaN as None."""
    if isinstance(o, dict):
        return {k: _json_plain(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_json_plain(v) for v in o]
    if isinstance(o, Path):
        return str(o)
    if type(o).__module__ == "numpy":
        import numpy as np

        if isinstance(o, np.ndarray):
            return _json_plain(o.tolist())
        if isinstance(o, np.generic):
            o = o.item()
    if isinstance(o, float) and o != o:
        return None
    return o
