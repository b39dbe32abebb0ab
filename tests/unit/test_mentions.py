"""A document that uses a page's name without making it one of its topics (a mention) joins that page when it
exists: it is among the page's sources, with its sentences under "Mentioned in". A mention never makes a page
exist, its summary does not link the page, and the wiki stays a function of the set of documents."""

from __future__ import annotations

import itertools

from handmade import HandMade, remove, wiki_files

from wikismith.kb import KnowledgeBase
from wikismith.wiki import frontmatter, sections

# document -> (added at, [(concept key, strong; None: a mention)], [(other name, term)])
DOCS = {
    "a1": ("2026-01-01T00:00:00Z", [("lens", None), ("prism", None)], []),
    "b2": ("2026-01-02T00:00:00Z", [("lens", False), ("mirror", None)], []),
    "c3": ("2026-01-03T00:00:00Z", [("lens", None), ("mirror", True)], []),
    "d4": ("2026-01-04T00:00:00Z", [("prism", None), ("lens", False), ("optic", False)], [("optics", "optic")]),
    "e5": ("2026-01-05T00:00:00Z", [("optics", None), ("prism", True)], []),
}
KBS = HandMade(DOCS, settings={"page_sections": 3})


def _page(wiki: dict[str, bytes], path: str) -> tuple[list[str], str, str]:
    meta, body = frontmatter.parse(wiki[path].decode())
    return meta["sources"], body, meta["description"]


def _linking(wiki: dict[str, bytes], target: str) -> list[str]:
    return sorted(path.split("/")[-1][:-3] for path, text in wiki.items()
                  if path.startswith("wiki/summaries/") and f"[[{target}|".encode() in text)


def test_mentions_never_make_a_page_exist(tmp_path):
    wiki = KBS.kb_of(tmp_path / "kb", ("a1", "b2", "c3"))
    # "lens": named by b2 alone (not strong), mentioned by a1 and c3: three holders, but no page
    assert "wiki/concepts/lens.md" not in wiki
    assert "wiki/concepts/prism.md" not in wiki  # mentioned by a1 only


def test_a_page_that_comes_to_exist_gathers_its_mentions_and_only_namers_link_it(tmp_path):
    wiki = KBS.kb_of(tmp_path / "kb", ("c3", "d4", "a1", "b2"))
    # b2 and d4 name "lens": it exists, and a1 and c3, which mention it, are among its sources
    sources, body, description = _page(wiki, "wiki/concepts/lens.md")
    assert sources == ["a1", "b2", "c3"]  # the first three by id (page_sections 3); d4 comes after them
    assert "## Mentioned in [[summaries/a1|A1]]" in body and "## From [[summaries/b2|B2]]" in body
    assert "## Mentioned in [[summaries/c3|C3]]" in body
    # the overview and description quote a document about it before one that only mentions it
    assert description == "b2 on lens."
    assert "b2 on lens." in sections.overview_text(body)
    assert _linking(wiki, "concepts/lens") == ["b2", "d4"]
    # "mirror" exists through c3 (strong): b2's mention joins it, and b2's summary does not link it
    assert _page(wiki, "wiki/concepts/mirror.md")[0] == ["b2", "c3"]
    assert _linking(wiki, "concepts/mirror") == ["c3"]


def test_a_mention_of_an_other_name_lands_on_the_terms_page(tmp_path):
    wiki = KBS.kb_of(tmp_path / "kb", ("e5", "d4"))
    # d4 names "optic" (not strong, alone: no page) and declares "optics" another name of it; e5 mentions
    # "optics": the page still does not exist, since a mention makes nothing exist
    assert "wiki/concepts/optic.md" not in wiki and "wiki/concepts/optics.md" not in wiki
    # "prism": e5 holds it strong, d4 mentions it
    assert _page(wiki, "wiki/concepts/prism.md")[0] == ["d4", "e5"]


def test_every_order_gives_the_same_wiki_and_remove_is_the_inverse_of_add(tmp_path):
    docs = tuple(DOCS)
    orders = [tuple(reversed(docs)), ("c3", "a1", "e5", "b2", "d4"), ("d4", "b2", "e5", "c3", "a1")]
    KBS.check_orders_and_removes(tmp_path, docs, orders)


