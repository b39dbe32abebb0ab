"""KBView over a Store: the reads wiki/merge.py makes while building a Mutation under the lock."""

from __future__ import annotations

import os
import sqlite3

from wikismith.store.store import Store

_DOC_COLUMNS = ("id", "name", "kind", "hash", "origin", "added_at", "source_path", "raw_path", "meta")


class StoreView:
    def __init__(self, store: Store):
        self.store = store
        self.conn: sqlite3.Connection = store.conn

    def _doc(self, where: str, value: str) -> dict | None:
        row = self.conn.execute(f"SELECT {', '.join(_DOC_COLUMNS)} FROM documents WHERE {where} = ? ORDER BY id LIMIT 1",
                                (value,)).fetchone()
        return dict(zip(_DOC_COLUMNS, row)) if row else None

    def document_by_hash(self, digest: str) -> dict | None:
        return self._doc("hash", digest)

    def document_by_source(self, source_path: str) -> dict | None:
        return self._doc("source_path", source_path)

    def has_document(self, doc_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone() is not None

    def pages_of_document(self, doc_id: str) -> list[str]:
        return [row[0] for row in self.conn.execute(
            "SELECT page FROM provenance WHERE document = ? ORDER BY page", (doc_id,))]

    def read(self, path: str) -> str | None:
        try:
            with open(self.store.path(path), encoding="utf-8") as fh:
                return fh.read()
        except FileNotFoundError:
            return None

    def exists(self, path: str) -> bool:
        return os.path.lexists(self.store.path(path))

    def kinds_of(self, paths: set[str]) -> dict[str, str]:
        """The registered kind of each of `paths` that is a page now."""
        found: dict[str, str] = {}
        ordered = sorted(paths)
        for i in range(0, len(ordered), 500):
            chunk = ordered[i : i + 500]
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
