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
    # Asked before taking wikismith's markers out, with the same answer: a marker line is no fence, underline or
    # `---`, and the empty line it leaves is none either.
    if not has_fence_or_underline(body) and body.partition("\n")[0].strip() != "---":
        return _passages_of_atx_body(body)
    body = _without_our_marks(body)
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
    either: `---` is an underline), wikismith's markers still in it: the body is split at the lines that start
    with "#" in one C-speed pass, and each piece (a "#" line and the lines up to the next one) is read once and
    remembered, markers taken out, so a page that gathers a section from each of thousands of documents costs a
    dictionary look-up per section, not a Python step or a pattern pass per line. A piece starts with a full
    line and ends with one, so taking the markers out piece by piece takes out what taking them out of the whole
    body would. Gives exactly what the line-by-line path gives (tests/unit/test_fast_paths.py)."""
    pieces = body.split("\n#")
    first = pieces[0]
    head = _tail_piece(first[1:]) if first.startswith("#") else None
    if head is None or head[0] is None:
        heading, parts = "", [_without_our_marks(first)]
    else:
        heading, parts = head[0], ([head[1]] if head[1] is not None else [])
    out: list[Passage] = []
    page = None
    for rest in pieces[1:]:
        found, text = _tail_piece(rest)
        if found is None:  # a "#" line that is no heading: part of the section above
            parts.append(text)
            continue
        page = _add_section(out, parts, heading, page)
        heading, parts = found, ([text] if text is not None else [])
    _add_section(out, parts, heading, page)
    return out


def _add_section(out: list[Passage], parts: list[str], heading: str, page: int | None) -> int | None:
    """The passages of one section (its text in parts) onto `out`; returns the page number in force after it."""
    cut, page = _section_chunks(parts[0] if len(parts) == 1 else "\n".join(parts), heading, page,
                                out[-1].heading if out else None)
    if len(cut) == 1:  # most sections: one passage, made without the named tuple's Python-level constructor
        out.append(_tuple_new(Passage, (len(out), *cut[0])))
    else:
        out.extend([Passage(len(out) + k, *row) for k, row in enumerate(cut)])
    return page


_tuple_new = tuple.__new__


@functools.lru_cache(maxsize=1 << 16)
def _tail_piece(rest: str) -> tuple[str | None, str | None]:
    """A piece of the body that starts with a "#" line, given without its "#": (plain heading, the text below
    the heading line, None when there is none) when that line is a heading; (None, the whole piece) when it is
    not. A heading whose plain text is empty keeps its line in its section, as the line-by-line path does.
    Texts are returned with wikismith's markers taken out."""
    piece = "#" + rest
    line, newline, below = piece.partition("\n")
    atx = atx_heading(line)
    if atx is None:
        return None, _without_our_marks(piece)
    heading = _plain(atx[1])
    if not heading:
        return "", _without_our_marks(piece)
    return heading, _without_our_marks(below) if newline else None


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
