"""Passages: a page cut at its headings into pieces of a few hundred words, for the full-text index.

Each passage keeps the heading above it and, on a source page with page markers (`<!-- page N -->`), the pages it
spans. wikismith's own markers are left out of the text; a wikilink is indexed by the words it shows. Pure text in,
rows out: the registry writes them in the same transaction as the page they come from.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from wikismith.markdown import atx_heading, has_fence_or_underline, headings

MAX_WORDS = 320  # a passage holds about this many words at most: what a reader takes in at one glance
_PAGE_MARK = re.compile(r"<!-- page (\d+) -->")
_OUR_MARK = re.compile(r"^<!-- /?(?:overview|links|source:[^\s<>]+) -->[ \t]*$", re.MULTILINE)
_WIKILINK = re.compile(r"\[\[([^\[\]|\n]+)(?:\|([^\[\]\n]*))?\]\]")


# _OUR_MARK anchored on the "\n" before the line (see markdown._NL_HASH_LINE): the same lines, found faster.
_NL_OUR_MARK = re.compile(r"\n<!-- /?(?:overview|links|source:[^\s<>]+) -->[ \t]*(?=\n|\Z)")


def _without_our_marks(body: str) -> str:
    """_OUR_MARK.sub("", body): each of wikismith's marker lines left empty."""
    if "<!-- " not in body:
        return body
    return _NL_OUR_MARK.sub("\n", "\n" + body)[1:]


class Passage(NamedTuple):  # a named tuple: a page of thousands of sections makes thousands of them per write
    seq: int
    heading: str
    first_page: int | None
    last_page: int | None
    text: str


def split_front_matter(text: str) -> tuple[str, str]:
    """(front matter block, body) of a page's text; ("", text) when it has none."""
    if text.startswith("---\n"):
        end = text.find("\n---\n", 3)
        if end >= 0:
            return text[4:end], text[end + 5 :]
    return "", text


def aliases(front: str) -> list[str]:
    """The `aliases:` list of a front-matter block (the subset wikismith writes: `  - item` lines)."""
    out, inside = [], False
    for line in front.split("\n"):
        if line.startswith("aliases:"):
            inside = True
            rest = line[len("aliases:"):].strip()
            if rest.startswith("[") and rest.endswith("]"):
                return [a.strip().strip("\"'") for a in rest[1:-1].split(",") if a.strip()]
            continue
        if inside:
            if line.startswith("  - "):
                out.append(line[4:].strip().strip('"'))
            else:
                break
    return out


def passages(text: str) -> list[Passage]:
    """The passages of a page's whole text (front matter included, it is skipped)."""
    _front, body = split_front_matter(text)
    body = _without_our_marks(body)
    if not has_fence_or_underline(body) and body.partition("\n")[0].strip() != "---":
        return _passages_of_atx_body(body)
    lines = body.split("\n")
    cuts = [(h.line, _plain(h.title)) for h in headings(body)]
    if not cuts or cuts[0][0] != 0:
        cuts.insert(0, (0, ""))
    out: list[Passage] = []
    page = None
    for i, (start, heading) in enumerate(cuts):
        end = cuts[i + 1][0] if i + 1 < len(cuts) else len(lines)
        section = lines[start + 1 : end] if heading else lines[start:end]
        before = out[-1].heading if out else None
        cut, page = _section_chunks("\n".join(section), heading, page, before)
        out.extend([Passage(len(out) + k, *rest) for k, rest in enumerate(cut)])
    return out


def _passages_of_atx_body(body: str) -> list[Passage]:
    """passages() of a body whose only headings are ATX lines (no fence, no setext underline, so no front matter
    either: `---` is an underline): the body is split at the lines that start with "#" in one C-speed pass, and
    each piece (a heading line and the lines up to the next "#" line) is read once and remembered, so a page that
    gathers a section from each of thousands of documents costs a dictionary look-up per section, not a Python
    step per line. Gives exactly what the line-by-line path gives (tests/unit/test_fast_paths.py)."""
    pieces = body.split("\n#")
    cuts: list[list] = []  # [heading, lines of the section as text pieces]
    first = pieces[0]
    if first.startswith("#"):
        head = _atx_piece(first)
        if head is not None:
            cuts.append([head[0], [head[1]] if head[1] is not None else []])
        else:
            cuts.append(["", [first]])
    else:
        cuts.append(["", [first]])
    for piece in pieces[1:]:
        head = _atx_piece("#" + piece)
        if head is None:
            cuts[-1][1].append("#" + piece)
        else:
            cuts.append([head[0], [head[1]] if head[1] is not None else []])
    out: list[Passage] = []
    page = None
    for heading, parts in cuts:
        before = out[-1].heading if out else None
        cut, page = _section_chunks("\n".join(parts), heading, page, before)
        out.extend([Passage(len(out) + k, *rest) for k, rest in enumerate(cut)])
    return out


@functools.lru_cache(maxsize=1 << 16)
def _atx_piece(piece: str) -> tuple[str, str | None] | None:
    """(plain heading, the text below the heading line or None when there is none) of a piece that starts with a
    heading line; None when its first line is no heading. A heading whose plain text is empty keeps its line in
    its section, as the line-by-line path does."""
    line, newline, rest = piece.partition("\n")
    atx = atx_heading(line)
    if atx is None:
        return None
    heading = _plain(atx[1])
    if not heading:
        return "", piece
    return heading, rest if newline else None


@functools.lru_cache(maxsize=1 << 16)
def _section_chunks(text: str, heading: str, page: int | None, before: str | None):
    """_chunks() of one section, remembered: a page that gathers a section from each of thousands of documents
    changes by one section per add, so its other sections are cut once, not once per add. What a section's
    passages are depends only on its text, its heading, the page number in force and the heading of the passage
    before it (all in the key); returns ((heading, first page, last page, text) per passage, the page at its
    end)."""
    scratch: list[Passage] = [Passage(0, before, None, None, "")] if before is not None else []
    page = _chunks(text.split("\n"), heading, page, scratch)
    cut = scratch[1:] if before is not None else scratch
    return tuple((p.heading, p.first_page, p.last_page, p.text) for p in cut), page


def _chunks(section: list[str], heading: str, page: int | None, out: list[Passage]) -> int | None:
    """Cut one section into passages of at most MAX_WORDS words (at paragraph ends when it can); returns the page
    number in force at its end."""
    words: list[str] = []
    first = page
    for line in section:
        marks = _PAGE_MARK.findall(line) if "<!-- page " in line else None
        if marks:
            if not words:
                first = int(marks[0])
            page = int(marks[-1])
            line = _PAGE_MARK.sub(" ", line)
        text = _plain(line)
        if not text:
            if len(words) >= MAX_WORDS // 2:  # a paragraph ends: a good place to cut
                _emit(out, heading, first, page, words)
                words, first = [], page
            continue
        for word in text.split():
            words.append(word)
            if len(words) >= MAX_WORDS:
                _emit(out, heading, first, page, words)
                words, first = [], page
    if words or (heading and (not out or out[-1].heading != heading)):
        _emit(out, heading, first, page, words)
    return page


def _emit(out: list[Passage], heading: str, first: int | None, last: int | None, words: list[str]) -> None:
    out.append(Passage(len(out), heading, first, last if first is not None else None, " ".join(words)))


def _plain(text: str) -> str:
    """A line with its wikilinks shown as their labels."""
    if "[[" not in text:
        return text.strip()
    return _WIKILINK.sub(lambda m: (m.group(2) or m.group(1)).strip(), text).strip()
