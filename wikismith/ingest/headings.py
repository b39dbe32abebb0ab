"""Headings: Markdown's, cleaned of markup (the rules live in wikismith.markdown)."""

from __future__ import annotations

import re

from wikismith.markdown import Heading, front_matter_end
from wikismith.markdown import headings as md_headings

_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")


def find_headings(markdown: str) -> list[Heading]:
    """The document's headings (the rules of wikismith.markdown), each title cleaned of markup."""
    return [Heading(h.line, h.level, title, h.lines) for h in md_headings(markdown) if (title := clean_title(h.title))]


def clean_title(text: str) -> str:
    """A heading's text without emphasis stars, code ticks or link syntax, whitespace collapsed. Underscores stay:
    `__init__` is an identifier far more often than `__strong__` emphasis."""
    text = _ESCAPED.sub(lambda m: "\x00" if m.group(1) == "`" else m.group(1), text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[\[([^\]|]*\|)?([^\]]*)\]\]", r"\2", text)
    text = text.replace("**", "").replace("`", "").replace("\x00", "`")
    return " ".join(text.split()).strip()
