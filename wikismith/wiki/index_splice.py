"""Update index.md in place: replace, insert or remove only the lines of the pages a change touches.

Rendering the whole catalogue on every add would cost time in proportion to the KB; splicing costs a few string
searches per touched page, bounded to that page's kind section, and one copy of the file, which the store must
write anyway. Anything unexpected in the file (a hand edit that moved a heading, say) falls back to a full render.
"""

from __future__ import annotations

import re
from typing import Callable

from wikismith.wiki import pages

_COUNT = re.compile(r"^(\d+) pages\.", re.MULTILINE)

Row = tuple[str, str, str]  # (kind, title, description)


def splice(text: str, changes: dict[str, Row | None], old_kinds: dict[str, str],
           successor: Callable[[str, str], str | None]) -> str | None:
    """The index with `changes` applied (path -> new row, or None to remove), or None when it must be re-rendered.

    old_kinds: the kind each changed path has now (absent if new). successor(kind, path): the next page of that kind
    after `path` in the KB as it is now (sorted by path), or None. All positions refer to the text as it is now.
    """
    m = _COUNT.search(text)
    if not text.startswith("# Index\n") or m is None:
        return None
    sections = _Sections(text)
    edits: list[tuple[int, int, str, str]] = []  # (start, end, path, replacement)
    removed: dict[str, int] = {}
    count = int(m.group(1))
    for path in sorted(changes):
        row = changes[path]
        if path in old_kinds:
            start, end = sections.find_line(old_kinds[path], path)
            if start < 0:
                return None
            if row is not None:
                edits.append((start, end, path, pages.index_line(path, row[1], row[2]) + "\n"))
                continue
            edits.append((start, end, path, ""))
            removed[old_kinds[path]] = removed.get(old_kinds[path], 0) + 1
            count -= 1
        elif row is not None:
            at = sections.insertion_point(row[0], path, successor)
            if at < 0:
                return None
            edits.append((at, at, path, pages.index_line(path, row[1], row[2]) + "\n"))
            count += 1
    if any(sections.lines(kind) <= gone for kind, gone in removed.items()):
        return None  # a kind lost its last page: a full render drops its heading
    out, pos = [], 0
    for start, end, _path, replacement in sorted(edits):
        out += [text[pos:start], replacement]
        pos = end
    out.append(text[pos:])
    result = "".join(out)
    m = _COUNT.search(result)
    return result[: m.start(1)] + str(count) + result[m.end(1) :]


class _Sections:
    """Where each kind's lines are in the index text."""

    def __init__(self, text: str):
        self.text = text
        self._spans: dict[str, tuple[int, int]] = {}

    def span(self, kind: str) -> tuple[int, int]:
        """(first line, end of last line) of a kind's section; (-1, -1) when it has none."""
        if kind not in self._spans:
            heading = f"\n## {pages.KIND_HEADINGS.get(kind, kind.title())}\n\n"
            at = self.text.find(heading)
            if at < 0:
                self._spans[kind] = (-1, -1)
            else:
                start = at + len(heading)
                nxt = self.text.find("\n## ", start)  # the blank line before the next heading
                self._spans[kind] = (start, len(self.text) if nxt < 0 else nxt)
        return self._spans[kind]

    def lines(self, kind: str) -> int:
        start, end = self.span(kind)
        return 0 if start < 0 else self.text.count("\n- [[", start - 1, end)

    def find_line(self, kind: str, path: str) -> tuple[int, int]:
        lo, hi = self.span(kind)
        if lo < 0:
            return -1, -1
        target = pages.target_of(path)
        for probe in (f"\n- [[{target}|", f"\n- [[{target}]]"):
            at = self.text.find(probe, lo - 1, hi)
            if at >= 0:
                end = self.text.find("\n", at + 1)
                return at + 1, (len(self.text) if end < 0 else end + 1)
        return -1, -1

    def insertion_point(self, kind: str, path: str, successor: Callable[[str, str], str | None]) -> int:
        lo, hi = self.span(kind)
        if lo < 0:
            return -1
        nxt = successor(kind, path)
        if nxt is None:
            return hi  # the last page of its kind: after the section's last line
        start, _ = self.find_line(kind, nxt)
        return start
