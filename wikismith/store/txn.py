"""The transaction protocol: apply a Mutation (journal → publish → commit) and recover after any interruption.

The only commit point is one SQLite transaction that writes the registry and flips the journal to `committed`.
Before it, a journal row in state `active` names every before-image, so recovery can put each file back; after it,
recovery only cleans up. Every change goes through store/fs.py, so fault injection reaches every step.
"""

from __future__ import annotations

import os
import posixpath
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from wikismith import clock
from wikismith.store import fs, history, registry
from wikismith.store.pagememo import PageMemo
from wikismith.store.layout import BACKUPS, QUARANTINE, STAGING
from wikismith.store.mutation import InvalidPath, Mutation, check_relpath

ACTIONS = ("mkdir", "write", "delete", "append")


@dataclass(frozen=True)
class Entry:
    seq: int
    action: str
    path: str
    backup: str | None = None
    old_size: int | None = None


class RollbackImpossible(Exception):
    """A before-image or journal entry is missing or invalid: the KB must be marked dirty, nothing discarded."""


@dataclass
class RecoveryReport:
    rolled_back: list[str] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)
    orphans_removed: list[str] = field(default_factory=list)
    dirty: str | None = None

    @property
    def did_anything(self) -> bool:
        return bool(self.rolled_back or self.cleaned or self.orphans_removed or self.dirty)


def scratch_name(target: str, txn: str, purpose: str) -> str:
    """A temp file beside `target` whose name recovery can derive from the journal alone."""
    folder, name = os.path.split(target)
    return os.path.join(folder, f".{name}.{txn}.{purpose}")


def _taken(root: str, conn) -> Callable[[str], bool]:
    def taken(txn: str) -> bool:
        if conn.execute("SELECT 1 FROM txns WHERE id = ?", (txn,)).fetchone():
            return True
        return any(os.path.lexists(os.path.join(root, folder, txn)) for folder in (STAGING, BACKUPS, QUARANTINE))
    return taken


def apply(root: str, conn: sqlite3.Connection, mutation: Mutation, command: history.Command,
          memo: PageMemo | None = None) -> str:
    """Apply `mutation` to the KB at `root` as one transaction of `command`. The caller holds the exclusive lock and
    has run recovery. `memo`: the store's PageMemo, if it keeps one."""
    mutation.validate()
    txn = history.txn_id(conn, command, _taken(root, conn))
    staging = os.path.join(root, STAGING, txn)
    backups = os.path.join(root, BACKUPS, txn)
    staged: dict[str, str] = {}
    try:
        entries = _prepare(root, mutation, txn, staging, backups, staged)
        _journal(conn, txn, mutation.label, entries)
    except BaseException:
        _discard_scratch(staging, backups)
        raise
    try:
        _publish(root, mutation, txn, entries, staged)
        after = {path: history.sha256(data) for path, data in mutation.writes.items()}
        command.documents |= mutation.drop_documents | {d.id for d in mutation.put_documents}
        conn.execute("BEGIN IMMEDIATE")
        rows = registry.before_images(conn, mutation, history.unrecorded(conn, txn))
        registry.write_rows(conn, mutation, memo)
        history.record(conn, command, txn, mutation.label, entries, after, rows, mutation.keeps)
        conn.execute("UPDATE txns SET state = 'committed' WHERE id = ?", (txn,))
        fs.commit(conn, f"commit {txn}")
        history.committed(command, txn)
        if memo is not None:
            memo.commit()
    except BaseException:
        if memo is not None:
            memo.forget()
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        try:
            rollback(root, conn, txn, load_entries(conn, txn))
        except BaseException:
            pass  # the journal stays `active`; the next command's recovery finishes the rollback
        raise
    try:
        cleanup(root, conn, txn, entries, orphans=history.pruned_folders)
    except Exception:
        pass  # best effort: recovery removes what is left
    return txn


