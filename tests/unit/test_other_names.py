"""Other names a document declares ("X, a.k.a. Y") hold for the whole KB, and the wiki stays a function of the set
of documents: hand-made drafts landed through merge in every order, removed one by one, give the same files."""

from __future__ import annotations

import itertools

import pytest
from handmade import HandMade

# document -> (added at, [(concept key, strong)], [(other name, term)])
DOCS = {
    "d1": ("2026-01-01T00:00:00Z", [("widget", True), ("gizmo", False), ("sprocket", True)], []),
    "d2": ("2026-01-02T00:00:00Z", [("gadget", True), ("sprocket", False)], []),
    "d3": ("2026-01-03T00:00:00Z", [("gadget", False), ("gizmo", True)], []),
    "d4": ("2026-01-04T00:00:00Z", [("widget", False), ("cog", True)], [("gadget", "widget")]),
    "d5": ("2026-01-05T00:00:00Z", [("gadget", False), ("lever", True)], [("gizmo", "gadget")]),  # a chain
    "d6": ("2026-01-06T00:00:00Z", [("cog", False), ("lever", True)], [("gadget", "cog")]),  # a second term
}
# a chain (alpha a.k.a. beta's, beta a.k.a. gamma's) and, with r4, a ring back to alpha
RING = {
    "r1": ("2026-01-01T00:00:00Z", [("alpha", True)], []),
    "r2": ("2026-01-02T00:00:00Z", [("beta", True)], [("alpha", "beta")]),
    "r3": ("2026-01-03T00:00:00Z", [("gamma", True)], [("beta", "gamma")]),
    "r4": ("2026-01-04T00:00:00Z", [("alpha", True)], [("gamma", "alpha")]),
}
DOCS.update(RING)


KBS = HandMade(DOCS)


@pytest.mark.parametrize("docs", [("d1", "d2", "d3", "d4"), ("d1", "d2", "d3", "d4", "d5"),
                                  ("d1", "d2", "d3", "d4", "d6"), ("r1", "r2", "r3"), ("r1", "r2", "r3", "r4")])
def test_every_order_gives_the_same_wiki_and_remove_is_the_inverse_of_add(tmp_path, docs):
    # a spread of the orders: the declaring documents first, last and between
    orders = [order for n, order in enumerate(itertools.permutations(docs)) if n % 7 == 0]
    KBS.check_orders_and_removes(tmp_path, docs, orders)


def test_the_other_name_lands_on_the_term_page(tmp_path):
    wiki = KBS.kb_of(tmp_path / "kb", ("d1", "d2", "d3", "d4"))
    assert "wiki/concepts/gadget.md" not in wiki
    widget = wiki["wiki/concepts/widget.md"].decode()
    for doc in ("d1", "d2", "d3", "d4"):
        assert f"<!-- source:{doc} -->" in widget
        assert "[[concepts/widget|" in wiki[f"wiki/summaries/{doc}.md"].decode()
        assert "concepts/gadget" not in wiki[f"wiki/summaries/{doc}.md"].decode()
    assert "aliases:\n  - Gadget\n" in widget
    # without the declaring document, the other name has its page again
    wiki = KBS.kb_of(tmp_path / "kb2", ("d1", "d2", "d3"))
    assert "wiki/concepts/gadget.md" in wiki and "source:d2" not in wiki["wiki/concepts/widget.md"].decode()


@pytest.mark.parametrize("docs, page", [(("r1", "r2", "r3"), "gamma"), (("r1", "r2", "r3", "r4"), "alpha")])
def test_a_chain_or_ring_of_other_names_loses_no_section(tmp_path, docs, page):
    wiki = KBS.kb_of(tmp_path / "kb", docs)
    concepts = sorted(p for p in wiki if p.startswith("wiki/concepts/"))
    assert concepts == [f"wiki/concepts/{page}.md"]  # the chain ends on its last term, a ring on its first page
    body = wiki[concepts[0]].decode()
    for doc in docs:
        assert f"<!-- source:{doc} -->" in body, doc
        assert f"[[concepts/{page}|" in wiki[f"wiki/summaries/{doc}.md"].decode()
