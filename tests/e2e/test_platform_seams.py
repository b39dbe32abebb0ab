"""The transaction protocol on other platforms, simulated on Linux through the fs facade (WIKISMITH_PLATFORM):
macOS flushes the drive cache with F_FULLFSYNC, Windows never fsyncs a folder and waits (bounded) for a file another
program holds open before rolling back with a clear error, and a sync folder that refuses hard links gets copies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from conftest import EPOCH, _run_cli
from wikismith.kb import KnowledgeBase
from wikismith.store import fs, fstrace, layout, platform, snapshot

SOURCES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "examples")


def _note(folder, name: str, words: str) -> str:
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f"# {name}\n\n{words}\n")
    return path


def _cli(kb, *args, platform_name: str, record: str | None = None):
    env = {"WIKISMITH_PLATFORM": platform_name, **({fstrace.ENV: record} if record else {})}
    return _run_cli(*args, kb=kb, env=env)


def _recorded(path: str) -> list[list]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture
def kb_with_one_note(tmp_kb, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    code, _, err = _run_cli("add", _note(inbox, "first.md", "Borrow checker rules keep references valid. " * 20),
                            kb=tmp_kb)
    assert code == 0, err
    return tmp_kb, inbox


def test_macos_every_fsync_flushes_the_drive_cache(kb_with_one_note, monkeypatch):
    kb, inbox = kb_with_one_note
    requests = []

    def hook(event, args):
        if event == "fcntl.fcntl" and args[1] == platform.F_FULLFSYNC:
            requests.append(args[0])

    sys.addaudithook(hook)
    monkeypatch.setattr(fs, "platform", platform.SIMULATED["macos"])
    monkeypatch.setattr(fs, "SYNC", True)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    fstrace.start()
    try:
        handle = KnowledgeBase.open(str(kb))
        try:
            handle.add([_note(inbox, "second.md", "Lifetimes name how long a reference lives. " * 20)])
            pragma = fs.connect(os.path.join(str(kb), layout.DB)).execute("PRAGMA fullfsync").fetchone()[0]
        finally:
            handle.close()
    finally:
        ops = fstrace.stop()
        monkeypatch.setattr(fs, "platform", platform.detect())
    syncs = [op for op in ops if op[0] in ("fsync", "fsync-dir")]
    assert len(syncs) > 10  # files staged, before-images, published folders...
    assert len(requests) == len(syncs), "an fsync left data in the drive's cache"
    assert pragma == 1, "SQLite's own commits must use F_FULLFSYNC too"
    assert "second.md" in {d["name"] for d in json.loads(_run_cli("list", "--json", kb=kb)[1])["documents"]}


def test_windows_never_fsyncs_a_folder(kb_with_one_note, tmp_path):
    kb, inbox = kb_with_one_note
    record = str(tmp_path / "ops.jsonl")
    code, _, err = _cli(kb, "add", _note(inbox, "second.md", "Traits describe shared behaviour. " * 20),
                        platform_name="windows", record=record)
    assert code == 0, err
    kinds = [op[0] for op in _recorded(record)]
    assert "fsync" in kinds and "rename" in kinds
    assert "fsync-dir" not in kinds


def _hold_open(path: str, seconds: float) -> subprocess.Popen:
    """Another program (an editor, a sync client) holding `path` open for `seconds`."""
    code = f"import sys, time\nf = open({path!r}, 'rb')\nprint('open', flush=True)\ntime.sleep({seconds})\n"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "open"
    return holder


def test_windows_replace_of_a_file_held_open_gives_up_cleanly_and_rolls_back(kb_with_one_note):
    kb, inbox = kb_with_one_note
    before = snapshot.state(str(kb))
    holder = _hold_open(str(kb / "wiki" / "index.md"), 30)
    try:
        started = time.monotonic()
        code, out, err = _cli(kb, "add", _note(inbox, "second.md", "Closures capture their environment. " * 20),
                              platform_name="windows")
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert code == 1, (out, err)
    assert "holds it open" in out + err and "index.md" in out + err, (out, err)
    assert waited < 15, "the retry must be bounded"
    assert snapshot.state(str(kb)) == before, "the transaction must roll back"
    assert os.listdir(kb / layout.STAGING) == [] and os.listdir(kb / layout.BACKUPS) == []


def test_windows_replace_waits_for_a_file_released_soon(kb_with_one_note):
    kb, inbox = kb_with_one_note
    holder = _hold_open(str(kb / "wiki" / "index.md"), 0.3)
    try:
        code, _, err = _cli(kb, "add", _note(inbox, "second.md", "Closures capture their environment. " * 20),
                            platform_name="windows")
    finally:
        holder.wait()
    assert code == 0, err
    assert "second" in (kb / "wiki" / "index.md").read_text()


def test_sync_folder_refusing_hard_links_keeps_copies_and_undo_still_restores(kb_with_one_note):
    kb, inbox = kb_with_one_note
    first = inbox / "first.md"
    old_raw = (kb / "raw" / "first.md").read_bytes()
    old_summary = (kb / "wiki" / "summaries" / "first.md").read_bytes()
    first.write_text("# first.md\n\nOwnership moves values between variables. " * 20, encoding="utf-8")
    code, _, err = _cli(kb, "add", str(first), platform_name="sync-folder")
    assert code == 0, err
    assert (kb / "raw" / "first.md").read_bytes() != old_raw
    kept = [os.path.join(folder, name) for folder, _, names in os.walk(kb / ".wikismith" / "history") for name in names]
    assert kept, "the update keeps before-images for undo"
    assert all(os.stat(path).st_nlink == 1 for path in kept), "a before-image was hard-linked"
    code, _, err = _cli(kb, "undo", "-y", platform_name="sync-folder")
    assert code == 0, err
    assert (kb / "raw" / "first.md").read_bytes() == old_raw
    assert (kb / "wiki" / "summaries" / "first.md").read_bytes() == old_summary
