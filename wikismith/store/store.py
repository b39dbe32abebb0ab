"""Store: one KB's state folder, database and lock, and the two entry points apply() and recover()."""

from __future__ import annotations

import contextlib
import os
import sqlite3

import filelock

from wikismith.errors import DirtyKnowledgeBase, LockTimeout, StoreError
from wikismith.store import db, fs, layout, txn
from wikismith.store.mutation import Mutation

DEFAULT_LOCK_TIMEOUT = 300.0


class Store:
    def __init__(self, root: str, *, lock_timeout: float | None = None):
        self.root = os.path.abspath(root)
        self._conn: sqlite3.Connection | None = None
        env_timeout = os.environ.get("WIKISMITH_LOCK_TIMEOUT")
        self.lock_timeout = lock_timeout if lock_timeout is not None else float(env_timeout or DEFAULT_LOCK_TIMEOUT)
        self._lock = filelock.FileLock(self.path(layout.LOCK), timeout=self.lock_timeout)

    def path(self, rel: str) -> str:
        return os.path.join(self.root, rel)

    # -- creation -------------------------------------------------------------------------------------------------

    @classmethod
    def create(cls, root: str, config_text: str) -> "Store":
        """Make `.wikismith/` by building it under a temp name and renaming it into place: it exists whole or not."""
        root = os.path.abspath(root)
        final = os.path.join(root, layout.STATE)
        tmp = os.path.join(root, f"{layout.STATE}.init")
        if os.path.lexists(tmp):  # left by an interrupted init
            fs.rmtree(tmp)
        try:
            for sub in ("staging", "backups", "downloads"):
                fs.makedirs(os.path.join(tmp, sub))
            fs.atomic_write(os.path.join(tmp, "config.toml"), config_text.encode("utf-8"))
            conn = db.open_db(os.path.join(tmp, "kb.sqlite3"), create=True)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            fs.rename(tmp, final)
        except BaseException:
            try:
                if os.path.lexists(tmp):
                    fs.rmtree(tmp)
            except BaseException:
                pass  # the next init removes it
            raise
        fs.fsync_dirs([root])
        return cls(root)

    # -- connection and lock --------------------------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = db.open_db(self.path(layout.DB))
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextlib.contextmanager
    def locked(self):
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise LockTimeout(
                f"{self.path(layout.LOCK)}: another wikismith process has held the KB's lock for over "
                f"{self.lock_timeout:.0f} s; try again when it finishes"
            ) from None
        try:
            with self.damage_is_store_error():
                yield
        finally:
            self._lock.release()

    @contextlib.contextmanager
    def damage_is_store_error(self):
        """Report a damaged database (found by any query, not only on opening) as one StoreError naming the file."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if not db.is_damage(exc):
                raise
            raise db.damaged(self.path(layout.DB), exc) from exc

    # -- state ----------------------------------------------------------------------------------------------------

    def dirty_reason(self) -> str | None:
        return db.get_meta(self.conn, "dirty")

    def set_dirty(self, reason: str) -> None:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('dirty', ?)", (reason,))
        fs.commit(conn, "mark dirty")

    def clear_dirty(self) -> None:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM meta WHERE key = 'dirty'")
        fs.commit(conn, "clear dirty")

    def needs_recovery(self) -> bool:
        """Cheap test, no lock: is there a journal row or a scratch folder left by an interrupted command?"""
        with self.damage_is_store_error():
            if self.conn.execute("SELECT 1 FROM txns LIMIT 1").fetchone():
                return True
        for folder in (layout.STAGING, layout.BACKUPS):
            with contextlib.suppress(FileNotFoundError):
                if os.listdir(self.path(folder)):
                    return True
        return False

    # -- the two entry points -------------------------------------------------------------------------------------

    def recover(self, *, force: bool = False) -> txn.RecoveryReport:
        """Run recovery if anything is pending (or always, with force). Takes the lock itself."""
        if not force and not self.needs_recovery():
            return txn.RecoveryReport()
        with self.locked():
            return self._recover_locked()

    def _recover_locked(self) -> txn.RecoveryReport:
        report = txn.recover(self.root, self.conn, set_dirty=self.set_dirty)
        if report.dirty is None and self.dirty_reason() is not None and not txn.pending(self.conn):
            self.clear_dirty()
        return report

    def apply(self, mutation: Mutation) -> str:
        """Apply one Mutation through the transaction protocol; returns the transaction id."""
        with self.locked():
            return self.apply_locked(mutation)

    def apply_locked(self, mutation: Mutation) -> str:
        """apply() for a caller that already holds the lock (to read the KB and build the Mutation under it)."""
        self._recover_locked()
        reason = self.dirty_reason()
        if reason is not None:
            raise DirtyKnowledgeBase(
                f"the knowledge base at {self.root} is marked dirty and refuses changes: {reason}. "
                "Run `wikismith doctor` to see what is wrong and how to repair it."
            )
        return txn.apply(self.root, self.conn, mutation)

    def check_open(self) -> None:
        """Fail early with a clear message when the state folder is unusable."""
        if not os.path.isfile(self.path(layout.DB)):
            raise StoreError(f"{self.path(layout.DB)}: missing; this KB's state folder is incomplete. Run `wikismith doctor`.")
