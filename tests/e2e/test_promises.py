"""Promises the add side broke when tried as a new user would, each checked through the CLI (issue 8, part 2)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import EPOCH
from wikicheck import CORPUS, add, as_on_a_terminal, listing, structural_problems

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def wiki_text(kb: Path) -> dict[str, str]:
    return {str(p.relative_to(kb)): p.read_text(encoding="utf-8") for p in sorted((kb / "wiki").rglob("*.md"))}


def doctor_is_healthy(run_cli, kb) -> None:
    code, out, err = run_cli("doctor", "--json", kb=kb)
    report = json.loads(out)
    assert code == 0 and report["healthy"], report["findings"]


# -- 1. a folder add never follows a symbolic link out of the folder --------------------------------------------------

def test_a_folder_add_skips_a_link_that_leaves_the_folder_and_says_why(tmp_kb, tmp_path, run_cli):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "real.md").write_text("# Rain\n\nRain barrels store water. A rain barrel saves water.\n")
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:the secret account line nobody may read:/root:/bin/bash\n")
    (folder / "innocent.md").symlink_to(secret)
    (folder / "linked-dir").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "far.md").write_text("# Far\n\nFar away text about distant planets.\n")

    code, report, err = add(tmp_kb, folder)
    assert code == 0, err
    by_name = {Path(o["path"]).name: o for o in report["files"]}
    assert by_name["real.md"]["status"] == "added"
    for name in ("innocent.md", "linked-dir"):
        assert by_name[name]["status"] == "skipped"
        assert "symbolic link" in by_name[name]["detail"] and "--follow-symlinks" in by_name[name]["detail"]
    everything = "".join(wiki_text(tmp_kb).values())
    assert "secret account" not in everything and "distant planets" not in everything
    assert sorted(p.name for p in (tmp_kb / "raw").iterdir()) == ["real.md"]
    assert [d["name"] for d in listing(tmp_kb)["documents"]] == ["real.md"]

    code, out, _ = run_cli("add", folder, kb=tmp_kb)  # the table says it too
    assert re.search(r"skipped: .*innocent\.md: a symbolic link to .*secret\.txt", out), out

    code, report, err = add(tmp_kb, folder, extra=("--follow-symlinks",))  # the user opts in
    assert code == 0, err
    statuses = {Path(o["path"]).name: o["status"] for o in report["files"]}
    assert statuses["innocent.md"] == "added" and statuses["far.md"] == "added"


def test_a_link_named_on_the_command_line_is_the_users_choice(tmp_kb, tmp_path):
    target = tmp_path / "outside.md"
    target.write_text("# Outside\n\nCompost heaps turn scraps into soil. A compost heap needs air.\n")
    link = tmp_path / "named.md"
    link.symlink_to(target)
    code, report, err = add(tmp_kb, link)
    assert code == 0 and report["files"][0]["status"] == "added", err


# -- 2. converted text never produces a wikilink ------------------------------------------------------------------

CITED = """<!DOCTYPE html><html><head><title>Rain barrel - Wikipedia</title></head><body><div id="content">
<h1>Rain barrel</h1>
<p>A <b>rain barrel</b> is a water tank used to collect and store rainwater runoff from rooftops.<sup
class="reference"><a href="#cite_note-2">[2]</a></sup> Rain barrels are tools to manage stormwater runoff.<sup
class="reference"><a href="#cite_note-auto-119">[3]</a></sup> A rain barrel is cheap to build.</p>
<p>Rain barrels reduce the demand on municipal water.<sup><a href="#cite_note-4">[4]</a></sup> A rain barrel needs a
screen against mosquitoes. Rain barrel water is used in gardens; the text quotes [[not a link]] literally.</p>
<h2>References</h2><ol><li id="cite_note-2">Smith, J. (2010). Water. Press.</li></ol></div></body></html>
"""


def test_citation_markers_and_quoted_brackets_never_become_links(tmp_kb, tmp_path, run_cli):
    page = tmp_path / "rain-barrel.html"
    page.write_text(CITED)
    code, report, err = add(tmp_kb, page)
    assert code == 0, err
    assert structural_problems(tmp_kb, listing(tmp_kb)["documents"]) == []
    doctor_is_healthy(run_cli, tmp_kb)
    index = (tmp_kb / "wiki" / "index.md").read_text()
    assert "[[2]]" not in index and "cite_note" not in index
    for rel, text in wiki_text(tmp_kb).items():
        assert "[[2]]" not in text and "[[not a link]]" not in text, rel


# -- 3. no page ever holds a NUL or another control byte ----------------------------------------------------------

ROLES = """\
PEP: 9999
Title: Roles inside literals
Author: Ann Lee <ann@example.org>
Status: Draft

