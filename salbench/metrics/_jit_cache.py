"""Keep numba's on-disk cache of the metric kernels consistent, wherever it lives.

numba revalidates a cached function against its own source file only; a kernel that
calls into another module would keep stale machine code when that module changes (an
editable install being edited, a checkout switching branches).  For each kernel module,
salbench hashes its source together with the sources of the kernel modules it imports
(transitively) and drops that module's cache files, and only those, when the hash
changes.  The cache lives in ``$NUMBA_CACHE_DIR`` when set, else in
``$SALBENCH_HOME/numba`` (so a read-only install caches too).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_STAMPS = "salbench-kernel-stamps.json"
_IMPORT = re.compile(r"^\s*from \.(\w*) import ([\w, ]+)", re.M)
_configured = False


def cache_dir() -> Path:
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env:
        return Path(env)
    from ..io import home

    return home() / "numba"


def _kernel_modules() -> dict[str, str]:
    """The source of each module here that defines kernels or the numba intrinsics they
    call (each file read once)."""
    texts = {p.stem: p.read_text(encoding="utf-8") for p in sorted(_HERE.glob("_*.py"))}
    return {name: text for name, text in texts.items()
            if "@kernel" in text or "@intrinsic" in text}


def module_digests() -> dict[str, str]:
    """Per kernel module: a hash of its source and its kernel-module imports' sources."""
    sources = _kernel_modules()
    deps: dict[str, set[str]] = {}
    for name, text in sources.items():
        d = set()
        for mod, names in _IMPORT.findall(text):
            if mod:
                d.add(mod)
            else:
                d.update(n.strip() for n in names.split(","))
        deps[name] = {m for m in d if m in sources and m != name}

    def closure(name: str, seen: set[str]) -> set[str]:
        for m in deps[name]:
            if m not in seen:
                seen.add(m)
                closure(m, seen)
        return seen

    out = {}
    for name in sources:
        h = hashlib.sha256()
        for m in sorted(closure(name, {name})):
            h.update(m.encode())
            h.update(sources[m].encode())
        out[name] = h.hexdigest()
    return out


def damaged_cache(exc: BaseException) -> Path | None:
    """The cache folder, when ``exc`` was raised while numba read a cached kernel (a
    damaged index or data file: numba unpickles both, and only a missing file is its
    expected case); else None."""
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.replace(os.sep, "/").endswith("numba/core/caching.py") \
                and code.co_name in ("_load_index", "_load_data", "load_overload"):
            return cache_dir()
        tb = tb.tb_next
    return None


def _module_cache_path(root: Path) -> Path:
    """numba's subfolder for this directory (as its UserProvidedCacheLocator names it)."""
    sub = str(_HERE)
    return root / f"{_HERE.name}_{hashlib.sha1(sub.encode()).hexdigest()}"


def configure() -> None:
    """Point numba at salbench's cache and drop the files of stale modules."""
    global _configured
    if _configured:
        return
    _configured = True
    from numba.core import config

    root = cache_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # nowhere to cache: numba compiles in memory
    config.CACHE_DIR = str(root)
    where = _module_cache_path(root)
    stamp = where / _STAMPS
    try:
        old = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = {}
    new = module_digests()
    stale = [m for m, d in new.items() if old.get(m) != d]
    if not stale:
        return
    try:
        where.mkdir(parents=True, exist_ok=True)
        for m in stale:
            for f in list(where.glob(f"{m}.*.nbi")) + list(where.glob(f"{m}.*.nbc")):
                f.unlink(missing_ok=True)
        tmp = stamp.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(new, indent=1), encoding="utf-8")
        tmp.replace(stamp)
    except OSError:
        pass
