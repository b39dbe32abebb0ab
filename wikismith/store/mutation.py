"""Mutation: the plain value that every KB-changing command computes and the store applies.

It holds KB-relative paths only, and does no I/O. Paths are checked here so that nothing a document or a model
produces can name a file outside the KB.
"""

from __future__ import annotations

import posixpath
import unicodedata
from dataclasses import dataclass, field

from wikismith.errors import WikismithError

# Where a Mutation may write: the documents, the wiki, and the KB's own config file.
WRITABLE_ROOTS = ("raw/", "wiki/")
WRITABLE_FILES = (".wikismith/config.toml",)


class InvalidPath(WikismithError):
    exit_code = 2


def check_relpath(path: str) -> str:
    """Return `path` if it is a clean KB-relative path inside a writable root; raise InvalidPath otherwise."""
    if not isinstance(path, str) or not path:
        raise InvalidPath(f"invalid path {path!r}: empty")
    if "\\" in path or "\x00" in path or path.startswith("/"):
        raise InvalidPath(f"invalid path {path!r}: must be relative, with '/' separators")
    if posixpath.normpath(path) != path or any(part in ("", ".", "..") for part in path.split("/")):
        raise InvalidPath(f"invalid path {path!r}: must not contain '..', '.' or empty parts")
    if unicodedata.normalize("NFC", path) != path:
        raise InvalidPath(f"invalid path {path!r}: must be NFC-normalised")
    if not (path.startswith(WRITABLE_ROOTS) or path in WRITABLE_FILES):
        raise InvalidPath(f"invalid path {path!r}: outside raw/, wiki/ and .wikismith/config.toml")
    return path


@dataclass(frozen=True)
class DocumentRow:
    """One document in the registry."""

    id: str
    name: str
    kind: str
    hash: str
    origin: str
    added_at: str
    source_path: str | None = None
    raw_path: str | None = None
    meta: str = "{}"  # JSON text, kept opaque by the store


DOCUMENT_COLUMNS = ("id", "name", "kind", "hash", "origin", "added_at", "source_path", "raw_path", "meta")


@dataclass(frozen=True)
class PageRow:
    """One wiki page in the registry and the full-text index."""

    path: str
    kind: str
    title: str
    updated_at: str
    description: str = ""
    body: str = ""
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class CandidateRow:
    """One document's candidate for one concept or entity page: the page exists when a document holds it strong or
    two documents hold it, and then every document holding it has its section there."""

    document: str
    page: str
    kind: str
    title: str  # how this document names it
    strong: bool
    section: str  # this document's section on the page (markdown)
    description: str


CANDIDATE_COLUMNS = ("document", "page", "kind", "title", "strong", "section", "description")


@dataclass
class Mutation:
    """Everything one transaction changes. Build it slowly; the store applies it in milliseconds."""

    label: str
    writes: dict[str, bytes] = field(default_factory=dict)
    deletes: set[str] = field(default_factory=set)
    appends: dict[str, bytes] = field(default_factory=dict)
    put_documents: list[DocumentRow] = field(default_factory=list)
    drop_documents: set[str] = field(default_factory=set)
    put_pages: list[PageRow] = field(default_factory=list)
    drop_pages: set[str] = field(default_factory=set)
    put_candidates: dict[str, list[CandidateRow]] = field(default_factory=dict)  # a document's candidates, all
    drop_candidates: set[str] = field(default_factory=set)  # documents whose candidates go
    # Files left as they are that still depend on what this change does (a busy page a document joins without
    # being shown): history records them like files written, so that undo refuses while a later command touched one.
    keeps: set[str] = field(default_factory=set)

    def validate(self) -> None:
        for path in (*self.writes, *self.deletes, *self.appends, *self.keeps):
            check_relpath(path)
        clash = (set(self.writes) & self.deletes) | (set(self.writes) & set(self.appends)) | (
            self.deletes & set(self.appends)
        )
        if clash:
            raise InvalidPath(f"a mutation names {sorted(clash)[0]!r} twice (write, delete and append exclude each other)")
        for row in self.put_pages:
            check_relpath(row.path)
        for rows in self.put_candidates.values():
            for candidate in rows:
                check_relpath(candidate.page)
        put = {row.path for row in self.put_pages}
        if put & self.drop_pages:
            raise InvalidPath(f"a mutation both puts and drops page {sorted(put & self.drop_pages)[0]!r}")

    def is_empty(self) -> bool:
        return not (
            self.writes or self.deletes or self.appends or self.put_documents or self.drop_documents
            or self.put_pages or self.drop_pages or self.put_candidates or self.drop_candidates
        )