Abstract
========

The ``:mod:`asyncio``` role names a module; :mod:`asyncio` itself runs event loops. The event loop of
:mod:`asyncio` schedules coroutines. An event loop runs callbacks. The ``:func:`run``` role is another literal,
and ``:class:`~typing.Generic```, too. Every event loop needs a running thread.
"""


def test_roles_inside_literals_leave_no_control_bytes(tmp_kb, tmp_path, run_cli):
    doc = tmp_path / "pep-9999.rst"
    doc.write_text(ROLES)
    code, _, err = add(tmp_kb, doc)
    assert code == 0, err
    for rel, text in wiki_text(tmp_kb).items():
        assert not CONTROL.search(text), f"{rel} holds {CONTROL.search(text).group()!r}"
    doctor_is_healthy(run_cli, tmp_kb)


def test_doctor_reports_a_control_byte_written_by_hand(tmp_kb, tmp_path, run_cli):
    doc = tmp_path / "note.md"
    doc.write_text("# Note\n\nCompost heaps turn scraps into soil. A compost heap needs air and water.\n")
    assert add(tmp_kb, doc)[0] == 0
    summary = tmp_kb / "wiki" / "summaries" / "note.md"
    summary.write_text(summary.read_text() + "stray \x00 byte\n")
    code, out, _ = run_cli("doctor", kb=tmp_kb)
    assert code == 1 and "wiki/summaries/note.md: control byte '\\x00'" in out, out


# -- 4. identifiers keep their spelling -----------------------------------------------------------------------------

DUNDERS = """# Context managers: `__enter__`, __exit__ and __aexit__

