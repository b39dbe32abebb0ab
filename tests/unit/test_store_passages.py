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


def test_busy_pages_written_from_the_memo_equal_a_fresh_index(tmp_path, fixed_clock, monkeypatch):
    """Pages that gather a section from each of many documents are re-cut from the memo of their last write (only
    the changed sections); sections coming at the end, in the middle and going, and an undo, must leave exactly
    the index a fresh cut of every page gives. A memo entry the registry no longer matches is never used."""
    from wikismith.store import pagememo, registry
    from wikismith.wiki import sections

    monkeypatch.setattr(pagememo.PageMemo, "SMALLEST", 0)  # these pages are small: remember them all the same
    monkeypatch.setattr(sections, "_NAMES_SMALLEST", 0)
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(36):  # every note shares one topic; names alternate between two entities
        (notes / f"note-{i:03d}.md").write_text(generated_document(18 * i), encoding="utf-8")
    used = []
    real = registry._remembered_plan

    def spy(*args):
        plan = real(*args)
        used.append(plan is not None)
        return plan

    monkeypatch.setattr(registry, "_remembered_plan", spy)
    root = str(tmp_path / "kb")
    KnowledgeBase.init(root).close()
    kb = KnowledgeBase.open(root)
    try:
        order = [str(notes / f"note-{i:03d}.md") for i in list(range(0, 36, 2)) + list(range(35, 0, -2))]
        for path in order[:24]:  # one at a time: later notes land in the middle of the topic page
            kb.add([path])
        _check(root)
        assert sum(used) >= 12  # the memo served most writes of the busy pages once they had 8 passages
        kb.add([str(notes)], jobs=2)  # the rest, through the parallel applier
        _check(root)
        kb.remove(["note-007", "note-020"])
        _check(root)
        kb.undo()
        _check(root)
        # Another process rewrites the index behind the memo's back: the memo must notice, not write wrong rows.
        other = KnowledgeBase.open(root)
        try:
            other.remove(["note-011"])
        finally:
            other.close()
        kb.add([str(notes / "note-011.md")])
        _check(root)
        # A commit that fails after the registry was written: what that transaction wrote must not be remembered.
        from wikismith.store import fs

        real_commit, failed = fs.commit, []

        def failing(conn, what="commit"):
            if what.startswith("commit ") and not failed:
                failed.append(what)
                raise OSError(5, "injected: the commit fails")
            return real_commit(conn, what)

        monkeypatch.setattr(fs, "commit", failing)
        changed = notes / "note-017.md"  # its section changes in place: the page keeps its number of passages
        changed.write_text(changed.read_text(encoding="utf-8").replace(" step ", " stage "), encoding="utf-8")
        report = kb.add([str(changed)])
        assert failed and report.stopped and not report.by_status("updated")
        _check(root)
        kb.remove(["note-015"])
        _check(root)
    finally:
        kb.close()