def _prepare(root, mutation: Mutation, txn, staging, backups, staged) -> list[Entry]:
    entries: list[Entry] = []

    def add(action, path, backup=None, old_size=None):
        entries.append(Entry(len(entries) + 1, action, path, backup, old_size))

    new_dirs: list[str] = []
    for path in sorted({posixpath.dirname(p) for p in (*mutation.writes, *mutation.appends)}):
        probe = path
        missing = []
        while probe and not os.path.isdir(os.path.join(root, probe)):
            missing.append(probe)
            probe = posixpath.dirname(probe)
        new_dirs.extend(d for d in reversed(missing) if d not in new_dirs)
    for folder in new_dirs:
        add("mkdir", folder)

    if mutation.writes:
        fs.makedirs(staging)
        for index, (path, data) in enumerate(sorted(mutation.writes.items())):
            staged[path] = os.path.join(staging, str(index))
            fs.write_new(staged[path], data)
        fs.fsync_dirs([staging])

    made_backups = False
    for action, paths in (("write", sorted(mutation.writes)), ("delete", sorted(mutation.deletes))):
        for path in paths:
            target = os.path.join(root, path)
            if not os.path.lexists(target):
                if action == "write":
                    add("write", path)
                continue
            if not os.path.isfile(target) or os.path.islink(target):
                raise InvalidPath(f"{path}: not a regular file; wikismith will not replace it")
            if not made_backups:
                fs.makedirs(backups)
                made_backups = True
            backup = posixpath.join(BACKUPS, txn, str(len(entries) + 1))
            fs.link_or_copy(target, os.path.join(root, backup))
            add(action, path, backup=backup)
    for path in sorted(mutation.appends):
        target = os.path.join(root, path)
        add("append", path, old_size=os.path.getsize(target) if os.path.exists(target) else None)
    if made_backups:
        fs.fsync_dirs([backups])
    return entries


