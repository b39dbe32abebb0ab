"""What the store can tell about itself: its schema and integrity, the journal, scratch folders, the registry
against the files on disk, and downloads kept for a retry. Each problem is a Finding; nothing here changes a file."""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import asdict, dataclass

from wikismith.store import db, layout, txn


@dataclass(frozen=True)
class Finding:
    check: str  # what kind of check found it: schema, database, dirty, journal, scratch, pages, documents, index, wiki
    problem: str
    hint: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def store_findings(root: str, conn: sqlite3.Connection) -> list[Finding]:
    found: list[Finding] = []
    version = db.schema_version(conn)
    if version != db.SCHEMA_VERSION:
        found.append(Finding("schema", f"schema version {version}, expected {db.SCHEMA_VERSION}"))
    integrity = conn.execute("PRAGMA quick_check").fetchone()[0]
    if integrity != "ok":
        found.append(Finding("database", f"SQLite integrity check: {integrity}", "restore kb.sqlite3 from a backup"))
    dirty = db.get_meta(conn, "dirty")
    if dirty:
        found.append(Finding(
            "dirty", f"the KB is marked dirty: {dirty}",
            "restore the missing file and run `wikismith doctor --repair`, or accept the files as they are now "
            "with `wikismith doctor --repair --abandon` (the before-images are kept in .wikismith/quarantine/)"))
    for txn_id, state, label in txn.pending(conn):
        found.append(Finding("journal", f"transaction {txn_id} ({label}) is {state}", "run `wikismith doctor --repair`"))
    for orphan in txn.scratch_orphans(root, conn):
        found.append(Finding("scratch", f"{orphan} belongs to no transaction", "run `wikismith doctor --repair`"))
    for command, backup in conn.execute("SELECT command, backup FROM history_files WHERE backup IS NOT NULL "
                                        "ORDER BY command, backup"):
        if not os.path.isfile(os.path.join(root, backup)):
            found.append(Finding("history", f"{backup}, a before-image of command {command}, is missing",
                                 f"command {command} can no longer be undone; nothing else is affected"))
    return found + _registry_findings(root, conn)


def _registry_findings(root: str, conn: sqlite3.Connection) -> list[Finding]:
    found: list[Finding] = []
    registered = {row[0] for row in conn.execute("SELECT path FROM pages")}
    for path in sorted(registered):
        if not os.path.isfile(os.path.join(root, path)):
            found.append(Finding("pages", f"{path} is registered but missing on disk"))
    for rel in layout.files_under(root, layout.WIKI, hidden=False):
        name = rel.rsplit("/", 1)[-1]
        if name.startswith("."):
            found.append(Finding("pages", f"{rel} is a leftover temporary file"))
        elif (name.endswith(".md") and rel not in registered and rel not in layout.WIKI_SPECIAL
              and not rel.startswith(layout.INDEX_SHARDS + "/")):
            found.append(Finding("pages", f"{rel} is on disk but not in the registry"))
    raw = {row[0] for row in conn.execute("SELECT raw_path FROM documents WHERE raw_path IS NOT NULL")}
    for path in sorted(raw):
        if not os.path.isfile(os.path.join(root, path)):
            found.append(Finding("documents", f"{path} is registered but missing on disk"))
    for rel in layout.files_under(root, layout.RAW):
        if rel not in raw:
            found.append(Finding("documents", f"{rel} is on disk but no document names it"))
    orphan_fts = conn.execute("SELECT count(*) FROM pages_fts WHERE rowid NOT IN (SELECT id FROM pages)").fetchone()[0]
    if orphan_fts:
        found.append(Finding("index", f"{orphan_fts} full-text rows belong to no page"))
    stray_passages = conn.execute("SELECT count(*) FROM passages WHERE page NOT IN (SELECT path FROM pages)").fetchone()[0]
    stray_passages += conn.execute("SELECT count(*) FROM passages_fts WHERE rowid NOT IN (SELECT id FROM passages)"
                                   ).fetchone()[0]
    if stray_passages:
        found.append(Finding("index", f"{stray_passages} search rows belong to no page"))
    stray_links = conn.execute("SELECT count(*) FROM links WHERE page NOT IN (SELECT path FROM pages)").fetchone()[0]
    if stray_links:
        found.append(Finding("index", f"{stray_links} link rows belong to no page"))
    off = conn.execute(
        "SELECT count(*) FROM (SELECT page, title, count(*) AS holders, sum(strong) AS strong FROM candidates "
        "WHERE kind != 'alias' GROUP BY page, title) c FULL JOIN candidate_titles t ON t.page = c.page AND "
        "t.title = c.title WHERE t.holders IS NOT c.holders OR t.strong IS NOT c.strong").fetchone()[0]
    if off:
        found.append(Finding("index", f"{off} counts of the documents holding a page disagree with their rows"))
    return found


@dataclass(frozen=True)
class KeptDownload:
    folder: str  # KB-relative
    url: str | None
    size: int
    age_days: float


def kept_downloads(root: str) -> list[KeptDownload]:
    """Downloads that failed URL adds kept so that a retry of the same URL reuses them."""
    import json

    base = os.path.join(root, layout.DOWNLOADS)
    kept = []
    for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        folder = os.path.join(base, name)
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(folder) for f in files)
        url = None
        try:
            with open(os.path.join(folder, "meta.json"), encoding="utf-8") as fh:
                url = json.load(fh).get("url")
        except (OSError, ValueError, AttributeError):
            pass
        kept.append(KeptDownload(f"{layout.DOWNLOADS}/{name}", url if isinstance(url, str) else None, size,
                                 (time.time() - os.path.getmtime(folder)) / 86400))
    return kept
