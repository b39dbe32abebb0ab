"""A page shows the sections of its first `page_sections` sources by document id and lists those: a document after
them leaves the page as it is (every source's summary links it), one before them pushes the last one off, removing
a shown one brings the next in line on. The wiki stays a function of the set of documents. The setting is 3 here
(50 by default) so that a handful of hand-made drafts fill a page; tests/e2e/test_maintain.py fills one at 50
through the CLI."""

from __future__ import annotations

import random

import pytest
from handmade import HandMade, remove, wiki_files

from wikismith.kb import KnowledgeBase
from wikismith.ops.history import UndoRefused
from wikismith.wiki import frontmatter, sections

SHOWN = 3
# document -> (added at, [(concept key, strong)], [(other name, term)]); all but d8 hold "widget"
DOCS = {
    "d1": ("2026-01-01T00:00:00Z", [("widget", True)], []),
    "d2": ("2026-01-02T00:00:00Z", [("widget", False), ("gadget", True)], []),
    "d3": ("2026-01-03T00:00:00Z", [("widget", False)], []),
    "d4": ("2026-01-04T00:00:00Z", [("widget", True), ("gadget", False)], []),
    "d5": ("2026-01-05T00:00:00Z", [("widget", False)], []),
    "d6": ("2026-01-06T00:00:00Z", [("widget", False)], [("gadget", "widget")]),  # gadget lands on widget
    "d7": ("2026-01-07T00:00:00Z", [("widget", True)], []),
    "d8": ("2026-01-08T00:00:00Z", [("gadget", False)], []),  # on widget's page only through d6, never shown
}
PLAIN = ("d1", "d2", "d3", "d4", "d5", "d7")
KBS = HandMade(DOCS, settings={"page_sections": SHOWN})


def _page(wiki: dict[str, bytes], path: str) -> tuple[list[str], list[str], str]:
    meta, body = frontmatter.parse(wiki[path].decode())
    return sections.section_ids(body), meta["sources"], sections.overview_text(body)


def _linking(wiki: dict[str, bytes], target: str) -> list[str]:
    """The documents whose summary links `target`."""
    return sorted(path.split("/")[-1][:-3] for path, text in wiki.items()
                  if path.startswith("wiki/summaries/") and f"[[{target}|".encode() in text)


def test_a_page_shows_and_lists_its_first_sources_and_every_source_links_it(tmp_path):
    # d7 came first, d3 last: the page shows d1..d3, whichever came when
    wiki = KBS.kb_of(tmp_path / "kb", ("d7", "d5", "d1", "d4", "d2", "d3"))
    shown, sources, overview = _page(wiki, "wiki/concepts/widget.md")
    assert shown == sources == ["d1", "d2", "d3"]
    assert overview.startswith("**Widget** is discussed in more than 3 sources; the sections of the first 3 by "
                               "document id are below")
    assert _linking(wiki, "concepts/widget") == ["d1", "d2", "d3", "d4", "d5", "d7"]


def test_a_document_after_the_shown_ones_leaves_the_page_as_it_was(tmp_path):
    root = tmp_path / "kb"
    wiki = KBS.kb_of(root, ("d1", "d2", "d3"))
    assert _page(wiki, "wiki/concepts/widget.md")[2].startswith("**Widget** is discussed in 3 sources.")
    kb = KnowledgeBase.open(str(root))
    try:
        KBS.add(kb, "d4")  # the fourth source: the overview says there are more than it shows
        crowded = wiki_files(root)["wiki/concepts/widget.md"]
        overview = _page(wiki_files(root), "wiki/concepts/widget.md")[2]
        assert overview.startswith("**Widget** is discussed in more than 3")
        changed = []
        for doc in ("d5", "d7"):  # after the shown ones: the page is not even part of the change
            def build(view, doc=doc):
                changed.append(KBS.draft_mutation(view, doc))
                return changed[-1]

            kb.change(build)
        assert all("wiki/concepts/widget.md" not in m.writes for m in changed)
        assert wiki_files(root)["wiki/concepts/widget.md"] == crowded
        assert _linking(wiki_files(root), "concepts/widget") == ["d1", "d2", "d3", "d4", "d5", "d7"]
    finally:
        kb.close()


