"""Headings of Markdown (ATX and setext) and reStructuredText (adorned section titles)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ATX = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_ATX_EMPTY = re.compile(r"^(#{1,6})[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RST_PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


@dataclass(frozen=True)
class Heading:
    line: int  # 0-based index of the heading's first line
    level: int
    title: str
    lines: int = 1  # how many source lines the heading takes (setext: 2)


def front_matter_end(lines: list[str]) -> int:
    """Index of the first line after a YAML front-matter block (`---` ... `---`), or 0 when there is none."""
    if not lines or lines[0].strip() != "---":
        return 0
    for index in range(1, min(len(lines), 200)):
        if lines[index].strip() in ("---", "..."):
            return index + 1
    return 0


def find_headings(markdown: str) -> list[Heading]:
    """ATX (`## Title`) and setext (`Title` over `===`/`---`) headings outside fenced code and front matter.

    Unlike CommonMark, a heading must start in column 0: an indented `# ...` line is far more often a comment in a
    loosely indented code sample (RST literal blocks, notes) than a heading.
    """
    lines = markdown.split("\n")
    headings: list[Heading] = []
    fence: str | None = None
    start = front_matter_end(lines)
    for index in range(start, len(lines)):
        line = lines[index]
        if len(line) > 1000:  # no heading is this long; skip the regexes on giant lines
            continue
        match = _FENCE.match(line)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
            elif marker.startswith(fence) and not line.strip()[len(marker):].strip():
                fence = None
            continue
        if fence is not None:
            continue
        match = _ATX.match(line)
        if match:
            title = clean_title(match.group(2))
            if title:
                headings.append(Heading(index, len(match.group(1)), title))
            continue
        if _ATX_EMPTY.match(line):
            continue
        if index + 1 < len(lines) and line.strip() and not line[0].isspace():
            underline = _SETEXT.match(lines[index + 1])
            before_blank = index == start or not lines[index - 1].strip()
            if underline and before_blank and not _is_block_start(line):
                level = 1 if underline.group(1)[0] == "=" else 2
                headings.append(Heading(index, level, clean_title(line), 2))
    return _drop_setext_overlaps(headings)


def _is_block_start(line: str) -> bool:
    stripped = line.lstrip()
    return stripped.startswith(("- ", "* ", "+ ", ">", "|", "<")) or bool(re.match(r"\d+[.)] ", stripped))


def _drop_setext_overlaps(headings: list[Heading]) -> list[Heading]:
    # "Title\n---\n" followed by a line under the dashes must not count the dashes line twice.
    taken: set[int] = set()
    kept = []
    for heading in headings:
        if heading.line in taken:
            continue
        kept.append(heading)
        taken.update(range(heading.line, heading.line + heading.lines))
    return kept


def clean_title(text: str) -> str:
    """A heading's text without trailing markers, emphasis stars or link syntax, whitespace collapsed."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[\[([^\]|]*\|)?([^\]]*)\]\]", r"\2", text)
    text = text.replace("**", "").replace("__", "").replace("`", "")
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
