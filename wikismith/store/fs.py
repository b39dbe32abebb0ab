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
import time

from wikismith.store import faults, fstrace
from wikismith.store import platform as platforms

# Errors after which a hard link is replaced by a copy (cross-device, forbidden, unsupported, too many links).
LINK_FALLBACK_ERRNOS = frozenset(
    code
    for code in (errno.EXDEV, errno.EPERM, errno.EACCES, errno.ENOTSUP, getattr(errno, "EOPNOTSUPP", None), errno.EMLINK)
    if code is not None
)


# WIKISMITH_FSYNC=off skips every fsync. Only the crash bench uses it: a killed process loses nothing the page cache
# holds, so fsync cannot change what that bench observes; its power-cut mode reads the fsync calls the store asks for
# from the recording (fstrace), done or not.
SYNC = os.environ.get("WIKISMITH_FSYNC", "on") != "off"


# The platform's seams (see platform.py); tests swap it for a simulated one.
platform = platforms.detect()


class FileBusy(OSError):
    """A file could not be replaced because another program holds it open (Windows), even after retrying."""


def _fsync(fd: int, path: str, op: str = "fsync") -> None:
    if fstrace.ops is not None:
        fstrace.ops.append((op, path))
    if not SYNC:
        return
    if platform.full_fsync:
        try:
            fcntl = __import__("fcntl")
            fcntl.fcntl(fd, getattr(fcntl, "F_FULLFSYNC", platforms.F_FULLFSYNC))
            return
        except OSError:
            pass  # a file system without F_FULLFSYNC (network shares): plain fsync is all there is
    os.fsync(fd)


# -- the primitive operations: each is recorded for the power-cut bench when fstrace is on ---------------------------

def _open(path: str, mode: str):
    if fstrace.ops is not None:
        fstrace.opening(path, mode)
    return open(path, mode)


def _write(fh, path: str, data: bytes) -> None:
    if fstrace.ops is not None:
        fstrace.ops.append(("write", path, bytes(data)))
    fh.write(data)


def _replace(src: str, dst: str) -> None:
    """os.replace, retried with a bounded backoff while another program holds `dst` open (Windows)."""
    delays = iter(platform.busy_backoff)
    while True:
        try:
            if platform.held_open is not None and platform.held_open(dst):
                raise PermissionError(errno.EACCES, "the file is open in another program", dst)
            os.replace(src, dst)
            break
        except PermissionError as exc:
            delay = next(delays, None)
            if delay is None:
                if not platform.busy_backoff:
                    raise
                raise FileBusy(errno.EBUSY, f"cannot replace {dst}: another program (an editor, a sync client, an "
                               f"antivirus?) holds it open; gave up after {len(platform.busy_backoff) + 1} tries in "
                               f"{sum(platform.busy_backoff):.1f} s. Close it and run the command again") from exc
            time.sleep(delay)
    if fstrace.ops is not None:
        fstrace.ops.append(("rename", src, dst))


def _rename(src: str, dst: str) -> None:
    os.rename(src, dst)
    if fstrace.ops is not None:
        fstrace.ops.append(("rename", src, dst))


def _link(src: str, dst: str) -> None:
    if not platform.links:
        raise OSError(errno.EPERM, "hard links are refused here", dst)
    os.link(src, dst)
    if fstrace.ops is not None:
        fstrace.ops.append(("link", src, dst))


def _unlink(path: str) -> None:
    os.unlink(path)
    if fstrace.ops is not None:
        fstrace.ops.append(("unlink", path))


def _mkdir(path: str) -> None:
    os.mkdir(path)
    if fstrace.ops is not None:
        fstrace.ops.append(("mkdir", path))


def _rmdir(path: str) -> None:
    os.rmdir(path)
    if fstrace.ops is not None:
        fstrace.ops.append(("rmdir", path))


def _rmtree(path: str) -> None:
    if fstrace.ops is None:
        shutil.rmtree(path)
        return
    for folder, dirs, files in os.walk(path, topdown=False):
        for name in sorted(files) + sorted(d for d in dirs if os.path.islink(os.path.join(folder, d))):
            _unlink(os.path.join(folder, name))
        for name in sorted(d for d in dirs if not os.path.islink(os.path.join(folder, d))):
            _rmdir(os.path.join(folder, name))
    _rmdir(path)


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


