"""The KB's SQLite database: connection settings, schema, forward migrations.

The schema version is SQLite's `user_version`. Migrations are small functions, applied in order, each in its own
transaction; a database newer than this code is refused rather than guessed at.
"""

from __future__ import annotations

import sqlite3
from typing import Callable

from wikismith.errors import StoreError
from wikismith.markdown import wikilink_pages
from wikismith.store import fs

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@migration
def initial_schema(conn: sqlite3.Connection) -> None:
    _run_script(
        conn,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE documents (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            hash TEXT NOT NULL,
            origin TEXT NOT NULL,
            source_path TEXT,
            raw_path TEXT,
            added_at TEXT NOT NULL,
            meta TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX documents_by_hash ON documents (hash);
        CREATE INDEX documents_by_origin ON documents (origin);
        CREATE TABLE pages (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL
        );
        CREATE INDEX pages_by_kind ON pages (kind, path);
        CREATE TABLE provenance (
            page TEXT NOT NULL,
            document TEXT NOT NULL,
            PRIMARY KEY (page, document)
        ) WITHOUT ROWID;
        CREATE INDEX provenance_by_document ON provenance (document, page);
        CREATE VIRTUAL TABLE pages_fts USING fts5 (title, body, tokenize = 'unicode61 remove_diacritics 2');
        CREATE TABLE txns (
            id TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('active', 'committed', 'rolled_back')),
            created_at TEXT NOT NULL
        );
        CREATE TABLE txn_entries (
            txn TEXT NOT NULL,
            seq INTEGER NOT NULL,
            action TEXT NOT NULL,
            path TEXT NOT NULL,
            backup TEXT,
            old_size INTEGER,
            PRIMARY KEY (txn, seq)
        ) WITHOUT ROWID;
        """
    )


@migration
def index_documents_by_source(conn: sqlite3.Connection) -> None:
    # `add` looks a file up by the path it came from, to update it in place: keep that O(log n).
    conn.execute("CREATE INDEX documents_by_source ON documents (source_path)")


@migration
def links_table(conn: sqlite3.Connection) -> None:
    # Which page links to which: backlinks, remove and lint find links here instead of reading every page. Filled
    # from the page bodies the full-text index already holds.
    conn.execute("CREATE TABLE links (page TEXT NOT NULL, target TEXT NOT NULL, PRIMARY KEY (page, target)) "
                 "WITHOUT ROWID")
    conn.execute("CREATE INDEX links_by_target ON links (target, page)")
    rows = conn.execute("SELECT p.path, f.body FROM pages p JOIN pages_fts f ON f.rowid = p.id")
    conn.executemany("INSERT OR IGNORE INTO links (page, target) VALUES (?, ?)",
                     [(path, target) for path, body in rows for target in link_targets(body)])


@migration
def history_tables(conn: sqlite3.Connection) -> None:
    # What each command changed, for `history` and `undo`; apart from the journal (txns), so that recovery never
    # takes history for pending work. See store/history.py.
    _run_script(
        conn,
        """
        CREATE TABLE history (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            argv TEXT NOT NULL,
            label TEXT NOT NULL,
            documents TEXT NOT NULL DEFAULT '[]',
            txns INTEGER NOT NULL DEFAULT 0,
            undoes INTEGER,
            partial INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE history_files (
            command INTEGER NOT NULL,
            txn TEXT NOT NULL,
            seq INTEGER NOT NULL,
            action TEXT NOT NULL,
            path TEXT NOT NULL,
            backup TEXT,
            old_size INTEGER,
            after TEXT,
            PRIMARY KEY (txn, seq)
        ) WITHOUT ROWID;
        CREATE INDEX history_files_by_path ON history_files (path, command);
        CREATE INDEX history_files_by_command ON history_files (command);
        CREATE TABLE history_rows (
            command INTEGER NOT NULL,
            txn TEXT NOT NULL,
            tbl TEXT NOT NULL,
            key TEXT NOT NULL,
            before TEXT,
            PRIMARY KEY (txn, tbl, key)
        ) WITHOUT ROWID;
        CREATE INDEX history_rows_by_key ON history_rows (tbl, key, command);
        CREATE INDEX history_rows_by_command ON history_rows (command);
        """,
    )


@migration
def candidates_table(conn: sqlite3.Connection) -> None:
    # Each document's candidate concept and entity pages, with its section for each: what makes the offline wiki a
    # function of the set of documents (see wiki/merge.py). A KB from before holds its contributions as strong ones.
    conn.execute("CREATE TABLE candidates (document TEXT NOT NULL, page TEXT NOT NULL, kind TEXT NOT NULL, "
                 "title TEXT NOT NULL, strong INTEGER NOT NULL, section TEXT NOT NULL, description TEXT NOT NULL, "
                 "PRIMARY KEY (document, page)) WITHOUT ROWID")
    conn.execute("CREATE INDEX candidates_by_page ON candidates (page, document)")
    rows = conn.execute("SELECT p.path, p.kind, p.title, p.description, f.body, v.document FROM pages p "
                        "JOIN pages_fts f ON f.rowid = p.id JOIN provenance v ON v.page = p.path "
                        "WHERE p.kind IN ('concept', 'entity')").fetchall()
    for path, kind, title, description, body, document in rows:
        section = _section_of(body or "", document)
        conn.execute("INSERT OR IGNORE INTO candidates VALUES (?, ?, ?, ?, 1, ?, ?)",
                     (document, path, kind, title, section, description))


@migration
def search_index(conn: sqlite3.Connection) -> None:
    # Pages cut into passages at their headings, in two full-text indexes committed with the pages: words with an
    # English stemmer (title, aliases and description weigh more than the body), and trigrams (any script, any
    # substring). Filled from the page bodies the registry already holds.
    from wikismith.store import registry

    _run_script(
        conn,
        """
        CREATE TABLE passages (
            id INTEGER PRIMARY KEY,
            page TEXT NOT NULL,
            seq INTEGER NOT NULL,
            heading TEXT NOT NULL,
            first_page INTEGER,
            last_page INTEGER,
            text TEXT NOT NULL
        );
        CREATE INDEX passages_by_page ON passages (page, seq);
        CREATE VIRTUAL TABLE passages_fts USING fts5 (
            title, aliases, description, heading, body, tokenize = 'porter unicode61 remove_diacritics 2'
        );
        CREATE VIRTUAL TABLE passages_tri USING fts5 (title, body, tokenize = 'trigram')
        """,
    )
    rows = conn.execute("SELECT p.path, p.title, p.description, f.body FROM pages p "
                        "JOIN pages_fts f ON f.rowid = p.id").fetchall()
    for path, title, description, body in rows:
        registry.index_passages(conn, path, title, description, body or "")


@migration
def chat_tables(conn: sqlite3.Connection) -> None:
    # Chat sessions: conversation state, kept apart from the wiki (see store/chat.py).
    _run_script(
        conn,
        """
        CREATE TABLE chat_sessions (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE chat_messages (
            session INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            role TEXT NOT NULL,
            content TEXT NOT NULL,
            sources TEXT NOT NULL DEFAULT '[]',
            at TEXT NOT NULL,
            PRIMARY KEY (session, seq)
        ) WITHOUT ROWID
        """,
    )


@migration
def page_bodies_unindexed(conn: sqlite3.Connection) -> None:
    # pages_fts is searched by title only (KBView.candidates); page text is searched through the passages. Its
    # body column only keeps the page's text, but was tokenized in full on every write: a concept page that gains
    # a section per document cost an add more with each document. The body stays, unindexed (which also stops a
    # long page's body from lowering the rank of its title match).
    _run_script(
        conn,
        """
        CREATE VIRTUAL TABLE pages_fts_new USING fts5 (
            title, body UNINDEXED, tokenize = 'unicode61 remove_diacritics 2'
        );
        INSERT INTO pages_fts_new (rowid, title, body) SELECT rowid, title, body FROM pages_fts;
        DROP TABLE pages_fts;
        ALTER TABLE pages_fts_new RENAME TO pages_fts
        """,
    )


def _section_of(body: str, document: str) -> str:
    start = body.find(f"<!-- source:{document} -->")
    end = body.find(f"<!-- /source:{document} -->", start)
    if start < 0 or end < 0:
        return ""
    inner = body[start:end].split("\n", 1)[1] if "\n" in body[start:end] else ""
    return inner.split("\n\n", 1)[1].strip("\n") if inner.startswith("## From ") and "\n\n" in inner else inner


def link_targets(body: str) -> set[str]:
    """The pages a page's text links to (wikilink targets without their #heading)."""
    return {target for target in wikilink_pages(body) if target}


@migration
def candidate_aliases(conn: sqlite3.Connection) -> None:
    # Candidate rows of kind "alias" (a document's other name for one of its terms: page = the other name's page,
    # section = the term's page) are looked up by the term's page too: a partial index keeps that an index range
    # and leaves the other rows, whose sections are long, out of it.
    conn.execute("CREATE INDEX candidates_alias_term ON candidates (section) WHERE kind = 'alias'")


@migration
def candidate_titles(conn: sqlite3.Connection) -> None:
    # How many documents hold each page under each name (and how many of them strongly), kept by triggers with
    # every write to `candidates`, undo's included: whether a page exists and what it is called are asked for
    # every page an add touches, and counting a popular page's holders grew with every document that held it.
    # Other names are looked up by their own page through a partial index too, for the same reason.
    conn.execute("CREATE INDEX candidates_alias_page ON candidates (page, document) WHERE kind = 'alias'")
    conn.execute("CREATE TABLE candidate_titles (page TEXT NOT NULL, title TEXT NOT NULL, holders INTEGER NOT NULL, "
                 "strong INTEGER NOT NULL, PRIMARY KEY (page, title)) WITHOUT ROWID")
    conn.execute("INSERT INTO candidate_titles SELECT page, title, count(*), sum(strong) FROM candidates "
                 "WHERE kind != 'alias' GROUP BY page, title")
    count_in = ("INSERT INTO candidate_titles (page, title, holders, strong) VALUES (new.page, new.title, 1, "
                "new.strong) ON CONFLICT (page, title) DO UPDATE SET holders = holders + 1, "
                "strong = strong + excluded.strong;")
    count_out = ("UPDATE candidate_titles SET holders = holders - 1, strong = strong - old.strong "
                 "WHERE page = old.page AND title = old.title; DELETE FROM candidate_titles "
                 "WHERE page = old.page AND title = old.title AND holders = 0;")
    for name, event, row, body in (("in", "INSERT", "new", count_in), ("out", "DELETE", "old", count_out),
                                   ("update_out", "UPDATE", "old", count_out),
                                   ("update_in", "UPDATE", "new", count_in)):
        conn.execute(f"CREATE TRIGGER candidate_titles_{name} AFTER {event} ON candidates "
                     f"WHEN {row}.kind != 'alias' BEGIN {body} END")


@migration
def candidate_mentions(conn: sqlite3.Connection) -> None:
    # A candidate row with an empty title is a mention: the document uses the page's name without making it one
    # of its topics, so it joins the page when it exists and never makes it exist. The documents that name a page
    # are found through this partial index, never by scanning past its mentions (a popular page has thousands).
    conn.execute("CREATE INDEX candidates_named ON candidates (page, document) WHERE kind != 'alias' AND title != ''")


SCHEMA_VERSION = len(MIGRATIONS)


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    # executescript() would commit the migration's open transaction first; run statement by statement instead.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def open_db(path: str, *, create: bool = False) -> sqlite3.Connection:
    """Open (or, with create, make) the database and bring its schema up to date."""
    conn = fs.connect(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {'FULL' if fs.SYNC else 'OFF'}")
        conn.execute("PRAGMA busy_timeout = 60000")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise damaged(path, exc) from exc
    if version > SCHEMA_VERSION:
        conn.close()
        raise StoreError(
            f"{path}: schema version {version} is newer than this wikismith understands ({SCHEMA_VERSION}); "
            "upgrade wikismith."
        )
    if version == 0 and not create:
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables == 0:
            conn.close()
            raise StoreError(f"{path}: the database is empty (an interrupted init?). Run `wikismith doctor`.")
    migrate(conn, version)
    return conn


def damaged(path: str, exc: Exception) -> StoreError:
    return StoreError(
        f"{path}: the knowledge base's database cannot be read ({exc}). Nothing was changed; "
        "your files in raw/ and wiki/ are untouched. Run `wikismith doctor` for what to do."
    )


def is_damage(exc: Exception) -> bool:
    """Whether a database error means the file itself is damaged (not busy, full or read-only)."""
    name = getattr(exc, "sqlite_errorname", None) or ""
    return isinstance(exc, sqlite3.DatabaseError) and name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))


def migrate(conn: sqlite3.Connection, version: int) -> None:
    for number in range(version, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[number](conn)
            conn.execute(f"PRAGMA user_version = {number + 1}")
            fs.commit(conn, f"migration {number + 1}")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None
