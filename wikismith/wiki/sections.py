"""The body of a concept or entity page: a title, an overview, then one section per source document.

    # Type Hint

    <!-- overview -->
    A short overview.
    <!-- /overview -->

    <!-- source:pep-0484 -->
    ## From [[summaries/pep-0484|Type Hints]]

    What PEP 484 says about it.
    <!-- /source:pep-0484 -->

The HTML comments are the machine-readable boundaries (invisible in Obsidian's reading view). `upsert_section`,
`remove_section` and `set_overview` splice the body in place: every byte outside the one block they touch —
other sections, a user's own notes anywhere on the page — stays exactly as it was. Upserting a new section and
then removing it gives back the original body.
"""

from __future__ import annotations

import bisect
import re
from collections import OrderedDict
from dataclasses import dataclass, field

from wikismith.wiki.links import link

_SOURCE_OPEN = re.compile(r"^<!-- source:([^\s<>]+) -->[ \t]*$", re.MULTILINE)
_SOURCE_CLOSE = re.compile(r"^<!-- /source:([^\s<>]+) -->[ \t]*$", re.MULTILINE)
# Marker lines of sections, matched on the "\n" before them (in "\n" + body, so that index i + 1 is body's i): a
# literal first character lets the scan skip from line to line (see markdown._NL_HASH_LINE).
_NL_SOURCE_MARKER = re.compile(r"\n<!-- (/?)source:([^\s<>]+) -->[ \t]*(?=\n|\Z)")
_MARKER = re.compile(r"^<!-- (/?)(overview|source:([^\s<>]+)) -->[ \t]*$", re.MULTILINE)
_DOC_ID = re.compile(r"[^\W_][\w.-]*\Z")
_TITLE = re.compile(r"^# (.+?)[ \t]*$", re.MULTILINE)
OVERVIEW = "overview"


class SectionError(ValueError):
    """The page's section markers are broken (an unclosed or repeated section); nothing is guessed."""


@dataclass
class PageBody:
    title: str
    overview: str = ""
    sections: dict[str, str] = field(default_factory=dict)
    notes: str = ""  # text outside the title and the marked blocks: the user's own


@dataclass(frozen=True)
class _Block:
    name: str  # "overview" or a doc id
    start: int  # of the opening marker
    inner_start: int
    inner_end: int
    end: int  # just past the closing marker


def _blocks(body: str) -> list[_Block]:
    blocks: list[_Block] = []
    seen: set[str] = set()
    open_name, open_m = None, None
    for m in _MARKER.finditer(body):
        name = OVERVIEW if m.group(2) == OVERVIEW else m.group(3)
        closing = m.group(1) == "/"
        if open_m is None:
            if closing:
                raise SectionError(f"closing marker for {name!r} without its opening marker")
            if name in seen:
                raise SectionError(f"section {name!r} appears twice")
            open_name, open_m = name, m
            continue
        if not closing or name != open_name:
            raise SectionError(f"section {open_name!r} is not closed before {m.group(0)!r}")
        inner_start = open_m.end() + 1 if body.startswith("\n", open_m.end()) else open_m.end()
        inner_end = m.start() - 1 if m.start() > inner_start and body[m.start() - 1] == "\n" else m.start()
        blocks.append(_Block(name, open_m.start(), inner_start, inner_end, m.end()))
        seen.add(name)
        open_name, open_m = None, None
    if open_m is not None:
        raise SectionError(f"section {open_name!r} is never closed")
    return blocks


def _block_text(name: str, content: str) -> str:
    opening = "<!-- overview -->" if name == OVERVIEW else f"<!-- source:{name} -->"
    closing = "<!-- /overview -->" if name == OVERVIEW else f"<!-- /source:{name} -->"
    return f"{opening}\n{content.strip(chr(10))}\n{closing}"


def _check_doc_id(doc_id: str) -> None:
    if not isinstance(doc_id, str) or not _DOC_ID.match(doc_id):
        raise ValueError(f"invalid document id {doc_id!r}")


def parse_page(body: str) -> PageBody:
    """The title, overview, sections (in page order) and the user's notes of a page body."""
    blocks = _blocks(body)
    outside, pos = [], 0
    for b in blocks:
        outside.append(body[pos : b.start])
        pos = b.end
    outside.append(body[pos:])
    rest = "".join(outside)
    title = ""
    m = _TITLE.search(rest)
    if m and not rest[: m.start()].strip():
        title = m.group(1)
        rest = rest[: m.start()] + rest[m.end() :]
    notes = "\n\n".join(chunk.strip("\n") for chunk in re.split(r"\n\s*\n", rest) if chunk.strip())
    page = PageBody(title=title, notes=notes)
    for b in blocks:
        if b.name == OVERVIEW:
            page.overview = body[b.inner_start : b.inner_end]
        else:
            page.sections[b.name] = body[b.inner_start : b.inner_end]
    return page


