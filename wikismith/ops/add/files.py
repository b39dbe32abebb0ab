"""Which files an `add` of paths means: folders walked in a stable order, and the reasons others are left out.

A folder walk never leaves the folder: a symbolic link whose target lies outside it (`innocent.md -> /etc/passwd`)
is skipped with the reason, unless the user asked for `--follow-symlinks`. A path named on the command line is the
user's own choice and is read as named.
"""

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


def expand(given: str, kb_root: str, *, follow_symlinks: bool = False) -> tuple[list[str], list[Left]]:
    """The files `given` names (itself, or a folder's supported files, recursively), and what was left out."""
    from wikismith.ingest import SUPPORTED_SUFFIXES

    path = os.path.abspath(given)
    if not os.path.lexists(path):
        return [], [Left(given, "failed", "no such file or folder")]
    if not os.path.isdir(path):
        return [path], []
    top = os.path.realpath(path)
    state_dir = os.path.realpath(os.path.join(kb_root, layout.STATE))
    files: list[str] = []
    left: list[Left] = []
    seen_dirs = {top}
    for folder, dirs, names in os.walk(path, followlinks=follow_symlinks):
        kept = []
        for d in sorted(dirs):
            full = os.path.join(folder, d)
            real = os.path.realpath(full)
            if d.startswith(".") or d in SKIP_NAMES or real == state_dir:
                continue
            if os.path.islink(full):
                if not follow_symlinks and not _inside(real, top):
                    left.append(Left(full, "skipped", _outside(full, real, path)))
                    continue
                if not follow_symlinks or real in seen_dirs:
                    continue  # a link to a folder inside is walked under its own name; a loop is walked once
            seen_dirs.add(real)
            kept.append(d)
        dirs[:] = kept
        for name in sorted(names):
            if name.startswith("."):
                continue
            full = os.path.join(folder, name)
            if os.path.islink(full) and not follow_symlinks:
                real = os.path.realpath(full)
                if not _inside(real, top):
                    left.append(Left(full, "skipped", _outside(full, real, path)))
                    continue
            if os.path.splitext(name)[1].lower() in SUPPORTED_SUFFIXES:
                files.append(full)
            else:
                left.append(Left(full, "skipped", "not a supported document type"))
    if not files and not left:
        left.append(Left(given, "skipped", "the folder holds no documents (hidden files and folders are ignored)"))
    return files, left


def _inside(real: str, top: str) -> bool:
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def _outside(link: str, real: str, folder: str) -> str:
    return (f"a symbolic link to {real}, outside {folder}; not followed "
            "(add the target by name, or use --follow-symlinks)")


def read_source(path: str, max_bytes: int) -> bytes:
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise WikismithError(f"{path}: not a regular file (a folder, FIFO, socket or device is never read)")
    if st.st_size > max_bytes:
        raise WikismithError(f"{path}: {st.st_size / 1e6:.1f} MB is over the limit of {max_bytes / 1e6:.0f} MB "
                             "(config key max_file_mb)")
    with open(path, "rb") as fh:
        return fh.read(max_bytes + 1)
