"""index.md is updated by splicing only the touched lines: it must always equal a full render of the registry."""

import os
import sqlite3

from bench.synthetic import generated_document

from wikismith.kb import KnowledgeBase
from wikismith.wiki import index_splice, pages


def _full_render(root):
    conn = sqlite3.connect(os.path.join(root, ".wikismith", "kb.sqlite3"))
    rows = conn.execute("SELECT kind, path, title, description FROM pages").fetchall()
    conn.close()
    return pages.render_index(rows)


def test_spliced_index_equals_a_full_render_through_adds_and_updates(tmp_path, fixed_clock, monkeypatch):
    spliced = []
    real = index_splice.splice
    monkeypatch.setattr(index_splice, "splice", lambda *a: spliced.append(real(*a)) or spliced[-1])
    docs = tmp_path / "docs"
    docs.mkdir()
    kb = KnowledgeBase.init(str(tmp_path / "kb"))
    for i in range(12):
        (docs / f"n{i}.md").write_text(generated_document(i))
        assert not kb.add([str(docs / f"n{i}.md")]).failed
        assert (tmp_path / "kb/wiki/index.md").read_text() == _full_render(kb.root)
    # Updating documents removes and re-adds lines, and may empty a kind's section of pages.
    for i in (3, 0, 11):
        (docs / f"n{i}.md").write_text(generated_document(100 + i))
        assert kb.add([str(docs / f"n{i}.md")]).by_status("updated")
        assert (tmp_path / "kb/wiki/index.md").read_text() == _full_render(kb.root)
    kb.close()
    assert sum(s is not None for s in spliced) >= 10, "the index was re-rendered instead of spliced"


def test_a_hand_edited_index_is_rendered_again_not_guessed():
    text = "# My own index\n\nwhatever\n"
    assert index_splice.splice(text, {"wiki/concepts/x.md": ("concept", "X", "")}, {}, lambda k, p: None) is None
