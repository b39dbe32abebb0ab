"""`wikismith doctor`: check the store against the disk and, with repair, run recovery and say what it did.

Doctor never deletes a user's file. What it cannot repair safely, it describes with the next step to take.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import asdict, dataclass, field

from wikismith.errors import StoreError
from wikismith.store import db, fs, layout, txn
from wikismith.store.store import Store
from wikismith.wiki.check import structural_problems


@dataclass
class Finding:
    check: str
    problem: str
    hint: str = ""


@dataclass
class DoctorReport:
    root: str
    schema_version: int | None = None
    findings: list[Finding] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth knowing, not a fault (kept downloads)

    @property
    def healthy(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict:
        return {
            "root": self.root,
            "healthy": self.healthy,
            "schema_version": self.schema_version,
            "findings": [asdict(f) for f in self.findings],
            "repaired": self.repaired,
            "notes": self.notes,
        }


def examine(root: str, *, repair: bool = False, abandon: bool = False, wiki: bool = True,
            clear_downloads: bool = False) -> DoctorReport:
    """Check the store (and, with wiki, the compiled wiki's links and index); with repair, run recovery first."""
    report = DoctorReport(root=root)
    store = Store(root)
    try:
        conn = store.conn
        if repair:
            _repair(store, report, abandon=abandon)
        with store.locked():
            _downloads(store, report, clear=clear_downloads)
            _check(store, conn, report)
            if wiki:
                report.findings += [Finding("wiki", p) for p in structural_problems(store.root, conn)]
    except StoreError as exc:  # unreadable on opening, or damage that a query ran into
        report.findings.append(
            Finding(
                "database",
                str(exc),
                f"keep a copy of {layout.DB}; restore it from a backup, or move it aside and re-add your documents "
                "into a new KB. wikismith will not delete it.",
            )
        )
    finally:
        store.close()
    return report


def _repair(store: Store, report: DoctorReport, *, abandon: bool) -> None:
    with store.locked():
        if abandon and store.dirty_reason():
            for txn_id, state, label in txn.pending(store.conn):
                if state == "active":
                    report.repaired.append(_quarantine(store, txn_id, label))
        recovery = store._recover_locked()
    report.repaired += [f"rolled back interrupted transaction {t}" for t in recovery.rolled_back]
    report.repaired += [f"cleaned up finished transaction {t}" for t in recovery.cleaned]
    report.repaired += [f"removed scratch folder {o}" for o in recovery.orphans_removed]


def _quarantine(store: Store, txn_id: str, label: str) -> str:
    """Give up on an impossible rollback: keep its before-images under quarantine/, forget the journal rows."""
    conn = store.conn
    src = store.path(os.path.join(layout.BACKUPS, txn_id))
    dst = store.path(os.path.join(layout.QUARANTINE, txn_id))
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
    return f"abandoned transaction {txn_id} ({label}); its journal and before-images are kept in {layout.QUARANTINE}/{txn_id}/"


def _downloads(store: Store, report: DoctorReport, *, clear: bool) -> None:
    """Downloads kept by failed URL adds (a retry reuses them): listed, and removed on request."""
    base = store.path(layout.DOWNLOADS)
    for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        folder = os.path.join(base, name)
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(folder) for f in files)
        age_days = (time.time() - os.path.getmtime(folder)) / 86400
        if clear:
            fs.rmtree(folder)
            report.repaired.append(f"removed kept download {layout.DOWNLOADS}/{name} ({size:,} bytes)")
        else:
            report.notes.append(f"kept download {layout.DOWNLOADS}/{name}: {size:,} bytes, {age_days:.1f} days old "
                                "(a retry of its URL reuses it; `wikismith doctor --clear-downloads` removes it)")


def _check(store: Store, conn: sqlite3.Connection, report: DoctorReport) -> None:
    report.schema_version = db.schema_version(conn)
    if report.schema_version != db.SCHEMA_VERSION:
        report.findings.append(Finding("schema", f"schema version {report.schema_version}, expected {db.SCHEMA_VERSION}"))
    integrity = conn.execute("PRAGMA quick_check").fetchone()[0]
    if integrity != "ok":
        report.findings.append(Finding("database", f"SQLite integrity check: {integrity}", "restore kb.sqlite3 from a backup"))
    dirty = store.dirty_reason()
    if dirty:
        report.findings.append(
            Finding(
                "dirty",
                f"the KB is marked dirty: {dirty}",
                "restore the missing file and run `wikismith doctor --repair`, or accept the files as they are now "
                "with `wikismith doctor --repair --abandon` (the before-images are kept in .wikismith/quarantine/)",
            )
        )
    for txn_id, state, label in txn.pending(conn):
        report.findings.append(
            Finding("journal", f"transaction {txn_id} ({label}) is {state}", "run `wikismith doctor --repair`")
        )
    for orphan in txn.scratch_orphans(store.root, conn):
        report.findings.append(Finding("scratch", f"{orphan} belongs to no transaction", "run `wikismith doctor --repair`"))
    _check_registry(store, conn, report)


def _check_registry(store: Store, conn: sqlite3.Connection, report: DoctorReport) -> None:
    registered = {row[0] for row in conn.execute("SELECT path FROM pages")}
    for path in sorted(registered):
        if not os.path.isfile(store.path(path)):
            report.findings.append(Finding("pages", f"{path} is registered but missing on disk"))
    wiki = store.path(layout.WIKI)
    for folder, dirs, files in os.walk(wiki):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            rel = os.path.relpath(os.path.join(folder, name), store.root).replace(os.sep, "/")
            if name.startswith("."):
                report.findings.append(Finding("pages", f"{rel} is a leftover temporary file"))
            elif name.endswith(".md") and rel not in registered and rel not in layout.WIKI_SPECIAL:
                report.findings.append(Finding("pages", f"{rel} is on disk but not in the registry"))
    raw_registered = {row[0] for row in conn.execute("SELECT raw_path FROM documents WHERE raw_path IS NOT NULL")}
    for path in sorted(raw_registered):
        if not os.path.isfile(store.path(path)):
            report.findings.append(Finding("documents", f"{path} is registered but missing on disk"))
    for folder, dirs, files in os.walk(store.path(layout.RAW)):
        dirs.sort()
        for name in sorted(files):
            rel = os.path.relpath(os.path.join(folder, name), store.root).replace(os.sep, "/")
            if rel not in raw_registered:
                report.findings.append(Finding("documents", f"{rel} is on disk but no document names it"))
    orphan_fts = conn.execute("SELECT count(*) FROM pages_fts WHERE rowid NOT IN (SELECT id FROM pages)").fetchone()[0]
    if orphan_fts:
        report.findings.append(Finding("index", f"{orphan_fts} full-text rows belong to no page"))