def _journal(conn, txn: str, label: str, entries: list[Entry]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("INSERT INTO txns (id, label, state, created_at) VALUES (?, ?, 'active', ?)", (txn, label, clock.now_iso()))
        conn.executemany(
            "INSERT INTO txn_entries (txn, seq, action, path, backup, old_size) VALUES (?, ?, ?, ?, ?, ?)",
            [(txn, e.seq, e.action, e.path, e.backup, e.old_size) for e in entries],
        )
        fs.commit(conn, f"journal {txn}")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _publish(root, mutation: Mutation, txn, entries: list[Entry], staged: dict[str, str]) -> None:
    touched = set()
    for entry in entries:
        target = os.path.join(root, entry.path)
        touched.add(os.path.dirname(target))
        if entry.action == "mkdir":
            fs.makedirs(target)
        elif entry.action == "write":
            fs.publish(staged[entry.path], target, scratch_name(target, txn, "publish"))
        elif entry.action == "delete":
            fs.unlink(target)
        elif entry.action == "append":
            fs.append(target, mutation.appends[entry.path])
    fs.fsync_dirs(touched)


def load_entries(conn, txn: str) -> list[Entry]:
    rows = conn.execute(
        "SELECT seq, action, path, backup, old_size FROM txn_entries WHERE txn = ? ORDER BY seq", (txn,)
    ).fetchall()
    return [Entry(*row) for row in rows]


def _check_entries(root: str, txn: str, entries: list[Entry]) -> None:
    """Refuse to act on any entry of a journal that is not exactly what apply() writes."""
    backup_prefix = posixpath.join(BACKUPS, txn) + "/"
    for e in entries:
        where = f"transaction {txn}, journal entry {e.seq}"
        if e.action not in ACTIONS:
            raise RollbackImpossible(f"{where}: unknown action {e.action!r}")
        try:
            if e.action == "mkdir":
                if not e.path.startswith(("raw", "wiki")) or ".." in e.path.split("/"):
                    raise InvalidPath(f"invalid folder {e.path!r}")
            else:
                check_relpath(e.path)
        except InvalidPath as exc:
            raise RollbackImpossible(f"{where}: {exc}") from None
        if e.backup is not None:
            if not e.backup.startswith(backup_prefix) or ".." in e.backup.split("/"):
                raise RollbackImpossible(f"{where}: before-image path {e.backup!r} is outside {backup_prefix}")
            if not os.path.isfile(os.path.join(root, e.backup)):
                raise RollbackImpossible(f"{where}: the before-image of {e.path} ({e.backup}) is missing")
        if e.action == "append" and e.old_size is not None:
            target = os.path.join(root, e.path)
            if not os.path.isfile(target) or os.path.getsize(target) < e.old_size:
                raise RollbackImpossible(f"{where}: {e.path} is shorter than before the transaction")


def rollback(root: str, conn, txn: str, entries: list[Entry]) -> None:
    """Put every file the transaction touched back as it was, then mark it rolled back and clean up. Idempotent."""
    _check_entries(root, txn, entries)
    touched = set()
    for e in reversed(entries):
        target = os.path.join(root, e.path)
        touched.add(os.path.dirname(target))
        for purpose in ("publish", "restore"):
            leftover = scratch_name(target, txn, purpose)
            if os.path.lexists(leftover):
                fs.unlink(leftover)
        if e.action == "mkdir":
            if os.path.isdir(target):
                fs.rmdir_if_empty(target)
        elif e.action in ("write", "delete"):
            if e.backup is None:
                if os.path.lexists(target):
                    fs.unlink(target)
            elif not _same_file(os.path.join(root, e.backup), target):
                fs.restore(os.path.join(root, e.backup), target, scratch_name(target, txn, "restore"))
        elif e.action == "append":
            if e.old_size is None:
                if os.path.lexists(target):
                    fs.unlink(target)
            elif os.path.getsize(target) != e.old_size:
                fs.truncate(target, e.old_size)
    fs.fsync_dirs(d for d in touched if os.path.isdir(d))
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE txns SET state = 'rolled_back' WHERE id = ?", (txn,))
    fs.commit(conn, f"rolled back {txn}")
    cleanup(root, conn, txn)


def _same_file(a: str, b: str) -> bool:
    try:
        sa, sb = os.stat(a), os.stat(b)
    except FileNotFoundError:
        return False
    return (sa.st_ino, sa.st_dev) == (sb.st_ino, sb.st_dev)


def cleanup(root: str, conn, txn: str, entries: list[Entry] | None = None, orphans=None) -> None:
    """Forget a finished transaction: its staging folder, its before-images (kept in history/ when history
    records them), its journal rows. `orphans(root, conn, txn)` lists the history folders to remove; recovery
    uses the full scan (history.orphan_folders), a transaction that just committed the look at what it can have
    left (history.pruned_folders)."""
    kept = history.keep_backups(root, conn, txn, load_entries(conn, txn) if entries is None else entries)
    for folder in (STAGING, *(() if kept else (BACKUPS,))):
        path = os.path.join(root, folder, txn)
        if os.path.lexists(path):
            fs.rmtree(path)
    found = history.orphan_folders(root, conn) if orphans is None else orphans(root, conn, txn)
    for orphan in found:  # before-images of commands history no longer keeps
        fs.rmtree(os.path.join(root, orphan))
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DELETE FROM txn_entries WHERE txn = ?", (txn,))
    conn.execute("DELETE FROM txns WHERE id = ?", (txn,))
    fs.commit(conn, f"forget {txn}")


def _discard_scratch(*folders: str) -> None:
    for folder in folders:
        try:
            if os.path.lexists(folder):
                fs.rmtree(folder)
        except BaseException:
            pass  # recovery removes scratch folders no journal names


def pending(conn) -> list[tuple[str, str, str]]:
    return conn.execute("SELECT id, state, label FROM txns ORDER BY rowid DESC").fetchall()


def scratch_orphans(root: str, conn) -> list[str]:
    """Folders in staging/ and backups/ that no journal row names, and history folders that no history row needs
    (KB-relative)."""
    known = {row[0] for row in conn.execute("SELECT id FROM txns")}
    found = []
    for folder in (STAGING, BACKUPS):
        base = os.path.join(root, folder)
        if os.path.isdir(base):
            found.extend(posixpath.join(folder, name) for name in sorted(os.listdir(base)) if name not in known)
    return found + history.orphan_folders(root, conn)


def recover(root: str, conn, *, set_dirty) -> RecoveryReport:
    """Bring the KB to a committed state: roll back `active` transactions, clean up the rest. Caller holds the lock."""
    report = RecoveryReport()
    for txn, state, label in pending(conn):
        if state == "active":
            try:
                rollback(root, conn, txn, load_entries(conn, txn))
            except RollbackImpossible as exc:
                report.dirty = str(exc)
                set_dirty(report.dirty)
                return report  # keep every before-image and journal row for `wikismith doctor`
            report.rolled_back.append(f"{txn} ({label})")
        else:
            cleanup(root, conn, txn)
            report.cleaned.append(f"{txn} ({label})")
    for orphan in scratch_orphans(root, conn):
        fs.rmtree(os.path.join(root, orphan))
        report.orphans_removed.append(orphan)
    return report
