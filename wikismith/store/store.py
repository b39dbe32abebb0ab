"""Store: one KB's state folder, database and lock; the one seam that lands a change, and recovery.

    store.change(build)      lock, recover, build(view) -> Mutation, apply it: the only way anything changes
    store.settled()          lock, recover, a view of the KB as a change would see it (a preview), no change
    store.snapshot()         a view of the last committed state, for readers, without the lock
    store.recover()          finish or undo an interrupted transaction (every change runs it first)
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable

import filelock

from wikismith.errors import DirtyKnowledgeBase, LockTimeout, StoreError
from wikismith.store import chat, checks, db, fs, history, interrupts, layout, pagememo, txn
from wikismith.store.mutation import Mutation
from wikismith.store.view import KBView

Builder = Callable[[KBView], "Mutation | None"]

DEFAULT_LOCK_TIMEOUT = 300.0


class Store:
    def __init__(self, root: str, *, lock_timeout: float | None = None):
        self.root = os.path.abspath(root)
        self._conn: sqlite3.Connection | None = None
        env_timeout = os.environ.get("WIKISMITH_LOCK_TIMEOUT")
        self.lock_timeout = lock_timeout if lock_timeout is not None else float(env_timeout or DEFAULT_LOCK_TIMEOUT)
        self._lock = filelock.FileLock(self.path(layout.LOCK), timeout=self.lock_timeout)
        self._command: history.Command | None = None
        self.history_keep = history.DEFAULT_KEEP
        self.page_memo = pagememo.PageMemo()  # busy pages this process wrote, rewritten by what changed

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
        self.page_memo.forget()  # a new connection's data_version says nothing of what happened meanwhile

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

    # -- the seam: every change lands here ------------------------------------------------------------------------

    @contextlib.contextmanager
    def command(self, argv: list[str], label: str = "", *, undoes: int | None = None):
        """Every change inside is one transaction of one command in the history (its id: `history.Command.id`).
        A change outside any command is a command of its own."""
        outer = self._command
        if outer is not None:  # nested (an operation calling another): the outer command owns them all
            yield outer
            return
        self._command = history.Command(list(argv), label, keep=self.history_keep, undoes=undoes)
        try:
            yield self._command
        finally:
            self._command = None

    def change(self, build: Builder) -> str | None:
        """Lock, recover, hand `build` a view of the KB as it is now, apply the Mutation it returns.

        Returns the transaction id, or None when `build` had nothing to change (None or an empty Mutation)."""
        with self.settled() as view:
            mutation = build(view)
            if mutation is None or mutation.is_empty():
                return None
            command = self._command or history.Command([], mutation.label, keep=self.history_keep)
            with interrupts.deferred():
                return txn.apply(self.root, self.conn, mutation, command, self.page_memo)

    @contextlib.contextmanager
    def settled(self):
        """Lock, recover, and yield a view of the KB as a change made now would see it: what a preview that must
        agree with its change (undo's plan) reads, never a transaction another process is in the middle of."""
        with self.locked():
            reason = self.dirty_reason()
            # Recovery has something to do only where the cheap test sees a journal row or scratch (every way a
            # transaction can stop leaves one) or the KB is dirty: skipping it otherwise spares each transaction
            # of a big add recovery's full scan of the history folders, which grows with the add.
            if reason is not None or self.needs_recovery():
                self._recover_locked()
                reason = self.dirty_reason()
            if reason is not None:
                raise DirtyKnowledgeBase(
                    f"the knowledge base at {self.root} is marked dirty and refuses changes: {reason}. "
                    "Run `wikismith doctor` to see what is wrong and how to repair it."
                )
            yield self.view()

    def apply(self, mutation: Mutation) -> str | None:
        """Land a Mutation computed without looking at the KB (the store's own tests and benches)."""
        return self.change(lambda view: mutation)

    # -- reading --------------------------------------------------------------------------------------------------

    def view(self) -> KBView:
        """A view of the KB as it is; consistent while the caller holds the lock."""
        return KBView(self.root, self.conn)

    @contextlib.contextmanager
    def snapshot(self):
        """A view whose registry reads all come from one SQLite read transaction: one committed state, no lock."""
        conn = self.conn
        with self.damage_is_store_error():
            if conn.in_transaction:  # already inside one (a reader within a change's builder)
                yield self.view()
                return
            conn.execute("BEGIN")
            try:
                conn.execute("SELECT count(*) FROM meta").fetchone()  # the snapshot is taken at the first read
                yield self.view()
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")

    # -- recovery and repair --------------------------------------------------------------------------------------

    def recover(self, *, force: bool = False, wait: bool = True) -> txn.RecoveryReport:
        """Run recovery if anything is pending (or always, with force). Takes the lock itself; without wait, a lock
        held by a live process means its transaction is still going: nothing to recover yet, and nothing done."""
        if not force and not self.needs_recovery():
            return txn.RecoveryReport()
        if not wait:
            try:
                self._lock.acquire(timeout=0)
            except filelock.Timeout:
                return txn.RecoveryReport()
            try:
                with self.damage_is_store_error():
                    return self._recover_locked()
            finally:
                self._lock.release()
        with self.locked():
            return self._recover_locked()

    def _recover_locked(self) -> txn.RecoveryReport:
        self.page_memo.forget()
        report = txn.recover(self.root, self.conn, set_dirty=self.set_dirty)
        if report.dirty is None and self.dirty_reason() is not None and not txn.pending(self.conn):
            self.clear_dirty()
        return report

    def repair(self, *, abandon: bool = False) -> list[str]:
        """Recovery, as `doctor --repair` runs it; with abandon, first give up the rollbacks that cannot complete.
        Returns what was done, a line each."""
        done: list[str] = []
        with self.locked():
            if abandon and self.dirty_reason():
                for txn_id, state, label in txn.pending(self.conn):
                    if state == "active":
                        done.append(self._abandon(txn_id, label))
            recovery = self._recover_locked()
        done += [f"rolled back interrupted transaction {t}" for t in recovery.rolled_back]
        done += [f"cleaned up finished transaction {t}" for t in recovery.cleaned]
        done += [f"removed scratch folder {o}" for o in recovery.orphans_removed]
        return done

    def _abandon(self, txn_id: str, label: str) -> str:
        """Give up on an impossible rollback: keep its before-images under quarantine/, forget the journal rows."""
        conn = self.conn
        src = self.path(os.path.join(layout.BACKUPS, txn_id))
        dst = self.path(os.path.join(layout.QUARANTINE, txn_id))
        entries = txn.load_entries(conn, txn_id)
        fs.makedirs(dst)
        manifest = "".join(f"{e.seq}\t{e.action}\t{e.path}\t{e.backup or ''}\t{e.old_size or ''}\n" for e in entries)
        fs.atomic_write(os.path.join(dst, "journal.tsv"), manifest.encode("utf-8"))
        if os.path.isdir(src):
            fs.rename(src, os.path.join(dst, "before-images"))
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM txn_entries WHERE txn = ?", (txn_id,))
        conn.execute("DELETE FROM txns WHERE id = ?", (txn_id,))
        conn.execute("DELETE FROM meta WHERE key = 'dirty'")
        fs.commit(conn, f"abandon {txn_id}")
        return (f"abandoned transaction {txn_id} ({label}); its journal and before-images are kept in "
                f"{layout.QUARANTINE}/{txn_id}/")

    # -- chat sessions: conversation state, written in their own small transactions -----------------------------

    def chat_new(self, title: str) -> int:
        with self.damage_is_store_error():
            return chat.new_session(self.conn, title)

    def chat_append(self, session: int, role: str, content: str, sources: list | None = None) -> None:
        with self.damage_is_store_error():
            chat.append(self.conn, session, role, content, sources)

    def chat_delete(self, session: int) -> bool:
        with self.damage_is_store_error():
            return chat.delete(self.conn, session)

    def findings(self) -> list[checks.Finding]:
        """What is wrong with the store itself (schema, journal, scratch, registry against disk); under the lock."""
        with self.locked():
            return checks.store_findings(self.root, self.conn)

    def kept_downloads(self) -> list[checks.KeptDownload]:
        return checks.kept_downloads(self.root)

    def clear_download(self, kept: checks.KeptDownload) -> None:
        fs.rmtree(self.path(kept.folder))

    def check_open(self) -> None:
        """Fail early with a clear message when the state folder is unusable."""
        if not os.path.isfile(self.path(layout.DB)):
            raise StoreError(f"{self.path(layout.DB)}: missing; this KB's state folder is incomplete. Run `wikismith doctor`.")
