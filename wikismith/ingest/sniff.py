"""Tell a file's kind: by its first bytes when they say, else by its suffix."""

from __future__ import annotations

import os
import zipfile

KIND_BY_SUFFIX: dict[str, str] = {
    ".pdf": "pdf",
    ".md": "markdown", ".markdown": "markdown", ".mdown": "markdown", ".mkd": "markdown", ".mdx": "markdown",
    ".rst": "rst", ".rest": "rst",
    ".txt": "text", ".text": "text",
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx", ".xls": "xls",
    ".epub": "epub", ".ipynb": "ipynb", ".csv": "csv", ".json": "json",
    ".xml": "xml", ".rss": "xml", ".atom": "xml",
    ".msg": "msg",
}

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(KIND_BY_SUFFIX)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MARKERS = (
    ("word/document.xml", "docx"),
    ("ppt/presentation.xml", "pptx"),
    ("xl/workbook.xml", "xlsx"),
)


def sniff(path: str) -> str:
    """The kind of the file at `path`, or "unknown".

    Magic bytes win over the suffix: `%PDF-` in the first KiB, a zip container told apart by its members
    (docx/pptx/xlsx/epub), an OLE2 file told apart by its streams (msg/xls), markup that opens like HTML or an
    RSS/Atom feed. Otherwise the suffix decides; a file with an unknown suffix whose start is UTF-8 text is "text".
    The caller must already know that `path` is a regular file.
    """
    suffix = os.path.splitext(path)[1].lower()
    by_suffix = KIND_BY_SUFFIX.get(suffix)
    with open(path, "rb") as handle:
        head = handle.read(4096)
    magic = magic_kind(head)
    if magic == "pdf":
        return "pdf"
    if magic == "zip":
        return _zip_kind(path) or by_suffix or "unknown"
    if magic == "ole":
        return _ole_kind(path) or (by_suffix if by_suffix in ("msg", "xls") else "unknown")
    if by_suffix in ("docx", "pptx", "xlsx", "epub", "xls", "msg"):
        return by_suffix  # wrong bytes for its suffix: the converter will say what is wrong
    if magic in ("html", "xml") and by_suffix not in ("markdown", "rst", "text", "json", "csv", "ipynb"):
        return magic
    if by_suffix:
        return by_suffix
    return "text" if _looks_like_text(head) else "unknown"


def _zip_kind(path: str) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype")[:64].strip()
                if mimetype == b"application/epub+zip":
                    return "epub"
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError):
        return None
    for marker, kind in _ZIP_MARKERS:
        if marker in names:
            return kind
    return None


def _ole_kind(path: str) -> str | None:
    try:
        import olefile
    except ImportError:  # pragma: no cover - installed with markitdown[outlook]
        return None
    try:
        with olefile.OleFileIO(path) as ole:
            streams = ["/".join(entry) for entry in ole.listdir()]
    except Exception:
        return None
    if any(name.startswith("__substg1.0_") or name.startswith("__properties_version1.0") for name in streams):
        return "msg"
    if any(name in ("Workbook", "Book") for name in streams):
        return "xls"
    return None


def magic_kind(head: bytes) -> str | None:
    """What a file's first bytes alone say it is: "pdf", "zip", "ole", "html", "xml", or None.

    The one set of byte rules for files on disk (sniff) and for downloads (ingest/fetch.py)."""
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(_OLE_MAGIC):
        return "ole"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1024].lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return "html"
    if start.startswith(b"<?xml"):
        if b"<rss" in start or b"<feed" in start or b"<rdf:rdf" in start:
            return "xml"
        return "html" if b"<html" in start or b"<!doctype html" in start else "xml"
    if start.startswith(b"<") and any(marker in start for marker in (b"<html", b"<head", b"<body")):
        return "html"
    return None


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3  # a multi-byte character cut by the 4 KiB sample
    return True
