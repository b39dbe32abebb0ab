"""Formats built on the spot: PDFs without text, damaged containers, plain XML, JSON."""

from __future__ import annotations

import zipfile

import pytest

from wikismith.ingest import ConversionError, convert, sniff


def test_pdf_without_text_layer_converts_with_a_warning(tmp_path):
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument.new()
    document.new_page(200, 200)
    document.new_page(200, 200)
    path = tmp_path / "scan.pdf"
    document.save(str(path))
    document.close()
    doc = convert(str(path))
    assert doc.warnings == ["no text layer (scanned?)"]
    assert doc.page_count == 2 and doc.pages == ["", ""]
    assert doc.markdown == "<!-- page 1 -->\n\n<!-- page 2 -->\n"


@pytest.mark.parametrize("name, payload, reason", [
    ("bad.ipynb", b"{not json", "not a readable IPYNB file (JSONDecodeError"),
    ("rand.xlsx", b"hello there", "not a readable XLSX file"),
    ("rand.docx", b"\x00\x01\x02 not a zip", "not a readable DOCX file"),
])
def test_damaged_files_fail_with_one_line(tmp_path, name, payload, reason):
    path = tmp_path / name
    path.write_bytes(payload)
    with pytest.raises(ConversionError) as caught:
        convert(str(path))
    assert reason in str(caught.value) and "\n" not in str(caught.value)


def test_zip_members_decide_the_office_kind(tmp_path):
    path = tmp_path / "report.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<nonsense")
    assert sniff(str(path)) == "docx"
    with pytest.raises(ConversionError, match="not a readable DOCX file"):
        convert(str(path))
    epub = tmp_path / "book.bin"
    with zipfile.ZipFile(epub, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
    assert sniff(str(epub)) == "epub"


def test_plain_xml_is_kept_in_a_fence_and_json_too(tmp_path):
    xml = tmp_path / "data.xml"
    xml.write_text('<?xml version="1.0"?><root><a>hi</a></root>')
    assert convert(str(xml)).markdown == '```xml\n<?xml version="1.0"?><root><a>hi</a></root>\n```\n'
    data = tmp_path / "data.json"
    data.write_text('{"code": "```"}')
    assert convert(str(data)).markdown == '````json\n{"code": "```"}\n````\n'


def test_html_without_main_content_falls_back_to_plain_text(tmp_path):
    page = tmp_path / "tiny.html"
    page.write_text("<html><head><title>T</title></head><body><h2>Head</h2><div>one</div><div>two</div></body>"
                    "</html>")
    doc = convert(str(page))
    assert doc.title == "T"
    assert "one" in doc.markdown and "two" in doc.markdown
