"""KBView: every read of a knowledge base, the registry by SQL and the files by path.

A change's builder gets one under the exclusive lock (Store.change), so it sees the KB exactly as the change will
find it. A reader gets one from Store.snapshot(): its registry reads then come from one SQLite read transaction, a
committed state that no writer can change under it, and it never waits for the lock.
"""

from __future__ import annotations

import json
import os
import sqlite3

from wikismith.store import db, layout, registry, txn
from wikismith.store.mutation import CANDIDATE_COLUMNS, DOCUMENT_COLUMNS
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

    def document_by_raw(self, raw_path: str) -> dict | None:
        return self._doc("raw_path", raw_path)

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

    def added_at(self, doc_ids: set[str]) -> dict[str, str]:
        """When each of `doc_ids` that is a document was added."""
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(doc_ids)):
            marks = ", ".join("?" * len(chunk))
            found.update(self.conn.execute(f"SELECT id, added_at FROM documents WHERE id IN ({marks})", chunk))
        return found

    def pages_of_document(self, doc_id: str) -> list[str]:
        return [row[0] for row in self.conn.execute(
            "SELECT page FROM provenance WHERE document = ? ORDER BY page", (doc_id,))]

    # -- pages ----------------------------------------------------------------------------------------------------

    def page(self, path: str) -> dict | None:
        """A page's registry row: path, kind, title, description, updated_at, body (the text it was written with),
        sources."""
        return registry.page_row(self.conn, path)

    def updated_at(self, path: str) -> str | None:
        """A page's `updated` as the registry has it; None for a page it does not hold."""
        row = self.conn.execute("SELECT updated_at FROM pages WHERE path = ?", (path,)).fetchone()
        return row[0] if row else None

    def pages_with_most_sources(self, kinds: tuple[str, ...], limit: int) -> list[str]:
        """The pages of `kinds` held by the most documents (at least two), most first: counted from the holders'
        candidate rows, since a busy page lists only the sources it shows."""
        marks = ", ".join("?" * len(kinds))
        return [row[0] for row in self.conn.execute(
            f"SELECT p.path FROM pages p JOIN candidate_titles c ON c.page = p.path WHERE p.kind IN ({marks}) "
            "GROUP BY p.path HAVING sum(c.holders) >= 2 ORDER BY sum(c.holders) DESC, p.path LIMIT ?",
            (*kinds, limit))]

    def page_titles(self, paths: set[str]) -> list[tuple[str, str, str]]:
        """(path, title, kind) of each of `paths` that is a page."""
        found = []
        for chunk in _chunks(sorted(paths)):
            marks = ", ".join("?" * len(chunk))
            found += self.conn.execute(f"SELECT path, title, kind FROM pages WHERE path IN ({marks})", chunk).fetchall()
        return found

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

    def kind_rows(self, kind: str) -> list[tuple[str, str, str]]:
        """(path, title, description) of every page of one kind, by path."""
        return self.conn.execute("SELECT path, title, description FROM pages WHERE kind = ? ORDER BY path",
                                 (kind,)).fetchall()

    def prefix_rows(self, kind: str, folder: str, prefix: str, limit: int = -1) -> list[tuple[str, str, str]]:
        """(path, title, description) of the (first `limit`) pages of one kind whose slug starts with `prefix`, by
        path: an index range, whatever the size of the KB."""
        base = f"wiki/{folder}/{prefix}"
        return self.conn.execute("SELECT path, title, description FROM pages WHERE kind = ? AND path >= ? "
                                 "AND path < ? ORDER BY path LIMIT ?", (kind, base, base + "\U0010ffff", limit)
                                 ).fetchall()

    def exact_rows(self, kind: str, folder: str, slug: str) -> list[tuple[str, str, str]]:
        """The (path, title, description) of the page of one kind whose slug is `slug`, if there is one."""
        return self.conn.execute("SELECT path, title, description FROM pages WHERE kind = ? AND path = ?",
                                 (kind, f"wiki/{folder}/{slug}.md")).fetchall()

    def files_under(self, rel: str, *, hidden: bool = True) -> list[str]:
        """KB-relative paths of the files under a folder, sorted; folders starting with "." skipped unless hidden."""
        return layout.files_under(self.root, rel, hidden=hidden)

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

    # -- candidates: which documents hold which concept and entity pages ------------------------------------------

    def candidates_of(self, doc_id: str) -> list[dict]:
        """A document's candidates, each with its section, by page."""
        return registry.candidate_rows(self.conn, doc_id)

    def candidate_stats(self, page: str, excluding: set[str]) -> tuple[int, int, dict[str, int]]:
        """(documents holding `page`, of them holding it strong, how many name it each way; a document that only
        mentions it names it ""), documents in `excluding` left out. Read from the counts the registry keeps (one
        row per name), then the documents left out taken away: bounded work whatever the number of holders."""
        count = strong = 0
        titles: dict[str, int] = {}
        for title, n, s in self.conn.execute("SELECT title, holders, strong FROM candidate_titles WHERE page = ?",
                                             (page,)):
            titles[title] = n
            count, strong = count + n, strong + s
        for chunk in _chunks(sorted(excluding)):
            marks = ", ".join("?" * len(chunk))
            for title, s in self.conn.execute(f"SELECT title, strong FROM candidates WHERE page = ? "
                                              f"AND kind != 'alias' AND document IN ({marks})", (page, *chunk)):
                titles[title] -= 1
                count, strong = count - 1, strong - s
        return count, strong, {t: n for t, n in titles.items() if n > 0}

    def candidate_holders(self, page: str, excluding: set[str], limit: int | None, *,
                          named: bool = False) -> list[dict]:
        """Up to `limit` documents holding `page` (with their sections), those in `excluding` left out; every one
        with limit None. With named, only those naming it (a mention does not)."""
        only = "AND title != ''" if named else ""  # the partial index candidates_named: no scan past mentions
        rows = self.conn.execute(f"SELECT {', '.join(CANDIDATE_COLUMNS)} FROM candidates WHERE page = ? "
                                 f"AND kind != 'alias' {only} ORDER BY document LIMIT ?",
                                 (page, -1 if limit is None else limit + len(excluding))).fetchall()
        rows = [dict(zip(CANDIDATE_COLUMNS, r)) for r in rows if r[0] not in excluding]
        return rows if limit is None else rows[:limit]

    def candidate_group_stats(self, pages: list[str], excluding: set[str]) -> tuple[int, int, int, dict[str, int]]:
        """(documents holding one of `pages`, of them naming one (not only mentioning it), of them holding one
        strong, how many rows name them each way), each document counted once in the first three, documents in
        `excluding` left out. Aggregated in SQL."""
        marks = ", ".join("?" * len(pages))
        where = f"page IN ({marks}) AND kind != 'alias'"
        count, named, strong = self.conn.execute(
            f"SELECT count(DISTINCT document), count(DISTINCT CASE WHEN title != '' THEN document END), "
            f"count(DISTINCT CASE WHEN strong THEN document END) FROM candidates WHERE {where}", pages).fetchone()
        titles = dict(self.conn.execute(f"SELECT title, count(*) FROM candidates WHERE {where} GROUP BY title",
                                        pages).fetchall())
        for chunk in _chunks(sorted(excluding)):
            docs = ", ".join("?" * len(chunk))
            for _doc, n, s, names in self.conn.execute(
                    f"SELECT document, max(title != ''), max(strong), group_concat(title, char(0)) FROM candidates "
                    f"WHERE {where} AND document IN ({docs}) GROUP BY document", (*pages, *chunk)):
                count, named, strong = count - 1, named - int(bool(n)), strong - int(bool(s))
                for name in names.split("\0"):
                    titles[name] -= 1
        return count, named, strong, {t: n for t, n in titles.items() if n > 0}

    def pages_or_other_names(self, paths: set[str]) -> set[str]:
        """Those of `paths` that are pages of the registry or that a document declares another name."""
        found = {path for path, _title, _kind in self.page_titles(paths)}
        for chunk in _chunks(sorted(paths)):
            marks = ", ".join("?" * len(chunk))
            found.update(r[0] for r in self.conn.execute(
                f"SELECT DISTINCT page FROM candidates INDEXED BY candidates_alias_page WHERE kind = 'alias' "
                f"AND page IN ({marks})", chunk))
        return found

    # Other names: a document declares that a page's name is another name of one of its terms ("X, a.k.a. Y")
    # with a candidate row of kind "alias": page = the other name's page, section = the term's page.

    def aliases_declared(self, page: str, excluding: set[str]) -> list[tuple[str, str, str]]:
        """(document, term's page, other name as written) of every row declaring `page` another name, documents in
        `excluding` left out."""
        rows = self.conn.execute("SELECT document, section, title FROM candidates INDEXED BY candidates_alias_page "
                                 "WHERE page = ? AND kind = 'alias' ORDER BY document", (page,)).fetchall()
        return [tuple(r) for r in rows if r[0] not in excluding]

    def aliases_naming(self, term: str, excluding: set[str]) -> list[tuple[str, str, str]]:
        """(document, other name's page, other name as written) of every row declaring a page another name of
        `term`, documents in `excluding` left out."""
        rows = self.conn.execute("SELECT document, page, title FROM candidates WHERE kind = 'alias' AND section = ? "
                                 "ORDER BY document, page", (term,)).fetchall()
        return [tuple(r) for r in rows if r[0] not in excluding]

    # -- search -------------------------------------------------------------------------------------------------

    SEARCH_WEIGHTS = (8.0, 8.0, 3.0, 2.0, 1.0)  # title, aliases, description, heading, body

    def search(self, match: str, *, kinds: tuple[str, ...] = (), limit: int = 20, trigram: bool = False) -> list[dict]:
        """Passages matching an FTS5 query, best first (BM25; title, aliases and description weigh more than the
        body): page, kind, title, heading, first_page, last_page, score, id, text. With trigram, `match` runs
        against the trigram index instead (substrings, any script). The extracts shown come from snippets()."""
        where, params = "", [match]
        if kinds:
            where = f" AND g.kind IN ({', '.join('?' * len(kinds))})"
            params += list(kinds)
        # FTS5 sorts by `rank` itself and hands rows over best first, so SQLite needs no sorter and stops at the
        # LIMIT, joining the returned rows only (ORDER BY bm25() joined every match, then sorted). The joins are
        # CROSS so that the index stays the outer loop.
        table = "passages_tri" if trigram else "passages_fts"
        rank = "bm25()" if trigram else f"bm25({', '.join(str(w) for w in self.SEARCH_WEIGHTS)})"
        sql = (f"SELECT p.page, g.kind, g.title, p.heading, p.first_page, p.last_page, rank, p.id, p.text "
               f"FROM {table} CROSS JOIN passages p ON p.id = {table}.rowid CROSS JOIN pages g ON g.path = p.page "
               f"WHERE {table} MATCH ? AND rank MATCH '{rank}'{where} ORDER BY rank LIMIT ?")
        rows = self.conn.execute(sql, (*params, limit)).fetchall()
        return [{"page": r[0], "kind": r[1], "title": r[2], "heading": r[3], "first_page": r[4], "last_page": r[5],
                 "score": round(-r[6], 4), "id": r[7], "text": r[8]} for r in rows]

    def snippets(self, match: str, ids: list[int], *, trigram: bool = False) -> dict[int, str]:
        """The extract of each passage of `ids` around the words of `match` (between ** marks), made for the
        passages shown only: a snippet costs about as much as ranking a hundred matches."""
        table = "passages_tri" if trigram else "passages_fts"
        sql = f"SELECT snippet({table}, -1, '**', '**', '…', 24) FROM {table} WHERE {table} MATCH ? AND rowid = ?"
        return {i: self.conn.execute(sql, (match, i)).fetchone()[0] for i in ids}

    def word_stats(self, words: list[str]) -> tuple[int, dict[str, int]]:
        """(passages in the index, in how many passages each of `words` occurs), words taken through the index's own
        stemmer."""
        conn = self.conn
        conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_words USING fts5 (x, "
                     "tokenize = 'porter unicode61 remove_diacritics 2')")
        conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_terms USING fts5vocab (temp, query_words, "
                     "'instance')")
        conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.index_terms USING fts5vocab (main, passages_fts, 'row')")
        conn.execute("DELETE FROM temp.query_words")
        conn.execute("INSERT INTO temp.query_words (x) VALUES (?)", (" ".join(words),))
        stems = dict(conn.execute("SELECT offset, term FROM temp.query_terms").fetchall())
        conn.execute("DELETE FROM temp.query_words")
        total = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
        counts = {}
        for offset, word in enumerate(words):
            row = conn.execute("SELECT doc FROM temp.index_terms WHERE term = ?", (stems.get(offset, word),)).fetchone()
            counts[word] = row[0] if row else 0
        return total, counts

    def passages_holding(self, word: str, ids: list[int]) -> set[int]:
        """Which of the passages `ids` hold `word` (through the index's stemmer)."""
        if not ids:
            return set()
        marks = ", ".join("?" * len(ids))
        return {r[0] for r in self.conn.execute(
            f"SELECT rowid FROM passages_fts WHERE passages_fts MATCH ? AND rowid IN ({marks})",
            ('"' + word.replace('"', '""') + '"', *ids))}

    def page_text(self, path: str) -> str | None:
        """A page's text as the registry holds it (what it was written with): one committed state with the rest of
        a snapshot, whatever a writer is doing to the file meanwhile."""
        row = self.conn.execute("SELECT f.body FROM pages p JOIN pages_fts f ON f.rowid = p.id WHERE p.path = ?",
                                (path,)).fetchone()
        return row[0] if row else None

    def page_passages(self, path: str) -> list[dict]:
        rows = self.conn.execute("SELECT seq, heading, first_page, last_page, text FROM passages WHERE page = ? "
                                 "ORDER BY seq", (path,)).fetchall()
        return [{"seq": s, "heading": h, "first_page": f, "last_page": l, "text": t} for s, h, f, l, t in rows]

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

    # -- history --------------------------------------------------------------------------------------------------

    def commands(self, limit: int | None = None) -> list[dict]:
        """Commands in the history, newest first, each with the number of files it changed."""
        return self._commands("ORDER BY h.id DESC LIMIT ?", (-1 if limit is None else limit,))

    def command(self, command_id: int) -> dict | None:
        found = self._commands("WHERE h.id = ?", (command_id,))
        return found[0] if found else None

    def _commands(self, tail: str, params: tuple) -> list[dict]:
        rows = self.conn.execute(
            "SELECT h.id, h.at, h.argv, h.label, h.documents, h.txns, h.undoes, h.partial, "
            "(SELECT count(DISTINCT f.path) FROM history_files f WHERE f.command = h.id AND f.action != 'keep') "
            f"FROM history h {tail}", params).fetchall()
        return [{"id": r[0], "at": r[1], "argv": json.loads(r[2]), "label": r[3], "documents": json.loads(r[4]),
                 "transactions": r[5], "undoes": r[6], "partial": bool(r[7]), "files": r[8]} for r in rows]

    def command_files(self, command_id: int) -> list[dict]:
        """Every file a command's transactions touched, in the order they touched them."""
        rows = self.conn.execute("SELECT txn, seq, action, path, backup, old_size, after FROM history_files "
                                 "WHERE command = ? ORDER BY txn, seq", (command_id,)).fetchall()
        return [dict(zip(("txn", "seq", "action", "path", "backup", "old_size", "after"), r)) for r in rows]

    def command_rows(self, command_id: int) -> list[dict]:
        """Every registry row a command changed, with the row before (None: it did not exist), in order."""
        rows = self.conn.execute("SELECT txn, tbl, key, before FROM history_rows WHERE command = ? "
                                 "ORDER BY txn, tbl, key", (command_id,)).fetchall()
        return [{"txn": t, "tbl": tbl, "key": k, "before": None if b is None else json.loads(b)}
                for t, tbl, k, b in rows]

    def later_commands_touching(self, command_id: int, paths: set[str],
                                rows: set[tuple[str, str]]) -> dict[int, list[str]]:
        """Commands after `command_id` that changed one of `paths` or of the registry `rows` (table, key)."""
        found: dict[int, set[str]] = {}
        for chunk in _chunks(sorted(paths)):
            marks = ", ".join("?" * len(chunk))
            for command, path in self.conn.execute(
                    f"SELECT command, path FROM history_files WHERE command > ? AND path IN ({marks})",
                    (command_id, *chunk)):
                found.setdefault(command, set()).add(path)
        for tbl, key in sorted(rows):
            for (command,) in self.conn.execute("SELECT command FROM history_rows WHERE command > ? AND tbl = ? "
                                                "AND key = ?", (command_id, tbl, key)):
                found.setdefault(command, set()).add(f"{tbl} row {key}")
        return {c: sorted(v) for c, v in sorted(found.items())}

    # -- chat sessions ----------------------------------------------------------------------------------------------

    def chat_sessions(self) -> list[dict]:
        from wikismith.store import chat

        return chat.sessions(self.conn)

    def chat_messages(self, session: int) -> list[dict]:
        from wikismith.store import chat

        return chat.messages(self.conn, session)

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