def render_page(page: PageBody) -> str:
    """A fresh body: title, overview, sections sorted by document id, then the notes."""
    parts = [f"# {page.title}"] if page.title else []
    parts.append(_block_text(OVERVIEW, page.overview))
    for doc_id in sorted(page.sections):
        _check_doc_id(doc_id)
        parts.append(_block_text(doc_id, page.sections[doc_id]))
    if page.notes.strip():
        parts.append(page.notes.strip("\n"))
    return "\n\n".join(parts) + "\n"


MENTIONED = "## Mentioned in "  # the heading of a section from a document that uses the name but is not about it


def make_section(doc_id: str, text: str, label: str | None = None, *, mention: bool = False) -> str:
    """The usual content of a section: a heading citing the document's summary page, then `text`."""
    heading = MENTIONED if mention else "## From "
    return f"{heading}{link(f'summaries/{doc_id}', label)}\n\n{text.strip(chr(10))}"


def _replace_or_insert(body: str, name: str, content: str) -> str:
    blocks = _blocks(body)
    new = _block_text(name, content)
    for b in blocks:
        if b.name == name:
            return body[: b.start] + new + body[b.end :]
    sources = [b for b in blocks if b.name != OVERVIEW]
    if name != OVERVIEW:
        later = [b for b in sources if b.name > name]
        if later:
            at = min(b.start for b in later)
            return body[:at] + new + "\n\n" + body[at:]
        earlier = [b for b in sources if b.name < name]
        if earlier:
            at = max(b.end for b in earlier)
            return body[:at] + "\n\n" + new + body[at:]
        overview = [b for b in blocks if b.name == OVERVIEW]
        if overview:
            at = overview[0].end
            return body[:at] + "\n\n" + new + body[at:]
    elif sources:
        at = min(b.start for b in sources)
        return body[:at] + new + "\n\n" + body[at:]
    m = _TITLE.search(body)
    if m and not body[: m.start()].strip():
        return body[: m.end()] + "\n\n" + new + body[m.end() :]
    if not body.strip():
        return new + "\n"
    if name == OVERVIEW:
        return new + "\n\n" + body
    return body.rstrip("\n") + "\n\n" + new + "\n"


def upsert_section(body: str, doc_id: str, content: str) -> str:
    """`body` with the section of `doc_id` set to `content` (added in doc-id order if it was not there)."""
    _check_doc_id(doc_id)
    fast = _insert_new_section(body, doc_id, content)
    return fast if fast is not None else _replace_or_insert(body, doc_id, content)


def shown_upsert(body: str, doc_id: str, content: str, shown: int) -> str:
    """`upsert_section` on a page that shows the sections of its first `shown` documents by id: a document after
    them gets none (the body comes back as it was), and one that comes before them pushes the last one off."""
    _check_doc_id(doc_id)
    names = sorted_ids(body)
    if doc_id not in names and len(names) >= shown and doc_id > names[shown - 1]:
        return body
    out = upsert_section(body, doc_id, content)
    for extra in sorted({*names, doc_id})[shown:]:
        out = remove_section(out, extra)
    return out


def sorted_ids(body: str) -> list[str]:
    """The document ids of the page's sections, sorted: on a page that shows its first sources, the shown ones
    (remembered for a busy page's body, so asking again costs a lookup, not a scan)."""
    names = _sorted_names("\n" + body, body)
    return names if names is not None else sorted(section_ids(body))


# Bodies this process wrote or read lately -> the names of their sections, when those are well-formed, sorted
# and all after the overview (None when not): a page that gathers a section from each of thousands of documents
# is read again by every add that holds it, and looking it up (one hash of the text) costs a fraction of scanning
# it for its markers again. Bodies made by inserting a section or setting the overview are entered as made.
_NAMES: OrderedDict[str, list[str] | None] = OrderedDict()
_NAMES_BUDGET = 16_000_000  # characters of bodies remembered, newest kept
_NAMES_SMALLEST = 16_000  # characters: a smaller body is scanned again, as cheaply
_names_size = [0]


def _sorted_names(text: str, body: str) -> list[str] | None:
    """The names of the body's sections (`text` is "\n" + body) when they are well-formed, sorted, and all after the
    overview; None otherwise."""
    if body in _NAMES:
        _NAMES.move_to_end(body)
        return _NAMES[body]
    markers = _NL_SOURCE_MARKER.findall(text)  # (slash, name) of every marker line, in page order
    names: list[str] | None = [name for _slash, name in markers[::2]]
    if (not names or names != sorted(set(names))
            or markers != [pair for name in names for pair in (("", name), ("/", name))]):
        names = None  # a section left open, nested, interleaved or repeated: the general path reports it
    else:
        first = _marker_at(text, "", names[0])
        if first is None or body.find("<!-- overview -->", first) >= 0:
            names = None
    _remember_names(body, names)
    return names


