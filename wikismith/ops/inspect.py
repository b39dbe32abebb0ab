"""`status` and `list`: what the KB holds, read from one committed snapshot, never waiting for a writer."""

from __future__ import annotations

import json
from dataclasses import dataclass

from wikismith import config


@dataclass
class StatusReport:
    root: str
    documents: int
    pages: dict[str, int]
    pending: list[dict]
    dirty_reason: str | None
    model: str
    schema_version: int

    def as_dict(self) -> dict:
        return {"root": self.root, "documents": self.documents, "pages": self.pages,
                "pages_total": sum(self.pages.values()), "pending_transactions": self.pending,
                "dirty": self.dirty_reason is not None, "dirty_reason": self.dirty_reason, "model": self.model,
                "schema_version": self.schema_version}


@dataclass
class ListingReport:
    documents: list[dict]
    pages: dict[str, list[dict]] | None = None  # by kind, when asked for

    def as_dict(self) -> dict:
        out = {"documents": self.documents}
        if self.pages is not None:
            out["pages"] = self.pages
        return out


def status(store) -> StatusReport:
    with store.snapshot() as view:
        return StatusReport(root=store.root, documents=view.document_count(), pages=view.page_counts(),
                            pending=[{"id": t, "state": s, "label": label} for t, s, label in view.pending()],
                            dirty_reason=view.dirty_reason(), model=str(config.load(store.root).get("model")),
                            schema_version=view.schema_version())


def listing(store, *, pages: bool = False) -> ListingReport:
    with store.snapshot() as view:
        documents = [_document(doc) for doc in view.documents()]
        by_kind: dict[str, list[dict]] | None = None
        if pages:
            by_kind = {}
            for kind, path, title in view.pages():
                by_kind.setdefault(kind, []).append({"path": path, "title": title})
    return ListingReport(documents, by_kind)


def _document(doc: dict) -> dict:
    """What a user needs to tell documents apart: the id, and where it came from with its folder (`source`: the
    path it was added from, or its URL or cloud id), besides its name, kind and hash."""
    try:
        title = json.loads(doc["meta"] or "{}").get("title")
    except ValueError:
        title = None
    return {"id": doc["id"], "name": doc["name"], "title": title, "kind": doc["kind"], "hash": doc["hash"],
            "origin": doc["origin"], "source": doc["source_path"] or doc["origin"], "added_at": doc["added_at"],
            "raw_path": doc["raw_path"], "pages": doc["pages"]}
