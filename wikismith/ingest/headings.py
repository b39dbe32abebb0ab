"""Headings: Markdown's cleaned of markup (the rules live in wikismith.markdown), and reStructuredText's adorned
section titles turned into Markdown ones."""

from __future__ import annotations

import re

from wikismith.markdown import Heading, front_matter_end
from wikismith.markdown import headings as md_headings

_RST_PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def find_headings(markdown: str) -> list[Heading]:
    """The document's headings (the rules of wikismith.markdown), each title cleaned of markup."""
    return [Heading(h.line, h.level, title, h.lines) for h in md_headings(markdown) if (title := clean_title(h.title))]


def clean_title(text: str) -> str:
    """A heading's text without emphasis stars, code ticks or link syntax, whitespace collapsed. Underscores stay:
    `__init__` is an identifier far more often than `__strong__` emphasis."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[\[([^\]|]*\|)?([^\]]*)\]\]", r"\2", text)
    text = text.replace("**", "").replace("`", "")
    return " ".join(text.split()).strip()


def _adornment(line: str) -> str | None:
    """The repeated punctuation character when `line` is an RST adornment line."""
    stripped = line.rstrip()
    if len(stripped) < 3 or stripped[0] not in _RST_PUNCT or stripped != stripped[0] * len(stripped):
        return None
    return stripped[0]


def rst_to_markdown(text: str) -> tuple[str, str | None]:
    """Turn RST section titles into ATX headings, keep every other line as it is.

    RST levels follow the order in which adornment styles first appear (docutils' rule). Returns the text and the
    document title: the first section title when its style is used only once (docutils' "document title"),
    else None.
    """
    lines = text.split("\n")
    styles: list[tuple[str, bool]] = []
    found: list[tuple[int, int, tuple[str, bool], str]] = []  # (start line, line count, style, title)
    index = 0
    while index < len(lines):
        line = lines[index]
        before_blank = index == 0 or not lines[index - 1].strip()
        over = _adornment(line)
        if (over and before_blank and index + 2 < len(lines) and _adornment(lines[index + 2]) == over
                and lines[index + 1].strip() and not _adornment(lines[index + 1])):
            found.append((index, 3, (over, True), lines[index + 1].strip()))
            index += 3
            continue
        if (before_blank and line.strip() and not line[0].isspace() and index + 1 < len(lines)
                and not _adornment(line) and len(line) <= 300):
            under = _adornment(lines[index + 1])
            if under:
                found.append((index, 2, (under, False), line.strip()))
                index += 2
                continue
        index += 1
    for _, _, style, _ in found:
        if style not in styles:
            styles.append(style)
    title = None
    if found and sum(1 for item in found if item[2] == found[0][2]) == 1:
        title = clean_title(found[0][3])
    out: list[str] = []
    cursor = 0
    for start, count, style, heading in found:
        out.extend(lines[cursor:start])
        level = min(styles.index(style) + 1, 6)
        out.append("#" * level + " " + heading)
        cursor = start + count
    out.extend(lines[cursor:])
    return "\n".join(out), title
