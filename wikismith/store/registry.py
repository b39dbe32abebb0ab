"""Registry rows: documents, pages, provenance, links and the full-text index. Writes run inside the commit
transaction, so every row changes with the files it describes."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from wikismith.store import pagememo, passages
from wikismith.store.pagememo import PageMemo, Remembered
from wikismith.store.db import link_targets
from wikismith.store.mutation import CANDIDATE_COLUMNS, DOCUMENT_COLUMNS, Mutation, PageRow


def before_images(conn: sqlite3.Connection, mutation: Mutation,
                  wanted=lambda tbl, key: True) -> list[tuple[str, str, dict | None]]:
    """(table, key, the row as it is now or None) for every registry row `mutation` will change that
    `wanted(table, key)`; read inside the commit transaction, before write_rows, so that an undo can put each row
    back."""
    out: list[tuple[str, str, dict | None]] = []
    for doc_id in sorted(mutation.drop_documents | {d.id for d in mutation.put_documents}):
        if wanted("documents", doc_id):
            out.append(("documents", doc_id, document_row(conn, doc_id)))
    for path in sorted(mutation.drop_pages | {p.path for p in mutation.put_pages}):
        if wanted("pages", path):
            out.append(("pages", path, page_row(conn, path)))
    for doc_id in sorted(mutation.drop_candidates | set(mutation.put_candidates)):
        if wanted("candidates", doc_id):
            out.append(("candidates", doc_id, candidate_rows(conn, doc_id)))
    return out


def candidate_rows(conn: sqlite3.Connection, doc_id: str) -> list[dict]:
    return [dict(zip(CANDIDATE_COLUMNS, r)) for r in conn.execute(
        f"SELECT {', '.join(CANDIDATE_COLUMNS)} FROM candidates WHERE document = ? ORDER BY page", (doc_id,))]


def document_row(conn: sqlite3.Connection, doc_id: str) -> dict | None:
    row = conn.execute(f"SELECT {', '.join(DOCUMENT_COLUMNS)} FROM documents WHERE id = ?", (doc_id,)).fetchone()
    return dict(zip(DOCUMENT_COLUMNS, row)) if row else None


def page_row(conn: sqlite3.Connection, path: str) -> dict | None:
    """Everything the registry holds of a page (provenance and links derive from sources and body)."""
    row = conn.execute("SELECT p.id, p.kind, p.title, p.description, p.updated_at, f.body FROM pages p "
                       "LEFT JOIN pages_fts f ON f.rowid = p.id WHERE p.path = ?", (path,)).fetchone()
    if row is None:
        return None
    sources = [r[0] for r in conn.execute("SELECT document FROM provenance WHERE page = ? ORDER BY document", (path,))]
    return {"path": path, "kind": row[1], "title": row[2], "description": row[3], "updated_at": row[4],
            "body": row[5] or "", "sources": sources}


def write_rows(conn: sqlite3.Connection, mutation: Mutation, memo: PageMemo | None = None) -> None:
    for doc_id in sorted(mutation.drop_documents):
        conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
    for doc in mutation.put_documents:
        conn.execute(
            f"INSERT OR REPLACE INTO documents ({', '.join(DOCUMENT_COLUMNS)}) VALUES ({', '.join('?' * 9)})",
            tuple(getattr(doc, col) for col in DOCUMENT_COLUMNS),
        )
    # The full-text indexes are written in ascending rowid order: FTS5 flushes its pending terms into a new segment
    # whenever a write goes to a lower rowid than the one before, and merging many small segments costs in
    # proportion to the whole index (an add at 20,000 pages paid ~8 ms for it). So every old passage goes first
    # (ascending), then pages are dropped or rewritten in the order of their ids (a rewrite keeps its id), then
    # the new passages come in (new, ascending ids).
    if memo is not None:
        memo.begin(conn)
    ids = {path: _page_id(conn, path) for path in sorted(mutation.drop_pages | {p.path for p in mutation.put_pages})}
    plans = {page.path: _passage_plan(conn, page, memo.get(conn, page.path, ids[page.path]) if memo else None)
             for page in mutation.put_pages}
    gone = [pid for path in sorted(mutation.drop_pages) for (pid,) in
            conn.execute("SELECT id FROM passages WHERE page = ?", (path,))]
    _unindex_ids(conn, sorted(gone + [pid for plan in plans.values() for pid in plan.drop]))
    steps = [(path, None) for path in mutation.drop_pages] + [(page.path, page) for page in mutation.put_pages]
    for path, page in sorted(steps, key=lambda step: ids[step[0]] if ids[step[0]] is not None else float("inf")):
        if page is None:
            _drop_page(conn, path, ids[path])
        else:
            _put_page(conn, page, ids[path], plans[path])
    for page in mutation.put_pages:
        plan = plans[page.path]
        conn.executemany("UPDATE passages SET seq = ? WHERE id = ?", plan.moved)
        added = _insert_passage_rows(conn, page.path, page.title, plan.names, page.description, plan.insert)
        if memo is not None and plan.cut is None:
            memo.put(page.path, None)
        elif memo is not None:
            for p, rowid in zip(plan.insert, added):
                plan.ids[p.seq] = rowid
            memo.put(page.path, Remembered(page.body, plan.cut, plan.ids, frozenset(page.sources), plan.links))
    for path in mutation.drop_pages if memo is not None else ():
        memo.put(path, None)
    for doc_id in sorted(mutation.drop_candidates | set(mutation.put_candidates)):
        conn.execute("DELETE FROM candidates WHERE document = ?", (doc_id,))
    for doc_id, rows in sorted(mutation.put_candidates.items()):
        conn.executemany(f"INSERT INTO candidates ({', '.join(CANDIDATE_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         [(r.document, r.page, r.kind, r.title, int(r.strong), r.section, r.description)
                          for r in rows])


def index_passages(conn: sqlite3.Connection, path: str, title: str, description: str, body: str) -> None:
    """The page's passages in both full-text indexes (the old ones removed first)."""
    _unindex_passages(conn, [path])
    _insert_passages(conn, path, title, description, body)