def test_removing_the_last_namer_takes_the_page_and_its_mentions_away(tmp_path):
    root = tmp_path / "kb"
    KBS.kb_of(root, ("a1", "b2", "d4"))
    assert _page(wiki_files(root), "wiki/concepts/lens.md")[0] == ["a1", "b2", "d4"]
    kb = KnowledgeBase.open(str(root))
    try:
        remove(kb, "d4")
    finally:
        kb.close()
    wiki = wiki_files(root)
    assert "wiki/concepts/lens.md" not in wiki
    assert wiki == KBS.kb_of(tmp_path / "without", ("a1", "b2"))


def test_every_order_of_three_gives_one_wiki(tmp_path):
    for n, trio in enumerate([("a1", "b2", "d4"), ("b2", "c3", "e5")]):  # a page made by two namers; by one strong
        first = KBS.kb_of(tmp_path / f"{n}-given", trio)
        for m, order in enumerate(itertools.permutations(trio)):
            assert KBS.kb_of(tmp_path / f"{n}-{m}", order) == first, order


def test_a_document_naming_a_page_by_an_other_name_is_shown_as_about_it_not_as_mentioning_it(tmp_path):
    docs = {"x1": ("2026-01-01T00:00:00Z", [("optic", True)], [("optics", "optic")]),
            "y2": ("2026-01-02T00:00:00Z", [("optic", None), ("optics", False)], [])}
    kbs = HandMade(docs)
    for order in (("x1", "y2"), ("y2", "x1")):
        wiki = kbs.kb_of(tmp_path / "-".join(order), order)
        sources, body, _ = _page(wiki, "wiki/concepts/optic.md")
        assert sources == ["x1", "y2"]
        assert "## From [[summaries/y2|Y2]]" in body and "Mentioned in" not in body
        assert _linking(wiki, "concepts/optic") == ["x1", "y2"]


def test_undo_of_a_mentioning_add_is_refused_while_a_later_add_shows_its_section(tmp_path):
    from wikismith.ops.history import UndoRefused

    root = tmp_path / "kb"
    KBS.kb_of(root, ())
    kb = KnowledgeBase.open(str(root))
    try:
        ids = []
        for doc in ("a1", "b2", "d4"):  # d4 makes "lens" exist, with a1's mention on it
            with kb.command(f"add {doc}"):
                KBS.add(kb, doc)
            ids.append(kb.history().commands[0]["id"])
        assert "## Mentioned in [[summaries/a1|A1]]" in wiki_files(root)["wiki/concepts/lens.md"].decode()
        try:
            kb.undo(ids[0])
        except UndoRefused as refused:
            assert "wiki/summaries/a1.md" in str(refused)
        else:
            raise AssertionError("undoing a1's add would leave its section on the lens page")
        kb.undo(ids[2])  # the newest: lens goes again, with a1's section
    finally:
        kb.close()
    assert wiki_files(root) == KBS.kb_of(tmp_path / "a1-b2", ("a1", "b2"))


def test_a_section_an_other_name_brings_on_during_its_own_add_is_labelled_with_its_title(tmp_path):
    # d3 declares kc another name of ka: kc's holder d1 leaves kb's group, and d3's own section on kb comes on
    docs = {"d0": ("2026-01-01T00:00:00Z", [("kb", False)], [("kc", "kb")]),
            "d1": ("2026-01-02T00:00:00Z", [("kc", False)], []),
            "d2": ("2026-01-03T00:00:00Z", [("kb", True)], []),
            "d3": ("2026-01-04T00:00:00Z", [("ka", False), ("kb", None)], [("kc", "ka")]),
            "d4": ("2026-01-05T00:00:00Z", [("ka", False)], [])}
    kbs = HandMade(docs, settings={"page_sections": 3})
    first = kbs.kb_of(tmp_path / "a", ("d1", "d2", "d0", "d3", "d4"))
    assert first == kbs.kb_of(tmp_path / "b", ("d3", "d0", "d1", "d2", "d4"))
    assert "[[summaries/d3|D3]]" in first["wiki/concepts/kb.md"].decode()
