"""Text hygiene for anything a compiler puts on a page: one-line prose, bounded length, no section markers, no
wikilink it did not mean, identifiers spelled as written."""

from __future__ import annotations

from wikismith.markdown import code_identifiers


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def one_line(text: str) -> str:
    """One line of prose that cannot open a section marker or a heading on a page, never links anywhere, and shows
    identifiers as written."""
    return code_identifiers(title_line(text))


def title_line(text: str) -> str:
    """A title: one line, no section marker, no link; identifiers as written (front matter shows them raw, and
    headings put them in code as they render them)."""
    return no_wikilinks(escape_markers(" ".join(str(text).split())))


def no_wikilinks(text: str) -> str:
    """`text` with every `[[` written so that no reader takes it for a link: converted text quoting `[[x]]` (or a
    citation marker that unescaped into one) must never become a link that breaks."""
    return text.replace("[[", "\\[\\[").replace("]]", "\\]\\]")



def escape_markers(text: str) -> str:
    # A document's own "<!-- source:x -->" must never be read back as one of our section boundaries.
    return text.replace("<!-- source:", "<!-- quoted source:").replace("<!-- /source:", "<!-- quoted /source:") \
        .replace("<!-- overview -->", "<!-- quoted overview -->").replace("<!-- /overview -->", "<!-- quoted /overview -->")