@dataclass
class _PassagePlan:
    names: str  # the page's aliases, as indexed with each passage
    insert: list  # new passages (passages.Passage)
    ids: list  # each new passage's row id; None for those in `insert` until they are written
    cut: passages.Cut | None = None  # the new passages with their sections, for the memo (None: not ATX-only)
    before: Remembered | None = None  # the page as the memo had it, when it did
    links: object = None  # the new text's link counts (pagememo.count_links), when known
    drop: list[int] = field(default_factory=list)  # ids of old passages the page no longer has
    moved: list[tuple[int, int]] = field(default_factory=list)  # (new seq, id) of kept passages that moved


def _passage_plan(conn: sqlite3.Connection, page: PageRow, remembered=None) -> _PassagePlan:
    """What the page's passages need: an old passage whose text, heading and pages are unchanged (and whose page
    title, aliases and description are) keeps its rows, only its seq follows; the rest go out and come in. A new
    section on a page of hundreds then re-indexes one passage, not the page: the tokenizers (the trigram one
    above all) cost in proportion to what they index, and rewriting every passage of a page that grows with each
    document made the add slower with every document. `remembered`: the page's last cut and row ids, from the
    memo, when the registry still holds them."""
    names = " ".join(passages.aliases(passages.split_front_matter(page.body)[0]))
    if remembered is not None:
        plan = _remembered_plan(conn, page, names, remembered)
        if plan is not None:
            return plan
    cut = passages.cut(page.body)
    new = cut.passages if cut is not None else passages.passages(page.body)
    old = conn.execute("SELECT id, seq, heading, first_page, last_page, text FROM passages WHERE page = ? "
                       "ORDER BY seq, id", (page.path,)).fetchall()
    if not old:
        return _PassagePlan(names, new, [None] * len(new), cut)
    indexed = conn.execute("SELECT title, aliases, description FROM passages_fts WHERE rowid = ?",
                           (old[0][0],)).fetchone()
    if indexed != (page.title, names, page.description):
        return _PassagePlan(names, new, [None] * len(new), cut, drop=[row[0] for row in old])
    # The passages before and after the change are matched in place first (a new section moves only those after
    # it, by the same count), so that only what lies between goes through the pool.
    keys = [(heading, first, last, text) for _pid, _seq, heading, first, last, text in old]
    head = 0
    while head < len(new) and head < len(old) and new[head][1:] == keys[head]:
        head += 1
    tail = 0
    while (tail < len(new) - head and tail < len(old) - head
           and new[len(new) - 1 - tail][1:] == keys[len(old) - 1 - tail]):
        tail += 1
    plan = _PassagePlan(names, [], [None] * len(new), cut)
    for (pid, seq, *_rest), p in zip(old[:head], new[:head]):
        plan.ids[p.seq] = pid
        if seq != p.seq:
            plan.moved.append((p.seq, pid))
    suffix = list(zip(old[len(old) - tail:], new[len(new) - tail:]))
    pool: dict[tuple, list[tuple[int, int]]] = {}
    for row, key in zip(old[head:len(old) - tail], keys[head:len(old) - tail]):
        pool.setdefault(key, []).append((row[0], row[1]))
    _match(plan, pool, new[head:len(new) - tail])
    for (pid, seq, *_rest), p in suffix:
        plan.ids[p.seq] = pid
        if seq != p.seq:
            plan.moved.append((p.seq, pid))
    plan.drop = sorted(pid for left in pool.values() for pid, _seq in left)
    return plan


