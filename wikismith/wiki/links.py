"""Wikilinks: `[[target]]` and `[[target|label]]`, as Obsidian reads them.

Links inside code (fenced blocks, `inline spans`) are not links, as in Obsidian, so they are neither reported nor
rewritten. Everything here is one pass over the text: linear time whatever the input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

_LINK = re.compile(r"(`[^`\n]*`)|\[\[([^\[\]|\n]+)(?:\|([^\[\]\n]*))?\]\]")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_BAD_TARGET = re.compile(r"[\[\]|#\n\r\\^]")
_LABEL_FIX = str.maketrans({"[": "(", "]": ")", "|": "/", "\n": " ", "\r": " "})


def _prose_lines(text: str) -> Iterator[tuple[bool, str]]:
    """(is_prose, line) for each line, with its line ending; False inside fenced code blocks."""
    fence = ""
    for line in text.splitlines(keepends=True):
        m = _FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line[m.end():].strip():
                fence = ""
            yield False, line
        elif m and not (m.group(1)[0] == "`" and "`" in line[m.end():]):
            fence = m.group(1)
            yield False, line
        else:
            yield True, line


def page_of(target: str) -> str:
    """The page a link target names: `concepts/x#Heading` -> `concepts/x`."""
    return target.split("#", 1)[0].strip()


def find_links(text: str) -> list[str]:
    """The page named by every wikilink in `text`, in order, repeats included."""
    if "[[" not in text:
        return []
    found = []
    for prose, line in _prose_lines(text):
        if prose and "[[" in line:
            found.extend(page_of(m.group(2)) for m in _LINK.finditer(line) if m.group(2) is not None)
    return found


def link(target: str, label: str | None = None) -> str:
    """`[[target]]` or `[[target|label]]`; the label is made safe, a target that cannot be linked raises."""
    if not target or target != target.strip() or _BAD_TARGET.search(target):
        raise ValueError(f"cannot link to {target!r}")
    if target.startswith("/") or any(part in ("", ".", "..") for part in target.split("/")):
        raise ValueError(f"cannot link to {target!r}")
    if label is None:
        return f"[[{target}]]"
    label = " ".join(label.translate(_LABEL_FIX).split())
    return f"[[{target}]]" if not label or label == target else f"[[{target}|{label}]]"


def rewrite_links(text: str, fn: Callable[[str, str | None, str], str]) -> str:
    """`text` with every wikilink replaced by fn(page, label, original_link_text)."""
    if "[[" not in text:
        return text
    out = []
    for prose, line in _prose_lines(text):
        if not prose or "[[" not in line:
            out.append(line)
            continue
        pos = 0
        for m in _LINK.finditer(line):
            if m.group(2) is None:
                continue
            out.append(line[pos : m.start()])
            out.append(fn(page_of(m.group(2)), m.group(3), m.group(0)))
            pos = m.end()
        out.append(line[pos:])
    return "".join(out)


def unlink_unknown(text: str, known: set[str] | frozenset[str]) -> str:
    """`text` with every link to a page not in `known` replaced by its label (or its target) as plain text."""

    def fix(page: str, label: str | None, original: str) -> str:
        if page in known:
            return original
        shown = label.strip() if label and label.strip() else original[2:-2].split("|", 1)[0].strip()
        return shown

    return rewrite_links(text, fix)
