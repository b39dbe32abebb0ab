"""Word, PowerPoint, Excel, EPUB, notebooks, CSV, JSON, XML/RSS and Outlook mail through markitdown's converters.

markitdown costs about a second to import, so it is imported on first use (`preload()` lets the parent process
pay that once before it forks converter children). Each format's converter is called directly with the kind we
sniffed, which skips markitdown's own content-type guessing. Images inside these files are skipped (markitdown
keeps at most their alt text).
"""

from __future__ import annotations

import io
import os
import re
import zipfile

from wikismith.ingest.document import ConversionError, ConvertedDocument
from wikismith.ingest.text import decode_bytes, first_h1, stem_title

OFFICE_KINDS = frozenset({"docx", "pptx", "xlsx", "xls", "epub", "ipynb", "csv", "json", "xml", "msg"})

_CONVERTER_NAMES = {
    "docx": "DocxConverter", "pptx": "PptxConverter", "xlsx": "XlsxConverter", "xls": "XlsConverter",
    "epub": "EpubConverter", "ipynb": "IpynbConverter", "csv": "CsvConverter", "json": "PlainTextConverter",
    "xml": "RssConverter", "msg": "OutlookMsgConverter",
}
_EXTENSIONS = {"json": ".json", "xml": ".xml"}
_CORE_TITLE = re.compile(rb"<dc:title>([^<]{1,300})</dc:title>")


def preload() -> None:
    """Import markitdown's converters now (about 1 s), so forked children start warm."""
    import markitdown.converters  # noqa: F401


def convert_office(path: str, kind: str) -> ConvertedDocument:
    from markitdown import StreamInfo
    from markitdown import converters

    with open(path, "rb") as handle:
        data = handle.read()
    if not data:
        raise ConversionError(path, "is empty")
    warnings: list[str] = []
    charset = None
    if kind in ("csv", "json", "xml"):
        text, warnings = decode_bytes(data, path)
        if not text.strip():
            raise ConversionError(path, "is empty (only whitespace)")
        data, charset = text.encode("utf-8"), "utf-8"
    extension = _EXTENSIONS.get(kind, os.path.splitext(path)[1].lower() or f".{kind}")
    info = StreamInfo(extension=extension, filename=os.path.basename(path), charset=charset)
    converter = getattr(converters, _CONVERTER_NAMES[kind])()
    stream = io.BytesIO(data)
    if kind == "xml" and not converter.accepts(stream, info):
        stream.seek(0)
        markdown, title = _fenced(data.decode("utf-8"), "xml"), None
    else:
        stream.seek(0)
        try:
            result = converter.convert(stream, info)
        except Exception as exc:
            raise ConversionError(path, f"not a readable {kind.upper()} file ({_describe(exc)})") from None
        markdown, title = result.markdown or "", result.title
        if kind == "json":
            markdown = _fenced(markdown, "json")
    markdown = _tidy(markdown)
    if not markdown.strip():
        warnings.append("no text found")
    title = _clean(title) or _core_title(data, kind) or _first_line_title(markdown, kind) or first_h1(markdown) \
        or stem_title(path)
    return ConvertedDocument(title=title, kind=kind, markdown=markdown, warnings=warnings)


def _describe(exc: BaseException) -> str:
    message = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _fenced(text: str, language: str) -> str:
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}\n"


def _tidy(markdown: str) -> str:
    lines = [line.rstrip() for line in markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


def _clean(title: str | None) -> str | None:
    title = " ".join((title or "").split())
    return title or None


def _core_title(data: bytes, kind: str) -> str | None:
    if kind not in ("docx", "pptx", "xlsx"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            core = archive.read("docProps/core.xml")[:65536]
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError):
        return None
    match = _CORE_TITLE.search(core)
    if not match:
        return None
    from html import unescape

    return _clean(unescape(match.group(1).decode("utf-8", "replace")))


def _first_line_title(markdown: str, kind: str) -> str | None:
    """A Word document or slide deck usually opens with its title."""
    if kind not in ("docx", "pptx"):
        return None
    for line in markdown.split("\n", 50)[:50]:
        line = line.strip()
        if not line or line.startswith("<!--"):
            continue
        if line.startswith(("|", "!", "```")) or len(line) > 150 or line.endswith((",", ";", ":")):
            return None
        return _clean(line.lstrip("#").strip().strip("*_"))
    return None
