"""The agent's tools: read-only, inside the KB, against one registry snapshot per model turn.

Every tool reads the registry (page text included), never the file system: a path names a registered page or
nothing, so no absolute path, `..`, `.env` or symbolic link can reach a file outside the wiki. There is no tool that
writes. What the tools read is remembered, so the answer's sources can only be pages actually read or found.
"""

from __future__ import annotations

import json
import re

from wikismith.ask.search import search

MAX_READ_CHARS = 6_000
PAGE_MARK = re.compile(r"<!-- page (\d+) -->")

SPECS = [
    {"type": "function", "function": {
        "name": "search", "description": "Full-text search of the wiki: the best passages, as snippets.",
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string"},
            "kind": {"type": "string", "enum": ["concept", "entity", "summary", "source", "exploration"]}},
            "required": ["query"]}}},
    {"type": "function", "function": {
        "name": "read_page", "description": "The text of one page, e.g. concepts/type-hint or sources/pep-0484 "
                                            "(long pages in parts: give offset to read on).",
        "parameters": {"type": "object", "properties": {"page": {"type": "string"},
                                                         "offset": {"type": "integer", "minimum": 0}},
                       "required": ["page"]}}},
    {"type": "function", "function": {
        "name": "read_source_pages", "description": "Pages first..last of a long document's source (PDFs and other "
                                                    "paged documents; the summary page shows its tree).",
        "parameters": {"type": "object", "properties": {"document": {"type": "string"},
                                                         "first": {"type": "integer", "minimum": 1},
                                                         "last": {"type": "integer", "minimum": 1}},
                       "required": ["document", "first", "last"]}}},
    {"type": "function", "function": {
        "name": "list_pages", "description": "Pages of one kind, 50 at a time.",
        "parameters": {"type": "object", "properties": {
            "kind": {"type": "string", "enum": ["concept", "entity", "summary", "source", "exploration"]},
            "offset": {"type": "integer", "minimum": 0}}, "required": ["kind"]}}},
    {"type": "function", "function": {
        "name": "backlinks", "description": "The pages that link to a page.",
        "parameters": {"type": "object", "properties": {"page": {"type": "string"}}, "required": ["page"]}}},
]


class Tools:
    def __init__(self):
        self.read: list[str] = []  # page paths read or found, in order, each once

    def _note(self, path: str) -> None:
        if path not in self.read:
            self.read.append(path)

    def run(self, view, name: str, arguments: str) -> str:
        """The tool's result as text for the model; a refusal or an error is a result too, never an exception."""
        try:
            args = json.loads(arguments or "{}")
            if not isinstance(args, dict):
                raise ValueError
        except ValueError:
            return "error: the arguments must be a JSON object"
        handler = {"search": self._search, "read_page": self._read_page, "read_source_pages": self._source_pages,
                   "list_pages": self._list_pages, "backlinks": self._backlinks}.get(name)
        if handler is None:
            return f"error: there is no tool {name!r}; the tools only read the wiki (search, read_page, " \
                   "read_source_pages, list_pages, backlinks)"
        try:
            return handler(view, **args)
        except TypeError:
            return f"error: wrong arguments for {name}"

    def _search(self, view, query: str, kind: str | None = None) -> str:
        report = search(view, str(query), kinds=(kind,) if kind else (), limit=8)
        if not report.hits:
            return "no passage matches"
        out = []
        for h in report.hits:
            self._note(h.page)
            pages = f" (p. {h.first_page}-{h.last_page})" if h.first_page else ""
            out.append(f"[[{_target(h.page)}]] {h.title}" + (f" > {h.heading}" if h.heading else "") +
                       f"{pages}: {h.snippet}")
        return "\n".join(out)

    def _read_page(self, view, page: str, offset: int = 0) -> str:
        path = resolve(view, page)
        if path is None:
            return refusal(page)
        text = view.page_text(path) or ""
        self._note(path)
        offset = max(0, int(offset))
        part = text[offset:offset + MAX_READ_CHARS]
        more = f"\n[... {len(text) - offset - len(part)} more characters: read on with offset " \
               f"{offset + len(part)}]" if offset + len(part) < len(text) else ""
        return part + more

    def _source_pages(self, view, document: str, first: int, last: int) -> str:
        path = resolve(view, f"sources/{document}") or resolve(view, document)
        if path is None or not path.startswith("wiki/sources/"):
            return refusal(document)
        text = view.page_text(path) or ""
        marks = list(PAGE_MARK.finditer(text))
        if not marks:
            return "error: this document has no pages; read it with read_page"
        first, last = int(first), int(last)
        starts = {int(m.group(1)): m.start() for m in marks}
        if first not in starts:
            return f"error: it has pages 1 to {max(starts)}"
        end = min((pos for page, pos in starts.items() if page > last), default=len(text))
        self._note(path)
        return text[starts[first]:end][:MAX_READ_CHARS * 2]

    def _list_pages(self, view, kind: str, offset: int = 0) -> str:
        rows = view.kind_rows(str(kind))
        offset = max(0, int(offset))
        chunk = rows[offset:offset + 50]
        more = f"\n[{len(rows) - offset - len(chunk)} more: offset {offset + len(chunk)}]" \
            if offset + len(chunk) < len(rows) else ""
        return "\n".join(f"[[{_target(p)}]] {t}" + (f" - {d}" if d else "") for p, t, d in chunk) + more \
            or "no page of that kind"

    def _backlinks(self, view, page: str) -> str:
        path = resolve(view, page)
        if path is None:
            return refusal(page)
        found = view.backlinks(_target(path))
        return "\n".join(f"[[{_target(p)}]]" for p in found) or "no page links to it"


def _target(path: str) -> str:
    return path[len("wiki/"):-len(".md")]


def resolve(view, name: str) -> str | None:
    """The registered page `name` means (`concepts/x`, `wiki/concepts/x.md`, `[[concepts/x]]`), or None. Anything
    that is not such a page, an absolute path or one with `..` included, is None."""
    name = str(name).strip().strip("[]").split("|", 1)[0].strip()
    if not name or name.startswith(("/", "~")) or "\\" in name or "\x00" in name or ".." in name.split("/"):
        return None
    path = name if name.startswith("wiki/") else f"wiki/{name}"
    if not path.endswith(".md"):
        path += ".md"
    return path if view.kinds_of({path}) else None


def refusal(name: str) -> str:
    return (f"refused: {str(name)[:200]!r} is not a page of this wiki. Only the wiki's pages can be read "
            "(e.g. concepts/x, sources/doc); files outside it never can.")
