"""Update index.md in place: replace, insert or remove only the lines of the pages a change touches.

Rendering the whole catalogue on every add would cost time in proportion to the KB; splicing costs a few string
searches and copies per touched page (C speed), plus the copy of the file the store must write anyway.
Anything unexpected in the file (a hand edit that moved a heading, say) falls back to a full render.
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

    old_kinds: the kind each changed path had before (absent if new). successor(kind, path): the next page of that
    kind after `path` in the KB as it will be (sorted by path), or None.
    """
    m = _COUNT.search(text)
    if not text.startswith("# Index\n") or m is None:
        return None
    count = int(m.group(1))
    for path in sorted(changes):
        if path in old_kinds:
            start, end = _find_line(text, path)
            if start < 0:
                return None
            text = text[:start] + text[end:]
            count -= 1
            heading = f"\n## {pages.KIND_HEADINGS.get(old_kinds[path], old_kinds[path].title())}\n\n"
            at = text.find(heading)
            if at < 0 or not text.startswith("- [[", at + len(heading)):
                return None  # the kind's last page went: a full render drops its heading
        row = changes[path]
        if row is None:
            continue
        kind, title, desc = row
        at = _insertion_point(text, kind, path, successor)
        if at < 0:
            return None
        text = text[:at] + pages.index_line(path, title, desc) + "\n" + text[at:]
        count += 1
    m = _COUNT.search(text)
    return text[: m.start(1)] + str(count) + text[m.end(1) :]


def _find_line(text: str, path: str) -> tuple[int, int]:
    target = pages.target_of(path)
    for probe in (f"\n- [[{target}|", f"\n- [[{target}]]"):
        at = text.find(probe)
        if at >= 0:
            end = text.find("\n", at + 1)
            return at + 1, (len(text) if end < 0 else end + 1)
    return -1, -1


def _insertion_point(text: str, kind: str, path: str, successor: Callable[[str, str], str | None]) -> int:
    heading = f"\n## {pages.KIND_HEADINGS.get(kind, kind.title())}\n\n"
    section = text.find(heading)
    if section < 0:
        return -1
    nxt = successor(kind, path)
    if nxt is not None:
        start, _ = _find_line(text, nxt)
        return start
    # The last page of its kind: after the section's last line.
    end = text.find("\n## ", section + len(heading))
    body_end = len(text) if end < 0 else end + 1
    while body_end > section + len(heading) and text[body_end - 2 : body_end] == "\n\n":
        body_end -= 1
    return body_end
