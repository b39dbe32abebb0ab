"""Limits: special files refused unopened, size and text limits, the time limit kills the converter child."""

from __future__ import annotations

import os
import socket
import time

import pytest

from wikismith.ingest import ConversionError, ConvertedDocument, Limits, convert, sniff
from wikismith.ingest import dispatch


def _reason(path, limits: Limits = Limits()) -> str:
    with pytest.raises(ConversionError) as caught:
        convert(str(path), limits)
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message
    return caught.value.reason


def test_fifo_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert "FIFO" in _reason(fifo)  # opening a FIFO with no writer would block forever
    assert time.monotonic() - started < 2


def test_directory_socket_and_device_are_refused(tmp_path):
    assert "directory" in _reason(tmp_path)
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "s.md"))
        assert "socket" in _reason(tmp_path / "s.md")
    finally:
        server.close()
    if os.path.exists("/dev/zero"):
        assert "device" in _reason("/dev/zero")


def test_missing_file(tmp_path):
    assert _reason(tmp_path / "nope.md") == "does not exist"


def test_file_size_is_checked_before_reading(tmp_path, monkeypatch):
    big = tmp_path / "big.md"
    big.write_text("# Big\n\n" + "x" * 5000)
    monkeypatch.setattr(dispatch, "sniff", lambda path: pytest.fail("the file was read"))
    reason = _reason(big, Limits(max_file_bytes=1000))
    assert "5,007 bytes" in reason and "1,000 bytes" in reason


def test_text_past_the_limit_is_refused(tmp_path):
    long = tmp_path / "long.md"
    long.write_text("# Long\n\n" + "word " * 1000)
    assert "over the limit of 100 characters" in _reason(long, Limits(max_text_chars=100))


def test_unsupported_kind(tmp_path):
    blob = tmp_path / "archive.bin"
    blob.write_bytes(bytes(range(256)) * 4)
    assert sniff(str(blob)) == "unknown"
    assert "unsupported file type" in _reason(blob)


def test_unknown_suffix_with_text_is_read_as_text(tmp_path):
    notes = tmp_path / "NOTES"
    notes.write_text("# Notes\n\nPlain words.\n")
    assert convert(str(notes)).kind == "text"


def test_content_wins_over_the_suffix(tmp_path):
    page = tmp_path / "page.xml"
    page.write_text("<!DOCTYPE html><html><head><title>Hello page</title></head>"
                    "<body><p>Some paragraph text that is long enough to count as content.</p></body></html>")
    assert sniff(str(page)) == "html"
    doc = convert(str(page))
    assert doc.title == "Hello page" and any("name says xml" in w for w in doc.warnings)


def _fake_pdf(tmp_path):
    path = tmp_path / "slow.pdf"
    path.write_bytes(b"%PDF-1.4\n%fake\n")
    return path


def test_timeout_kills_a_hanging_converter(tmp_path, monkeypatch):
    pid_file = tmp_path / "child.pid"

    def hang(path, kind, limits):
        pid_file.write_text(str(os.getpid()))
        time.sleep(60)

    monkeypatch.setitem(dispatch.CONVERTERS, "pdf", hang)
    started = time.monotonic()
    reason = _reason(_fake_pdf(tmp_path), Limits(timeout_s=1))
    assert "longer than 1 s" in reason
    assert time.monotonic() - started < 5
    child = int(pid_file.read_text())
    assert child != os.getpid()
    with pytest.raises(ProcessLookupError):  # killed and reaped: the pid is gone
        os.kill(child, 0)


def test_a_crashing_converter_fails_cleanly(tmp_path, monkeypatch):
    monkeypatch.setitem(dispatch.CONVERTERS, "pdf", lambda path, kind, limits: os._exit(3))
    assert "without a result (exit code 3)" in _reason(_fake_pdf(tmp_path))
    monkeypatch.setitem(dispatch.CONVERTERS, "pdf", lambda path, kind, limits: os.kill(os.getpid(), 9))
    assert "crashed (SIGKILL)" in _reason(_fake_pdf(tmp_path))


def test_converter_exceptions_become_one_line_reasons(tmp_path, monkeypatch):
    def boom(path, kind, limits):
        raise ValueError("bad\nthing")

    monkeypatch.setitem(dispatch.CONVERTERS, "pdf", boom)
    assert _reason(_fake_pdf(tmp_path)) == "the pdf converter failed (ValueError: bad thing)"


def test_child_result_comes_back_whole(tmp_path, monkeypatch):
    big_text = "word " * 400_000

    def fine(path, kind, limits):
        return ConvertedDocument(title="Big", kind=kind, markdown=big_text, pages=[big_text], page_count=1)

    monkeypatch.setitem(dispatch.CONVERTERS, "pdf", fine)
    doc = convert(str(_fake_pdf(tmp_path)))
    assert doc.markdown == big_text and doc.kind == "pdf" and doc.page_count == 1


def test_limits_from_config():
    limits = Limits.from_config({"max_file_mb": 1, "convert_timeout": 5, "max_text_mb": 2, "long_document_pages": 7})
    assert limits == Limits(max_file_bytes=1024 * 1024, timeout_s=5.0, max_text_chars=2 * 1024 * 1024,
                            long_document_pages=7)
    assert Limits.from_config({}) == Limits()


def test_messages_stay_on_one_line_whatever_the_file_name(tmp_path):
    odd = tmp_path / "two\nlines.md"
    odd.write_bytes(b"")
    with pytest.raises(ConversionError) as caught:
        convert(str(odd))
    assert "\n" not in str(caught.value) and str(caught.value).endswith("two\\nlines.md: is empty")
