"""One run per directory: an advisory lock held for as long as a run writes there.

The lock is ``fcntl.flock`` on ``DIR/.salbench.lock``: the kernel releases it when the
holding process dies, so a lock left by a killed run is simply taken over.  The file
names the holder (pid, host, start time, command) for the message a second run gets.
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
_HELD: dict[str, list] = {}  # resolved dir -> [fd, depth]


class RunLock:
    def __init__(self, directory: str | os.PathLike) -> None:
        self.dir = Path(directory)
        self.key = ""

    def __enter__(self) -> RunLock:
        if int(os.environ.get("RANK", "0")) != 0:
            return self
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from .errors import os_error

            raise os_error(exc, self.dir, "write") from None
        self.key = str(self.dir.resolve())
        held = _HELD.get(self.key)
        if held is not None:
            held[1] += 1
            return self
        path = self.dir / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(path)
            os.close(fd)
            raise UserError(f"another salbench run is using this directory ({holder})",
                            self.dir, "wait for it to finish, or choose another --out") from None
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


def _describe(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "holder unknown"
    return (f"pid {info.get('pid', '?')} on {info.get('host', '?')}, started "
            f"{info.get('started', '?')}")
