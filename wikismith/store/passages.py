"""Passages: a page cut at its headings into pieces of a few hundred words, for the full-text index.

Each passage keeps the heading above it and, on a source page with page markers (`<!-- page N -->`), the pages it
spans. wikismith's own markers are left out of the text; a wikilink is indexed by the words it shows. Pure text in,
rows out: the registry writes them in the same transaction as the page they come from.
"""

from __future__ import annotations

import bisect
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
    whole = cut(text)
    if whole is not None:
        return whole.passages
    _front, body = split_front_matter(text)
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
        rows, page = _section_chunks("\n".join(section), heading, page, before)
        out.extend([Passage(len(out) + k, *rest) for k, rest in enumerate(rows)])
    return out


class Cut(NamedTuple):
    """The passages of an ATX-only body with what re-cutting an edited version of it needs (see recut)."""
    pieces: list[str]  # the body split at "\n#"
    starts: list[int]  # the pieces that start a section, ascending (the first piece always does)
    firsts: list[int]  # each section's first passage (its index in `passages`), then len(passages)
    entries: list[tuple]  # each section's (page number in force, heading of the passage before it or None)
    passages: list[Passage]
    end: tuple  # that state after the last section


def _atx_body(text: str) -> str | None:
    """The body of a page's text when it can be cut piece by piece (see _Walk): its only headings are ATX lines
    (no fence, no setext underline, so no front matter either: `---` is an underline); None when it cannot. Asked
    with wikismith's markers still in: a marker line is no fence, underline or `---`."""
    _front, body = split_front_matter(text)
    if not has_fence_or_underline(body) and body.partition("\n")[0].strip() != "---":
        return body
    return None


def cut(text: str) -> Cut | None:
    """passages(text) with its sections' bookkeeping; None for a text that is not ATX-only."""
    body = _atx_body(text)
    if body is None:
        return None
    pieces = body.split("\n#")
    walk = _Walk(pieces, None, None)
    walk.run(0, len(pieces))
    rows = walk.rows
    return Cut(pieces, walk.starts, [*walk.firsts, len(rows)], walk.entries,
               [_tuple_new(Passage, (i, *row)) for i, row in enumerate(rows)], walk.state())


class _Walk:
    """Cuts the sections that start at pieces[lo:hi] (lo starts one; the last ends at hi) into passage rows
    (heading, first page, last page, text), from a given state: the page number in force and the heading of the
    passage before. What a section gives depends only on its text, its heading and that state.

    The pieces are the body split at the lines that start with "#" in one C-speed pass; each piece (a "#" line and
    the lines up to the next one) is read once and remembered (_tail_piece, _section_chunks), markers taken out,
    so a page that gathers a section from each of thousands of documents costs a dictionary look-up per section,
    not a Python step or a pattern pass per line. A piece starts with a full line and ends with one, so taking the
    markers out piece by piece takes out what taking them out of the whole body would. Gives exactly what the
    line-by-line path gives (tests/unit/test_fast_paths.py)."""

    def __init__(self, pieces: list[str], page: int | None, before: str | None):
        self.pieces, self.page, self.before = pieces, page, before
        self.rows: list[tuple] = []
        self.starts: list[int] = []
        self.firsts: list[int] = []
        self.entries: list[tuple] = []

    def run(self, lo: int, hi: int) -> None:
        pieces = self.pieces
        if lo == 0:
            first = pieces[0]
            head = _tail_piece(first[1:]) if first.startswith("#") else None
            if head is None or head[0] is None:
                heading, parts = "", [_without_our_marks(first)]
            else:
                heading, parts = head[0], ([head[1]] if head[1] is not None else [])
        else:
            heading, text = _tail_piece(pieces[lo])
            parts = [text] if text is not None else []
        start = lo
        for i in range(lo + 1, hi):
            found, text = _tail_piece(pieces[i])
            if found is None:
                parts.append(text)
                continue
            self._section(start, parts, heading)
            start, heading, parts = i, found, ([text] if text is not None else [])
        self._section(start, parts, heading)

    def _section(self, start: int, parts: list[str], heading: str) -> None:
        before = self.rows[-1][0] if self.rows else self.before
        self.starts.append(start)
        self.firsts.append(len(self.rows))
        self.entries.append((self.page, before))
        rows, self.page = _section_chunks(parts[0] if len(parts) == 1 else "\n".join(parts), heading, self.page,
                                          before)
        self.rows.extend(rows)

    def state(self) -> tuple:
        """The state the next section would start from."""
        return self.page, (self.rows[-1][0] if self.rows else self.before)


class Recut(NamedTuple):
    cut: Cut
    kept: list[tuple[int, int, int]]  # runs of passages kept: (index in old, index in new, length)
    assembly: "_Assembly"  # which pieces changed (changed_pieces())


