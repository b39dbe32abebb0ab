"""Hand-made drafts landed through merge: small KBs for the tests of the rule that the offline wiki is a function
of the set of documents (every order of adds gives the same files, and remove is the inverse of add)."""

from __future__ import annotations

import hashlib
import os

from wikismith.compile.draft import Contribution, Draft, OtherName, SourceInfo
from wikismith.kb import KnowledgeBase
from wikismith.wiki import merge

REMOVED_AT = "2026-02-01T00:00:00Z"


class HandMade:
    """`docs`: document -> (added at, [(concept key, strong)], [(other name, term)]); `settings` for each KB.
    A key held with strong None is a mention: the document uses the name and joins its page, if there is one."""

    def __init__(self, docs: dict[str, tuple[str, list, list]], settings: dict | None = None):
        self.docs = docs
        self.settings = settings

    def draft(self, doc: str) -> Draft:
        _when, held, others = self.docs[doc]
        source = SourceInfo(name=f"{doc}.md", origin="file", hash=hashlib.sha256(doc.encode()).hexdigest(),
                            kind="markdown")
        contributions = [Contribution(kind="concept", key=key, title=key.title(), section=f"- {doc} on {key}.",
                                      description=f"{doc} on {key}", strong=strong) for key, strong in held
                         if strong is not None]
        mentions = [Contribution(kind="concept", key=key, title="", section=f"- {doc} mentions {key}.",
                                 description=f"{doc} mentions {key}", strong=False) for key, strong in held
                    if strong is None]
        return Draft(source=source, title=doc.upper(), description=f"about {doc}", key_points=[], body="",
                     source_markdown=f"# {doc}\n", contributions=contributions,
                     other_names=[OtherName("concept", other, other.title() + "s", term) for other, term in others],
                     mentions=mentions)

    def draft_mutation(self, view, doc: str):
        return merge.build_mutation(self.draft(doc), view, when=self.docs[doc][0], raw_bytes=None).mutation

    def add(self, kb, doc: str) -> None:
        kb.change(lambda view: self.draft_mutation(view, doc))

    def kb_of(self, root, docs) -> dict[str, bytes]:
        """The wiki of a new KB at `root` with `docs` added in that order."""
        kb = KnowledgeBase.init(str(root), settings=self.settings)
        try:
            for doc in docs:
                self.add(kb, doc)
        finally:
            kb.close()
        return wiki_files(root)

    def check_orders_and_removes(self, tmp_path, docs, orders) -> None:
        """Each order in `orders` gives the wiki of `docs` in the given order, and removing any one document gives
        the wiki of the others."""
        first = self.kb_of(tmp_path / "given", docs)
        for n, order in enumerate(orders):
            assert self.kb_of(tmp_path / f"order-{n}", order) == first, order
        for gone in docs:
            expected = self.kb_of(tmp_path / f"without-{gone}", [d for d in docs if d != gone])
            full = tmp_path / f"then-remove-{gone}"
            self.kb_of(full, docs)
            kb = KnowledgeBase.open(str(full))
            try:
                remove(kb, gone)
            finally:
                kb.close()
            assert wiki_files(full) == expected, gone


def remove(kb, doc: str) -> None:
    kb.change(lambda view: merge.build_removal(view.document(doc), view, when=REMOVED_AT))


def wiki_files(root) -> dict[str, bytes]:
    """Every file under wiki/ but log.md, by path."""
    out = {}
    for folder, _dirs, files in os.walk(os.path.join(root, "wiki")):
        for name in files:
            if name != "log.md":
                with open(os.path.join(folder, name), "rb") as fh:
                    out[os.path.relpath(os.path.join(folder, name), root)] = fh.read()
    return out
