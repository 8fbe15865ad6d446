"""Load ``.pkl`` files without running their code.

``pickle.load`` on someone else's file can execute anything: a pickle names a callable
and its arguments, and unpickling calls it.  :func:`load` admits only what the replication
study's files need (builtin containers, numbers, strings, bytes and numpy arrays and
scalars) and refuses every other global with an error naming the file and the global.
salbench's own files are ``.npz`` with ``allow_pickle=False``.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

from ..errors import UserError

# (module, name) a pickle may reference.  numpy 1.x pickles say numpy.core, numpy 2.x
# numpy._core; _codecs.encode builds bytes in protocol-2 pickles.
_BUILTINS = ("set", "frozenset", "bytearray", "complex")
_ALLOWED = {
    *(("builtins", n) for n in _BUILTINS),
    *(("__builtin__", n) for n in _BUILTINS),  # protocols 0-2 use Python 2's module name
    ("_codecs", "encode"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
}


class UnsafePickleError(UserError):
    """The file references something other than plain data."""


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, f, source: str):
        super().__init__(f)
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise UnsafePickleError(
            f"{self._source}: refused to load global '{module}.{name}': salbench unpickles "
            "only builtin containers, numbers, strings and numpy arrays",
            hint="convert the file to .npz to avoid pickle altogether")

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"{self._source}: persistent ids are not allowed in pickles",
                                hint="convert the file to .npz to avoid pickle altogether")


def load(path: str | Path) -> Any:
    """Unpickle ``path`` through the restricted unpickler."""
    from ..errors import os_error

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise os_error(exc, path) from None
    return loads(data, source=str(path))


def loads(data: bytes, source: str = "<bytes>") -> Any:
    try:
        return _RestrictedUnpickler(io.BytesIO(data), source).load()
    except UserError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError,
            AttributeError, MemoryError, UnicodeDecodeError) as exc:
        raise UserError(f"{source}: not a readable pickle ({type(exc).__name__}: {exc}); "
                         "is the file truncated or corrupt?",
                        hint="write it again, or convert it to .npz") from None
