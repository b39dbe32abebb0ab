"""The passages index, links and provenance are kept incrementally (only what changed is rewritten): after any
sequence of changes they must hold exactly what indexing every page afresh would, and an undo's history must be exactly as
before (only a command's first before-image of each file and row is kept)."""

from __future__ import annotations

import os
import sqlite3

from bench.synthetic import generated_document
from wikismith.kb import KnowledgeBase
from wikismith.store import layout, passages, snapshot
from wikismith.store.db import link_targets


def _indexed(root: str) -> dict:
    conn = sqlite3.connect(os.path.join(root, layout.DB))
    try:
        rows = conn.execute("SELECT p.page, p.seq, p.heading, p.first_page, p.last_page, p.text, f.title, f.aliases, "
                            "f.description, t.title, t.body FROM passages p JOIN passages_fts f ON f.rowid = p.id "
                            "JOIN passages_tri t ON t.rowid = p.id ORDER BY p.page, p.seq").fetchall()
        pages = conn.execute("SELECT p.path, p.title, p.description, f.body FROM pages p "
                             "JOIN pages_fts f ON f.rowid = p.id ORDER BY p.path").fetchall()
        links = sorted(conn.execute("SELECT page, target FROM links").fetchall())
        counts = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("passages", "passages_fts", "passages_tri")]
    finally:
        conn.close()
    assert len(set(counts)) == 1, f"index rows out of step: {counts}"
    assert links == sorted((path, t) for path, _, _, body in pages for t in link_targets(body))
    return {"rows": rows, "pages": pages}


def _afresh(pages_rows) -> list[tuple]:
    out = []
    for path, title, description, body in pages_rows:
        names = " ".join(passages.aliases(passages.split_front_matter(body)[0]))
        for p in passages.passages(body):
            out.append((path, p.seq, p.heading, p.first_page, p.last_page, p.text, title, names, description, title,
                        f"{p.heading}\n{p.text}"))
    return sorted(out, key=lambda r: (r[0], r[1]))


def _check(root: str) -> None:
    got = _indexed(root)
    assert got["rows"] == _afresh(got["pages"])


def _content(root: str) -> dict:
    state = snapshot.state(root, history=False)
    keep = ("pages", "passages", "documents", "provenance", "links", "candidates")
    files = {path: digest for path, digest in state["files"].items() if path != "wiki/log.md"}  # only appended to
    return {"files": files, "registry": {k: v for k, v in state["registry"].items() if k in keep}}


def test_incremental_passages_equal_a_fresh_index_through_adds_removes_and_undo(tmp_path, fixed_clock):
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(40):
        (notes / f"note-{i:03d}.md").write_text(generated_document(i * 7 % 40), encoding="utf-8")
    root = str(tmp_path / "kb")
    KnowledgeBase.init(root).close()
    kb = KnowledgeBase.open(root)
    try:
        empty = _content(root)
        assert len(kb.add([str(notes)], jobs=1).by_status("added")) == 40
        _check(root)
        assert not snapshot.scratch_leftovers(root)
        kb.undo(1)  # the folder add, one document per transaction: every file and row as before it
        _check(root)
        assert _content(root) == empty
        assert len(kb.add([str(notes)], jobs=1).by_status("added")) == 40
        added = _content(root)
        kb.remove(["note-005", "note-017", "note-030"])
        _check(root)
        kb.undo(4)  # the removal
        _check(root)
        assert _content(root) == added
        assert not snapshot.scratch_leftovers(root)
    finally:
        kb.close()
