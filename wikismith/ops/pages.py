"""Reading the wiki page by page: one page with its backlinks and outline, and the neighbourhood of a page in the
link graph. Both read one committed snapshot; neither changes anything.

A page is named by its registry path (`wiki/concepts/x.md`) or by its link target (`concepts/x`). A name that is
not a page of the wiki (an absolute path, `..`, anything outside `wiki/`) is refused, never read.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from wikismith.errors import WikismithError
from wikismith.markdown import headings

MAX_NEIGHBOURS = 60  # nodes a neighbourhood holds at most, so a 5,000-page wiki still draws in a glance


class PageNotFound(WikismithError):
    exit_code = 2


def page_path(name: str) -> str:
    """`concepts/x`, `concepts/x.md`, `wiki/concepts/x` or `wiki/concepts/x.md` -> `wiki/concepts/x.md`; a name
    that could leave the wiki is refused."""
    name = (name or "").strip()
    if not name or "\\" in name or "\x00" in name or name.startswith("/"):
        raise PageNotFound(f"{name!r} is not a page of this wiki")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise PageNotFound(f"{name!r} is not a page of this wiki")
    if parts[0] != "wiki":
        name = f"wiki/{name}"
    if not name.endswith(".md"):
        name += ".md"
    if posixpath.normpath(name) != name:
        raise PageNotFound(f"{name!r} is not a page of this wiki")
    return name


def target_of(path: str) -> str:
    """The link target of a page path: `wiki/concepts/x.md` -> `concepts/x`."""
    return path[len("wiki/"):-len(".md")]


@dataclass
class PageReport:
    path: str
    kind: str
    title: str
    description: str
    updated_at: str | None
    markdown: str
    backlinks: list[dict] = field(default_factory=list)
    outline: list[dict] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"path": self.path, "target": target_of(self.path), "kind": self.kind, "title": self.title,
                "description": self.description, "updated_at": self.updated_at, "markdown": self.markdown,
                "backlinks": self.backlinks, "outline": self.outline, "links": self.links,
                "sources": self.sources}


def read(store, name: str) -> PageReport:
    """A page as the registry holds it, with the pages linking to it and its headings, from one snapshot. The wiki's
    own files that are not registered pages (index.md, the catalogue nodes, log.md, AGENTS.md) are read as files."""
    path = page_path(name)
    with store.snapshot() as view:
        row = view.page(path)
        text = row["body"] if row else None
        if not text:
            text = _wiki_file(view, path)
        sources = set(view.backlinks(target_of(path)))
        titles = {p: t for p, t, _ in view.page_titles(sources)}
        links = view.links_from(path)
    backlinks = [{"path": p, "target": target_of(p), "title": titles.get(p, target_of(p))} for p in sorted(sources)]
    outline = [{"level": h.level, "title": h.title} for h in headings(text)]
    return PageReport(path, (row or {}).get("kind") or "file", (row or {}).get("title") or target_of(path),
                      (row or {}).get("description") or "", (row or {}).get("updated_at"), text, backlinks, outline,
                      links, (row or {}).get("sources") or [])


def _wiki_file(view, path: str) -> str:
    """A file of the wiki that is not a registered page, read only when it lies inside wiki/ (no link leads out)."""
    import os

    full = os.path.realpath(view.path(path))
    wiki = os.path.realpath(view.path("wiki"))
    if not full.startswith(wiki + os.sep) or not os.path.isfile(full):
        raise PageNotFound(f"no page {target_of(path)!r} in this wiki")
    text = view.read(path)
    if text is None:
        raise PageNotFound(f"no page {target_of(path)!r} in this wiki")
    return text


@dataclass
class GraphReport:
    center: str | None
    nodes: list[dict]
    edges: list[list[str]]
    truncated: bool
    total_pages: int

    def as_dict(self) -> dict:
        return {"center": self.center, "nodes": self.nodes, "edges": self.edges, "truncated": self.truncated,
                "total_pages": self.total_pages}


def neighbourhood(store, name: str | None, *, depth: int = 1, limit: int = MAX_NEIGHBOURS) -> GraphReport:
    """The pages within `depth` links of a page (either direction), at most `limit` of them, and the links among
    them. Without a page: the hubs, the pages fed by the most documents, so a large wiki opens on its centre."""
    limit = max(1, min(limit, 200))
    with store.snapshot() as view:
        total = sum(view.page_counts().values())
        if name:
            center = page_path(name)
            if view.page(center) is None:
                raise PageNotFound(f"no page {target_of(center)!r} in this wiki")
            chosen = [center]
            frontier = [center]
            truncated = False
            for _ in range(max(1, min(depth, 3))):
                nxt = []
                for path in frontier:
                    around = [f"wiki/{t}.md" for t in view.links_from(path)] + view.backlinks(target_of(path))
                    for other in around:
                        if other not in chosen:
                            if len(chosen) >= limit:
                                truncated = True
                                break
                            chosen.append(other)
                            nxt.append(other)
                frontier = nxt
        else:
            center = None
            chosen = view.pages_with_most_sources(("concept", "entity"), limit)
            if not chosen:  # a small wiki: no page has two sources yet; its summaries and what they link to
                chosen = [p for k, p, _ in view.pages() if k in ("summary", "concept", "entity")][:limit]
            truncated = total > len(chosen)
        rows = {p: (t, k) for p, t, k in view.page_titles(set(chosen))}
        members = [p for p in chosen if p in rows]
        inside = set(members)
        edges = sorted({(p, f"wiki/{t}.md") for p in members for t in view.links_from(p)
                        if f"wiki/{t}.md" in inside and f"wiki/{t}.md" != p})
    nodes = [{"path": p, "target": target_of(p), "title": rows[p][0], "kind": rows[p][1]} for p in members]
    return GraphReport(center, nodes, [list(e) for e in edges], truncated, total)