A context manager calls __exit__ when the block ends. The __init__ method builds the object, and __exit__ closes
it. Context managers are common in Python. A context manager wraps a resource. The context manager protocol uses
__exit__ and __aexit__. Context managers release locks. Every context manager defines __exit__ and __aexit__.
"""


def test_double_underscores_survive_in_titles_points_and_pages(tmp_kb, tmp_path):
    doc = tmp_path / "dunders.md"
    doc.write_text(DUNDERS)
    assert add(tmp_kb, doc)[0] == 0
    summary = (tmp_kb / "wiki" / "summaries" / "dunders.md").read_text()
    assert 'title: "Context managers: __enter__, __exit__ and __aexit__"' in summary
    assert "# Context managers: `__enter__`, `__exit__` and `__aexit__`" in summary  # code: shown as written
    assert "`__exit__`" in summary and "`__init__`" in summary  # in code, so Markdown shows the underscores
    names = [p.stem for p in (tmp_kb / "wiki").glob("*/*.md")]
    assert not [n for n in names if n.startswith("exit") or n.endswith("-")], names
    everything = "".join(wiki_text(tmp_kb).values())
    assert not re.search(r"(?<![_\w])(exit|aexit|init)(?:__| and aexit)", everything)


# -- 5. init never nests a KB, and AGENTS.md names real commands ----------------------------------------------------

def test_init_refuses_a_folder_inside_or_around_a_kb(tmp_kb, tmp_path, run_cli):
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    for target in (tmp_kb / "wiki", tmp_kb / "wiki" / "new", tmp_path):
        code, out, err = run_cli("init", target)
        assert code == 2 and "cannot hold another" in err and "nothing was changed" in err.lower(), err
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before


def test_agents_md_names_only_commands_that_exist(tmp_kb):
    from wikismith.cli import cli

    text = (tmp_kb / "wiki" / "AGENTS.md").read_text()
    named = set(re.findall(r"`wikismith ([a-z][\w-]*)", text))
    assert named <= set(cli.commands), sorted(named - set(cli.commands))


# -- 6. list, config, status, Ctrl-C, empty folders, failed downloads -----------------------------------------------

def test_list_tells_apart_three_notes_of_the_same_name(tmp_kb, tmp_path, run_cli):
    paths = []
    for i, folder in enumerate(("home", "work", "school")):
        (tmp_path / folder).mkdir()
        note = tmp_path / folder / "notes.md"
        note.write_text(f"# Notes {folder}\n\nTopic {folder} number {i}: compost heaps turn scraps into soil.\n")
        paths.append(note)
    assert add(tmp_kb, *paths)[0] == 0
    docs = listing(tmp_kb)["documents"]
    assert len({d["id"] for d in docs}) == 3 and {d["source"] for d in docs} == {str(p) for p in paths}
    code, out, _ = run_cli("list", kb=tmp_kb)
    rows = [line for line in out.splitlines() if "notes" in line]
    assert len(set(rows)) == len(rows) >= 3
    for folder in ("home", "work", "school"):
        assert folder in out
    assert "wiki/concepts/" not in out  # pages only with --pages
    assert "wiki/summaries/notes.md" in run_cli("list", "--pages", kb=tmp_kb)[1]


def test_config_get_of_an_unset_key_and_status_dirty_is_a_boolean(tmp_kb, run_cli):
    code, out, err = run_cli("config", "get", "base_url", kb=tmp_kb)
    assert code == 0 and out.strip() == "base_url is unset", out + err
    code, out, _ = run_cli("config", "get", "base_url", "--json", kb=tmp_kb)
    assert json.loads(out) == {"values": {}, "unset": ["base_url"], "changed": None}
    code, out, _ = run_cli("config", "get", "timeout", kb=tmp_kb)
    assert code == 0 and out.strip() == "timeout = 60"
    code, out, err = run_cli("config", "get", "no_such_key", kb=tmp_kb)
    assert code == 2 and "known settings" in err
    status = json.loads(run_cli("status", "--json", kb=tmp_kb)[1])
    assert status["dirty"] is False and status["dirty_reason"] is None


def test_an_empty_folder_says_so(tmp_kb, tmp_path, run_cli):
    (tmp_path / "empty").mkdir()
    code, out, err = run_cli("add", tmp_path / "empty", kb=tmp_kb)
    assert code == 0 and "holds no documents" in out, out + err


def test_ctrl_c_during_a_folder_add_prints_what_was_committed_and_exits_130(tmp_kb, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(60):
        (folder / f"n{i:02d}.md").write_text(f"# Note {i}\n\nCompost heap {i} turns scraps into soil. " * 30)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKISMITH")}
    env["SOURCE_DATE_EPOCH"] = EPOCH
    proc = subprocess.Popen([sys.executable, "-m", "wikismith", "--kb", str(tmp_kb), "add", str(folder)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=as_on_a_terminal)
    deadline = time.time() + 60
    while time.time() < deadline and len(list((tmp_kb / "raw").iterdir())) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    committed = sorted(p.name for p in (tmp_kb / "raw").iterdir())
    assert 3 <= len(committed) < 60
    assert f"interrupted: {len(committed)} document(s) above were committed" in out, out
    for name in committed:
        assert re.search(rf"added: .*{name}", out)
    assert "interrupted" in err
    assert structural_problems(tmp_kb, listing(tmp_kb)["documents"]) == []


class _Empty(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def empty_site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Empty)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_failed_url_add_keeps_no_empty_download(tmp_kb, empty_site, run_cli):
    code, report, err = add(tmp_kb, empty_site + "/page.html", extra=("--allow-private",))
    assert code == 1 and "empty body" in report["files"][0]["detail"], report
    downloads = tmp_kb / ".wikismith" / "downloads"
    assert list(downloads.iterdir()) == []
    code, out, _ = run_cli("doctor", kb=tmp_kb)
    assert "kept download" not in out
