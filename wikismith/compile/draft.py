"""Draft: what a compiler makes of one document, before it meets the KB.

A Draft is a plain value, built slowly and without the lock (an extractive pass, or minutes of LLM calls). Under the
lock, wiki/merge.py turns it into a Mutation against the KB as it is at that instant: concept and entity pages get
this document's section upserted into whatever they hold then, so drafts prepared in parallel never overwrite each
other.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SourceInfo:
    """Where a document came from and what its bytes are."""

    name: str  # what the user knows it by: the file name, or a URL's last part
    origin: str  # "file", a URL, or "pageindex-cloud:<id>"
    hash: str  # sha256 of the raw bytes (or of the cloud document's content)
    kind: str  # pdf, markdown, html, docx, ...
    source_path: str | None = None  # absolute path as added, to recognise a re-add of an edited file
    raw_file: str | None = None  # where to read the bytes to keep under raw/ (None: no raw copy)
    size: int = 0


@dataclass(frozen=True)
class Contribution:
    """This document's part of one concept or entity page."""

    kind: str  # "concept" or "entity"
    key: str  # the normalised name: "type hint" for "Type Hints", "type-hints", ...
    title: str  # the display name for a new page
    section: str  # markdown: what this document says about it
    description: str  # one line, used when the page is new
    strong: bool  # True: make the page if it does not exist; False: only add to an existing page
    # "" : merge derives the overview from the sections; None: keep the page's overview (a batch refresh follows)
    overview: str | None = ""


@dataclass(frozen=True)
class OtherName:
    """The document's word that one of its names is another name of one of its terms ("X, a.k.a. Y")."""

    kind: str  # "concept" or "entity", the same for both
    key: str  # the other name, normalised
    title: str  # the other name as the document writes it
    term: str  # the term's key (the document has a contribution for it)


@dataclass
class Draft:
    source: SourceInfo
    title: str
    description: str
    key_points: list[str]
    body: str  # the summary page's prose under its heading (may be empty for the extractive compiler)
    source_markdown: str  # the converted document, page markers included
    outline: list[tuple[int, str, int | None]] = field(default_factory=list)  # (level, title, page)
    tree: dict | None = None  # the long-document tree (TreeNode.to_dict()), or None
    contributions: list[Contribution] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    page_count: int | None = None
    other_names: list[OtherName] = field(default_factory=list)
    # Topics the document uses but does not make its own: each joins the concept page of its key when that page
    # exists (a document that talks about traits is among the sources of "Trait"), and never makes one exist.
    mentions: list[Contribution] = field(default_factory=list)
