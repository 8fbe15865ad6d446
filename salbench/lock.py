"""One writer per directory: an advisory lock held for as long as a process writes there.

A run directory (:class:`RunLock`): a second run is refused.  A result store
(:func:`store_lock`): a second process waits its turn, since filing a result and
rebuilding its boards takes a moment; without the wait, two results recorded at once
could each rebuild a board from the results filed before the other's, and the board
written last lacked the other entry.

The lock is ``fcntl.flock`` on a file in the directory: the kernel releases it when the
holding process dies, so a lock left by a killed process is simply taken over.  The file
names the holder (pid, host, start time, command) for the message another process gets.
Locks are re-entrant within a process (the runner and the trainer share one).  Under
``torchrun`` only rank 0 (the process that writes) takes the lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

from .errors import UserError

LOCK_NAME = ".salbench.lock"
STORE_LOCK_NAME = ".salbench-store.lock"
STORE_WAIT_S = 120.0  # a store's holder files a result and rebuilds boards: seconds at most
_POLL_S = 0.05
_HELD: dict[str, list] = {}  # resolved lock file -> [fd, depth]


_RUN_BUSY = ("another salbench run is using this directory",
             "wait for it to finish, or choose another --out")


class RunLock:
    """``name``: the lock file in ``directory``; ``wait_s``: how long to wait for another
    holder (0: refuse at once); ``busy``: what the refusal says, and what to do."""

    def __init__(self, directory: str | os.PathLike, name: str = LOCK_NAME,
                 wait_s: float = 0.0, busy: tuple[str, str] = _RUN_BUSY) -> None:
        self.dir = Path(directory)
        self.name = name
        self.wait_s = wait_s
        self.busy = busy
        self.key = ""

    def __enter__(self) -> RunLock:
        if not is_rank0():
            return self
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from .errors import os_error

            raise os_error(exc, self.dir, "write") from None
        path = self.dir / self.name
        self.key = str(path.resolve())
        held = _HELD.get(self.key)
        if held is not None:
            held[1] += 1
            return self
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            from .errors import os_error

            raise os_error(exc, path, "write") from None
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(_POLL_S)
                    continue
                holder = _describe(path)
                os.close(fd)
                what, hint = self.busy
                raise UserError(f"{what} ({holder})", self.dir, hint) from None
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "command": " ".join(sys.argv)[:300]}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        _HELD[self.key] = [fd, 1]
        return self

    def __exit__(self, *exc) -> None:
        held = _HELD.get(self.key)
        if held is None:
            return
        held[1] -= 1
        if held[1] == 0:
            del _HELD[self.key]
            os.close(held[0])  # releases the flock; the file stays (harmless)


def is_rank0() -> bool:
    """Whether this process writes: the only one, or rank 0 of a ``torchrun`` group (read
    from the environment: no torch needed, so baselines run without it)."""
    return int(os.environ.get("RANK", "0")) == 0


def store_lock(directory: str | os.PathLike, wait_s: float | None = None) -> RunLock:
    """Exclusive use of a result store while results are filed and boards rebuilt; another
    process waits up to ``wait_s`` (default ``STORE_WAIT_S``) for it."""
    wait_s = STORE_WAIT_S if wait_s is None else wait_s
    return RunLock(directory, STORE_LOCK_NAME, wait_s,
                   (f"another salbench process has been writing to this result store for "
                    f"over {wait_s:g} s", "wait for it to finish, or record into another "
                    "--store"))


def _describe(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "holder unknown"
    return (f"pid {info.get('pid', '?')} on {info.get('host', '?')}, started "
            f"{info.get('started', '?')}")
