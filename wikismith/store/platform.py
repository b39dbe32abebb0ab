"""What the transaction protocol needs from the operating system, per platform: the seams of store/fs.py.

- macOS: `fsync` hands the data to the drive, whose cache may still lose it on power loss; `fcntl(F_FULLFSYNC)`
  flushes the cache (SQLite gets `PRAGMA fullfsync`).
- Windows: a folder cannot be opened, so it cannot be fsynced (NTFS journals its metadata itself); `os.replace`
  fails with PermissionError while another program (an editor, a sync client, an antivirus) holds the target open,
  so a replace is retried with a bounded backoff before the transaction gives up and rolls back.
- Sync folders (and some network shares) refuse hard links: before-images are copied instead.

`WIKISMITH_PLATFORM=macos|windows|sync-folder` simulates one of them on Linux, for tests: the same calls are made
as on that platform, and "held open by another process" is read from /proc.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Callable

ENV = "WIKISMITH_PLATFORM"
F_FULLFSYNC = 51  # <sys/fcntl.h> on macOS; the fcntl module names it only there
BUSY_BACKOFF = (0.02, 0.05, 0.1, 0.2, 0.4, 0.8)  # seconds between tries of a blocked replace: 1.57 s in all


@dataclass(frozen=True)
class Platform:
    name: str
    full_fsync: bool = False
    dir_fsync: bool = True
    links: bool = True
    busy_backoff: tuple[float, ...] = ()
    held_open: Callable[[str], bool] | None = None  # simulation: is the file open in another process?


def _held_open_elsewhere(path: str) -> bool:
    """Whether another process has `path` open (Linux /proc), as Windows would refuse to replace it."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    me = str(os.getpid())
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or pid == me:
            continue
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                other = os.stat(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if (other.st_ino, other.st_dev) == (st.st_ino, st.st_dev):
                return True
    return False


SIMULATED = {
    "macos": Platform("macos", full_fsync=True),
    "windows": Platform("windows", dir_fsync=False, busy_backoff=BUSY_BACKOFF, held_open=_held_open_elsewhere),
    "sync-folder": Platform("sync-folder", links=False),
}


def detect() -> Platform:
    simulated = os.environ.get(ENV)
    if simulated:
        if simulated not in SIMULATED:
            raise ValueError(f"{ENV}: expected one of {', '.join(sorted(SIMULATED))}, not {simulated!r}")
        return SIMULATED[simulated]
    if sys.platform == "darwin":
        return Platform("macos", full_fsync=True)
    if sys.platform == "win32":
        return Platform("windows", dir_fsync=False, busy_backoff=BUSY_BACKOFF)
    return Platform(sys.platform)
