"""mdBook's preprocessor directives (`{{#include file}}`, `{{#rustdoc_include file:anchor}}`, `{{#playground}}`,
`{{#title}}`) taken out of a Markdown document.

The files they name are not part of the document (and are not read: a document never pulls in another file), so
a directive left in place is noise in the prose. Code blocks keep their code; a code block whose body was only
directives is dropped whole, since it would show nothing.
"""

from __future__ import annotations

import re

from wikismith.markdown import fence_closes, fence_opening

_DIRECTIVE = re.compile(r"\{\{#(?:include|rustdoc_include|playground|title)\b[^{}\n]*\}\}")


def drop_directives(markdown: str) -> str:
    if "{{#" not in markdown:
        return markdown
    out: list[str] = []
    block: list[str] = []  # an open fenced block: its opening line, then its body
    fence = ""
    for line in markdown.split("\n"):
        if fence:
            if fence_closes(line, fence):
                out.extend(_kept_block(block, line))
                fence, block = "", []
            else:
                block.append(line)
            continue
        opened = fence_opening(line)
        if opened:
            fence, block = opened, [line]
            continue
        if "{{#" in line:
            cleaned = _DIRECTIVE.sub("", line)
            line = cleaned.rstrip() if cleaned.strip() else ""
        out.append(line)
    out.extend(block)  # an unclosed fence runs to the end: kept as it was
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out))


def _kept_block(block: list[str], closing: str) -> list[str]:
    body = [line for line in block[1:] if not _DIRECTIVE.fullmatch(line.strip())]
    if not any(line.strip() for line in body):
        return []
    return [block[0], *body, closing]
