"""The one facade for every file-system call that changes a knowledge base, and for every SQLite commit.

Each public function here is one fault-injection checkpoint (see faults.py). Nothing outside store/ may write into
raw/, wiki/ or .wikismith/ by any other route; tests/unit/test_audit.py enforces it with an audit hook.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3

from wikismith.store import faults

# Errors after which a hard link is replaced by a copy (cross-device, forbidden, unsupported, too many links).
LINK_FALLBACK_ERRNOS = frozenset(
    code
    for code in (errno.EXDEV, errno.EPERM, errno.EACCES, errno.ENOTSUP, getattr(errno, "EOPNOTSUPP", None), errno.EMLINK)
    if code is not None
)


# WIKISMITH_FSYNC=off skips every fsync. Only the crash bench uses it: a killed process loses nothing the page cache
# holds, so fsync cannot change what that bench observes (it matters for power loss, which the bench does not model).
SYNC = os.environ.get("WIKISMITH_FSYNC", "on") != "off"


def _fsync(fd: int) -> None:
    if SYNC:
        os.fsync(fd)


def _checkpoint(what: str, *, tearable: bool = False) -> bool:
    """Pass a checkpoint; True means: tear this write in half and die. A step that cannot tear dies whole."""
    plan = faults.active
    if plan is None:
        return False
    if plan.hit(what, tearable) != "torn":
        return False
    if not tearable:
        faults.die()
    return True


def _torn(fh, data: bytes) -> None:
    fh.write(data[: len(data) // 2])
    fh.flush()
    _fsync(fh.fileno())
    faults.die()


def _write_durably(path: str, data: bytes, torn: bool) -> None:
    with open(path, "wb") as fh:
        if torn:
            _torn(fh, data)
        fh.write(data)
        fh.flush()
        _fsync(fh.fileno())


def write_new(path: str, data: bytes) -> None:
    """Write a file that nobody reads yet (staging, backups), durably: write, fsync."""
    _write_durably(path, data, _checkpoint(f"write {path}", tearable=True))


def atomic_write(path: str, data: bytes) -> None:
    """Replace a file's content all at once: temp file in the same folder, fsync, rename, fsync the folder."""
    torn = _checkpoint(f"atomic-write {path}", tearable=True)
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.wikismith-tmp")
    _write_durably(tmp, data, torn)
    os.replace(tmp, path)
    _fsync_dir(folder or ".")


