"""The cyclic collector in salbench's own processes (the command, the compile workers).

numba's compiler and its type system allocate objects by the million.  At Python's
default young-generation threshold (700 allocations) the collector ran 1,335 times while
a worker compiled ``replication``'s eleven kernels (1.2 s of 13.5-15.3 s) and ~270 times
in a warm ``salbench score`` (0.08-0.15 s); at ``GC_YOUNG_THRESHOLD``, 0.46-0.58 s and
0.04-0.05 s (the 2-core VM).  At exit the interpreter frees numba's compiled code object
by object (0.14-0.17 s after a warm score, 0.28-0.36 s after that compile); frozen out
of the collector, it is left to the operating system (0.03-0.08 s).  Library users'
processes are left alone.
"""

from __future__ import annotations

import gc
import sys

# allocations between young-generation collections
GC_YOUNG_THRESHOLD = 5_000


def collect_less() -> None:
    """Run the young generation every ``GC_YOUNG_THRESHOLD`` allocations (the older
    generations' thresholds as they are)."""
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def freeze_for_exit() -> None:
    """Flush stdout and stderr, then freeze everything alive out of the collector, so the
    interpreter's shutdown does not collect it.  atexit handlers still run; what was
    written must already be closed (the atomic writers close what they write).  A stream
    that cannot be flushed (a closed pipe) is left to the shutdown, which reports it as
    it always did."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
    gc.freeze()
