"""The record of every file-system operation the facade performs, for the power-cut bench.

Off by default: `ops` stays None and each operation of store/fs.py costs one attribute test. The bench turns it on
in the child it runs (`start`), or `WIKISMITH_FS_RECORD=FILE` records a whole process into FILE (JSON lines, data in
hex; `load` reads it back) at exit, with the database snapshots below in `WIKISMITH_FS_SNAPSHOTS=DIR` when that is
set. One operation is a tuple, in program order:

    ("create", path)            a new, empty file gets a name (metadata)
    ("write", path, data)       bytes appended to the file's content (a file is only ever written at its end)
    ("truncate", path, size)    the file's content cut to `size` bytes (O_TRUNC is a truncate to 0)
    ("fsync", path)             the file's data made durable
    ("fsync-dir", path)         the folder's entries made durable
    ("rename", src, dst)        os.replace/os.rename of a file or a folder (metadata)
    ("link", src, dst)          a hard link (metadata)
    ("unlink", path) ("mkdir", path) ("rmdir", path)          (metadata)
    ("sqlite-commit", n)        SQLite commit number n returned (WAL, synchronous=FULL: durable from here)

After SQLite commit n, the database files are copied to `<db_snapshots>/<n>/` when `db_snapshots` is set, so the
bench can put the database of any instant back.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil

ENV = "WIKISMITH_FS_RECORD"
SNAPSHOTS_ENV = "WIKISMITH_FS_SNAPSHOTS"
METADATA = frozenset({"create", "rename", "link", "unlink", "mkdir", "rmdir"})

ops: list[tuple] | None = None
db_snapshots: str | None = None


def start(snapshots: str | None = None) -> None:
    global ops, db_snapshots
    ops = []
    db_snapshots = snapshots


def stop() -> list[tuple]:
    global ops, db_snapshots
    recorded, ops, db_snapshots = ops or [], None, None
    return recorded


def opening(path: str, mode: str) -> None:
    """Record what open(path, mode) does to the namespace and the content before it happens."""
    exists = os.path.lexists(path)
    if not exists and mode[0] in "wa":
        ops.append(("create", path))
    elif exists and mode[0] == "w":
        ops.append(("truncate", path, 0))


def committed(conn) -> None:
    ops.append(("sqlite-commit", sum(1 for op in ops if op[0] == "sqlite-commit")))
    if db_snapshots is None:
        return
    db_path = conn.execute("PRAGMA database_list").fetchone()[2]
    dest = os.path.join(db_snapshots, str(ops[-1][1]))
    os.makedirs(dest)
    for suffix in ("", "-wal"):
        if os.path.exists(db_path + suffix):
            shutil.copyfile(db_path + suffix, os.path.join(dest, os.path.basename(db_path) + suffix))


def _dump_at_exit(target: str) -> None:
    with open(target, "w", encoding="utf-8") as fh:
        for op in ops or []:
            fh.write(json.dumps([x.hex() if isinstance(x, bytes) else x for x in op]) + "\n")


def load(path: str) -> list[tuple]:
    """The operations a process recorded into `path` (WIKISMITH_FS_RECORD), as `ops` held them."""
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    return [(row[0], row[1], bytes.fromhex(row[2])) if row[0] == "write" else tuple(row) for row in rows]


def record_process(target: str, snapshots: str | None = None) -> None:
    """Record every operation of this process from now on, into `target` when it exits."""
    start(snapshots)
    atexit.register(_dump_at_exit, target)


if os.environ.get(ENV):
    record_process(os.environ[ENV], os.environ.get(SNAPSHOTS_ENV))
