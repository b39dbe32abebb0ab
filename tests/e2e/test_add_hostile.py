"""Hostile inputs (../shared/corpus/hostile and a few made here) through `wikismith add`, each in a fresh KB.

What "cleanly" means (corpus README): the command ends within its time limit; a file it cannot add is named with its
reason in one line, the exit code is 1 and the KB is exactly as it was (the bench's state function); a file it can
read with a sensible fallback is added, with a warning. And nothing is ever written outside raw/, wiki/ and
.wikismith/ — whatever a document's title says.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from wikicheck import CORPUS, add, all_files, listing, structural_problems
from wikismith.store import snapshot

HOSTILE = CORPUS / "hostile"
LIMIT_S = 60  # every hostile file must end well within this (the default conversion limit is 120 s)

# Files that must be added; the value is a pattern the add's warnings must contain (None: no warning expected).
MUST_ADD = {
    "latin1-notes.txt": "cp1252|latin|8859",
    "utf16-notes.txt": "utf-16",
    "nul-bytes.md": "nul",
    "name with spaces & ünïcøde.md": None,
    "traversal-title.md": None,
    "prompt-injection.md": None,
    "many-links.md": None,
    "one-huge-line.md": None,
}
MUST_FAIL = {"not-really.pdf"}  # random bytes named .pdf: there is nothing to read
# The rest (empty file, 20,000-deep HTML, truncated PDF) may be refused or added; either way, cleanly.

pytestmark = pytest.mark.skipif(not HOSTILE.is_dir(), reason=f"the shared corpus is not at {HOSTILE}")


def _hostile_files():
    return sorted(p.name for p in HOSTILE.iterdir() if p.is_file()) if HOSTILE.is_dir() else []


@pytest.fixture
def deep_kb(tmp_path, run_cli):
    """A fresh KB nested deep inside tmp_path, so that any `../` escape still lands where the test can see it."""
    root = tmp_path / "a" / "b" / "c" / "d" / "e" / "kb"
    code, _, err = run_cli("init", root)
    assert code == 0, err
    return root


def _assert_refused_cleanly(kb, name, code, report, before, run_cli, path):
    [outcome] = report["files"]
    assert code == 1, f"{name}: a refused file makes the command exit 1"
    reason = outcome["detail"]
    assert outcome["status"] == "failed" and reason.strip(), outcome
    assert "\n" not in reason and name in reason, f"{name}: the reason must be one line naming the file: {reason!r}"
    assert snapshot.state(str(kb)) == before, f"{name}: a refused file changed the KB"
    # Without --json, what a user sees in a log: one line with the file and the reason.
    code, out, err = run_cli("add", path, kb=kb, timeout=LIMIT_S)
    assert code == 1
    lines = [line for line in out.splitlines() if name in line]
    assert len(lines) == 1 and "failed" in lines[0], out
    assert snapshot.state(str(kb)) == before


def test_the_hostile_corpus_is_what_these_tests_expect():
    names = set(_hostile_files())
    assert set(MUST_ADD) | MUST_FAIL <= names
    assert len(names) >= 12


@pytest.mark.parametrize("name", _hostile_files())
def test_each_hostile_file_ends_in_time_and_is_added_or_refused_cleanly(name, deep_kb, run_cli):
    kb = deep_kb
    top = kb.parents[5]  # tmp_path: everything this test could write lands under it
    path = HOSTILE / name
    before = snapshot.state(str(kb))
    files_before = all_files(top)
    started = time.monotonic()
    code, report, err = add(kb, path, timeout=LIMIT_S)
    assert time.monotonic() - started < LIMIT_S
    assert report is not None, err
    [outcome] = report["files"]

    new = all_files(top) - files_before
    outside = sorted(f for f in new if not f.startswith(tuple(os.path.join(
        os.path.relpath(kb, top), d) + os.sep for d in ("raw", "wiki", ".wikismith"))))
    assert outside == [], f"{name}: files written outside the KB's folders: {outside}"
    assert not any(Path(f).name in ("passwd", "outside.txt") for f in all_files(top))

    if name in MUST_FAIL or (name not in MUST_ADD and outcome["status"] == "failed"):
        _assert_refused_cleanly(kb, name, code, report, before, run_cli, path)
        return
    assert code == 0 and outcome["status"] == "added", f"{name}: {outcome}"
    pattern = MUST_ADD.get(name)
    if pattern:
        assert any(re.search(pattern, w, re.IGNORECASE) for w in outcome["warnings"]), \
            f"{name}: expected a warning matching {pattern!r}, got {outcome['warnings']}"
    code, out, _ = run_cli("doctor", kb=kb)
    assert code == 0, f"{name}: doctor after adding it:\n{out}"
    docs = listing(kb)["documents"]
    assert len(docs) == 1 and docs[0]["name"] == name
    assert structural_problems(kb, docs) == []
    assert (kb / docs[0]["raw_path"]).read_bytes() == path.read_bytes()
    assert b"\x00" not in b"".join(p.read_bytes() for p in (kb / "wiki").rglob("*.md")), "a NUL reached the wiki"


def _source_text(kb) -> str:
    [doc] = listing(kb)["documents"]
    return (kb / "wiki" / "sources" / f"{doc['id']}.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name, expected", [
    ("latin1-notes.txt", "Café naïve résumé à la carte"),
    ("utf16-notes.txt", "UTF-16 text about"),
    ("nul-bytes.md", "with NUL"),
    ("prompt-injection.md", "revenue grew 4% in the third quarter"),
])
def test_fallback_decodings_keep_the_text_readable(name, expected, tmp_kb, run_cli):
    code, report, err = add(tmp_kb, HOSTILE / name, timeout=LIMIT_S)
    assert code == 0, (report, err)
    assert expected in _source_text(tmp_kb)


def test_a_name_with_spaces_and_non_ascii_letters_keeps_its_name_in_raw(tmp_kb):
    name = "name with spaces & ünïcøde.md"
    code, report, _ = add(tmp_kb, HOSTILE / name, timeout=LIMIT_S)
    assert code == 0
    [doc] = listing(tmp_kb)["documents"]
    assert doc["name"] == name and Path(doc["raw_path"]).name == name
    assert "/" not in doc["id"] and ".." not in doc["id"]


def test_prompt_injection_is_just_text(tmp_kb, run_cli):
    code, _, _ = add(tmp_kb, HOSTILE / "prompt-injection.md", timeout=LIMIT_S)
    assert code == 0
    index = (tmp_kb / "wiki" / "index.md").read_text(encoding="utf-8")
    assert "summaries/prompt-injection" in index, "index.md was not deleted and lists the document"
    assert not (tmp_kb.parent / "outside.txt").exists() and not (tmp_kb.parent.parent / "outside.txt").exists()


def test_fifty_thousand_wikilinks_leave_no_broken_link_and_no_page_flood(tmp_kb, run_cli):
    code, _, _ = add(tmp_kb, HOSTILE / "many-links.md", timeout=LIMIT_S)
    assert code == 0
    code, out, _ = run_cli("doctor", kb=tmp_kb)
    assert code == 0, out
    assert structural_problems(tmp_kb, listing(tmp_kb)["documents"]) == []
    pages = sum(1 for _ in (tmp_kb / "wiki").rglob("*.md"))
    assert pages < 200, f"{pages} pages from one document"
    assert "concepts/c49999" in _source_text(tmp_kb), "the document's text is kept (as text)"


def test_encrypted_pdf_is_refused_cleanly(tmp_kb, run_cli):
    path = CORPUS / "pdf" / "libreoffice-writer-password.pdf"
    before = snapshot.state(str(tmp_kb))
    code, report, _ = add(tmp_kb, path, timeout=LIMIT_S)
    assert "encrypt" in report["files"][0]["detail"].lower()
    _assert_refused_cleanly(tmp_kb, path.name, code, report, before, run_cli, path)


def test_a_really_truncated_pdf_is_refused_or_added_cleanly(tmp_kb, tmp_path, run_cli):
    # hostile/truncated.pdf is a complete PDF (the same bytes as pdf/pdflatex-4-pages.pdf); cut one for real.
    whole = (CORPUS / "pdf" / "pdflatex-outline.pdf").read_bytes()
    path = tmp_path / "cut-short.pdf"
    path.write_bytes(whole[: len(whole) // 4])
    before = snapshot.state(str(tmp_kb))
    code, report, err = add(tmp_kb, path, timeout=LIMIT_S)
    assert report is not None, err
    if report["files"][0]["status"] == "failed":
        _assert_refused_cleanly(tmp_kb, path.name, code, report, before, run_cli, path)
    else:
        assert code == 0 and run_cli("doctor", kb=tmp_kb)[0] == 0


def test_a_fifo_is_refused_without_blocking(tmp_kb, tmp_path, run_cli):
    folder = tmp_path / "in"
    folder.mkdir()
    fifo = folder / "pipe.md"
    os.mkfifo(fifo)  # nobody ever writes to it: reading it would block forever
    shutil.copy(HOSTILE / "traversal-title.md", folder / "ok.md")
    before = snapshot.state(str(tmp_kb))
    started = time.monotonic()
    code, report, _ = add(tmp_kb, fifo, timeout=30)
    assert time.monotonic() - started < 30
    _assert_refused_cleanly(tmp_kb, "pipe.md", code, report, before, run_cli, fifo)
    assert "fifo" in report["files"][0]["detail"].lower()
    # Inside a folder: the FIFO is refused, the regular file beside it is still added.
    code, report, _ = add(tmp_kb, folder, timeout=30)
    assert code == 1
    statuses = {Path(o["path"]).name: o["status"] for o in report["files"]}
    assert statuses == {"pipe.md": "failed", "ok.md": "added"}


def test_the_file_size_limit_refuses_cleanly_and_says_which_setting(tmp_kb, run_cli):
    config = tmp_kb / ".wikismith" / "config.toml"
    text = config.read_text(encoding="utf-8")
    assert "max_file_mb = 200" in text
    config.write_text(text.replace("max_file_mb = 200", "max_file_mb = 1"), encoding="utf-8")
    before = snapshot.state(str(tmp_kb))
    code, report, _ = add(tmp_kb, HOSTILE / "one-huge-line.md", timeout=LIMIT_S)
    assert "max_file_mb" in report["files"][0]["detail"]
    _assert_refused_cleanly(tmp_kb, "one-huge-line.md", code, report, before, run_cli, HOSTILE / "one-huge-line.md")
