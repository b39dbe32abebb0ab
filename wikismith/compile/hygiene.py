"""Text hygiene for anything a compiler puts on a page: one-line prose, bounded length, no section markers."""

from __future__ import annotations


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def one_line(text: str) -> str:
    """One line of prose that cannot open a section marker or a heading on a page."""
    return escape_markers(" ".join(str(text).split()))


def escape_markers(text: str) -> str:
    # A document's own "<!-- source:x -->" must never be read back as one of our section boundaries.
    return text.replace("<!-- source:", "<!-- quoted source:").replace("<!-- /source:", "<!-- quoted /source:") \
        .replace("<!-- overview -->", "<!-- quoted overview -->").replace("<!-- /overview -->", "<!-- quoted /overview -->")
