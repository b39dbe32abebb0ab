"""Tree indexes of long documents, and `check_tree`, which proves that a tree covers every page exactly once.

Shape of every tree: the root (id "root") spans pages 1..n; the children of any node partition its range into
consecutive, non-empty ranges; ids are the 1-based positions among siblings, four digits each, joined by dots
("0002.0003" is the third child of the second top-level node), so the same input always gives the same ids.

From an outline (PDF bookmarks, or headings): siblings are ordered by their start page; a start outside the
parent's range is clamped into it; siblings that start on the same page share one node (titles joined with " / ")
because a node must own at least one page; pages before the first child get an extra leading node ("Front matter"
at the top, "Introduction" inside a section). Leaves of more than `2 * WINDOW` pages are split into windows.
Without an outline: fixed windows of `WINDOW` pages (grouped in tens when there are more than 20 windows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from wikismith.ingest.document import TreeNode

WINDOW = 10
DEEP_HEADINGS = 12  # an outline or heading list this long, or
DEEP_LEVELS = 3  # this many distinct levels, makes a document "deep" enough for a tree

SummaryFor = Callable[[int, int, str], str]  # (first page, last page, title) -> summary


def is_deep(levels: list[int]) -> bool:
    return len(levels) >= DEEP_HEADINGS or len(set(levels)) >= DEEP_LEVELS


@dataclass
class _Entry:
    level: int
    title: str
    page: int
    children: list["_Entry"] = field(default_factory=list)


def tree_from_outline(entries: list[tuple[int, str, int | None]], count: int, title: str,
                      summary_for: SummaryFor | None = None, split_big_leaves: bool = True) -> TreeNode:
    """`entries`: (level, title, start page or None) in document order; `count`: number of pages (>= 1)."""
    top = _Entry(0, title, 1)
    stack = [top]
    previous = 1
    for level, entry_title, page in entries:
        page = previous if page is None else min(max(page, 1), count)
        previous = page
        while len(stack) > 1 and stack[-1].level >= level:
            stack.pop()
        entry = _Entry(level, entry_title, page)
        stack[-1].children.append(entry)
        stack.append(entry)
    root = TreeNode("root", title, 1, count)
    root.children = _assign(top.children, 1, count, "", "Front matter", split_big_leaves)
    _summarize(root, summary_for)
    return root


def tree_from_windows(count: int, title: str, summary_for: SummaryFor | None = None) -> TreeNode:
    root = TreeNode("root", title, 1, count)
    root.children = _windows(1, count, "")
    _summarize(root, summary_for)
    return root


def _assign(entries: list[_Entry], first: int, last: int, prefix: str, lead_title: str,
            split: bool) -> list[TreeNode]:
    groups: list[tuple[int, list[_Entry]]] = []
    for entry in sorted(entries, key=lambda e: e.page):
        start = min(max(entry.page, first), last)
        if groups and groups[-1][0] == start:
            groups[-1][1].append(entry)
        else:
            groups.append((start, [entry]))
    spans: list[tuple[int, int, str, list[_Entry]]] = []
    if groups and groups[0][0] > first:
        spans.append((first, groups[0][0] - 1, lead_title, []))
    for index, (start, members) in enumerate(groups):
        end = groups[index + 1][0] - 1 if index + 1 < len(groups) else last
        spans.append((start, end, _joined_title([member.title for member in members]), [c for member in members for c in member.children]))
    nodes = []
    for position, (start, end, span_title, children) in enumerate(spans, 1):
        node_id = _child_id(prefix, position)
        node = TreeNode(node_id, span_title, start, end)
        if children:
            node.children = _assign(children, start, end, node_id, "Introduction", split)
        elif split and end - start + 1 > 2 * WINDOW:
            node.children = _windows(start, end, node_id)
        nodes.append(node)
    return nodes


def _joined_title(titles: list[str]) -> str:
    titles = list(dict.fromkeys(titles))
    if len(titles) > 4:
        return " / ".join(titles[:3]) + f" / … (+{len(titles) - 3} more)"
    return " / ".join(titles)


def _windows(first: int, last: int, prefix: str) -> list[TreeNode]:
    size = WINDOW
    while (last - first + 1 + size - 1) // size > 20:
        size *= 10
    nodes = []
    for position, start in enumerate(range(first, last + 1, size), 1):
        end = min(start + size - 1, last)
        node = TreeNode(_child_id(prefix, position), f"Pages {start}–{end}" if end > start else f"Page {start}",
                        start, end)
        if end - start + 1 > WINDOW and size > WINDOW:
            node.children = _windows(start, end, node.id)
        nodes.append(node)
    return nodes


def _child_id(prefix: str, position: int) -> str:
    return f"{prefix}.{position:04d}" if prefix else f"{position:04d}"


def _summarize(root: TreeNode, summary_for: SummaryFor | None) -> None:
    if summary_for is None:
        return
    for node in root.walk():
        anchor = None if node.id == "root" else node.title.split(" / ")[0]
        node.summary = summary_for(node.first_page, node.last_page, anchor or "")


def check_tree(tree: TreeNode, page_count: int) -> list[str]:
    """Every way `tree` fails to cover pages 1..page_count exactly once; an empty list when it is sound.

    Checks: the root spans 1..page_count; every node has first <= last; the children of each node are consecutive,
    start at their parent's first page and end at its last; ids are unique; the leaves cover each page once.
    """
    problems: list[str] = []
    if (tree.first_page, tree.last_page) != (1, page_count):
        problems.append(f"root spans {tree.first_page}..{tree.last_page}, not 1..{page_count}")
    seen_ids: set[str] = set()
    for node in tree.walk():
        if node.id in seen_ids:
            problems.append(f"id {node.id} is used twice")
        seen_ids.add(node.id)
        if node.first_page > node.last_page:
            problems.append(f"{node.id} is empty ({node.first_page}..{node.last_page})")
        if not node.children:
            continue
        expected = node.first_page
        for child in node.children:
            if child.first_page != expected:
                problems.append(f"{child.id} starts at {child.first_page}, expected {expected}")
            expected = child.last_page + 1
        if node.children[-1].last_page != node.last_page:
            problems.append(f"children of {node.id} end at {node.children[-1].last_page}, not {node.last_page}")
    covered = [0] * (page_count + 2)
    for leaf in tree.leaves():
        for page in range(max(leaf.first_page, 0), min(leaf.last_page, page_count + 1) + 1):
            covered[page] += 1
    missing = [page for page in range(1, page_count + 1) if covered[page] == 0]
    twice = [page for page in range(1, page_count + 1) if covered[page] > 1]
    outside = covered[0] + covered[page_count + 1]
    if missing:
        problems.append(f"pages not covered: {_ranges(missing)}")
    if twice:
        problems.append(f"pages covered more than once: {_ranges(twice)}")
    if outside:
        problems.append("leaves reach outside 1..page_count")
    return problems


def _ranges(pages: list[int]) -> str:
    parts: list[str] = []
    start = prev = pages[0]
    for page in pages[1:] + [None]:
        if page is not None and page == prev + 1:
            prev = page
            continue
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
        if page is not None:
            start = prev = page
    return ", ".join(parts[:20]) + (" …" if len(parts) > 20 else "")
