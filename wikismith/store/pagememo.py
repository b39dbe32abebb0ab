"""What this process last wrote of each busy page: its text, its cut into passages with their row ids, its sources
and the pages it links to. Writing the page again then costs what changed (passages.recut), not the page: a page
that gathers a section from each of thousands of documents is rewritten by every add that holds it.

An entry holds what the registry holds as long as nothing but this process's committed transactions wrote it: a
failed transaction, and a commit by any other process, empty the memo."""

from __future__ import annotations

import sqlite3
from collections import Counter, OrderedDict
from dataclasses import dataclass

from wikismith.markdown import has_other_breaks, wikilink_pages
from wikismith.store import passages


@dataclass
class Remembered:
    text: str
    cut: passages.Cut
    ids: list[int]  # each passage's row id
    sources: frozenset[str]
    links: Counter | None  # link target -> how many pieces (the front matter is one) link to it; None: not kept


class PageMemo:
    """Entries written by a transaction count from its commit on (a failed one forgets them all, and everything
    else); a commit by any other connection (SQLite's data_version) forgets everything too."""

    BUDGET = 16_000_000  # characters of page text remembered (about three times that in memory), newest kept
    SMALLEST = 16_000  # characters: a smaller page is cut whole, as cheaply

    def __init__(self):
        self._pages: OrderedDict[str, Remembered] = OrderedDict()
        self._size = 0
        self._pending: dict[str, Remembered | None] = {}
        self._version: int | None = None

    def begin(self, conn: sqlite3.Connection) -> None:
        """At the start of a transaction's registry writes."""
        self._pending.clear()
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self.forget()
            self._version = version

    def get(self, conn: sqlite3.Connection, path: str, page_id: int | None) -> Remembered | None:
        entry = self._pages.get(path)
        if entry is None or page_id is None:
            return None
        (count,) = conn.execute("SELECT count(*) FROM passages WHERE page = ?", (path,)).fetchone()
        if count != len(entry.ids):  # never expected: a guard, not a check the memo's answers depend on
            self.forget()
            return None
        return entry

    def put(self, path: str, entry: Remembered | None) -> None:
        """What the transaction writes of the page (None: nothing to remember, forget what was)."""
        self._pending[path] = entry if entry is not None and len(entry.text) >= self.SMALLEST else None

    def commit(self) -> None:
        """The transaction whose registry writes put the pending entries has committed."""
        for path, entry in self._pending.items():
            self._drop(path)
            if entry is not None:
                self._pages[path] = entry
                self._size += len(entry.text)
        self._pending.clear()
        while self._size > self.BUDGET:
            self._drop(next(iter(self._pages)))

    def forget(self) -> None:
        self._pages.clear()
        self._pending.clear()
        self._size = 0

    def _drop(self, path: str) -> None:
        entry = self._pages.pop(path, None)
        if entry is not None:
            self._size -= len(entry.text)


def countable(text: str) -> bool:
    """Whether the text's link targets are the union of its pieces' (no fence, no code span, lines only what
    "\n" ends: no link can cross from one piece into the next, nor be hidden by something that does)."""
    return "`" not in text and "~" not in text and not has_other_breaks(text)


def count_links(text: str) -> Counter:
    """Link target -> number of pieces of `text` (its front matter, then its body split as passages.cut splits
    it) that link to it. Only for a countable() text."""
    front, body = passages.split_front_matter(text)
    counts: Counter = Counter(_targets(front))
    for piece in body.split("\n#"):
        counts.update(_targets(piece))
    return counts


def _targets(piece: str) -> set[str]:
    """The pages a piece links to, as db.link_targets reads them (a link to a heading of the page itself, `[[#x]]`,
    names no page)."""
    return {target for target in wikilink_pages(piece) if target}


def recount_links(entry: Remembered, text: str, gone: list[str], came: list[str]) -> Counter | None:
    """count_links(text) from the entry's counts and the pieces that changed; None when it cannot be."""
    if entry.links is None or not countable(text):
        return None
    counts = entry.links.copy()
    for piece in [passages.split_front_matter(entry.text)[0], *gone]:
        for target in _targets(piece):
            left = counts[target] - 1
            if left:
                counts[target] = left
            else:
                del counts[target]
    for piece in [passages.split_front_matter(text)[0], *came]:
        counts.update(_targets(piece))
    return counts