@pytest.mark.parametrize("docs", [PLAIN, (*PLAIN, "d6", "d8")])
def test_every_order_gives_the_same_wiki_and_remove_is_the_inverse_of_add(tmp_path, docs):
    # the shown documents first, last and between; removes of shown ones, the last shown one, and later ones
    orders = [docs[::-1], *(random.Random(seed).sample(docs, len(docs)) for seed in range(4))]
    KBS.check_orders_and_removes(tmp_path, docs, orders)


def test_an_other_name_moves_its_holders_onto_the_page_within_its_limit(tmp_path):
    wiki = KBS.kb_of(tmp_path / "kb", (*PLAIN, "d8", "d6"))
    assert "wiki/concepts/gadget.md" not in wiki
    shown, sources, _ = _page(wiki, "wiki/concepts/widget.md")
    assert shown == sources == ["d1", "d2", "d3"]
    assert _linking(wiki, "concepts/widget") == ["d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8"]
    # d2 holds widget itself: its widget row is the one shown (as Work.holder_rows chooses)
    assert "- d2 on widget." in wiki["wiki/concepts/widget.md"].decode()
    # without d6, gadget has its page again, and d8 is no source of widget's
    wiki = KBS.kb_of(tmp_path / "kb2", (*PLAIN, "d8"))
    assert _page(wiki, "wiki/concepts/gadget.md")[1] == ["d2", "d4", "d8"]
    assert "d8" not in _linking(wiki, "concepts/widget")


def test_undo_of_a_remove_brings_the_page_back_as_it_was(tmp_path):
    root = tmp_path / "kb"
    before = KBS.kb_of(root, PLAIN)
    kb = KnowledgeBase.open(str(root))
    try:
        remove(kb, "d2")  # shown: d4 comes on
        shown, sources, _ = _page(wiki_files(root), "wiki/concepts/widget.md")
        assert shown == ["d1", "d3", "d4"] and "d2" not in sources
        kb.undo()
    finally:
        kb.close()
    assert wiki_files(root) == before


@pytest.mark.parametrize("steps", [
    # d5 joins unshown, d4 (unshown) goes: the page never changes, yet undoing d5's add alone would leave "more
    # than 3" on a page of 3 sources
    [("add", "d5"), ("remove", "d4")],
    # d5 (unshown) goes, then d4 goes and the page says "3 sources": undoing d5's removal alone would leave that
    [("remove", "d5"), ("add", "d7"), ("remove", "d7"), ("remove", "d4")],
])
def test_undo_refuses_while_a_later_command_touched_a_page_an_unshown_source_left_as_it_was(tmp_path, steps):
    root = tmp_path / "kb"
    start = ("d1", "d2", "d3", "d4") + (("d5",) if steps[0][0] == "remove" else ())
    KBS.kb_of(root, start)
    kb = KnowledgeBase.open(str(root))
    try:
        ids = []
        for verb, doc in steps:
            with kb.command(f"{verb} {doc}"):
                KBS.add(kb, doc) if verb == "add" else remove(kb, doc)
            ids.append(kb.history().commands[0]["id"])
        with pytest.raises(UndoRefused, match=f"command {ids[-1]} changed wiki/concepts/widget.md"):
            kb.undo(ids[0])
        kb.undo(ids[-1])  # the newest can be undone: the wiki is that of the set before it
    finally:
        kb.close()
    present = set(start)
    for verb, doc in steps[:-1]:
        present = present | {doc} if verb == "add" else present - {doc}
    assert wiki_files(root) == KBS.kb_of(tmp_path / "fresh", sorted(present))
