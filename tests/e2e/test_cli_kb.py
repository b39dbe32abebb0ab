"""The KB commands end to end, through the installed CLI in a subprocess: init, status, list, doctor, --kb."""

import json
import os
import subprocess
import sys

import pytest

from bench import synthetic
from wikismith.kb import KnowledgeBase

ENV = {k: v for k, v in os.environ.items() if not k.startswith("WIKISMITH")}


def cli(*args, cwd=None, env=None):
    proc = subprocess.run([sys.executable, "-m", "wikismith", *args], cwd=cwd, capture_output=True, text=True,
                          env={**ENV, **(env or {})}, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def tree(root):
    found = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as fh:
                found[os.path.relpath(path, root)] = fh.read()
    return found


def test_init_makes_the_documented_layout(tmp_path):
    code, out, err = cli("init", str(tmp_path / "kb"))
    assert code == 0, err
    kb = tmp_path / "kb"
    for rel in ("raw", "wiki/sources", "wiki/summaries", "wiki/concepts", "wiki/entities", "wiki/explorations",
                "wiki/reports", ".wikismith/staging", ".wikismith/backups"):
        assert (kb / rel).is_dir(), rel
    for rel in ("wiki/AGENTS.md", "wiki/index.md", "wiki/log.md", ".wikismith/config.toml", ".wikismith/kb.sqlite3"):
        assert (kb / rel).is_file(), rel
    assert "init" in (kb / "wiki/log.md").read_text()
    assert 'model = "offline"' in (kb / ".wikismith/config.toml").read_text()


def test_init_refuses_an_existing_kb_and_changes_nothing(tmp_path):
    assert cli("init", str(tmp_path))[0] == 0
    before = tree(tmp_path)
    code, out, err = cli("init", str(tmp_path))
    assert code == 2
    assert "already a wikismith knowledge base" in err and len(err.strip().splitlines()) == 1
    assert tree(tmp_path) == before


def test_outside_a_kb_every_command_says_so_in_one_line(tmp_path):
    for command in (["status"], ["list"], ["doctor"], ["status", "--json"]):
        code, out, err = cli(*command, cwd=tmp_path)
        assert code == 2, command
        assert len(err.strip().splitlines()) == 1 and "not inside a wikismith knowledge base" in err


def test_the_kb_is_found_by_flag_env_and_walking_up(tmp_path):
    kb = tmp_path / "kb"
    assert cli("init", str(kb))[0] == 0
    deep = kb / "wiki" / "concepts"
    for args, kwargs in ((["--kb", str(kb), "status", "--json"], {"cwd": tmp_path}),
                         (["status", "--json"], {"cwd": tmp_path, "env": {"WIKISMITH_KB": str(kb)}}),
                         (["status", "--json"], {"cwd": deep})):
        code, out, err = cli(*args, **kwargs)
        assert code == 0, err
        assert json.loads(out)["root"] == str(kb)
    code, _, err = cli("--kb", str(tmp_path / "nope"), "status")
    assert code == 2 and "is not a wikismith knowledge base" in err


def test_status_and_list_report_what_was_applied(tmp_path):
    kb = synthetic.build_kb(str(tmp_path), 12)
    kb.apply(synthetic.change_mutation(12, 1))
    kb.close()
    code, out, _ = cli("status", "--json", cwd=tmp_path)
    status = json.loads(out)
    assert status["documents"] == 2 and status["pages"] == {"concept": 12 + 10 - 3}
    assert status["pending_transactions"] == [] and status["dirty"] is False
    code, out, _ = cli("list", "--pages", "--json", cwd=tmp_path)
    listing = json.loads(out)
    assert set(listing) == {"documents", "pages"}
    assert [d["name"] for d in listing["documents"]] == ["change-1", "synthetic-doc"]
    assert {d["name"]: d["pages"] for d in listing["documents"]} == {"change-1": 15, "synthetic-doc": 4}
    paths = [p["path"] for p in listing["pages"]["concept"]]
    assert paths == sorted(paths) and len(paths) == 19
    # stable: the same KB lists identically twice
    assert cli("list", "--pages", "--json", cwd=tmp_path)[1] == out
    code, out, _ = cli("list", cwd=tmp_path)
    assert code == 0 and "change-1" in out


def test_doctor_finds_problems_and_repair_fixes_what_it_safely_can(tmp_path):
    synthetic.build_kb(str(tmp_path), 3).close()
    code, out, _ = cli("doctor", "--store-only", cwd=tmp_path)
    assert code == 0 and "healthy" in out
    (tmp_path / ".wikismith/staging/leftover-txn").mkdir()
    os.remove(tmp_path / synthetic.page_path(1))
    (tmp_path / "wiki/concepts/my-own-note.md").write_text("# mine\n")
    code, out, _ = cli("doctor", "--json", "--store-only", cwd=tmp_path)
    report = json.loads(out)
    assert code == 1 and not report["healthy"]
    problems = " | ".join(f["problem"] for f in report["findings"])
    assert "staging/leftover-txn belongs to no transaction" in problems
    assert f"{synthetic.page_path(1)} is registered but missing on disk" in problems
    assert "wiki/concepts/my-own-note.md is on disk but not in the registry" in problems
    code, out, _ = cli("doctor", "--repair", "--store-only", cwd=tmp_path)
    assert "removed scratch folder .wikismith/staging/leftover-txn" in out
    assert not (tmp_path / ".wikismith/staging/leftover-txn").exists()
    assert (tmp_path / "wiki/concepts/my-own-note.md").read_text() == "# mine\n", "doctor must never delete user files"
    assert code == 1, "a missing page is reported, not papered over"


def test_help_and_version(tmp_path):
    code, out, _ = cli("--help")
    assert code == 0
    for command in ("init", "status", "list", "doctor"):
        assert command in out
    assert "Exit codes" in out
    code, out, _ = cli("--version")
    assert code == 0 and out.startswith("wikismith, version")


def test_help_imports_no_heavy_library():
    probe = ("import sys; from wikismith.cli import cli; from wikismith.cli.common import run;"
             "run(cli, ['--help']);"
             "heavy = [m for m in ('filelock', 'rich', 'sqlite3', 'openai', 'litellm', 'pypdfium2', 'markitdown',"
             " 'trafilatura') if m in sys.modules]; print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=ENV).stdout
    assert "HEAVY []" in out, out
