"""PDF → text per page, page markers and the outline, with pypdfium2.

Only the text layer is read: embedded images are skipped (no OCR, no image extraction), which keeps conversion at
hundreds of pages per second. A PDF with no text at all is still converted, with the warning
"no text layer (scanned?)". An encrypted PDF is refused.
"""

from __future__ import annotations

import re

from wikismith.ingest.document import ConversionError, ConvertedDocument, OutlineEntry
from wikismith.ingest.text import stem_title

# pdfium's text carries glyph debris: C0 controls from maths fonts, U+FFFE where it joined a hyphenated word across
# a line break, private-use code points for bracket pieces. None of it is text.
_JUNK = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\ufffe\uffff\ue000-\uf8ff]")
_MAX_OUTLINE = 10_000
_BAD_TITLES = {"", "untitled", "(anonymous)", "(unspecified)", "unknown", "microsoft word"}
_HEADING_CHARS = 1500  # a title is near the top of the first page
_GENERIC_HEADINGS = {"contents", "table of contents", "abstract", "introduction", "preface", "inhalt",
                     "inhaltsverzeichnis", "summary", "overview"}


def convert_pdf(path: str, max_text_chars: int) -> ConvertedDocument:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise ConversionError(path, _load_reason(str(exc))) from None
    try:
        page_count = len(document)
        if page_count == 0:
            raise ConversionError(path, "the PDF has no pages")
        pages: list[str] = []
        total = 0
        for index in range(page_count):
            text = _page_text(document, index)
            total += len(text)
            if total > max_text_chars:
                raise ConversionError(
                    path, f"extracted text passes the limit of {max_text_chars:,} characters (at page {index + 1})")
            pages.append(text)
        outline = _outline(document, page_count)
        title = _metadata_title(document) or _first_heading(document) or stem_title(path)
    finally:
        document.close()
    warnings = []
    if not any(page.strip() for page in pages):
        warnings.append("no text layer (scanned?)")
    markdown = "\n\n".join(f"<!-- page {number} -->\n\n{text}".rstrip() for number, text in enumerate(pages, 1))
    return ConvertedDocument(title=title, kind="pdf", markdown=markdown + "\n", pages=pages, outline=outline,
                             warnings=warnings, page_count=page_count)


def _load_reason(message: str) -> str:
    lowered = message.lower()
    if "password" in lowered or "security" in lowered:
        return "the PDF is encrypted (password protected); decrypt it first"
    if "format" in lowered:
        return "not a valid PDF (damaged or not a PDF at all)"
    if "file" in lowered:
        return "the PDF could not be opened"
    return f"the PDF could not be read ({message})"


def _page_text(document, index: int) -> str:
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            raw = textpage.get_text_range()
        finally:
            textpage.close()
    finally:
        page.close()
    text = _JUNK.sub("", raw.replace("\r\n", "\n").replace("\r", "\n").replace("\x0c", "\n"))
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def _outline(document, page_count: int) -> list[OutlineEntry]:
    entries: list[OutlineEntry] = []
    try:
        for bookmark in document.get_toc(max_depth=32):
            if len(entries) >= _MAX_OUTLINE:
                break
            title = " ".join((bookmark.get_title() or "").split())
            dest = bookmark.get_dest()
            index = dest.get_index() if dest is not None else None
            page = index + 1 if index is not None and 0 <= index < page_count else None
            if title:
                entries.append(OutlineEntry(level=bookmark.level + 1, title=title, page=page))
    except Exception:  # a broken outline costs the outline, not the document
        return entries
    return entries


def _metadata_title(document) -> str | None:
    try:
        title = " ".join((document.get_metadata_value("Title") or "").split())
    except Exception:
        return None
    if title.lower() in _BAD_TITLES or len(title) > 300:
        return None
    return title


def _first_heading(document) -> str | None:
    """The first page's title: the lines near its top set in its largest type, when that type is clearly larger
    than the page's body text and the lines read as a title (not a numbered section or "Contents")."""
    lines = _sized_lines(document)
    if not lines:
        return None
    sizes = sorted(size for size, _ in lines)
    body = sizes[len(sizes) // 2]
    top = lines[:10]
    largest = max(size for size, _ in top)
    if largest < body * 1.2:
        return None
    start = next(index for index, (size, _) in enumerate(top) if size == largest)
    run = []
    for size, text in top[start:]:
        if size != largest:
            break
        run.append(text)
    title = " ".join(" ".join(run).split())
    bare = re.sub(r"^\d+(\.\d+)*\.?\s+", "", title)
    if bare != title or bare.lower() in _GENERIC_HEADINGS or len(title) > 150 or len(title.split()) > 20:
        return None
    return title if sum(ch.isalpha() for ch in title) >= len(title) / 2 else None


def _sized_lines(document) -> list[tuple[float, str]]:
    """(largest font size, text) of each line at the top of the first page."""
    import pypdfium2.raw as pdfium_c

    page = document[0]
    try:
        textpage = page.get_textpage()
        try:
            lines, current, size = [], [], 0.0
            for index in range(min(textpage.count_chars(), _HEADING_CHARS)):
                char = chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, index))
                if char in "\r\n":
                    if current:
                        lines.append((round(size, 1), "".join(current)))
                    current, size = [], 0.0
                elif not _JUNK.match(char):
                    current.append(char)
                    if char.strip():
                        size = max(size, pdfium_c.FPDFText_GetFontSize(textpage.raw, index))
            if current:
                lines.append((round(size, 1), "".join(current)))
        finally:
            textpage.close()
    finally:
        page.close()
    return [(size, text) for size, text in lines if text.strip()]
