"""`recompile`: rebuild documents' contributions from their stored sources, one transaction per document.

For after an upgrade of the compiler, after switching from offline to a model, or after a page was deleted by hand.
The source is the original in raw/ when there is one, else the converted text the KB kept (`wiki/sources/<id>.md`,
with its tree): a PageIndex Cloud document is recompiled without the network. Your notes outside the markers stay.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from wikismith import clock
from wikismith.errors import WikismithError
from wikismith.ops.remove import documents


@dataclass
class RecompileReport:
    dry_run: bool
    documents: list[dict] = field(default_factory=list)  # id, status (recompiled, unchanged, failed, would-...)
    overviews: dict | None = None

    @property
    def failed(self) -> bool:
        return any(d["status"] == "failed" for d in self.documents)

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "documents": self.documents, "overviews": self.overviews}


def chosen(store, names: list[str], every: bool, cwd: str | None = None) -> list[dict]:
    if every:
        with store.snapshot() as view:
            return sorted(view.documents(), key=lambda d: (d["added_at"], d["id"]))
    return documents(store, names, cwd, explorations=False)


def recompile(store, names: list[str], *, every: bool = False, dry_run: bool = False, cwd: str | None = None,
              confirm=None, progress=None) -> RecompileReport:
    from wikismith import config, envfile
    from wikismith.ingest import Limits
    from wikismith.ops.add.model import Model

    docs = chosen(store, names, every, cwd)
    cfg = config.load(store.root)
    model = Model.for_config(cfg, envfile.environment(store.root), connect=not dry_run)
    report = RecompileReport(dry_run)
    if dry_run:
        for doc in docs:
            entry = {"id": doc["id"], "name": doc["name"], "status": "would-recompile"}
            if model is not None:
                entry["usage"] = model.estimate(int(json.loads(doc["meta"] or "{}").get("size") or 0))
            report.documents.append(entry)
        return report
    if confirm is not None and not confirm(docs):
        return report
    limits = Limits.from_config(cfg)
    for index, doc in enumerate(docs, 1):
        if progress:
            progress(index, len(docs), doc["id"], "recompiling")
        try:
            txn, usage = recompile_one(store, doc, limits, model)
        except WikismithError as exc:
            report.documents.append({"id": doc["id"], "name": doc["name"], "status": "failed", "detail": str(exc)})
            continue
        entry = {"id": doc["id"], "name": doc["name"], "status": "recompiled" if txn else "unchanged"}
        if usage is not None:
            entry["usage"] = usage
        report.documents.append(entry)
    if model is not None and model.touched:
        report.overviews = model.refresh_overviews(store)
    return report


def recompile_one(store, doc: dict, limits, model) -> tuple[str | None, dict | None]:
    """One document, one transaction: a fresh draft of its stored source merged in place of its old one."""
    from wikismith.compile.extractive import compile_document
    from wikismith.wiki.merge import build_recompile

    converted, source = stored_source(store, doc, limits)
    usage = None
    if model is None:
        draft = compile_document(converted, source)
    else:
        draft, usage = model.compile(store, converted, source)
    built = []

    def build(view):
        fresh = view.document(doc["id"])
        if fresh is None:
            raise WikismithError(f"{doc['id']}: removed meanwhile by another command")
        built.append(build_recompile(draft, fresh, view, when=clock.now_iso()))
        return built[-1]

    txn = store.change(build)
    if model is not None and built:
        model.note_sections(draft, built[-1])
    return txn, usage


def stored_source(store, doc: dict, limits):
    """(ConvertedDocument, SourceInfo) of a document from what the KB keeps of it."""
    from wikismith.compile.draft import SourceInfo
    from wikismith.ingest import convert

    meta = json.loads(doc["meta"] or "{}")
    raw = doc.get("raw_path")
    if raw and os.path.isfile(store.path(raw)):
        converted = convert(store.path(raw), limits)
        raw_file = store.path(raw)
    else:
        converted = _from_source_page(store, doc, meta)
        raw_file = None
    source = SourceInfo(name=doc["name"], origin=doc["origin"], hash=doc["hash"], kind=doc["kind"],
                        source_path=doc["source_path"], raw_file=raw_file, size=int(meta.get("size") or 0))
    return converted, source


def _from_source_page(store, doc: dict, meta: dict):
    from wikismith.ingest import ConvertedDocument
    from wikismith.ingest.document import TreeNode
    from wikismith.wiki import frontmatter, pages

    path = store.path(pages.page_path("source", doc["id"]))
    try:
        with open(path, encoding="utf-8") as fh:
            page_meta, body = frontmatter.parse(fh.read())
    except FileNotFoundError:
        raise WikismithError(f"{doc['id']}: neither its original in raw/ nor its converted text "
                             f"({pages.page_path('source', doc['id'])}) is left to recompile from") from None
    title = str(page_meta.get("title") or meta.get("title") or doc["name"])
    lines = body.lstrip("\n").split("\n", 1)
    text = lines[1].lstrip("\n") if lines[0].startswith("# ") and len(lines) > 1 else body
    own = {key: value for key, value in page_meta.items() if key not in pages.SOURCE_KEYS}
    if own:  # the document's own metadata (a PEP's header) goes back in front of its text
        text = frontmatter.render(own) + "\n" + text
    tree = None
    try:
        with open(store.path(pages.tree_path(doc["id"])), encoding="utf-8") as fh:
            tree = _tree(json.load(fh), TreeNode)
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        tree = None
    return ConvertedDocument(title=title, kind=doc["kind"], markdown=text, tree=tree,
                             page_count=meta.get("page_count"))


def _tree(node: dict, cls):
    return cls(id=node["id"], title=node["title"], first_page=node["first_page"], last_page=node["last_page"],
               summary=node.get("summary", ""), children=[_tree(c, cls) for c in node.get("children", [])])
