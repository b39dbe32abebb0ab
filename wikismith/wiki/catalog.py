"""The catalogue: index.md, and small index pages under wiki/index/ once a kind has many pages.

A kind is a tree of slug prefixes. A node (a kind and a prefix) holding at most LEAF pages lists them; a node
holding more is split by the next character of the slugs: its page lists its children (and the page whose slug is
the prefix itself, if there is one). The root of each kind is its section of index.md, under a heading that counts
the kind's pages; every other node is `wiki/index/<folder>/<prefix>.md`. The tree is a function of the set of
pages, never of the order they came in. A change rewrites index.md (bounded: a kind lists at most LEAF pages or its
first characters) and the leaves that list the pages it touches; a node above a leaf changes only when a child
comes or goes. A child line carries no count: with one, every add would rewrite each node on the way down (16 of
them for the summaries and sources of 10,000 notes named "note-…"). So an inner node's count is not known; it
is needed only when a change removes pages under it, and then a query bounded by LEAF tells whether it shrinks
back into a leaf. A catalogue that is not as wikismith writes it is rendered afresh from the registry.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from wikismith.markdown import wikilinks
from wikismith.store.layout import INDEX_SHARDS as SHARD_ROOT
from wikismith.wiki import frontmatter, pages, scaffold

LEAF = 150  # a node with more pages than this is split by the next character
INDEX = "wiki/index.md"
_HEADING = re.compile(r"## (.+) \((\d+)\)\Z")
_CHILD = re.compile(r"- \[\[index/[^/\]]+/([^\]|]+)\|[^\]]*\]\]\Z")
_KIND_OF_HEADING = {heading: kind for kind, heading in pages.KIND_HEADINGS.items()}

Row = tuple[str, str, str]  # (kind, title, description)
Line = tuple[str, str, str]  # (path, title, description)


class Unreadable(Exception):
    """The catalogue is not as wikismith wrote it: render it afresh."""


def slug_of(path: str) -> str:
    return path.rsplit("/", 1)[1][: -len(".md")]


def node_path(kind: str, prefix: str) -> str:
    return f"{SHARD_ROOT}/{pages.FOLDER_OF_KIND[kind]}/{prefix}.md"


def is_catalog(path: str) -> bool:
    return path == INDEX or path.startswith(SHARD_ROOT + "/")


@dataclass
class Node:
    count: int | None  # None for an inner node below a kind's root: its pages are not counted anywhere
    children: list[str] | None = None  # child prefixes; None for a leaf
    lines: list[str] = field(default_factory=list)  # a leaf's lines as written


# -- reading --------------------------------------------------------------------------------------------------------

def _parse_index(text: str | None) -> tuple[int, dict[str, Node]]:
    if text is None:
        raise Unreadable
    if text == scaffold.INDEX_MD:
        return 0, {}
    text = frontmatter.parse(text)[1].lstrip("\n")  # a catalogue written before it had front matter reads too
    m = re.search(r"^(\d+) pages\.", text, re.MULTILINE)
    if not text.startswith("# Index\n") or m is None:
        raise Unreadable
    roots: dict[str, Node] = {}
    for chunk in text.split("\n## ")[1:]:
        head, _, body = chunk.partition("\n")
        h = _HEADING.match("## " + head)
        kind = _KIND_OF_HEADING.get(h.group(1)) if h else None
        if kind is None or kind in roots:
            raise Unreadable
        roots[kind] = _parse_body(int(h.group(2)), body)
    return int(m.group(1)), roots


def _parse_body(count: int | None, body: str) -> Node:
    """A node from its lines; `count`: its pages, known for a kind's root (from its heading), else None."""
    lines = [line for line in body.split("\n") if line.startswith("- [[")]
    children = []
    for line in lines:
        c = _CHILD.match(line)
        if c:
            children.append(c.group(1))
        elif line.startswith("- [[index/"):
            raise Unreadable  # a child line of another form (a catalogue from before counts were dropped)
    if count is None:
        if not children:
            count = len(lines)  # a leaf lists every page it holds
            if not 0 < count <= LEAF:
                raise Unreadable
    elif (count > LEAF) != bool(children):
        raise Unreadable
    return Node(count, children if children else None, lines)


def _read_node(view, kind: str, prefix: str) -> Node:
    text = view.read(node_path(kind, prefix))
    if text is None:
        raise Unreadable
    body = frontmatter.parse(text)[1].lstrip("\n")
    return _parse_body(None, body.split("\n", 1)[1] if "\n" in body else "")


# -- rendering ------------------------------------------------------------------------------------------------------

