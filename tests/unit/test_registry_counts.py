"""What the registry keeps as running figures, so that an add does not count a popular page's holders again: how
many documents hold each page under each name, and when each page last changed. After any sequence of adds,
removes and undos they must equal what counting afresh gives, and doctor must notice when they do not."""

from __future__ import annotations

import json
import os
import random
import sqlite3

from bench.synthetic import generated_document
from wikismith.kb import KnowledgeBase
from wikismith.store import layout
from wikismith.wiki import frontmatter


def _db(root: str) -> sqlite3.Connection:
    return sqlite3.connect(os.path.join(root, layout.DB))


def _check(root: str) -> int:
    """Asserts the running figures equal a fresh count; returns how many pages have two or more sources."""
    conn = _db(root)
    try:
        counted = conn.execute("SELECT page, title, count(*), sum(strong) FROM candidates WHERE kind != 'alias' "
                               "GROUP BY page, title ORDER BY page, title").fetchall()
        kept = conn.execute("SELECT page, title, holders, strong FROM candidate_titles ORDER BY page, title").fetchall()
        assert kept == counted
        newest = dict(conn.execute("SELECT v.page, max(d.added_at) FROM provenance v JOIN documents d "
                                   "ON d.id = v.document GROUP BY v.page").fetchall())
        recorded = dict(conn.execute("SELECT path, updated_at FROM pages").fetchall())
        busy = conn.execute("SELECT count(*) FROM (SELECT page FROM provenance GROUP BY page "
                            "HAVING count(*) >= 2)").fetchone()[0]
    finally:
        conn.close()
    for page, when in newest.items():
        assert recorded[page] == when, page
        if page.startswith(("wiki/concepts/", "wiki/entities/")):
            meta, _ = frontmatter.parse(open(os.path.join(root, page), encoding="utf-8").read())
            assert meta.get("updated") == when, page
    return busy


def test_counts_and_times_follow_adds_removes_and_undo(tmp_path, monkeypatch, fixed_clock):
    notes = tmp_path / "notes"
    notes.mkdir()
    order = list(range(24))
    random.Random(7).shuffle(order)
    paths = []
    for i in order:
        path = notes / f"note-{i:03d}.md"
        path.write_text(generated_document(i), encoding="utf-8")
        paths.append(str(path))
    root = str(tmp_path / "kb")
    KnowledgeBase.init(root).close()
    kb = KnowledgeBase.open(root)
    try:
        # Each add at its own time, in an order unlike the documents' ids, so that a page's time is the newest of
        # its sources' only if it is worked out right.
        for n, path in enumerate(paths):
            monkeypatch.setenv("SOURCE_DATE_EPOCH", str(1_700_000_000 + 3600 * n))
            assert kb.add([path]).by_status("added")
        assert _check(root) >= 5
        newest = paths[-1].rsplit("/", 1)[1][: -len(".md")]
        kb.remove([newest, "note-003"])  # pages lose their newest source: their time goes back
        _check(root)
        kb.undo()  # the removal
        _check(root)
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(1_800_000_000))
        assert kb.add(paths[:3], jobs=1).by_status("skipped")  # already there: nothing changes
        _check(root)
        # A new version of the first note: its pages now count from the time it came back.
        with open(paths[0], "a", encoding="utf-8") as fh:
            fh.write("\nA later line about the same things.\n")
        assert kb.add([paths[0]]).by_status("updated")
        _check(root)
    finally:
        kb.close()


def test_doctor_names_a_count_that_disagrees_with_its_rows(tmp_kb, tmp_path, run_cli):
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(4):
        (notes / f"note-{i}.md").write_text(generated_document(i * 18), encoding="utf-8")  # one shared topic
    code, _, err = run_cli("add", str(notes), "--jobs", "1", kb=tmp_kb)
    assert code == 0, err
    code, out, _ = run_cli("doctor", "--json", kb=tmp_kb)
    assert code == 0 and json.loads(out)["findings"] == []
    conn = _db(str(tmp_kb))
    with conn:
        conn.execute("UPDATE candidate_titles SET holders = holders + 1 WHERE page = "
                     "(SELECT page FROM candidate_titles ORDER BY holders DESC LIMIT 1)")
    conn.close()
    code, out, _ = run_cli("doctor", "--json", kb=tmp_kb)
    findings = json.loads(out)["findings"]
    assert code != 0 and any("counts of the documents holding a page" in f["problem"] for f in findings)
