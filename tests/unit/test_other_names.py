"""Other names a document declares ("X, a.k.a. Y") hold for the whole KB, and the wiki stays a function of the set
of documents: hand-made drafts landed through merge in every order, removed one by one, give the same files."""

from __future__ import annotations

import hashlib
import itertools
import os

import pytest

from wikismith.compile.draft import Contribution, Draft, OtherName, SourceInfo
from wikismith.kb import KnowledgeBase
from wikismith.wiki import merge

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


def _draft(doc: str) -> Draft:
    _when, held, others = DOCS[doc]
    source = SourceInfo(name=f"{doc}.md", origin="file", hash=hashlib.sha256(doc.encode()).hexdigest(),
                        kind="markdown")
    contributions = [Contribution(kind="concept", key=key, title=key.title(), section=f"- {doc} on {key}.",
                                  description=f"{doc} on {key}", strong=strong) for key, strong in held]
    return Draft(source=source, title=doc.upper(), description=f"about {doc}", key_points=[], body="",
                 source_markdown=f"# {doc}\n", contributions=contributions,
                 other_names=[OtherName("concept", other, other.title() + "s", term) for other, term in others])


def _add(kb, doc: str) -> None:
    kb.change(lambda view: merge.build_mutation(_draft(doc), view, when=DOCS[doc][0], raw_bytes=None).mutation)


def _remove(kb, doc: str) -> None:
    kb.change(lambda view: merge.build_removal(view.document(doc), view, when="2026-02-01T00:00:00Z"))


def _wiki(root) -> dict[str, bytes]:
    out = {}
    for folder, _dirs, files in os.walk(os.path.join(root, "wiki")):
        for name in files:
            path = os.path.join(folder, name)
            if name != "log.md":
                with open(path, "rb") as fh:
                    out[os.path.relpath(path, root)] = fh.read()
    return out


def _kb_of(root, docs) -> dict[str, bytes]:
    kb = KnowledgeBase.init(str(root))
    try:
        for doc in docs:
            _add(kb, doc)
    finally:
        kb.close()
    return _wiki(root)


@pytest.mark.parametrize("docs", [("d1", "d2", "d3", "d4"), ("d1", "d2", "d3", "d4", "d5"),
                                  ("d1", "d2", "d3", "d4", "d6"), ("r1", "r2", "r3"), ("r1", "r2", "r3", "r4")])
def test_every_order_gives_the_same_wiki_and_remove_is_the_inverse_of_add(tmp_path, docs):
    first = _kb_of(tmp_path / "sorted", docs)
    for n, order in enumerate(itertools.permutations(docs)):
        if n % 7 == 0:  # a spread of the orders: the declaring documents first, last and between
            assert _kb_of(tmp_path / f"order-{n}", order) == first, order
    for gone in docs:
        rest = [d for d in docs if d != gone]
        root = tmp_path / f"without-{gone}"
        expected = _kb_of(root, rest)
        full = tmp_path / f"then-remove-{gone}"
        _kb_of(full, docs)
        kb = KnowledgeBase.open(str(full))
        try:
            _remove(kb, gone)
        finally:
            kb.close()
        assert _wiki(full) == expected, gone


def test_the_other_name_lands_on_the_term_page(tmp_path):
    wiki = _kb_of(tmp_path / "kb", ("d1", "d2", "d3", "d4"))
    assert "wiki/concepts/gadget.md" not in wiki
    widget = wiki["wiki/concepts/widget.md"].decode()
    for doc in ("d1", "d2", "d3", "d4"):
        assert f"<!-- source:{doc} -->" in widget
        assert "[[concepts/widget|" in wiki[f"wiki/summaries/{doc}.md"].decode()
        assert "concepts/gadget" not in wiki[f"wiki/summaries/{doc}.md"].decode()
    assert "aliases:\n  - Gadget\n" in widget
    # without the declaring document, the other name has its page again
    wiki = _kb_of(tmp_path / "kb2", ("d1", "d2", "d3"))
    assert "wiki/concepts/gadget.md" in wiki and "source:d2" not in wiki["wiki/concepts/widget.md"].decode()


@pytest.mark.parametrize("docs, page", [(("r1", "r2", "r3"), "gamma"), (("r1", "r2", "r3", "r4"), "alpha")])
def test_a_chain_or_ring_of_other_names_loses_no_section(tmp_path, docs, page):
    wiki = _kb_of(tmp_path / "kb", docs)
    concepts = sorted(p for p in wiki if p.startswith("wiki/concepts/"))
    assert concepts == [f"wiki/concepts/{page}.md"]  # the chain ends on its last term, a ring on its first page
    body = wiki[concepts[0]].decode()
    for doc in docs:
        assert f"<!-- source:{doc} -->" in body, doc
        assert f"[[concepts/{page}|" in wiki[f"wiki/summaries/{doc}.md"].decode()
