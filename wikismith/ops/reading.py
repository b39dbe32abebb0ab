"""Reading the wiki by page name, for front ends that take names from outside (an MCP client, a browser).

A name means a page of the wiki (`concepts/x`, `wiki/concepts/x.md`, `[[concepts/x]]`, or one of its own files such
as index.md, read as ops/pages.py reads it); anything else, an absolute path, one with `..`, a link leading out of
wiki/, is refused with PageRefused. Texts come from one committed snapshot of the registry.
"""

from __future__ import annotations

from dataclasses import dataclass

from wikismith.ask.tools import PAGE_MARK, resolve
from wikismith.errors import WikismithError

KINDS = ("concept", "entity", "summary", "source", "exploration", "report")
MAX_CHARS = 20_000
MAX_PAGES = 200


class PageRefused(WikismithError):
    exit_code = 1


@dataclass
class PageText:
    page: str
    text: str
    offset: int
    total: int
    backlinks: list[str]

    def as_dict(self) -> dict:
        end = self.offset + len(self.text)
        return {"page": self.page, "text": self.text, "offset": self.offset, "total_chars": self.total,
                "next_offset": end if end < self.total else None, "backlinks": self.backlinks}


@dataclass
class PageList:
    kind: str
    pages: list[dict]
    offset: int
    total: int

    def as_dict(self) -> dict:
        end = self.offset + len(self.pages)
        return {"kind": self.kind, "pages": self.pages, "offset": self.offset, "total": self.total,
                "next_offset": end if end < self.total else None}


@dataclass
class SourceRange:
    document: str
    page: str
    first: int
    last: int
    pages_total: int
    text: str

    def as_dict(self) -> dict:
        return {"document": self.document, "page": self.page, "first": self.first, "last": self.last,
                "pages_total": self.pages_total, "text": self.text}


def refusal(name: str) -> PageRefused:
    return PageRefused(f"{str(name)[:200]!r} is not a page of this wiki; only its pages can be read "
                       "(e.g. concepts/x, sources/doc, index.md), never a file outside it")


def page(store, name: str, *, offset: int = 0, limit: int = MAX_CHARS) -> PageText:
    """A page's text (a part of it, from offset: long pages are read in parts) with the pages linking to it."""
    from wikismith.ops.pages import PageNotFound, read

    offset, limit = max(0, int(offset)), max(1, int(limit))
    try:
        report = read(store, str(name).strip().strip("[]").split("|", 1)[0].strip())
    except PageNotFound:
        raise refusal(name) from None
    text = report.markdown
    return PageText(report.path, text[offset:offset + limit], offset, len(text), [b["path"] for b in report.backlinks])


def pages(store, kind: str, *, offset: int = 0, limit: int = 50) -> PageList:
    """Pages of one kind, by path, `limit` at a time from `offset`."""
    if kind not in KINDS:
        raise PageRefused(f"no page kind {kind!r}; the kinds are {', '.join(KINDS)}")
    offset, limit = max(0, int(offset)), max(1, min(int(limit), 500))
    with store.snapshot() as view:
        rows = view.kind_rows(kind)
    chunk = [{"page": p, "title": t, "description": d} for p, t, d in rows[offset:offset + limit]]
    return PageList(kind, chunk, offset, len(rows))


def source_range(store, document: str, first: int, last: int) -> SourceRange:
    """Pages first..last of a long document's converted source (the document's summary shows its tree)."""
    first, last = int(first), int(last)
    if first < 1 or last < first:
        raise PageRefused(f"pages {first}..{last}: give 1 <= first <= last")
    if last - first + 1 > MAX_PAGES:
        raise PageRefused(f"at most {MAX_PAGES} pages at a time")
    with store.snapshot() as view:
        name = str(document).strip()
        path = resolve(view, f"sources/{name}") or resolve(view, name)
        if path is None or not path.startswith("wiki/sources/"):
            raise refusal(document)
        text = view.page_text(path) or ""
    starts = {int(m.group(1)): m.start() for m in PAGE_MARK.finditer(text)}
    if not starts:
        raise PageRefused(f"{path} has no page markers (not a paged document); read it whole with read_page")
    if first not in starts:
        raise PageRefused(f"{path} has pages 1 to {max(starts)}")
    end = min((pos for number, pos in starts.items() if number > last), default=len(text))
    return SourceRange(path[len("wiki/sources/"):-len(".md")], path, first, min(last, max(starts)), max(starts),
                       text[starts[first]:end])
