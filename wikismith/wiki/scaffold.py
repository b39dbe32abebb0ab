"""The files a new knowledge base starts with: the schema page, an empty catalogue, and the log."""

from __future__ import annotations

AGENTS_MD = """\
---
type: schema
title: How this wiki is organised
description: "The page kinds of this wiki and the rules its compiler follows (yours to edit)"
---

# How this wiki is organised

This folder is a wiki compiled by wikismith from the documents in `../raw/`. It is plain Markdown with
`[[wikilinks]]` and YAML front matter, so any Markdown editor can read it and Obsidian opens it as a vault.

## Page kinds

- `sources/` - each document converted to Markdown, with page markers for PDFs and a tree for long documents.
- `summaries/` - one page per document: what it is, its key points, its outline, and links to what it touches.
- `concepts/` - ideas that recur across documents. A short overview, then one section per source document.
- `entities/` - people, organisations, products, standards, identifiers; built like concept pages.
- `explorations/` - answers to questions, saved with `wikismith query --save` or `/save` in `wikismith chat`.
- `reports/` - reports of checks, saved as pages.

## Rules the compiler follows

- Every page starts with front matter: `type`, `title`, `description`, `sources` (this file, `index.md`, the
  catalogue pages under `index/` and `log.md` too: `type`, `title`, `description`).
- A section on a concept or entity page belongs to exactly one source document and cites its summary page.
  A page exists while one document holds its topic strongly or two documents hold it; removing a document
  (`wikismith remove DOC`) removes exactly its sections, and a page left without reason to exist goes, unless you
  wrote your own notes on it.
- Every `[[link]]` names a page that exists; `index.md` lists every page (through the pages under `index/` once a
  kind has many); `log.md` records every operation.
- `wikismith lint` checks all of this; `wikismith history` lists the commands that changed the wiki and
  `wikismith undo` reverts one.

You may edit this file to describe your own conventions; wikismith reads it when it compiles.
"""

INDEX_FRONT_MATTER = """\
---
type: index
title: Index
description: "Catalogue of every page of this wiki, by kind"
---

"""

INDEX_MD = INDEX_FRONT_MATTER + """\
# Index

This knowledge base has no pages yet. Add documents with `wikismith add PATH`.
"""

LOG_MD = """\
---
type: log
title: Log
description: "Every operation on this knowledge base, oldest first (append-only)"
---

# Log

"""


def log_line(when: str, operation: str, detail: str) -> str:
    """One line of log.md: a timestamp, the operation, what it did."""
    detail = " ".join(detail.split())
    return f"- {when} **{operation}** {detail}\n"
