"""The values the conversion layer hands to the rest of wikismith: a converted document, its outline and tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wikismith.errors import WikismithError


class ConversionError(WikismithError):
    """A source file that cannot be converted. `str()` is one line: the file, then the reason."""

    exit_code = 1

    def __init__(self, path: str, reason: str):
        self.path = str(path)
        self.reason = " ".join(str(reason).split()) or "conversion failed"
        shown = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in self.path)  # keep it on one line
        super().__init__(f"{shown}: {self.reason}")

    def __reduce__(self):
        return (type(self), (self.path, self.reason))


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 200 * 1024 * 1024
    timeout_s: float = 120.0
    max_text_chars: int = 50 * 1024 * 1024
    long_document_pages: int = 20

    @classmethod
    def from_config(cls, values: dict[str, Any]) -> "Limits":
        """Build limits from the KB settings (`max_file_mb`, `convert_timeout`, `max_text_mb`, `long_document_pages`)."""
        default = cls()
        mb = 1024 * 1024
        return cls(
            max_file_bytes=int(float(values.get("max_file_mb", default.max_file_bytes / mb)) * mb),
            timeout_s=float(values.get("convert_timeout", default.timeout_s)),
            max_text_chars=int(float(values.get("max_text_mb", default.max_text_chars / mb)) * mb),
            long_document_pages=int(values.get("long_document_pages", default.long_document_pages)),
        )


@dataclass
class OutlineEntry:
    level: int  # 1 = top level
    title: str
    page: int | None  # 1-based; None for documents without pages

    def to_dict(self) -> dict:
        return {"level": self.level, "title": self.title, "page": self.page}


@dataclass
class TreeNode:
    """One node of a long document's tree index.

    Pages are 1-based and inclusive. The children of a node partition its range, so the leaves cover every page of
    the document exactly once. For documents without pages the "pages" are heading sections numbered 1..n
    (see `ConvertedDocument.tree_unit`).
    """

    id: str
    title: str
    first_page: int
    last_page: int
    summary: str = ""
    children: list["TreeNode"] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "first_page": self.first_page,
            "last_page": self.last_page,
            "summary": self.summary,
            "children": [child.to_dict() for child in self.children],
        }

    def walk(self):
        """This node and every descendant, depth first, in document order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def leaves(self) -> list["TreeNode"]:
        return [node for node in self.walk() if not node.children]


@dataclass
class ConvertedDocument:
    title: str
    kind: str
    markdown: str  # paged documents: every page starts with a line `<!-- page N -->`
    pages: list[str] | None = None  # per-page plain text of paged documents (PDF)
    outline: list[OutlineEntry] = field(default_factory=list)
    tree: TreeNode | None = None
    warnings: list[str] = field(default_factory=list)
    page_count: int | None = None  # paged documents only
    # What the tree's page numbers count: "page" (PDF pages) or "section" (heading sections, see `sections`).
    tree_unit: str | None = None
    # For a tree over heading sections: the markdown of section 1..n (index 0 is section 1).
    sections: list[str] | None = None

    def to_dict(self) -> dict:
        """Everything but the full text, JSON-able, in a stable key order."""
        return {
            "title": self.title,
            "kind": self.kind,
            "page_count": self.page_count,
            "outline": [entry.to_dict() for entry in self.outline],
            "tree_unit": self.tree_unit,
            "tree": self.tree.to_dict() if self.tree else None,
            "warnings": list(self.warnings),
        }