def write_stream(path: str, chunks) -> int:
    """Write a file from an iterator of byte chunks (a download), atomically: temp beside it, fsync, rename.
    Returns its size. If the iterator fails, the temp file is removed and nothing appears at `path`."""
    _checkpoint(f"write-stream {path}")
    tmp = f"{path}.part"
    size = 0
    try:
        with open(tmp, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                size += len(chunk)
            fh.flush()
            _fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(os.path.dirname(path) or ".")
    return size


def publish(src: str, dst: str, tmp: str) -> None:
    """Move a staged file onto its target by rename; across devices, copy to `tmp` beside it first."""
    torn = _checkpoint(f"publish {dst}", tearable=True)
    try:
        if torn:
            raise OSError(errno.EXDEV, "torn publish")  # a rename cannot tear; tear the copy path instead
        os.replace(src, dst)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    _copy_file(src, tmp, torn=torn)
    os.replace(tmp, dst)
    os.unlink(src)


def link_or_copy(src: str, dst: str) -> str:
    """Record a before-image: hard link when the file system allows, else a durable copy. Returns "link" or "copy"."""
    torn = _checkpoint(f"link {src}", tearable=True)
    if not torn:
        try:
            os.link(src, dst)
            return "link"
        except OSError as exc:
            if exc.errno not in LINK_FALLBACK_ERRNOS:
                raise
    _copy_file(src, dst, torn=torn)
    return "copy"


def _copy_file(src: str, dst: str, *, torn: bool = False) -> None:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        if torn:
            _torn(fout, fin.read())
        shutil.copyfileobj(fin, fout, 1 << 20)
        fout.flush()
        _fsync(fout.fileno())


def restore(backup: str, dst: str, tmp: str) -> None:
    """Put a before-image back: link or copy it to `tmp` beside the target, then rename over the target."""
    torn = _checkpoint(f"restore {dst}", tearable=True)
    if os.path.lexists(tmp):
        os.unlink(tmp)
    linked = False
    if not torn:
        try:
            os.link(backup, tmp)
            linked = True
        except OSError as exc:
            if exc.errno not in LINK_FALLBACK_ERRNOS:
                raise
    if not linked:
        _copy_file(backup, tmp, torn=torn)
    os.replace(tmp, dst)


def append(path: str, data: bytes) -> int:
    """Append to a file (created if absent) and fsync it; returns the length it had before."""
    torn = _checkpoint(f"append {path}", tearable=True)
    with open(path, "ab") as fh:
        old = fh.tell()
        if torn:
            _torn(fh, data)
        fh.write(data)
        fh.flush()
        _fsync(fh.fileno())
    return old


def truncate(path: str, size: int) -> None:
    _checkpoint(f"truncate {path}")
    with open(path, "r+b") as fh:
        fh.truncate(size)
        fh.flush()
        _fsync(fh.fileno())


def unlink(path: str, *, missing_ok: bool = True) -> bool:
    """Delete a file; returns whether there was one."""
    _checkpoint(f"unlink {path}")
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        if not missing_ok:
            raise
        return False


def makedirs(path: str) -> list[str]:
    """Create a folder and its missing parents; returns the folders created, outermost first."""
    _checkpoint(f"mkdir {path}")
    missing = []
    probe = os.path.abspath(path)
    while not os.path.isdir(probe):
        missing.append(probe)
        probe = os.path.dirname(probe)
    for folder in reversed(missing):
        try:
            os.mkdir(folder)
        except FileExistsError:
            pass
    for folder in reversed(missing):
        _fsync_dir(os.path.dirname(folder))
    return list(reversed(missing))


def rmdir_if_empty(path: str) -> bool:
    _checkpoint(f"rmdir {path}")
    try:
        os.rmdir(path)
        return True
    except OSError:
        return False


def rmtree(path: str) -> None:
    _checkpoint(f"rmtree {path}")
    if os.path.lexists(path):
        shutil.rmtree(path)


def rename(src: str, dst: str) -> None:
    """Rename a folder or file within one file system (used to move aside, never to overwrite user data)."""
    _checkpoint(f"rename {src}")
    os.rename(src, dst)


def move_tree(src: str, dst: str) -> None:
    """Move a folder of files (before-images into history/) by rename; across devices, copy each file durably into
    `dst.part`, rename that to `dst`, then remove `src`. `dst` appears only whole, so a run interrupted anywhere is
    finished by running it again."""
    _checkpoint(f"move {src}")
    if os.path.lexists(dst):  # whole: only the removal of the source was left to do
        shutil.rmtree(src)
        return
    try:
        os.rename(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        part = dst + ".part"
        if os.path.lexists(part):
            shutil.rmtree(part)
        os.mkdir(part)
        for name in sorted(os.listdir(src)):
            _copy_file(os.path.join(src, name), os.path.join(part, name))
        _fsync_dir(part)
        os.rename(part, dst)
        _fsync_dir(os.path.dirname(dst))
        shutil.rmtree(src)
        return
    _fsync_dir(os.path.dirname(dst))


def fsync_dirs(paths) -> None:
    _checkpoint("fsync-dirs")
    for path in sorted(set(paths)):
        if os.path.isdir(path):
            _fsync_dir(path)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        _fsync(fd)
    finally:
        os.close(fd)


def connect(path: str) -> sqlite3.Connection:
    """Open the KB's database (creating it if absent) with autocommit off: commits go through commit()."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=60, check_same_thread=False)
    return conn


def commit(conn: sqlite3.Connection, what: str = "commit") -> None:
    """Commit the open SQLite transaction: one checkpoint. A torn commit is a crash (SQLite itself cannot tear)."""
    _checkpoint(f"sqlite {what}")
    conn.execute("COMMIT")