def _torn(fh, path: str, data: bytes) -> None:
    _write(fh, path, data[: len(data) // 2])
    fh.flush()
    _fsync(fh.fileno(), path)
    faults.die()


def _write_durably(path: str, data: bytes, torn: bool) -> None:
    with _open(path, "wb") as fh:
        if torn:
            _torn(fh, path, data)
        _write(fh, path, data)
        fh.flush()
        _fsync(fh.fileno(), path)


def write_new(path: str, data: bytes) -> None:
    """Write a file that nobody reads yet (staging, backups), durably: write, fsync."""
    _write_durably(path, data, _checkpoint(f"write {path}", tearable=True))


def atomic_write(path: str, data: bytes) -> None:
    """Replace a file's content all at once: temp file in the same folder, fsync, rename, fsync the folder."""
    torn = _checkpoint(f"atomic-write {path}", tearable=True)
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.wikismith-tmp")
    _write_durably(tmp, data, torn)
    _replace(tmp, path)
    _fsync_dir(folder or ".")


def write_stream(path: str, chunks) -> int:
    """Write a file from an iterator of byte chunks (a download), atomically: temp beside it, fsync, rename.
    Returns its size. If the iterator fails, the temp file is removed and nothing appears at `path`."""
    _checkpoint(f"write-stream {path}")
    tmp = f"{path}.part"
    size = 0
    try:
        with _open(tmp, "wb") as fh:
            for chunk in chunks:
                _write(fh, tmp, chunk)
                size += len(chunk)
            fh.flush()
            _fsync(fh.fileno(), tmp)
        _replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            _unlink(tmp)
        raise
    _fsync_dir(os.path.dirname(path) or ".")
    return size


def publish(src: str, dst: str, tmp: str) -> None:
    """Move a staged file onto its target by rename; across devices, copy to `tmp` beside it first."""
    torn = _checkpoint(f"publish {dst}", tearable=True)
    try:
        if torn:
            raise OSError(errno.EXDEV, "torn publish")  # a rename cannot tear; tear the copy path instead
        _replace(src, dst)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    _copy_file(src, tmp, torn=torn)
    _replace(tmp, dst)
    _unlink(src)


def link_or_copy(src: str, dst: str) -> str:
    """Record a before-image: hard link when the file system allows, else a durable copy. Returns "link" or "copy"."""
    torn = _checkpoint(f"link {src}", tearable=True)
    if not torn:
        try:
            _link(src, dst)
            return "link"
        except OSError as exc:
            if exc.errno not in LINK_FALLBACK_ERRNOS:
                raise
    _copy_file(src, dst, torn=torn)
    return "copy"


def _copy_file(src: str, dst: str, *, torn: bool = False) -> None:
    with open(src, "rb") as fin, _open(dst, "wb") as fout:
        if torn:
            _torn(fout, dst, fin.read())
        while chunk := fin.read(1 << 20):
            _write(fout, dst, chunk)
        fout.flush()
        _fsync(fout.fileno(), dst)


def restore(backup: str, dst: str, tmp: str) -> None:
    """Put a before-image back: link or copy it to `tmp` beside the target, then rename over the target."""
    torn = _checkpoint(f"restore {dst}", tearable=True)
    if os.path.lexists(tmp):
        _unlink(tmp)
    linked = False
    if not torn:
        try:
            _link(backup, tmp)
            linked = True
        except OSError as exc:
            if exc.errno not in LINK_FALLBACK_ERRNOS:
                raise
    if not linked:
        _copy_file(backup, tmp, torn=torn)
    _replace(tmp, dst)


def append(path: str, data: bytes) -> int:
    """Append to a file (created if absent) and fsync it; returns the length it had before."""
    torn = _checkpoint(f"append {path}", tearable=True)
    with _open(path, "ab") as fh:
        old = fh.tell()
        if torn:
            _torn(fh, path, data)
        _write(fh, path, data)
        fh.flush()
        _fsync(fh.fileno(), path)
    return old


def truncate(path: str, size: int) -> None:
    _checkpoint(f"truncate {path}")
    with open(path, "r+b") as fh:
        fh.truncate(size)
        if fstrace.ops is not None:
            fstrace.ops.append(("truncate", path, size))
        fh.flush()
        _fsync(fh.fileno(), path)


def unlink(path: str, *, missing_ok: bool = True) -> bool:
    """Delete a file; returns whether there was one."""
    _checkpoint(f"unlink {path}")
    try:
        _unlink(path)
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
            _mkdir(folder)
        except FileExistsError:
            pass
    for folder in reversed(missing):
        _fsync_dir(os.path.dirname(folder))
    return list(reversed(missing))


def rmdir_if_empty(path: str) -> bool:
    _checkpoint(f"rmdir {path}")
    try:
        _rmdir(path)
        return True
    except OSError:
        return False


def rmtree(path: str) -> None:
    _checkpoint(f"rmtree {path}")
    if os.path.lexists(path):
        _rmtree(path)


def rename(src: str, dst: str) -> None:
    """Rename a folder or file within one file system (used to move aside, never to overwrite user data)."""
    _checkpoint(f"rename {src}")
    _rename(src, dst)


def move_tree(src: str, dst: str) -> None:
    """Move a folder of files (before-images into history/) by rename; across devices, copy each file durably into
    `dst.part`, rename that to `dst`, then remove `src`. `dst` appears only whole, so a run interrupted anywhere is
    finished by running it again."""
    _checkpoint(f"move {src}")
    if os.path.lexists(dst):  # whole: only the removal of the source was left to do
        _rmtree(src)
        return
    try:
        _rename(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        part = dst + ".part"
        if os.path.lexists(part):
            _rmtree(part)
        _mkdir(part)
        for name in sorted(os.listdir(src)):
            _copy_file(os.path.join(src, name), os.path.join(part, name))
        _fsync_dir(part)
        _rename(part, dst)
        _fsync_dir(os.path.dirname(dst))
        _rmtree(src)
        return
    _fsync_dir(os.path.dirname(dst))


def fsync_dirs(paths) -> None:
    _checkpoint("fsync-dirs")
    for path in sorted(set(paths)):
        if os.path.isdir(path):
            _fsync_dir(path)


def _fsync_dir(path: str) -> None:
    if not platform.dir_fsync:
        return  # Windows: a folder cannot be opened; NTFS journals the rename and the delete itself
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        _fsync(fd, path, "fsync-dir")
    finally:
        os.close(fd)


def connect(path: str) -> sqlite3.Connection:
    """Open the KB's database (creating it if absent) with autocommit off: commits go through commit()."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=60, check_same_thread=False)
    if platform.full_fsync:
        conn.execute("PRAGMA fullfsync = ON")  # macOS: SQLite flushes the drive cache too
        conn.execute("PRAGMA checkpoint_fullfsync = ON")
    return conn


def commit(conn: sqlite3.Connection, what: str = "commit") -> None:
    """Commit the open SQLite transaction: one checkpoint. A torn commit is a crash (SQLite itself cannot tear)."""
    _checkpoint(f"sqlite {what}")
    conn.execute("COMMIT")
    if fstrace.ops is not None:
        fstrace.committed(conn)
