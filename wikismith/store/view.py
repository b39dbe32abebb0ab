"""KBView: every read of a knowledge base, the registry by SQL and the files by path.

A change's builder gets one under the exclusive lock (Store.change), so it sees the KB exactly as the change will
find it. A reader gets one from Store.snapshot(): its registry reads then come from one SQLite read transaction, a
committed state that no writer can change under it, and it never waits for the lock.
"""

from __future__ import annotations

import os
import sqlite3

from wikismith.store import db, layout, txn
from wikismith.store.mutation import DOCUMENT_COLUMNS
_CHUNK = 500  # SQLite's variable limit is far above this; chunks keep each statement small


class KBView:
    def __init__(self, root: str, conn: sqlite3.Connection):
        self.root = root
        self.conn = conn

    def path(self, rel: str) -> str:
        return os.path.join(self.root, rel)

    # -- files ----------------------------------------------------------------------------------------------------

    def read(self, rel: str) -> str | None:
        try:
            with open(self.path(rel), encoding="utf-8") as fh:
                return fh.read()
        except FileNotFoundError:
            return None

    def exists(self, rel: str) -> bool:
        return os.path.lexists(self.path(rel))

    # -- documents ------------------------------------------------------------------------------------------------

    def _doc(self, where: str, value: str) -> dict | None:
        row = self.conn.execute(f"SELECT {', '.join(DOCUMENT_COLUMNS)} FROM documents WHERE {where} = ? "
                                "ORDER BY id LIMIT 1", (value,)).fetchone()
        return dict(zip(DOCUMENT_COLUMNS, row)) if row else None

    def document(self, doc_id: str) -> dict | None:
        return self._doc("id", doc_id)

    def document_by_hash(self, digest: str) -> dict | None:
        return self._doc("hash", digest)

    def document_by_source(self, source_path: str) -> dict | None:
        return self._doc("source_path", source_path)

    def has_document(self, doc_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone() is not None

    def documents(self) -> list[dict]:
        """Every document, with the number of pages it feeds, by id."""
        rows = self.conn.execute(
            f"SELECT {', '.join('d.' + c for c in DOCUMENT_COLUMNS)}, "
            "(SELECT count(*) FROM provenance p WHERE p.document = d.id) FROM documents d ORDER BY d.id").fetchall()
        return [{**dict(zip(DOCUMENT_COLUMNS, row[:-1])), "pages": row[-1]} for row in rows]

    def document_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM documents").fetchone()[0]

    def raw_paths(self) -> dict[str, str]:
        """raw/ path -> document id, for every document that keeps its original."""
        return dict(self.conn.execute("SELECT raw_path, id FROM documents WHERE raw_path IS NOT NULL"))

    def pages_of_document(self, doc_id: str) -> list[str]:
        return [row[0] for row in self.conn.execute(
            "SELECT page FROM provenance WHERE document = ? ORDER BY page", (doc_id,))]

    # -- pages ----------------------------------------------------------------------------------------------------

    def page_counts(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT kind, count(*) FROM pages GROUP BY kind ORDER BY kind").fetchall())

    def page_paths(self) -> set[str]:
        return {row[0] for row in self.conn.execute("SELECT path FROM pages")}

    def pages(self) -> list[tuple[str, str, str]]:
        """(kind, path, title) of every page, by kind then path."""
        return self.conn.execute("SELECT kind, path, title FROM pages ORDER BY kind, path").fetchall()

    def kinds_of(self, paths: set[str]) -> dict[str, str]:
        """The registered kind of each of `paths` that is a page now."""
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(paths)):
            marks = ", ".join("?" * len(chunk))
            found.update(self.conn.execute(f"SELECT path, kind FROM pages WHERE path IN ({marks})", chunk).fetchall())
        return found

    def successor(self, kind: str, path: str) -> str | None:
        row = self.conn.execute("SELECT path FROM pages WHERE kind = ? AND path > ? ORDER BY path LIMIT 1",
                                (kind, path)).fetchone()
        return row[0] if row else None

    def index_rows(self) -> list[tuple[str, str, str, str]]:
        return self.conn.execute("SELECT kind, path, title, description FROM pages ORDER BY kind, path").fetchall()

    def candidates(self, phrases: list[str], limit: int = 20) -> list[tuple[str, str, str]]:
        """Existing concept and entity pages whose titles match any of `phrases`, best first: (kind, target, title).

        A full-text query bounded by `limit`, so what a model is shown does not grow with the KB."""
        clauses = []
        for phrase in phrases[:40]:
            words = [w.replace('"', '""') for w in phrase.split()]
            if words:  # every word, as a prefix, so that "type hint" finds "Type Hints"
                clauses.append("(" + " AND ".join(f'"{w}"*' for w in words) + ")")
        if not clauses:
            return []
        query = "title : (" + " OR ".join(clauses) + ")"
        rows = self.conn.execute(
            "SELECT p.kind, p.path, p.title FROM pages_fts f JOIN pages p ON p.id = f.rowid "
            "WHERE pages_fts MATCH ? AND p.kind IN ('concept', 'entity') ORDER BY rank LIMIT ?", (query, limit)
        ).fetchall()
        return [(kind, path[len("wiki/"):-len(".md")], title) for kind, path, title in rows]

    # -- links ----------------------------------------------------------------------------------------------------

    def links_to(self, targets: set[str]) -> list[tuple[str, str]]:
        """(page, target) for every registered page that links to one of `targets` (wikilink targets)."""
        found: list[tuple[str, str]] = []
        for chunk in _chunks(sorted(targets)):
            marks = ", ".join("?" * len(chunk))
            found += self.conn.execute(f"SELECT page, target FROM links WHERE target IN ({marks}) "
                                       "ORDER BY page, target", chunk).fetchall()
        return found

    def links_from(self, page: str) -> list[str]:
        return [row[0] for row in self.conn.execute("SELECT target FROM links WHERE page = ? ORDER BY target", (page,))]

    def backlinks(self, target: str) -> list[str]:
        return [row[0] for row in self.conn.execute("SELECT page FROM links WHERE target = ? ORDER BY page", (target,))]

    # -- the store's own state ------------------------------------------------------------------------------------

    def pending(self) -> list[tuple[str, str, str]]:
        """(id, state, label) of every transaction still in the journal, newest first."""
        return txn.pending(self.conn)

    def dirty_reason(self) -> str | None:
        return db.get_meta(self.conn, "dirty")

    def schema_version(self) -> int:
        return db.schema_version(self.conn)

    def config_text(self) -> str:
        with open(self.path(layout.CONFIG), encoding="utf-8") as fh:
            return fh.read()


def _chunks(items: list[str]):
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]
