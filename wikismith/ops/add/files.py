"""Which files an `add` of paths means: folders walked in a stable order, and the reasons others are left out."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from wikismith.errors import WikismithError
from wikismith.store import layout

SKIP_NAMES = {layout.STATE, "__pycache__", "node_modules"}


@dataclass(frozen=True)
class Left:
    """A path the walk found and left out, and why: status "skipped" (not an error) or "failed"."""

    path: str
    status: str
    reason: str


def expand(given: str, kb_root: str) -> tuple[list[str], list[Left]]:
    """The files `given` names (itself, or a folder's supported files, recursively), and what was left out."""
    from wikismith.ingest import SUPPORTED_SUFFIXES

    path = os.path.abspath(given)
    if not os.path.lexists(path):
        return [], [Left(given, "failed", "no such file or folder")]
    if not os.path.isdir(path):
        return [path], []
    state_dir = os.path.join(kb_root, layout.STATE)
    files: list[str] = []
    left: list[Left] = []
    for folder, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_NAMES
                         and os.path.join(folder, d) != state_dir)
        for name in sorted(names):
            if name.startswith("."):
                continue
            full = os.path.join(folder, name)
            if os.path.splitext(name)[1].lower() in SUPPORTED_SUFFIXES:
                files.append(full)
            else:
                left.append(Left(full, "skipped", "not a supported document type"))
    return files, left


def read_source(path: str, max_bytes: int) -> bytes:
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise WikismithError(f"{path}: not a regular file (a folder, FIFO, socket or device is never read)")
    if st.st_size > max_bytes:
        raise WikismithError(f"{path}: {st.st_size / 1e6:.1f} MB is over the limit of {max_bytes / 1e6:.0f} MB "
                             "(config key max_file_mb)")
    with open(path, "rb") as fh:
        return fh.read(max_bytes + 1)
