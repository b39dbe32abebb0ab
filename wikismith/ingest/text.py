"""Markdown, reStructuredText and plain text, read as they are.

Decoding: UTF-8; UTF-8/16/32 with a byte-order mark; otherwise the charset that charset-normalizer detects, with a
warning. NUL bytes are stripped, with a warning. Line endings become `\\n`. reStructuredText is
converted to Markdown by docutils (see wikismith.ingest.rst); Markdown loses only mdBook's `{{#include}}`-style
directives (wikismith.ingest.mdbook).
"""

from __future__ import annotations

import codecs
import os
import re

from wikismith.ingest.document import ConversionError, ConvertedDocument
from wikismith.ingest.headings import clean_title, find_headings, front_matter_end
from wikismith.ingest.mdbook import drop_directives
from wikismith.ingest.rst import rst_to_markdown

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", None),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0e-\x1f\x7f]")
_HEADER_FIELD = re.compile(r"^([A-Z][A-Za-z-]*):[ \t]+(.*)$")


def decode_bytes(data: bytes, path: str) -> tuple[str, list[str]]:
    """Bytes of a text file → (text with `\\n` line ends and no NUL, warnings). Raises ConversionError."""
    warnings: list[str] = []
    text = None
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                raise ConversionError(path, f"invalid {name or 'UTF-8'} text after its byte-order mark") from None
            if name:
                warnings.append(f"decoded as {name} (byte-order mark)")
            break
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text, encoding = _detect(data, path)
            warnings.append(f"decoded as {encoding} (not UTF-8)")
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        count = text.count("\x00")
        text = text.replace("\x00", "")
        warnings.append(f"NUL bytes stripped ({count})")
    sample = text[:65536]
    if sample and len(_CONTROL.findall(sample)) > len(sample) * 0.05:
        raise ConversionError(path, "looks like binary data, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n"), warnings


def _detect(data: bytes, path: str) -> tuple[str, str]:
    import charset_normalizer

    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise ConversionError(path, "not text: its character encoding could not be detected")
    return str(best), best.encoding


def read_text(path: str, kind: str) -> ConvertedDocument:
    """Convert a markdown, rst or text file. Raises ConversionError (e.g. "is empty")."""
    with open(path, "rb") as handle:
        data = handle.read()
    if not data:
        raise ConversionError(path, "is empty")
    text, warnings = decode_bytes(data, path)
    if not text.strip():
        raise ConversionError(path, "is empty (only whitespace)")
    rst_title = None
    if kind == "rst":
        text, rst_title = rst_to_markdown(text)
    elif kind == "markdown":
        text = drop_directives(text)
    title = header_title(text) or first_h1(text) or rst_title or leading_heading(text) or stem_title(path)
    return ConvertedDocument(title=title, kind=kind, markdown=text, warnings=warnings)


def header_title(text: str) -> str | None:
    """`title:` of a YAML front-matter block, or `Title:` of an RFC 822 style header (as PEPs have)."""
    lines = text.split("\n", 400)[:400]
    end = front_matter_end(lines)
    if end:
        for line in lines[1:end - 1]:
            match = re.match(r"^title:\s*(.+?)\s*$", line, re.IGNORECASE)
            if match:
                value = match.group(1).strip().strip("\"'").strip()
                if value:
                    return clean_title(value)
        return None
    for line in lines:
        if not line.strip():
            break
        match = _HEADER_FIELD.match(line)
        if not match and not line.startswith((" ", "\t")):
            break
        if match and match.group(1).lower() == "title" and match.group(2).strip():
            return clean_title(match.group(2))
    return None


def first_h1(markdown: str) -> str | None:
    """The text of the first level-1 heading."""
    for heading in find_headings(markdown[:2_000_000]):
        if heading.level == 1:
            return heading.title
    return None


def leading_heading(markdown: str) -> str | None:
    """The text of a heading of any level that opens the document (after its front matter): a chapter whose first
    line is `## What Is Ownership?` is titled by it."""
    lines = markdown[:20_000].split("\n")
    start = front_matter_end(lines)
    first = next((index for index in range(start, len(lines)) if lines[index].strip()), None)
    found = find_headings("\n".join(lines[start:first + 2])) if first is not None else []
    return found[0].title if found and found[0].line == first - start else None


def stem_title(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    return " ".join(stem.split()) or os.path.basename(path) or "untitled"
