"""A page's Markdown as HTML for the UI. Raw HTML in a document is escaped, never passed through (a document holding
`<script>` shows it as text); `[[wikilinks]]` become links into the UI; the front matter and the KB's own markers
(`<!-- source:... -->`, `<!-- page N -->`) are left out of the view."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote

from wikismith.markdown import front_matter_end, rewrite_wikilinks

_MARKER = re.compile(r"^\s*<!--.*?-->\s*$")
_LABEL_ESCAPE = str.maketrans({c: "\\" + c for c in "\\`*_[]<>()#!|"})


@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def to_html(text: str) -> str:
    lines = text.splitlines(keepends=True)
    body = "".join(line for line in lines[front_matter_end(lines):] if not _MARKER.match(line))

    def link(page: str, label: str | None, original: str) -> str:
        shown = (label or page).strip() or page
        return f"[{shown.translate(_LABEL_ESCAPE)}](#/page/{quote(page, safe='/')})"

    return _parser().render(rewrite_wikilinks(body, link))
