"""Markdown, RST and text: decoding, titles, headings."""

from __future__ import annotations

import codecs

import pytest

from wikismith.ingest import ConversionError, convert
from wikismith.ingest.headings import find_headings
from wikismith.ingest.rst import rst_to_markdown
from wikismith.ingest.text import decode_bytes


def _write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("data, warning", [
    ("héllo wörld".encode("utf-8"), None),
    (codecs.BOM_UTF8 + "héllo wörld".encode("utf-8"), None),
    (codecs.BOM_UTF16_LE + "héllo wörld".encode("utf-16-le"), "UTF-16"),
    (codecs.BOM_UTF16_BE + "héllo wörld".encode("utf-16-be"), "UTF-16"),
    (codecs.BOM_UTF32_LE + "héllo wörld".encode("utf-32-le"), "UTF-32"),
])
def test_unicode_encodings(data, warning):
    text, warnings = decode_bytes(data, "f.txt")
    assert text == "héllo wörld"
    assert warnings == ([] if warning is None else [f"decoded as {warning} (byte-order mark)"])


def test_detected_charset_warns_and_nul_bytes_are_stripped():
    text, warnings = decode_bytes("Grüße aus Köln, schöne Straße.\n".encode("latin-1"), "f.txt")
    assert text == "Grüße aus Köln, schöne Straße.\n" and warnings[0].startswith("decoded as ")
    text, warnings = decode_bytes(b"a\x00b\r\nc\rd", "f.txt")
    assert text == "ab\nc\nd" and warnings == ["NUL bytes stripped (1)"]


def test_binary_data_is_refused():
    with pytest.raises(ConversionError, match="binary"):
        decode_bytes(bytes(range(1, 32)) * 50, "f.txt")


def test_empty_and_blank_files(tmp_path):
    with pytest.raises(ConversionError, match="is empty$"):
        convert(_write(tmp_path, "e.md", b""))
    with pytest.raises(ConversionError, match="only whitespace"):
        convert(_write(tmp_path, "w.md", b" \n\t\n"))


def test_titles(tmp_path):
    assert convert(_write(tmp_path, "a.md", b"intro\n\n# The Title\n\n## Sub\n")).title == "The Title"
    assert convert(_write(tmp_path, "b.md", b"---\ntitle: 'Front Matter'\ntags: [x]\n---\n# Heading\n")).title \
        == "Front Matter"
    assert convert(_write(tmp_path, "c.md", b"no headings here\n")).title == "c"
    assert convert(_write(tmp_path, "d.rst", b"=========\nRST Title\n=========\n\nSection\n-------\n\nText.\n")).title \
        == "RST Title"
    assert convert(_write(tmp_path, "pep.rst", b"PEP: 9\nTitle: Header Title\nAuthor: x\n\nAbstract\n========\n")) \
        .title == "Header Title"
    assert convert(_write(tmp_path, "s.md", b"Setext Title\n============\n\ntext\n")).title == "Setext Title"


def test_rst_sections_become_atx_headings_by_order_of_appearance():
    source = ("Title\n=====\n\nIntro.\n\nPart\n----\n\nBody::\n\n  # a comment\n  code\n\n"
              "Another\n=======\n\n+-----+\n| a   |\n+=====+\n| b   |\n+-----+\n\n=====  =====\nA      B\n=====  =====\n")
    markdown, title = rst_to_markdown(source)
    assert title is None  # two top-level sections: no single document title
    assert [(h.level, h.title) for h in find_headings(markdown)] == [(1, "Title"), (2, "Part"), (1, "Another")]
    assert "```\n# a comment\ncode\n```" in markdown  # the literal block is fenced code, its comment no heading
    assert "| a |\n|---|\n| b |" in markdown and "| A | B |" in markdown  # grid and simple tables

def test_markdown_headings_skip_fences_and_front_matter():
    markdown = "---\ntitle: x\n---\n# One\n\n~~~\n# no\n~~~\n\n## Two ##\n\nPara\n---\n\n- item\n---\n"
    assert [(h.level, h.title) for h in find_headings(markdown)] == [(1, "One"), (2, "Two"), (2, "Para")]


def test_markdown_is_read_as_it_is(tmp_path):
    source = "# Doc\r\n\r\nSome *text* with [[links]] and <b>html</b>.\r\n"
    doc = convert(_write(tmp_path, "doc.md", source.encode("utf-8")))
    assert doc.markdown == source.replace("\r\n", "\n")
    assert doc.kind == "markdown" and doc.pages is None and doc.warnings == []
