"""Structural checks of a compiled wiki: broken links, pages missing from index.md, registry rows without pages."""

from __future__ import annotations

import os
import sqlite3

from wikismith.wiki import pages
from wikismith.wiki.links import find_links


def structural_problems(root: str, conn: sqlite3.Connection) -> list[str]:
    problems: list[str] = []
    registered = {row[0] for row in conn.execute("SELECT path FROM pages")}
    targets = {pages.target_of(p) for p in registered}
    index_path = os.path.join(root, "wiki", "index.md")
    index_text = _read(index_path) or ""
    listed = set(find_links(index_text))
    for path in sorted(registered):
        text = _read(os.path.join(root, path))
        if text is None:
            problems.append(f"{path}: registered, but the file is missing")
            continue
        for target in sorted(set(find_links(text))):
            if target not in targets:
                problems.append(f"{path}: broken link [[{target}]]")
        if pages.target_of(path) not in listed:
            problems.append(f"{path}: missing from wiki/index.md")
    for target in sorted(listed - targets):
        problems.append(f"wiki/index.md: broken link [[{target}]]")
    for doc_id, raw_path in conn.execute("SELECT id, raw_path FROM documents ORDER BY id"):
        for kind in ("summary", "source"):
            if pages.page_path(kind, doc_id) not in registered:
                problems.append(f"document {doc_id}: its {kind} page is not registered")
        if raw_path and not os.path.isfile(os.path.join(root, raw_path)):
            problems.append(f"document {doc_id}: {raw_path} is missing")
    return problems


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        return None
