"""The catalogue (index.md and its shards) is rewritten only where a change touches it; it must always equal a full
render from the registry, across kinds growing past INLINE into shards and shrinking back."""

import os
import re

import pytest

from bench.synthetic import generated_document

from wikismith.kb import KnowledgeBase
from wikismith.wiki import catalog


def on_disk(root: str) -> dict[str, str]:
    files = {}
    for path in ["wiki/index.md"] + [
            os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(os.path.join(root, "wiki", "index"))
            for f in fs]:
        with open(os.path.join(root, path), encoding="utf-8") as fh:
            files[path] = fh.read()
    return files


FULL = catalog.full  # the test's own reference render, apart from the calls the code under test makes


def rendered_afresh(kb) -> dict[str, str]:
    with kb.store.snapshot() as view:
        return {p: t for p, t in FULL(view).items() if t is not None}


@pytest.mark.parametrize("inline", [3, 150])
def test_the_catalogue_equals_a_full_render_through_adds_updates_removes_and_undo(tmp_path, fixed_clock,
                                                                                 monkeypatch, inline):
    monkeypatch.setattr(catalog, "LEAF", inline)
    fulls = []
    real = catalog.full
    monkeypatch.setattr(catalog, "full", lambda *a: fulls.append(1) or real(*a))
    docs = tmp_path / "docs"
    docs.mkdir()
    kb = KnowledgeBase.init(str(tmp_path / "kb"))
    for i in range(12):
        (docs / f"n{i}.md").write_text(generated_document(i))
        assert not kb.add([str(docs / f"n{i}.md")]).failed
        assert on_disk(kb.root) == rendered_afresh(kb)
    if inline == 3:
        assert any(p.startswith("wiki/index/") for p in on_disk(kb.root)), "kinds past INLINE are sharded"
    for i in (3, 0, 11):
        (docs / f"n{i}.md").write_text(generated_document(100 + i))
        assert kb.add([str(docs / f"n{i}.md")]).by_status("updated")
        assert on_disk(kb.root) == rendered_afresh(kb)
    for i in range(11):
        kb.remove([f"n{i}"])
        assert on_disk(kb.root) == rendered_afresh(kb)
    kb.undo()
    assert on_disk(kb.root) == rendered_afresh(kb)
    kb.close()
    assert len(fulls) == 0, "the catalogue was rendered whole instead of rewritten where touched"


def test_every_page_is_listed_exactly_once(tmp_path, fixed_clock, monkeypatch):
    monkeypatch.setattr(catalog, "LEAF", 2)
    docs = tmp_path / "docs"
    docs.mkdir()
    kb = KnowledgeBase.init(str(tmp_path / "kb"))
    for i in range(6):
        (docs / f"n{i}.md").write_text(generated_document(i))
    kb.add([str(docs)])
    with kb.store.snapshot() as view:
        counts, _texts = catalog.listed(view)
        targets = {p[len("wiki/"):-len(".md")] for p in view.page_paths()}
    assert set(counts) == targets and set(counts.values()) == {1}
    kb.close()


def test_a_hand_edited_index_is_rendered_again_not_guessed(tmp_path, fixed_clock):
    kb = KnowledgeBase.init(str(tmp_path / "kb"))
    with open(os.path.join(kb.root, "wiki", "index.md"), "w", encoding="utf-8") as fh:
        fh.write("# My own index\n\nwhatever\n")
    note = tmp_path / "n.md"
    note.write_text(generated_document(1))
    kb.add([str(note)])
    assert on_disk(kb.root) == rendered_afresh(kb)
    kb.close()


def _small_leaved_kb(tmp_path, monkeypatch, names: list[str]):
    """A KB of generated notes named `names`, added as one folder, its catalogue's leaves holding 3 pages."""
    monkeypatch.setattr(catalog, "LEAF", 3)
    docs = tmp_path / "docs"
    docs.mkdir()
    for i, name in enumerate(names):
        (docs / f"{name}.md").write_text(generated_document(i))
    kb = KnowledgeBase.init(str(tmp_path / "kb"))
    kb.add([str(docs)])
    return kb


def test_an_add_rewrites_index_md_and_the_leaves_it_lands_in_not_the_nodes_on_the_way(tmp_path, fixed_clock,
                                                                                         monkeypatch):
    # 30 notes named "n-<i>" under LEAF 3: summaries and sources go root -> n -> n- -> n-1 -> leaves
    kb = _small_leaved_kb(tmp_path, monkeypatch, [f"n-{i}" for i in range(30)])
    before = on_disk(kb.root)
    inodes = {p: os.stat(os.path.join(kb.root, p)).st_ino for p in before}  # a file written anew has another
    assert {"wiki/index/summaries/n.md", "wiki/index/summaries/n-.md", "wiki/index/summaries/n-1.md"} <= set(before)
    assert "(" not in before["wiki/index/summaries/n-.md"].split("\n# ", 1)[1], "a child line has no count"
    note = tmp_path / "n-135.md"  # lands in the leaf n-13 of summaries and of sources
    note.write_text(generated_document(30))
    kb.add([str(note)])
    after = on_disk(kb.root)
    changed = {p for p in after if p not in inodes or os.stat(os.path.join(kb.root, p)).st_ino != inodes[p]}
    for folder in ("summaries", "sources"):
        assert {p for p in changed if p.startswith(f"wiki/index/{folder}/")} == {f"wiki/index/{folder}/n-13.md"}
    assert "wiki/index.md" in changed
    assert after == rendered_afresh(kb)
    kb.close()


def test_a_catalogue_written_with_counts_on_its_child_lines_is_rendered_afresh_once(tmp_path, fixed_clock,
                                                                                    monkeypatch):
    # as wikismith wrote it before child lines lost their counts: the next change renders it whole, then as usual
    kb = _small_leaved_kb(tmp_path, monkeypatch, [f"n{i}" for i in range(12)])
    node = os.path.join(kb.root, "wiki", "index", "summaries", "n.md")
    with open(node, encoding="utf-8") as fh:
        text = fh.read()
    with open(node, "w", encoding="utf-8") as fh:
        fh.write(re.sub(r"^(- \[\[index/.*\]\])$", r"\1 (3)", text, flags=re.MULTILINE))
    fulls = []
    real = catalog.full
    monkeypatch.setattr(catalog, "full", lambda *a: fulls.append(1) or real(*a))
    note = tmp_path / "n12.md"
    note.write_text(generated_document(12))
    kb.add([str(note)])
    assert fulls and on_disk(kb.root) == rendered_afresh(kb)
    kb.close()