def _child_line(kind: str, prefix: str) -> str:
    return f"- [[index/{pages.FOLDER_OF_KIND[kind]}/{prefix}|{prefix}]]"


def _node_lines(kind: str, node_rows: list[Line], prefix: str, out: dict[str, str | None]) -> tuple[int, list[str]]:
    """The lines of a node holding `node_rows` (all its pages), writing the pages of the nodes below it into
    `out`: (count, lines)."""
    if len(node_rows) <= LEAF:
        return len(node_rows), [pages.index_line(p, t, d) for p, t, d in node_rows]
    exact = [r for r in node_rows if slug_of(r[0]) == prefix]
    groups: dict[str, list[Line]] = {}
    for row in node_rows:
        slug = slug_of(row[0])
        if slug != prefix:
            groups.setdefault(slug[: len(prefix) + 1], []).append(row)
    lines = [pages.index_line(p, t, d) for p, t, d in exact]
    for child, rows in sorted(groups.items()):
        _count, child_lines = _node_lines(kind, rows, child, out)
        out[node_path(kind, child)] = _node_page(kind, child, child_lines)
        lines.append(_child_line(kind, child))
    return len(node_rows), lines


def _node_page(kind: str, prefix: str, lines: list[str]) -> str:
    heading = pages.KIND_HEADINGS.get(kind, kind.title())
    meta = {"type": "index", "title": f"{heading}: {prefix}",
            "description": f"{heading} whose names begin with {prefix}"}
    return frontmatter.render(meta) + "\n" + "\n".join([f"# {heading}: {prefix}", "", *lines]) + "\n"


def _render_index(total: int, sections: dict[str, tuple[int, list[str]]]) -> str:
    if total <= 0 or not sections:
        return scaffold.INDEX_MD
    out = [scaffold.INDEX_FRONT_MATTER + "# Index", "", f"{total} pages. Generated by wikismith: edits here are replaced on the next change.", ""]
    for kind in sorted(sections, key=lambda k: (pages.KIND_ORDER.index(k) if k in pages.KIND_ORDER else 99, k)):
        count, lines = sections[kind]
        out += [f"## {pages.KIND_HEADINGS.get(kind, kind.title())} ({count})", "", *lines, ""]
    return "\n".join(out)


# -- a change -------------------------------------------------------------------------------------------------------

def changes(view, rows: dict[str, Row | None], old_kinds: dict[str, str]) -> dict[str, str | None]:
    """The catalogue files after a change (path -> new text, or None to delete): index.md and the nodes on the way
    to the pages in `rows` (path -> the page's new row, or None when it goes). old_kinds: each changed path's
    kind now."""
    try:
        total, roots = _parse_index(view.read(INDEX))
        by_kind: dict[str, dict[str, Row | None]] = {}
        for path, row in rows.items():
            kind = row[0] if row is not None else old_kinds.get(path)
            if kind is None:
                continue  # a page neither there before nor after
            if path in old_kinds and row is not None and old_kinds[path] != kind:
                raise Unreadable  # a page changing kind: never done by wikismith
            by_kind.setdefault(kind, {})[path] = row
        out: dict[str, str | None] = {}
        sections: dict[str, tuple[int, list[str]]] = {k: (n.count, n.lines) for k, n in roots.items()}
        for kind, changed in sorted(by_kind.items()):
            old = roots.get(kind, Node(0))
            count, lines = _update(view, kind, "", old, changed, old_kinds, out)
            total += count - old.count
            if count:
                sections[kind] = (count, lines)
            else:
                sections.pop(kind, None)
        out[INDEX] = _render_index(total, sections)
        return out
    except Unreadable:
        return full(view, rows)


