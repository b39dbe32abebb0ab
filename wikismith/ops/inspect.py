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
                "dirty": self.dirty_reason, "model": self.model,
                "schema_version": self.schema_version}


@dataclass
class ListingReport:
    documents: list[dict]
    pages: dict[str, list[dict]]  # by kind

    def as_dict(self) -> dict:
        return {"documents": self.documents, "pages": self.pages}


def status(store) -> StatusReport:
    with store.snapshot() as view:
        return StatusReport(root=store.root, documents=view.document_count(), pages=view.page_counts(),
                            pending=[{"id": t, "state": s, "label": label} for t, s, label in view.pending()],
                            dirty_reason=view.dirty_reason(), model=str(config.load(store.root).get("model")),
                            schema_version=view.schema_version())


def listing(store) -> ListingReport:
    with store.snapshot() as view:
        documents = [_document(doc) for doc in view.documents()]
        by_kind: dict[str, list[dict]] = {}
        for kind, path, title in view.pages():
            by_kind.setdefault(kind, []).append({"path": path, "title": title})
    return ListingReport(documents, by_kind)


def _document(doc: dict) -> dict:
    return {"id": doc["id"], "name": doc["name"], "kind": doc["kind"], "hash": doc["hash"], "origin": doc["origin"],
            "added_at": doc["added_at"], "raw_path": doc["raw_path"], "pages": doc["pages"]}