def recut(old: Cut, text: str) -> Recut | None:
    """cut(text) for `text`, an edited version of the text `old` was cut from, cutting again only the sections
    with a changed piece; and the runs of passages it kept from `old`, as (index in old, index in new, length).
    A section is kept when its pieces are those of an old section (at the same place counted from the start, or
    from the end) and it starts in the state that old section started in; a run of such sections is kept in one
    slice. A page that gathers a section from each of thousands of documents then costs an add what its changed
    sections cost (and a comparison of its pieces), not what cutting the page does. None for a text that is not
    ATX-only."""
    _front, body = split_front_matter(text)
    o, n = old.pieces, body.split("\n#")
    if n[0].partition("\n")[0].strip() == "---":
        return None
    section_of = {start: k for k, start in enumerate(old.starts)}
    sections, behind = len(old.starts), len(n) - len(o)
    out = _Assembly(old, n)
    state: tuple = (None, None)
    pos = 0
    kept_to = 0  # old pieces before this are kept or passed: a kept run never reaches back (each old row once)
    while pos < len(n):
        d = _aligned(o, n, pos, behind)
        # (The first piece is a section's start by its place alone: it maps only to the first piece.)
        k = section_of.get(pos - d) if d is not None and (pos == 0) == (pos - d == 0) else None
        if k is not None and pos - d >= kept_to and old.entries[k] == state:
            end = _run_end(o, n, pos, d)
            # Old sections k .. last-1 end at a piece of the run (a section start in both texts); the section
            # that holds the run's last piece is kept only when the run reaches the end of both texts.
            last = bisect.bisect_right(old.starts, end - d - 1)
            if not (end == len(n) and end - d == len(o)):
                last -= 1
            if last > k:
                kept_to = old.starts[last] if last < sections else len(o)
                out.keep(k, last, -d, kept_to)
                state = old.entries[last] if last < sections else old.end
                pos = old.starts[last] + d if last < sections else len(n)
                continue
        # Cut one section of the new text: from pos to the next piece that starts one.
        end = pos + 1
        while end < len(n):
            e = _aligned(o, n, end, behind)
            if (end - e > 0 and end - e in section_of) if e is not None else _tail_piece(n[end])[0] is not None:
                break
            end += 1
        # Pieces the old text did not have may hold a fence or an underline, which the piece-by-piece cut
        # cannot read (a "#" line is a piece's first line: "#" + piece is how the body has it).
        if any(has_fence_or_underline(n[i] if i == 0 else "#" + n[i]) for i in range(pos, end)):
            return None
        walk = _Walk(n, *state)
        walk.run(pos, end)
        out.cut(walk, pos, end)
        state, pos = walk.state(), end
    return out.result(n, state)


def _aligned(o: list[str], n: list[str], i: int, behind: int) -> int | None:
    """How many places before new piece i the equal old piece lies: 0 (counted from the start), `behind` (counted
    from the end), or None when neither old piece is equal."""
    if i < len(o) and o[i] == n[i]:
        return 0
    if 0 <= i - behind < len(o) and o[i - behind] == n[i]:
        return behind
    return None


def _run_end(o: list[str], n: list[str], pos: int, d: int) -> int:
    """The end of the run of new pieces from pos equal to the old ones d places before them, compared in slices
    of doubling length (in C) before piece by piece."""
    end, step = pos + 1, 8
    while True:
        stop = min(end + step, len(n), len(o) + d)
        if stop <= end:
            return end
        if n[end:stop] == o[end - d:stop - d]:
            end, step = stop, step * 2
        elif step > 1:
            step //= 2
        else:
            return end


class _Assembly:
    """A Cut put together from old sections kept and new ones cut."""

    def __init__(self, old: Cut, new_pieces: list[str]):
        self.old, self.new_pieces = old, new_pieces
        self.starts: list[int] = []
        self.firsts: list[int] = []
        self.entries: list[tuple] = []
        self.passages: list[Passage] = []
        self.kept: list[tuple[int, int, int]] = []
        self.kept_pieces: list[tuple[int, int]] = []  # old pieces kept, [lo, hi) ranges
        self.cut_pieces: list[tuple[int, int]] = []  # new pieces cut, [lo, hi) ranges

    def cut(self, walk: _Walk, lo: int, hi: int) -> None:
        self.cut_pieces.append((lo, hi))
        base = len(self.passages)
        self.starts += walk.starts
        self.firsts += [f + base for f in walk.firsts]
        self.entries += walk.entries
        self.passages += [_tuple_new(Passage, (base + i, *row)) for i, row in enumerate(walk.rows)]

    def keep(self, lo: int, hi: int, piece_shift: int, end_piece: int) -> None:
        """Old sections lo .. hi-1 (their pieces up to end_piece), moved by -piece_shift pieces (in slices when
        nothing moves)."""
        old = self.old
        self.kept_pieces.append((old.starts[lo], end_piece))
        lo_p, hi_p, base = old.firsts[lo], old.firsts[hi], len(self.passages)
        if piece_shift:
            self.starts += [s - piece_shift for s in old.starts[lo:hi]]
        else:
            self.starts += old.starts[lo:hi]
        self.firsts += old.firsts[lo:hi] if base == lo_p else [f - lo_p + base for f in old.firsts[lo:hi]]
        self.entries += old.entries[lo:hi]
        if hi_p > lo_p:
            if self.kept and self.kept[-1][0] + self.kept[-1][2] == lo_p and self.kept[-1][1] + self.kept[-1][2] == base:
                a, b, length = self.kept.pop()
                self.kept.append((a, b, length + hi_p - lo_p))
            else:
                self.kept.append((lo_p, base, hi_p - lo_p))
        if base == lo_p:
            self.passages += old.passages[lo_p:hi_p]
        else:
            self.passages += [_tuple_new(Passage, (base + i, *p[1:])) for i, p in enumerate(old.passages[lo_p:hi_p])]

    def result(self, pieces: list[str], end: tuple) -> "Recut":
        return Recut(Cut(pieces, self.starts, [*self.firsts, len(self.passages)], self.entries, self.passages, end),
                     self.kept, self)

    def changed_pieces(self) -> tuple[list[str], list[str]]:
        """(the old pieces not kept, the new pieces cut)."""
        gone, at = [], 0
        for lo, hi in self.kept_pieces:
            gone += self.old.pieces[at:lo]
            at = hi
        gone += self.old.pieces[at:]
        return gone, [p for lo, hi in self.cut_pieces for p in self.new_pieces[lo:hi]]


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
