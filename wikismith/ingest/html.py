"""HTML → the page's main content as markdown (trafilatura), with a plain lxml text conversion as the fallback.

Navigation, citation markers, footnotes and reference lists are stripped first (wikismith.ingest.html_clean), and
links into the page or the site become text: only links to the web stay links.

Images are skipped. A page with no text at all is refused.
"""

from __future__ import annotations

import re

from wikismith.ingest.document import ConversionError, ConvertedDocument
from wikismith.ingest.html_clean import strip_apparatus, unlink_local
from wikismith.ingest.text import stem_title

_BLOCKS = ("p", "div", "section", "article", "li", "tr", "br", "pre", "blockquote", "table", "ul", "ol", "dd", "dt")
_DROP = ("script", "style", "noscript", "template", "svg", "head")


def convert_html(path: str) -> ConvertedDocument:
    with open(path, "rb") as handle:
        data = handle.read()
    if not data.strip():
        raise ConversionError(path, "is empty")
    warnings: list[str] = []
    content = strip_apparatus(data)
    markdown, title = _trafilatura(content, data)
    if not markdown.strip():
        markdown = _collapse(_plain(content))
        if markdown.strip():
            warnings.append("main content not found; converted the whole page as plain text")
    if not markdown.strip():
        raise ConversionError(path, "no readable text in the HTML")
    title = title or _html_title(data) or stem_title(path)
    return ConvertedDocument(title=title, kind="html", markdown=_tidy(unlink_local(markdown)), warnings=warnings)


def _trafilatura(content: bytes, data: bytes) -> tuple[str, str | None]:
    """(the main content of `content` as markdown, the title from the metadata of the whole page `data`)."""
    import trafilatura

    try:
        markdown = trafilatura.extract(
            content, output_format="markdown", include_links=True, include_tables=True, include_formatting=True,
            include_comments=False, include_images=False, deduplicate=False, with_metadata=False,
        ) or ""
    except RecursionError:
        markdown = ""
    try:
        metadata = trafilatura.extract_metadata(data)
        title = " ".join((metadata.title or "").split()) if metadata else ""
    except (RecursionError, ValueError, TypeError, AttributeError):
        title = ""
    return markdown, title or None


def _parse(data: bytes):
    import lxml.html

    try:
        return lxml.html.document_fromstring(data)
    except Exception:  # lxml raises ParserError on documents with no elements
        return None


def _html_title(data: bytes) -> str | None:
    document = _parse(data)
    if document is None:
        return None
    node = document.find(".//title")
    title = " ".join((node.text_content() if node is not None else "").split())
    return title or None


def _plain(data: bytes) -> str:
    """The text of every element, blocks as paragraphs and h1–h6 as ATX headings. Iterative: no recursion."""
    document = _parse(data)
    if document is None:
        return ""
    for element in list(document.iter(*_DROP)):
        parent = element.getparent()
        if parent is not None:
            element.drop_tree()
    for element in document.iter("h1", "h2", "h3", "h4", "h5", "h6"):
        element.text = "\n\n" + "#" * int(element.tag[1]) + " " + (element.text or "").lstrip()
        element.tail = "\n\n" + (element.tail or "")
    for element in document.iter(*_BLOCKS):
        element.tail = "\n\n" + (element.tail or "")
    body = document.find("body")
    return (body if body is not None else document).text_content()


def _collapse(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.split("\n"))


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"
