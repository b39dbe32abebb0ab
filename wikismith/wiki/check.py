"""Structural checks of a compiled wiki: broken links, pages missing from index.md, documents without their pages,
and bytes no page may hold. Reads every page: for doctor and lint, never on a change's path."""

from __future__ import annotations

import re

from wikismith.markdown import wikilinks
from wikismith.wiki import catalog, pages

# C0 controls but tab and newline, DEL, and C1 controls: never in a page (a NUL is a leaked placeholder, a lone CR
# an encoding accident).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def structural_problems(view) -> list[str]:
    """Every problem found, a line each, over the KB that `view` shows."""
    problems: list[str] = []
    registered = view.page_paths()
    targets = {pages.target_of(p) for p in registered}
    counts, catalog_texts = catalog.listed(view)
    listed = set(counts)
    shards = {pages.target_of(p) for p in catalog_texts if p != catalog.INDEX}
    for path, text in sorted(catalog_texts.items()):
        for target in sorted(set(wikilinks(text))):
            if target not in targets and target not in shards:
                problems.append(f"{path}: broken link [[{target}]]")
    for target, n in sorted(counts.items()):
        if n > 1 and target in targets:
            problems.append(f"wiki/{target}.md: listed {n} times in the catalogue")
    for path in sorted(registered):
        text = view.read(path)
        if text is None:
            problems.append(f"{path}: registered, but the file is missing")
            continue
        for target in sorted(set(wikilinks(text))):
            if target not in targets:
                problems.append(f"{path}: broken link [[{target}]]")
        if pages.target_of(path) not in listed:
            problems.append(f"{path}: missing from wiki/index.md and its shards")
        bad = CONTROL.search(text)
        if bad:
            line = text.count("\n", 0, bad.start()) + 1
            problems.append(f"{path}: control byte {bad.group()!r} on line {line}")
    for raw_path, doc_id in sorted(view.raw_paths().items(), key=lambda kv: kv[1]):
        if not view.exists(raw_path):
            problems.append(f"document {doc_id}: {raw_path} is missing")
    for doc in view.documents():
        for kind in ("summary", "source"):
            if pages.page_path(kind, doc["id"]) not in registered:
                problems.append(f"document {doc['id']}: its {kind} page is not registered")
    return problems