def _update(view, kind: str, prefix: str, old: Node, changed: dict[str, Row | None], old_kinds,
            out: dict[str, str | None]) -> tuple[int | None, list[str]]:
    """(the node's pages after the change, None for an inner node that stays one; its lines), writing the pages of
    the nodes below it that change into `out`."""
    added = sum(1 for p, r in changed.items() if r is not None and p not in old_kinds)
    removed = sum(1 for p, r in changed.items() if r is None and p in old_kinds)
    if old.children is None:
        # A leaf: its pages come from the registry (at most LEAF of them, and this change's), and it splits when
        # it holds more.
        return _node_lines(kind, _apply(_rows_under(view, kind, prefix), changed), prefix, out)
    count = old.count + added - removed if old.count is not None else None
    if count is None and removed:
        count = _count_up_to(view, kind, prefix, changed)
    if count is not None and count <= LEAF:
        # Back to a leaf: its pages come from the registry (a bounded query), and whatever stood below it goes.
        _drop_below(view, kind, old, out)
        return _node_lines(kind, _apply(_rows_under(view, kind, prefix), changed), prefix, out)
    lines: list[str] = []
    exact = {p: r for p, r in changed.items() if slug_of(p) == prefix}
    current_exact = _apply(view.exact_rows(kind, pages.FOLDER_OF_KIND[kind], prefix), exact)
    lines += [pages.index_line(p, t, d) for p, t, d in current_exact]
    children = set(old.children)
    grouped: dict[str, dict[str, Row | None]] = {}
    for path, row in changed.items():
        slug = slug_of(path)
        if slug != prefix:
            grouped.setdefault(slug[: len(prefix) + 1], {})[path] = row
    for child, child_changed in sorted(grouped.items()):
        child_old = _read_node(view, kind, child) if child in children else Node(0)
        child_count, child_lines = _update(view, kind, child, child_old, child_changed, old_kinds, out)
        if child_count != 0:
            if child not in children or child_lines != child_old.lines:  # an inner node often stays as it was
                out[node_path(kind, child)] = _node_page(kind, child, child_lines)
            children.add(child)
        else:
            children.discard(child)
            if view.exists(node_path(kind, child)):
                out[node_path(kind, child)] = None
    lines += [_child_line(kind, child) for child in sorted(children)]
    return count, lines  # None for an inner node below a root: a known count <= LEAF took the leaf branch


def _count_up_to(view, kind: str, prefix: str, changed: dict[str, Row | None]) -> int | None:
    """The pages under an inner node after `changed` when they are at most LEAF (it becomes a leaf again), else
    None: the query reads at most LEAF + 1 more rows than the change touches, however big the node is."""
    limit = LEAF + 1 + len(changed)
    rows = view.prefix_rows(kind, pages.FOLDER_OF_KIND[kind], prefix, limit)
    if len(rows) >= limit:
        return None  # more than LEAF + 1 stay, whatever this change removes
    count = len(_apply(rows, changed))
    return count if count <= LEAF else None


def _drop_below(view, kind: str, node: Node, out: dict[str, str | None]) -> None:
    for child in node.children or []:
        out.setdefault(node_path(kind, child), None)
        below = _read_node(view, kind, child)
        if below.children is not None:
            _drop_below(view, kind, below, out)


def _rows_under(view, kind: str, prefix: str) -> list[Line]:
    return view.kind_rows(kind) if not prefix else view.prefix_rows(kind, pages.FOLDER_OF_KIND[kind], prefix)


def _apply(current: list[Line], changed: dict[str, Row | None]) -> list[Line]:
    """(path, title, description) rows after `changed`, by path."""
    rows = {path: (path, title, desc) for path, title, desc in current}
    for path, row in changed.items():
        if row is None:
            rows.pop(path, None)
        else:
            rows[path] = (path, row[1], row[2])
    return [rows[p] for p in sorted(rows)]


def full(view, rows: dict[str, Row | None] | None = None) -> dict[str, str | None]:
    """The whole catalogue rendered afresh from the registry (and `rows` on top), stale node pages deleted."""
    every: dict[str, tuple[str, str, str, str]] = {path: (kind, path, title, desc)
                                                    for kind, path, title, desc in view.index_rows()}
    for path, row in (rows or {}).items():
        if row is None:
            every.pop(path, None)
        else:
            every[path] = (row[0], path, row[1], row[2])
    by_kind: dict[str, list[Line]] = {}
    for kind, path, title, desc in sorted(every.values(), key=lambda r: r[1]):
        by_kind.setdefault(kind, []).append((path, title, desc))
    out: dict[str, str | None] = {path: None for path in view.files_under(SHARD_ROOT)}
    sections = {kind: _node_lines(kind, kind_rows, "", out) for kind, kind_rows in by_kind.items()}
    out[INDEX] = _render_index(len(every), sections)
    return out


# -- checking -------------------------------------------------------------------------------------------------------

def listed(view) -> tuple[Counter, dict[str, str]]:
    """How many times each page target is listed across index.md and its node pages, and each catalogue file's
    text (index.md and every file under wiki/index/)."""
    texts = {INDEX: view.read(INDEX) or ""}
    for path in view.files_under(SHARD_ROOT):
        texts[path] = view.read(path) or ""
    counts: Counter = Counter()
    for text in texts.values():
        counts.update(t for t in wikilinks(text) if not t.startswith("index/"))
    return counts, texts