def _match(plan: _PassagePlan, pool: dict[tuple, list[tuple[int, int]]], new) -> None:
    """Each of `new` takes the row of an old passage just like it from `pool` ((id, seq) by passage key), or is
    inserted."""
    for p in new:
        same = pool.get((p.heading, p.first_page, p.last_page, p.text))
        if same:
            pid, seq = same.pop(0)
            plan.ids[p.seq] = pid
            if seq != p.seq:
                plan.moved.append((p.seq, pid))
        else:
            plan.insert.append(p)


def _remembered_plan(conn: sqlite3.Connection, page: PageRow, names: str, before: Remembered) -> _PassagePlan | None:
    """_passage_plan from the page's remembered cut: only the sections passages.recut cut again are matched; the
    passages it kept keep their rows (and move only when their seq changed). None when the text is not
    ATX-only."""
    old, old_ids = before.cut, before.ids
    got = passages.recut(old, page.body)
    if got is None:
        return None
    cut, kept = got.cut, got.kept
    new = cut.passages
    links = pagememo.recount_links(before, page.body, *got.assembly.changed_pieces())
    indexed = conn.execute("SELECT title, aliases, description FROM passages_fts WHERE rowid = ?",
                           (old_ids[0],)).fetchone() if old_ids else None
    if indexed != (page.title, names, page.description):
        return _PassagePlan(names, new, [None] * len(new), cut, before, links, drop=sorted(old_ids))
    plan = _PassagePlan(names, [], [None] * len(new), cut, before, links)
    left, fresh = [], []  # old indices outside the kept runs, new passages outside them (runs ascend in both)
    old_at = new_at = 0
    for a, b, length in kept:
        left.extend(range(old_at, a))
        fresh.extend(new[new_at:b])
        old_at, new_at = a + length, b + length
        plan.ids[b:b + length] = old_ids[a:a + length]
        if a != b:
            plan.moved.extend(zip(range(b, b + length), old_ids[a:a + length]))
    left.extend(range(old_at, len(old.passages)))
    fresh.extend(new[new_at:])
    pool: dict[tuple, list[tuple[int, int]]] = {}
    for i in left:
        p = old.passages[i]
        pool.setdefault((p.heading, p.first_page, p.last_page, p.text), []).append((old_ids[i], i))
    _match(plan, pool, fresh)
    plan.drop = sorted(pid for rows in pool.values() for pid, _seq in rows)
    return plan


def _insert_passages(conn: sqlite3.Connection, path: str, title: str, description: str, body: str) -> None:
    names = " ".join(passages.aliases(passages.split_front_matter(body)[0]))
    _insert_passage_rows(conn, path, title, names, description, passages.passages(body))


