"""Keep numba's on-disk cache of the metric kernels consistent.

numba revalidates a cached function against its own source file only; a kernel that
calls into another module keeps its stale machine code when that module changes (an
editable install being edited, a checkout switching branches).  Before any kernel runs,
compare a hash of all kernel sources with the one recorded next to the cache and drop
the cache when they differ.  A fresh install writes every file anew, so this matters for
development trees, where a stale kernel would silently return old numbers.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_STAMP = "salbench-kernels.stamp"


def sources_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(_HERE.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def ensure_fresh() -> None:
    cache = _HERE / "__pycache__"
    digest = sources_digest()
    stamp = cache / _STAMP
    try:
        if stamp.read_text() == digest:
            return
    except OSError:
        pass
    try:
        cache.mkdir(exist_ok=True)
        for f in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")):
            f.unlink(missing_ok=True)
        tmp = stamp.with_suffix(".tmp")
        tmp.write_text(digest)
        tmp.replace(stamp)
    except OSError:  # read-only install: numba then caches elsewhere or not at all
        pass
