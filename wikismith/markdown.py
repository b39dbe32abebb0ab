"""The one Markdown reader: front matter, fenced code, headings and wikilinks, with one set of rules.

Every part of wikismith that needs to know where code starts and ends, what a heading is, or where a `[[link]]`
is, asks here. The rules, close to CommonMark and to what Obsidian shows:

- A fence is three or more backticks or tildes, indented at most three spaces; a backtick fence's info string holds
  no backtick. It closes at a line of the same character, at least as long, with nothing after it. An unclosed
  fence runs to the end of the text.
- A heading starts in column 0: `#`..`######` then a space (ATX), or a line of text directly under a blank line (or
  the start) with `===` or `---` under it (setext). An indented `# ...` is far more often a comment in a loosely
  indented code sample than a heading, so it is not one.
- A wikilink is `[[target]]` or `[[target|label]]` outside fenced code and outside `inline code`. The page it names
  is the target without its `#heading` part.

Everything here is one linear pass over the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_ATX = re.compile(r"(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*\Z")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*\Z")
_LINK = re.compile(r"(`[^`\n]*`)|\[\[([^\[\]|\n]+)(?:\|([^\[\]\n]*))?\]\]")
# A dunder (`__init__`) or a name with a leading underscore (`_private`) outside code: Markdown reads `__init__` as
# bold "init", so code_identifiers() puts it in a code span. `_word_` and `_two words_` are left alone: that is
# emphasis.
BARE_IDENTIFIER = re.compile(r"(`[^`\n]*`)|(?<![\w`*])(__[A-Za-z0-9]\w*?__|_{1,2}[A-Za-z]\w*(?<!_)(?![^\n]*?[^\s_]_(?!\w)))"
                             r"(?![\w`])")
_MAX_HEADING_LINE = 1000  # no heading is this long: skip the patterns on giant lines


# -- front matter ---------------------------------------------------------------------------------------------------

def front_matter_end(lines: list[str]) -> int:
    """Index of the first line after a YAML front-matter block (`---` ... `---`), or 0 when there is none."""
    if not lines or lines[0].strip() != "---":
        return 0
    for index in range(1, min(len(lines), 500)):
        if lines[index].strip() in ("---", "..."):
            return index + 1
    return 0


# -- fenced code ----------------------------------------------------------------------------------------------------

def fence_opening(line: str) -> str | None:
    """The fence marker (``` or ~~~, as long as written) when `line` opens a fenced code block."""
    m = _FENCE.match(line)
    if not m or (m.group(1)[0] == "`" and "`" in m.group(2)):
        return None
    return m.group(1)


def fence_closes(line: str, marker: str) -> bool:
    """Whether `line` closes a fence opened with `marker`."""
    m = _FENCE.match(line)
    return bool(m) and m.group(1)[0] == marker[0] and len(m.group(1)) >= len(marker) and not m.group(2).strip()


def code_lines(lines) -> Iterator[tuple[bool, str]]:
    """(in_code, line) for each line: True for a fence's own lines and everything between them."""
    fence = ""
    for line in lines:
        head = line[:4]
        if "`" not in head and "~" not in head:  # no fence marker within the first four columns: no fence line
            yield bool(fence), line
            continue
        if fence:
            if fence_closes(line.rstrip("\r\n"), fence):
                fence = ""
            yield True, line
            continue
        opened = fence_opening(line.rstrip("\r\n"))
        if opened:
            fence = opened
            yield True, line
        else:
            yield False, line


# -- headings -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Heading:
    line: int  # 0-based index of the heading's first line
    level: int
    title: str  # as written, markup and all
    lines: int = 1  # how many source lines the heading takes (setext: 2)


def atx_heading(line: str) -> tuple[int, str] | None:
    """(level, text) when `line` is an ATX heading with text, else None."""
    if not line.startswith("#") or len(line) > _MAX_HEADING_LINE:
        return None
    m = _ATX.match(line)
    if not m or not (m.group(2) or "").strip():
        return None
    return len(m.group(1)), m.group(2).strip()


# Line breaks other than \n that str.splitlines() honours.
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# A line that may open or close a fence (a backtick or tilde in its first four columns, as code_lines() tests), a
# line that may underline a setext heading, an ATX heading's line: each anchored on the "\n" before the line (run over
# "\n" + text). A literal first character lets the regular-expression engine skip from newline to newline instead of
# testing `^` at every character, which made each pass over a page that gathers thousands of sections cost
# milliseconds.
_NL_FENCE_OR_UNDERLINE = re.compile(r"\n(?:[^\n]{0,3}[`~]| {0,3}(?:=+|-+)[ \t]*(?=\n|\Z))")
_NL_UNDERLINE = re.compile(r"\n {0,3}(?:=+|-+)[ \t]*(?=\n|\Z)")
_NL_HASH_LINE = re.compile(r"\n#")
_NL_FENCE_LINE = re.compile(r"\n[^\n]{0,3}[`~]")
_LINK_ONLY = re.compile(r"\[\[([^\[\]|\n]+)(?:\|([^\[\]\n]*))?\]\]")  # _LINK where no backtick can open a code span


def has_fence_or_underline(text: str, offset: int = 0) -> bool:
    """Whether a line at or after `offset` (a line start) may open or close a fence or underline a setext heading
    (text with neither has only ATX headings)."""
    if "`" not in text and "~" not in text:  # no fence line: only an underline can answer
        return _NL_UNDERLINE.search("\n" + text, offset) is not None
    return _NL_FENCE_OR_UNDERLINE.search("\n" + text, offset) is not None


def has_fence_line(text: str) -> bool:
    """Whether a line may open or close a fence: no backtick and no tilde, no fence line."""
    if "`" not in text and "~" not in text:
        return False
    return _NL_FENCE_LINE.search("\n" + text) is not None


def has_other_breaks(text: str) -> bool:
    """bool(_OTHER_BREAKS.search(text)), with plain substring tests on ASCII text."""
    if text.isascii():
        return any(ch in text for ch in "\r\x0b\x0c\x1c\x1d\x1e")
    return _OTHER_BREAKS.search(text) is not None


def headings(text: str) -> list[Heading]:
    """ATX and setext headings outside fenced code and front matter, in order."""
    lines = text.split("\n")
    start = front_matter_end(lines)
    offset = sum(len(line) + 1 for line in lines[:start])
    if not has_fence_or_underline(text, offset):
        # No fence and no setext underline: the headings are the ATX lines, found by one regular-expression pass
        # instead of a Python step per line (pages that gather a section from each of thousands of documents).
        found: list[Heading] = []
        index, at = start, offset
        for m in _NL_HASH_LINE.finditer("\n" + text, offset):  # "\n#" at m.start() is "#" at m.start() in text
            index += text.count("\n", at, m.start())
            at = m.start()
            atx = atx_heading(lines[index])
            if atx:
                found.append(Heading(index, atx[0], atx[1]))
        return found
    return _headings_slow(lines, start)


def _headings_slow(lines: list[str], start: int) -> list[Heading]:
    found: list[Heading] = []
    taken = -1  # the underline of a setext heading is not itself a heading or a heading's text
    masked = list(code_lines(lines[start:]))
    for offset, (in_code, line) in enumerate(masked):
        index = start + offset
        if in_code or index <= taken:
            continue
        atx = atx_heading(line)
        if atx:
            found.append(Heading(index, atx[0], atx[1]))
            continue
        if line.startswith("#") or not line.strip() or line[0].isspace() or len(line) > _MAX_HEADING_LINE:
            continue
        if offset + 1 < len(masked) and not masked[offset + 1][0]:
            below = lines[index + 1][:4]
            under = _SETEXT.match(lines[index + 1]) if "=" in below or "-" in below else None
            blank_before = index == start or not lines[index - 1].strip()
            if under and blank_before and not _block_start(line):
                found.append(Heading(index, 1 if under.group(1)[0] == "=" else 2, line.strip(), 2))
                taken = index + 1
    return found


def _block_start(line: str) -> bool:
    stripped = line.lstrip()
    return stripped.startswith(("- ", "* ", "+ ", ">", "|", "<")) or bool(re.match(r"\d+[.)] ", stripped))


def code_identifiers(text: str) -> str:
    """One line of prose with every bare `__dunder__` or `_private` identifier put in a code span, so that it shows
    with its underscores instead of as emphasis."""
    return BARE_IDENTIFIER.sub(lambda m: m.group(1) or f"`{m.group(2)}`", text) if "_" in text else text


# -- wikilinks ------------------------------------------------------------------------------------------------------

def page_of(target: str) -> str:
    """The page a link target names: `concepts/x#Heading` -> `concepts/x`."""
    return target.split("#", 1)[0].strip()


def wikilinks(text: str) -> list[str]:
    """The page named by every wikilink in `text`, in order, repeats included."""
    if "[[" not in text:
        return []
    targets = _one_pass_targets(text)
    if targets is not None:
        return [page_of(target) for target in targets]
    found = []
    for in_code, line in code_lines(text.splitlines(keepends=True)):
        if not in_code and "[[" in line:
            found.extend(page_of(m.group(2)) for m in _LINK.finditer(line) if m.group(2) is not None)
    return found


def wikilink_pages(text: str) -> set[str]:
    """The set of pages `text` links to: set(wikilinks(text)), with each distinct link target read once (a page
    that gathers a section from each of thousands of documents links to each of their summaries)."""
    if "[[" not in text:
        return set()
    targets = _one_pass_targets(text)
    if targets is None:
        return set(wikilinks(text))
    return {page_of(target) for target in set(targets)}


def _one_pass_targets(text: str) -> list[str] | None:
    """Every wikilink's target as written, in order, found in one pass over the text; None when the text needs the
    line-by-line loop. With no fence, and lines what "\n" separates (no link or code span crosses one), one pass
    finds what the loop would, without a Python step per line."""
    if has_fence_line(text) or has_other_breaks(text):
        return None
    if "`" not in text:
        return [target for target, _label in _LINK_ONLY.findall(text)]
    return [target for _code, target, _label in _LINK.findall(text) if target]  # a code span matches, no target


def rewrite_wikilinks(text: str, fn: Callable[[str, str | None, str], str]) -> str:
    """`text` with every wikilink replaced by fn(page, label, original_link_text)."""
    if "[[" not in text:
        return text
    out = []
    for in_code, line in code_lines(text.splitlines(keepends=True)):
        if in_code or "[[" not in line:
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