def _insert_passage_rows(conn: sqlite3.Connection, path: str, title: str, names: str, description: str,
                         rows) -> list[int]:
    """Writes the passages; returns their row ids, in order."""
    added = []
    for p in rows:
        rowid = conn.execute("INSERT INTO passages (page, seq, heading, first_page, last_page, text) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             (path, p.seq, p.heading, p.first_page, p.last_page, p.text)).lastrowid
        conn.execute("INSERT INTO passages_fts (rowid, title, aliases, description, heading, body) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (rowid, title, names, description, p.heading, p.text))
        conn.execute("INSERT INTO passages_tri (rowid, title, body) VALUES (?, ?, ?)",
                     (rowid, title, f"{p.heading}\n{p.text}"))
        added.append(rowid)
    return added


def _unindex_passages(conn: sqlite3.Connection, paths: list[str]) -> None:
    """The passages of these pages out of both indexes, in ascending rowid order."""
    ids = sorted((row[0],) for path in paths for row in conn.execute("SELECT id FROM passages WHERE page = ?",
                                                                         (path,)))
    # One rowid at a time: `rowid IN (...)` on an FTS5 table took 10 ms at 20,000 pages where this takes 0.3 ms.
    conn.executemany("DELETE FROM passages_fts WHERE rowid = ?", ids)
    conn.executemany("DELETE FROM passages_tri WHERE rowid = ?", ids)
    for path in paths:
        conn.execute("DELETE FROM passages WHERE page = ?", (path,))


def _unindex_ids(conn: sqlite3.Connection, ids: list[int]) -> None:
    """These passages (ascending ids) out of both indexes and the passages table."""
    rows = [(pid,) for pid in ids]
    conn.executemany("DELETE FROM passages_fts WHERE rowid = ?", rows)
    conn.executemany("DELETE FROM passages_tri WHERE rowid = ?", rows)
    conn.executemany("DELETE FROM passages WHERE id = ?", rows)


def _page_id(conn: sqlite3.Connection, path: str) -> int | None:
    row = conn.execute("SELECT id FROM pages WHERE path = ?", (path,)).fetchone()
    return row[0] if row else None


def _drop_page(conn: sqlite3.Connection, path: str, page_id: int | None) -> None:
    """A page's rows out (its passages are taken out beforehand, with every other page's)."""
    if page_id is not None:
        conn.execute("DELETE FROM pages_fts WHERE rowid = ?", (page_id,))
        conn.execute("DELETE FROM pages WHERE id = ?", (page_id,))
    conn.execute("DELETE FROM provenance WHERE page = ?", (path,))
    conn.execute("DELETE FROM links WHERE page = ?", (path,))


def _put_page(conn: sqlite3.Connection, page: PageRow, page_id: int | None, plan: _PassagePlan) -> None:
    """A page's rows (its passages are written afterwards, with every other page's). Its old sources and links
    come from the memo when the plan had the page from it."""
    if plan.cut is not None and plan.links is None and pagememo.countable(page.body):
        plan.links = pagememo.count_links(page.body)  # for the memo, and the next write
    if page_id is not None:
        conn.execute(
            "UPDATE pages SET kind = ?, title = ?, description = ?, updated_at = ? WHERE id = ?",
            (page.kind, page.title, page.description, page.updated_at, page_id),
        )
        conn.execute("DELETE FROM pages_fts WHERE rowid = ?", (page_id,))
        # Provenance and links change by what differs: a page with a source and a link per document gains one
        # of each per add, and rewriting all of them cost in proportion to the page. The memo has them, when
        # the plan had the page from it.
        if plan.before is not None and plan.before.links is not None and plan.links is not None:
            sources, targets = plan.before.sources, set(plan.before.links)
        else:
            sources = {row[0] for row in conn.execute("SELECT document FROM provenance WHERE page = ?",
                                                      (page.path,))}
            targets = {row[0] for row in conn.execute("SELECT target FROM links WHERE page = ?", (page.path,))}
    else:
        page_id = conn.execute(
            "INSERT INTO pages (path, kind, title, description, updated_at) VALUES (?, ?, ?, ?, ?)",
            (page.path, page.kind, page.title, page.description, page.updated_at),
        ).lastrowid
        sources, targets = set(), set()
    conn.execute("INSERT INTO pages_fts (rowid, title, body) VALUES (?, ?, ?)", (page_id, page.title, page.body))
    new_sources = set(page.sources)
    new_targets = set(plan.links) if plan.links is not None else link_targets(page.body)
    conn.executemany("DELETE FROM provenance WHERE page = ? AND document = ?",
                     [(page.path, doc) for doc in sorted(sources - new_sources)])
    conn.executemany("INSERT OR IGNORE INTO provenance (page, document) VALUES (?, ?)",
                     [(page.path, doc) for doc in sorted(new_sources - sources)])
    conn.executemany("DELETE FROM links WHERE page = ? AND target = ?",
                     [(page.path, target) for target in sorted(targets - new_targets)])
    conn.executemany("INSERT INTO links (page, target) VALUES (?, ?)",
                     [(page.path, target) for target in sorted(new_targets - targets)])


def dump(conn: sqlite3.Connection) -> dict:
    """A canonical, id-free dump of every registry table: equal dumps mean equal registries."""
    documents = [list(r) for r in conn.execute(f"SELECT {', '.join(DOCUMENT_COLUMNS)} FROM documents ORDER BY id")]
    pages = [
        list(r)
        for r in conn.execute(
            "SELECT p.path, p.kind, p.title, p.description, p.updated_at, f.title, f.body "
            "FROM pages p LEFT JOIN pages_fts f ON f.rowid = p.id ORDER BY p.path"
        )
    ]
    provenance = [list(r) for r in conn.execute("SELECT page, document FROM provenance ORDER BY page, document")]
    links = [list(r) for r in conn.execute("SELECT page, target FROM links ORDER BY page, target")]
    candidates = [list(r) for r in conn.execute(f"SELECT {', '.join(CANDIDATE_COLUMNS)} FROM candidates "
                                                "ORDER BY document, page")]
    candidate_titles = [list(r) for r in conn.execute("SELECT * FROM candidate_titles ORDER BY page, title")]
    passage_rows = [list(r) for r in conn.execute(
        "SELECT p.page, p.seq, p.heading, p.first_page, p.last_page, p.text, f.title, f.aliases, f.description, "
        "t.body FROM passages p LEFT JOIN passages_fts f ON f.rowid = p.id LEFT JOIN passages_tri t "
        "ON t.rowid = p.id ORDER BY p.page, p.seq")]
    chats = [list(r) for r in conn.execute("SELECT id, title, created_at, updated_at FROM chat_sessions ORDER BY id")]
    chat_messages = [list(r) for r in conn.execute("SELECT * FROM chat_messages ORDER BY session, seq")]
    orphan_passages = conn.execute(
        "SELECT (SELECT count(*) FROM passages_fts WHERE rowid NOT IN (SELECT id FROM passages)) + "
        "(SELECT count(*) FROM passages_tri WHERE rowid NOT IN (SELECT id FROM passages)) + "
        "(SELECT count(*) FROM passages WHERE page NOT IN (SELECT path FROM pages))").fetchone()[0]
    history = [list(r) for r in conn.execute("SELECT * FROM history ORDER BY id")]
    history_files = [list(r) for r in conn.execute("SELECT * FROM history_files ORDER BY txn, seq")]
    history_rows = [list(r) for r in conn.execute("SELECT * FROM history_rows ORDER BY txn, tbl, key")]
    orphan_fts = conn.execute("SELECT count(*) FROM pages_fts WHERE rowid NOT IN (SELECT id FROM pages)").fetchone()[0]
    return {"documents": documents, "pages": pages, "provenance": provenance, "links": links, "candidates": candidates,
            "candidate_titles": candidate_titles,
            "history": history, "history_files": history_files, "history_rows": history_rows,
            "passages": passage_rows, "chat_sessions": chats, "chat_messages": chat_messages,
            "orphan_fts_rows": orphan_fts, "orphan_passage_rows": orphan_passages}