def _remember_names(body: str, names: list[str] | None) -> None:
    if len(body) < _NAMES_SMALLEST:
        return
    if body not in _NAMES:
        _names_size[0] += len(body)
    _NAMES[body] = names
    while _names_size[0] > _NAMES_BUDGET and _NAMES:
        _names_size[0] -= len(_NAMES.popitem(last=False)[0])


def _take_names(body: str) -> list[str] | None:
    """What the memo says of a body that is being replaced by an edit of it (and no longer needed there)."""
    if body not in _NAMES:
        return None
    _names_size[0] -= len(body)
    return _NAMES.pop(body)


def forget_names() -> None:
    """Empty the names memo (tests compare against what a fresh scan gives)."""
    _NAMES.clear()
    _names_size[0] = 0


def _insert_new_section(body: str, doc_id: str, content: str) -> str | None:
    """The common case, a new section among well-formed sorted ones, with C-speed scans only (pages can hold
    hundreds of sections); None sends anything else down the general path."""
    text = "\n" + body
    names = _sorted_names(text, body)
    if names is None or doc_id in names:
        return None
    i = bisect.bisect(names, doc_id)
    new = _block_text(doc_id, content)
    if i < len(names):
        at = _marker_at(text, "", names[i])
        out = None if at is None else body[:at] + new + "\n\n" + body[at:]
    else:
        last = _marker_at(text, "/", names[-1])
        if last is None:
            return None
        at = _SOURCE_CLOSE.match(body, last).end()
        out = body[:at] + "\n\n" + new + body[at:]
    if out is not None and "<!-- " not in content:  # no marker line came in with the section: its names are known
        _take_names(body)
        _remember_names(out, [*names[:i], doc_id, *names[i:]])
    return out


def _marker_at(text: str, slash: str, name: str) -> int | None:
    """Where in the body (`text` is "\n" + body) the marker line of `name` starts, when its first occurrence as
    "\n<!-- [/]source:name -->" is that line; None otherwise."""
    at = text.find(f"\n<!-- {slash}source:{name} -->")
    found = _NL_SOURCE_MARKER.match(text, at) if at >= 0 else None
    return at if found is not None and found.group(2) == name else None


def set_overview(body: str, text: str) -> str:
    """`body` with its overview set to `text` (added after the title if it had none)."""
    span = _overview_span(body)
    if span is not None:
        out = body[: span[0]] + _block_text(OVERVIEW, text) + body[span[1] :]
        # Neither overview holds a marker line: the sections (and what _sorted_names says of them) are the same.
        inner = (span[0] + len("<!-- overview -->\n"), span[1] - len("\n<!-- /overview -->"))
        if "<!-- " not in text and body.find("<!-- ", *inner) < 0 and body in _NAMES:
            _remember_names(out, _take_names(body))
        return out
    return _replace_or_insert(body, OVERVIEW, text)


def overview_text(body: str) -> str | None:
    """What lies between the overview's markers, when the page has one well-formed overview block, the only block
    set_overview replaces in place (the rest of the page stays byte for byte); None otherwise."""
    span = _overview_span(body)
    if span is None:
        return None
    return body[span[0] + len("<!-- overview -->\n") : span[1] - len("\n<!-- /overview -->")]


def _overview_span(body: str) -> tuple[int, int] | None:
    opening, closing = "<!-- overview -->\n", "\n<!-- /overview -->"
    start, end = body.find(opening), body.find(closing)
    if (0 <= start < end and body.count("<!-- overview -->") == 1 and body.count("<!-- /overview -->") == 1
            and (start == 0 or body[start - 1] == "\n") and body.startswith("\n", end + len(closing))):
        return start, end + len(closing)
    return None


def remove_section(body: str, doc_id: str) -> str:
    """`body` without the section of `doc_id` and the blank line that separated it; unchanged if absent."""
    _check_doc_id(doc_id)
    for b in _blocks(body):
        if b.name != doc_id:
            continue
        if body.startswith("\n\n<!-- source:", b.end):
            return body[: b.start] + body[b.end + 2 :]
        if body[: b.start].endswith("\n\n"):
            return body[: b.start - 2] + body[b.end :]
        return body[: b.start] + body[b.end :]
    return body


def set_title(body: str, heading: str) -> str:
    """`body` with its leading H1 replaced by `heading` (added at the top if it has none)."""
    m = _TITLE.search(body)
    if m and not body[: m.start()].strip():
        return body[: m.start()] + heading + body[m.end() :]
    return heading + "\n\n" + body.lstrip("\n")


def section_ids(body: str) -> list[str]:
    """The document ids of the page's sections, in page order."""
    return [b.name for b in _blocks(body) if b.name != OVERVIEW]
