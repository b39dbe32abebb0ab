"""remove, recompile, lint, history and undo, end to end through the CLI (issue 9)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from wikicheck import CORPUS, add, cli, listing, structural_problems

PEPS = CORPUS / "peps"


def tree(kb: Path, *, log: bool = False) -> dict[str, bytes]:
    """Every file under raw/ and wiki/, by path; log.md aside unless asked for."""
    out = {}
    for top in ("raw", "wiki"):
        for p in sorted((kb / top).rglob("*")):
            if p.is_file() and (log or p.name != "log.md"):
                out[p.relative_to(kb).as_posix()] = p.read_bytes()
    return out


def run_json(*args, kb):
    code, out, err = cli(*args, "--json", kb=kb)
    try:
        return code, json.loads(out), err
    except ValueError:
        return code, None, err


def healthy(kb) -> None:
    code, out, _ = cli("doctor", kb=kb)
    assert code == 0, out
    assert structural_problems(kb, listing(kb)["documents"]) == []


@pytest.fixture
def peps(tmp_kb, tmp_path):
    """A KB holding three typing PEPs (they share concepts: type hints, annotations...)."""
    folder = tmp_path / "peps"
    folder.mkdir()
    for name in ("pep-0484.rst", "pep-0526.rst", "pep-3107.rst"):
        shutil.copyfile(PEPS / name, folder / name)
    assert add(tmp_kb, folder)[0] == 0
    return tmp_kb, folder


# -- remove -----------------------------------------------------------------------------------------------------------

def test_documents_are_named_by_id_name_source_or_prefix_and_bad_names_change_nothing(peps, tmp_path):
    kb, folder = peps
    before = tree(kb, log=True)
    for name, expect in (("nope", "no document is named 'nope'"), ("../x", "no document is named '../x'"),
                         ("p", "at least 3 characters"), ("pep-", "names 3 documents"),
                         (str(folder) + "/", "names 3 documents"), ("", "names no document")):
        code, out, err = cli("remove", "-y", name, kb=kb)
        assert code == 2 and expect in err, (name, err)
    code, _, err = cli("remove", "-y", "pep-", kb=kb)
    for doc_id in ("pep-0484", "pep-0526", "pep-3107"):
        assert doc_id in err, "an ambiguous name lists the candidates"
    assert tree(kb, log=True) == before
    for name in ("pep-0484", "pep-0526.rst", str(folder / "pep-3107.rst")):  # id, name, source path
        code, report, err = run_json("remove", "--dry-run", name, kb=kb)
        assert code == 0 and len(report["documents"]) == 1, err
    code, report, _ = run_json("remove", "--dry-run", "pep-048", kb=kb)  # a unique prefix
    assert report["documents"][0]["id"] == "pep-0484"
    assert tree(kb, log=True) == before, "dry runs change nothing"


def test_remove_takes_out_exactly_one_documents_contribution(peps):
    kb, _ = peps
    code, plan, _ = run_json("remove", "--dry-run", "pep-3107", kb=kb)
    p = plan["documents"][0]
    assert p["raw_file"] == "raw/pep-3107.rst" and "wiki/summaries/pep-3107.md" in p["pages_deleted"]
    assert p["pages_changed"], "pep-3107 shares pages with the other PEPs"
    shared = [path for path in p["pages_changed"] if path.startswith("wiki/concepts/")]
    log_before = (kb / "wiki/log.md").read_text()
    code, report, err = run_json("remove", "-y", "pep-3107", kb=kb)
    assert code == 0 and report["removed"] == ["pep-3107"], err
    assert not (kb / "raw/pep-3107.rst").exists()
    for path in p["pages_deleted"]:
        assert not (kb / path).exists()
    for path in shared:
        text = (kb / path).read_text()
        assert "source:pep-3107" not in text and "- pep-3107" not in text
        assert re.search(r"source:pep-0(484|526)", text)
    log = (kb / "wiki/log.md").read_text()
    assert log.startswith(log_before) and log[len(log_before):].count("\n") == 1 and "remove" in log[len(log_before):]
    assert [d["id"] for d in listing(kb)["documents"]] == ["pep-0484", "pep-0526"]
    healthy(kb)


def test_keep_raw_keeps_the_original(peps):
    kb, _ = peps
    assert cli("remove", "-y", "--keep-raw", "pep-3107", kb=kb)[0] == 0
    assert (kb / "raw/pep-3107.rst").read_bytes() == (PEPS / "pep-3107.rst").read_bytes()
    code, report, _ = run_json("lint", "--no-llm", kb=kb)
    assert {"kind": "raw-orphan", "page": "raw/pep-3107.rst", "detail": "no document names this file",
            "fixable": False} in report["findings"]


def test_a_page_you_wrote_on_is_kept_and_your_links_to_deleted_pages_become_text(tmp_kb, tmp_path):
    a, b = tmp_path / "alpha.md", tmp_path / "beta.md"
    a.write_text("# Alpha\n\nQuantum teleportation protocols move state. A quantum teleportation protocol needs "
                 "an entangled pair. Every quantum teleportation protocol consumes the pair.\n")
    b.write_text("# Beta\n\nCompost heaps turn scraps into soil. A compost heap needs air. Compost heaps work "
                 "slowly in winter.\n")
    assert add(tmp_kb, a, b)[0] == 0
    mine = tmp_kb / "wiki/concepts/quantum-teleportation-protocol.md"
    assert mine.exists()
    mine.write_text(mine.read_text() + "\nMy own note: read the 1993 paper.\n")
    heap = tmp_kb / "wiki/concepts/compost-heap.md"
    heap.write_text(heap.read_text() + "\nSee also [[summaries/alpha|the alpha notes]] and "
                    "[[concepts/quantum-teleportation-protocol]].\n")
    cli("recompile", "-y", "beta", kb=tmp_kb)  # the KB registers the page as it is now, links included
    code, report, err = run_json("remove", "-y", "alpha", kb=tmp_kb)
    assert code == 0, err
    assert report["documents"][0]["pages_kept_for_notes"] == ["wiki/concepts/quantum-teleportation-protocol.md"]
    kept = mine.read_text()
    assert "My own note: read the 1993 paper." in kept and "sources: []" in kept and "source:alpha" not in kept
    text = heap.read_text()
    assert "See also the alpha notes and [[concepts/quantum-teleportation-protocol]]." in text
    code, lint, _ = run_json("lint", "--no-llm", kb=tmp_kb)
    assert any(f["kind"] == "notes-only" and f["page"].endswith("quantum-teleportation-protocol.md")
               for f in lint["findings"])
    healthy(tmp_kb)


def _corpus_sample(by_id: dict[str, str]) -> list[tuple[str, str]]:
    """Every document when WIKISMITH_FULL_CORPUS=1 (the run the closing notes report); in CI, a seeded third of
    each corpus folder (at least two of each), so every kind of document is exercised within CI's time."""
    every = sorted(by_id.items())
    if os.environ.get("WIKISMITH_FULL_CORPUS") == "1":
        return every
    folders: dict[str, list[tuple[str, str]]] = {}
    for doc_id, path in every:
        folders.setdefault(os.path.dirname(os.path.relpath(path, CORPUS)), []).append((doc_id, path))
    rng = random.Random(20261203)
    chosen = []
    for folder in sorted(folders):
        docs = folders[folder]
        chosen += rng.sample(docs, min(len(docs), max(2, len(docs) // 3)))
    return sorted(chosen)


def test_add_then_remove_leaves_raw_and_wiki_byte_identical_for_every_corpus_document(tmp_path, fixed_clock,
                                                                                      capsys, monkeypatch):
    """For every document D of the shared corpus, in a KB holding all the others: add D, remove D, and raw/ and
    wiki/ are exactly as before (log.md aside). The CLI runs in this process: the same entry point, 600 times."""
    from wikismith.cli import cli as entry
    from wikismith.cli.common import run

    def call(capsys, *argv):
        capsys.readouterr()
        code = run(entry, [str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    import wikismith.ingest as ingest

    converted = {}
    real = ingest.convert

    def convert_once(path, limits=ingest.Limits()):  # what is under test is the merge, not the converters
        if (path, limits) not in converted:
            converted[(path, limits)] = real(path, limits)
        return converted[(path, limits)]

    monkeypatch.setattr(ingest, "convert", convert_once)
    kb = tmp_path / "kb"
    assert call(capsys, "init", kb)[0] == 0
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and not p.name.startswith(".")
                   and p.name not in ("README.md", "COPYRIGHT", "LICENSE-MIT"))
    code, out, _ = call(capsys, "--kb", kb, "add", "--json", *files)
    added = [f for f in json.loads(out)["files"] if f["status"] == "added"]
    assert len(added) > 130, "most of the corpus can be added"
    by_id = {f["id"]: f["path"] for f in added}
    for doc_id, path in _corpus_sample(by_id):
        assert call(capsys, "--kb", kb, "remove", "-y", doc_id)[0] == 0
        without = tree(kb)
        assert call(capsys, "--kb", kb, "add", path)[0] == 0
        assert call(capsys, "--kb", kb, "remove", "-y", doc_id)[0] == 0
        after = tree(kb)
        changed = sorted(p for p in set(without) | set(after) if without.get(p) != after.get(p))
        assert not changed, f"add then remove of {doc_id} changed {changed[:5]}"
        assert call(capsys, "--kb", kb, "add", path)[0] == 0
    code, out, _ = call(capsys, "--kb", kb, "doctor")
    assert code == 0, out


# -- recompile --------------------------------------------------------------------------------------------------------

def test_recompile_rebuilds_pages_deleted_by_hand_and_keeps_your_notes(peps):
    kb, _ = peps
    full = tree(kb)
    concept = next(p for p in sorted((kb / "wiki/concepts").glob("*.md")) if "source:pep-0484" in p.read_text())
    summary = kb / "wiki/summaries/pep-0484.md"
    summary.unlink()
    notes = concept.read_text() + "\nA note of mine that must survive.\n"
    concept.write_text(notes)
    code, report, err = run_json("recompile", "-y", "pep-0484", kb=kb)
    assert code == 0 and report["documents"] == [{"id": "pep-0484", "name": "pep-0484.rst", "status": "recompiled"}]
    assert summary.read_bytes() == full["wiki/summaries/pep-0484.md"]
    assert concept.read_text() == notes
    healthy(kb)


def test_recompile_all_of_an_up_to_date_kb_changes_nothing(peps):
    kb, _ = peps
    before = tree(kb, log=True)
    history = run_json("history", kb=kb)[1]["commands"]
    code, report, _ = run_json("recompile", "--all", "-y", kb=kb)
    assert code == 0 and {d["status"] for d in report["documents"]} == {"unchanged"}
    assert tree(kb, log=True) == before
    assert run_json("history", kb=kb)[1]["commands"] == history, "nothing changed, nothing to undo"
    code, _, err = cli("recompile", kb=kb)
    assert code == 2 and "--all" in err


# -- lint -------------------------------------------------------------------------------------------------------------

def test_lint_finds_what_is_broken_fixes_what_the_kb_generated_and_leaves_your_files_alone(peps):
    kb, _ = peps
    code, report, _ = run_json("lint", "--no-llm", kb=kb)
    kinds = {f["kind"] for f in report["findings"]}
    assert not kinds & {"broken-link", "missing-from-index", "deleted-page"}, report["findings"]

    summary = kb / "wiki/summaries/pep-3107.md"
    summary.write_text(summary.read_text() + "\nSee [[concepts/never-written]].\n")  # a broken link
    index = kb / "wiki/index.md"
    index.write_text(index.read_text().replace("- [[sources/pep-0526|", "- [[sources/gone|", 1))
    (kb / "wiki/sources/pep-0484.md").unlink()  # a page deleted by hand
    mine = kb / "wiki/my-notes.md"
    mine.write_text("# Mine\n\nSee [[concepts/also-never-written]].\n")
    mine_before = mine.read_bytes()

    code, report, _ = run_json("lint", "--no-llm", kb=kb)
    assert code == 1
    found = {(f["kind"], f["page"]) for f in report["findings"]}
    assert ("broken-link", "wiki/summaries/pep-3107.md") in found
    assert ("broken-link", "wiki/my-notes.md") in found
    assert ("missing-from-index", "wiki/sources/pep-0526.md") in found
    assert ("index-without-page", "wiki/index.md") in found
    assert ("deleted-page", "pep-0484") in found
    assert ("not-registered", "wiki/my-notes.md") in found

    code, report, err = run_json("lint", "--no-llm", "--fix", kb=kb)
    left = {(f["kind"], f["page"]) for f in report["findings"]}
    assert code == 1, "findings remain (the user's own file)"
    assert ("broken-link", "wiki/my-notes.md") in left and ("not-registered", "wiki/my-notes.md") in left
    assert not left & {("broken-link", "wiki/summaries/pep-3107.md"), ("deleted-page", "pep-0484"),
                       ("missing-from-index", "wiki/sources/pep-0526.md"), ("index-without-page", "wiki/index.md")}
    assert mine.read_bytes() == mine_before, "lint --fix never rewrites a file you created"
    assert (kb / "wiki/sources/pep-0484.md").exists()
    assert "See concepts/never-written." in summary.read_text()
    problems = structural_problems(kb, listing(kb)["documents"])
    assert "wiki/my-notes.md: broken link [[concepts/also-never-written]]" in problems
    assert all(p.startswith("wiki/my-notes.md: ") for p in problems), "all that is left is the user's own file"
    assert len(run_json("history", kb=kb)[1]["commands"]) == 2, "the fixes were one command"


def test_lint_is_read_only_and_works_on_a_dirty_kb(peps):
    import sqlite3

    kb, _ = peps
    # An interrupted transaction whose before-image is gone: its rollback cannot complete, the KB turns dirty.
    conn = sqlite3.connect(kb / ".wikismith/kb.sqlite3")
    conn.execute("INSERT INTO txns (id, label, state, created_at) VALUES ('999999-001', 'test', 'active', 't')")
    conn.execute("INSERT INTO txn_entries (txn, seq, action, path, backup) VALUES "
                 "('999999-001', 1, 'write', 'wiki/summaries/pep-0484.md', '.wikismith/backups/999999-001/1')")
    conn.commit()
    conn.close()
    assert "DIRTY" in cli("status", kb=kb)[1]
    before = tree(kb, log=True)
    code, report, err = run_json("lint", "--no-llm", kb=kb)
    assert report is not None and code in (0, 1), err
    assert tree(kb, log=True) == before
    code, _, err = cli("lint", "--no-llm", "--save", kb=kb)
    assert code == 3 and "dirty" in err, "saving is a change: refused on a dirty KB"


def test_lint_save_writes_a_report_page_listed_in_the_index(peps):
    kb, _ = peps
    code, report, _ = run_json("lint", "--no-llm", "--save", kb=kb)
    saved = report["saved"]
    assert saved.startswith("wiki/reports/lint-") and (kb / saved).exists()
    assert "type: report" in (kb / saved).read_text()
    assert f"[[{saved[len('wiki/'):-len('.md')]}|" in (kb / "wiki/index.md").read_text()
    code, report2, _ = run_json("lint", "--no-llm", "--save", kb=kb)
    assert report2["saved"] != saved and (kb / saved).exists(), "a second report never overwrites the first"
    healthy(kb)


# -- history and undo -------------------------------------------------------------------------------------------------

def _registry(kb) -> dict:
    """What the registry holds of the KB's content (history aside); pages' update times aside, as undo stamps them."""
    from wikismith.store import snapshot

    rows = snapshot.state(str(kb), history=False)["registry"]
    return {**rows, "pages": [row[:4] + row[5:] for row in rows["pages"]]}


def test_undo_of_a_folder_add_and_of_a_remove_and_of_an_undo(tmp_kb, tmp_path):
    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("pep-0604.rst", "pep-0612.rst"):
        shutil.copyfile(PEPS / name, folder / name)
    empty, empty_registry = tree(tmp_kb), _registry(tmp_kb)
    assert add(tmp_kb, folder)[0] == 0
    full, full_registry = tree(tmp_kb), _registry(tmp_kb)
    assert full_registry["candidates"], "the add registers each document's candidate pages"
    (cmd,) = run_json("history", kb=tmp_kb)[1]["commands"]
    assert cmd["transactions"] == 2 and cmd["documents"] == ["pep-0604", "pep-0612"]
    assert cmd["argv"][:2] == ["add", "--json"]

    code, report, err = run_json("undo", "-y", kb=tmp_kb)  # the folder add: one command of two transactions
    assert code == 0 and report["undone"], err
    assert tree(tmp_kb) == empty and listing(tmp_kb)["documents"] == []
    assert _registry(tmp_kb) == empty_registry, "undo puts every registry row back, candidate rows included"
    code, report, err = run_json("undo", "-y", kb=tmp_kb)  # undo of the undo redoes
    assert code == 0 and tree(tmp_kb) == full and _registry(tmp_kb) == full_registry
    assert cli("remove", "-y", "pep-0604", kb=tmp_kb)[0] == 0
    assert cli("undo", "-y", kb=tmp_kb)[0] == 0
    assert tree(tmp_kb) == full, "undo of a remove brings the document back byte-identical"
    assert _registry(tmp_kb) == full_registry
    healthy(tmp_kb)
    commands = run_json("history", "--limit", "2", kb=tmp_kb)[1]["commands"]
    assert [c["undoes"] for c in commands] == [commands[1]["id"], None] and len(commands) == 2


def test_undo_is_refused_when_a_later_command_changed_the_same_pages_or_a_file_was_edited(peps, tmp_path):
    kb, _ = peps
    extra = tmp_path / "pep-0604.rst"
    shutil.copyfile(PEPS / "pep-0604.rst", extra)
    assert add(kb, extra)[0] == 0
    commands = run_json("history", kb=kb)[1]["commands"]
    first, second = commands[1]["id"], commands[0]["id"]
    before, added = tree(kb, log=True), tree(kb)
    code, out, err = cli("undo", "-y", str(first), kb=kb)
    assert code == 1 and f"command {second} changed" in err, err
    assert tree(kb, log=True) == before
    assert cli("undo", "-y", kb=kb)[0] == 0  # the second, undone
    undone = tree(kb, log=True)
    code, out, err = cli("undo", "-y", str(second), kb=kb)
    assert code == 1 and f"command {second} is already undone, by command {second + 1}" in err, err
    assert f"`wikismith undo {second + 1}` would redo it" in err and "Undo those first" not in err
    assert tree(kb, log=True) == undone
    assert cli("undo", "-y", kb=kb)[0] == 0  # the undo, undone: the second is back
    assert tree(kb) == added

    summary = kb / "wiki/summaries/pep-0604.md"
    summary.write_text(summary.read_text() + "\nedited by hand\n")
    code, out, err = cli("undo", "-y", kb=kb)
    assert code == 1 and "changed since by hand: wiki/summaries/pep-0604.md" in err
    code, _, err = cli("undo", "-y", "999", kb=kb)
    assert code == 1 and "no command 999" in err


def test_undo_names_the_undo_that_leaves_a_command_undone_through_chains_and_later_commands(tmp_kb):
    for name in ("pep-0484.rst", "pep-0604.rst"):
        assert add(tmp_kb, PEPS / name)[0] == 0  # commands 1 and 2
    for _ in range(3):  # 3 undoes 2, 4 undoes 3 (2 is back), 5 undoes 4 (2 is out again)
        assert cli("undo", "-y", kb=tmp_kb)[0] == 0
    assert add(tmp_kb, PEPS / "pep-0526.rst")[0] == 0  # command 6 changes the pages they share
    assert [d["id"] for d in listing(tmp_kb)["documents"]] == ["pep-0484", "pep-0526"]
    for target in (2, 4):
        code, _, err = cli("undo", "-y", str(target), kb=tmp_kb)
        assert code == 1 and f"command {target} is already undone, by command 5" in err, err
    code, _, err = cli("undo", "-y", "3", kb=tmp_kb)  # in force (its undo was undone): later commands block it
    assert code == 1 and "already undone" not in err and "command 6 changed" in err, err


def _half_written(kb: Path, command: int) -> list[str]:
    """Files `command` wrote whose bytes on disk are no longer the ones it left."""
    conn = sqlite3.connect(kb / ".wikismith" / "kb.sqlite3")
    rows = conn.execute("SELECT path, after FROM history_files WHERE command = ? AND action = 'write'",
                        (command,)).fetchall()
    conn.close()
    return [path for path, after in rows
            if (kb / path).exists() and hashlib.sha256((kb / path).read_bytes()).hexdigest() != after]


def test_undo_run_while_another_process_is_inside_a_transaction_waits_for_it_not_calling_its_files_edits(
        peps, tmp_path):
    """A process killed inside its transaction, its lock still held (as by a process that is alive), stands for
    a folder add between two of its files: undo's plan waits for the lock and reads the recovered KB."""
    kb, _ = peps
    extra = tmp_path / "pep-0604.rst"
    shutil.copyfile(PEPS / "pep-0604.rst", extra)
    counted = tmp_path / "counted"
    shutil.copytree(kb, counted)
    _, _, err = cli("add", extra, kb=counted, env={"WIKISMITH_FAULTS": "count"})
    checkpoints = int(re.search(r"wikismith-faults: (\d+) checkpoints", err).group(1))

    def crashed_at(k: int) -> Path:
        root = tmp_path / f"crashed-{k}"
        if not root.exists():
            shutil.copytree(kb, root)
            code, _, err = cli("add", extra, kb=root, env={"WIKISMITH_FAULTS": f"crash@{k}"})
            assert code in (-9, 137), err
        return root

    # The first checkpoint after which a page the PEPs share is changed on disk: the add is inside its transaction
    # (from there on it stays changed, so a bisection finds it).
    lo, hi = 1, checkpoints - 1
    assert _half_written(crashed_at(hi), 1)
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if _half_written(crashed_at(mid), 1) else (mid + 1, hi)
    crashed = crashed_at(lo)
    holder = subprocess.Popen([sys.executable, "-c", "import filelock, sys, time; "
                               "lock = filelock.FileLock(sys.argv[1]); lock.acquire(); print('held', flush=True); "
                               "time.sleep(2)", str(crashed / ".wikismith" / "lock")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        code, report, err = run_json("undo", "--dry-run", kb=crashed)
    finally:
        holder.wait(timeout=30)
    assert code == 0, err
    assert report["plan"]["command"]["documents"] == ["pep-0484", "pep-0526", "pep-3107"]
    assert "wiki/summaries/pep-0484.md" in report["plan"]["delete"]
    assert cli("undo", "-y", kb=crashed)[0] == 0 and listing(crashed)["documents"] == []
    healthy(crashed)


def test_history_keeps_the_before_images_of_the_last_history_keep_commands(tmp_kb, tmp_path):
    assert cli("config", "set", "history_keep", "3", kb=tmp_kb)[0] == 0
    for i in range(6):
        note = tmp_path / f"n{i}.md"
        note.write_text(f"# Note {i}\n\nCompost heap {i} turns scraps into soil. A compost heap needs air.\n")
        assert add(tmp_kb, note)[0] == 0
    commands = run_json("history", kb=tmp_kb)[1]["commands"]
    assert [c["id"] for c in commands] == [7, 6, 5]
    kept = sorted(p.name for p in (tmp_kb / ".wikismith/history").iterdir())
    assert kept == ["000005", "000006", "000007"]
    code, _, err = cli("undo", "-y", "2", kb=tmp_kb)
    assert code == 1 and "no command 2" in err
    healthy(tmp_kb)


def test_recompile_all_gives_the_wiki_a_new_kb_of_the_same_documents_has(peps, tmp_path):
    kb, folder = peps
    summary = kb / "wiki/summaries/pep-0526.md"
    summary.write_text(summary.read_text().replace("## Key points", "## Points I rewrote by hand"))
    (kb / "wiki/sources/pep-3107.md").unlink()
    assert cli("recompile", "--all", "-y", kb=kb)[0] == 0
    fresh = tmp_path / "fresh"
    assert cli("init", fresh)[0] == 0
    for name in ("pep-3107.rst", "pep-0526.rst", "pep-0484.rst"):  # another order, too
        assert add(fresh, folder / name)[0] == 0
    assert tree(kb) == tree(fresh)


# -- a busy page ------------------------------------------------------------------------------------------------------

def _shown_and_sources(kb: Path, page: str) -> tuple[list[str], list[str], str]:
    from wikismith.wiki import frontmatter, sections

    meta, body = frontmatter.parse((kb / page).read_text(encoding="utf-8"))
    return sections.section_ids(body), meta["sources"], sections.overview_text(body)


def _linking(kb: Path, target: str) -> list[str]:
    """The documents whose summary links `target`: every source of its page, shown or not."""
    return sorted(p.stem for p in (kb / "wiki" / "summaries").glob("*.md")
                  if f"[[{target}|" in p.read_text(encoding="utf-8"))


def test_a_busy_page_shows_its_first_50_sources_and_remove_and_undo_keep_to_that(tmp_kb):
    """More than 50 chapters of the Rust book hold "Rust": its page shows and lists the sections of the first 50 by
    id, and every chapter's summary links it. Removing a shown chapter brings the 51st on; removing a later one
    leaves the page as it is; undo puts it back as it was."""
    code, report, err = add(tmp_kb, CORPUS / "book", timeout=600)
    assert code == 0, err
    page = "wiki/entities/rust.md"
    holders = _linking(tmp_kb, "entities/rust")
    shown, sources, overview = _shown_and_sources(tmp_kb, page)
    assert len(holders) > 52 and shown == sources == holders[:50]
    assert overview.startswith("**Rust** is discussed in more than 50 sources; the sections of the first 50 by ")
    before = tree(tmp_kb)

    assert cli("remove", "-y", holders[-1], kb=tmp_kb)[0] == 0  # not shown: the page stays byte for byte
    assert (tmp_kb / page).read_bytes() == before[page]
    assert cli("undo", "-y", kb=tmp_kb)[0] == 0
    assert tree(tmp_kb) == before

    gone = shown[3]
    assert cli("remove", "-y", gone, kb=tmp_kb)[0] == 0
    now, listed, _ = _shown_and_sources(tmp_kb, page)
    assert now == listed == [h for h in holders if h != gone][:50] and holders[50] in now
    healthy(tmp_kb)
    assert cli("undo", "-y", kb=tmp_kb)[0] == 0
    assert tree(tmp_kb) == before


def test_page_sections_below_1_is_refused_and_a_hand_edited_one_fails_the_add_with_the_reason(tmp_kb):
    code, _out, err = cli("config", "set", "page_sections", "0", kb=tmp_kb)
    assert code == 2 and "page_sections must be at least 1" in err
    config = tmp_kb / ".wikismith" / "config.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("page_sections = 50", "page_sections = 0"),
                      encoding="utf-8")
    before = tree(tmp_kb)
    code, report, err = add(tmp_kb, PEPS / "pep-3107.rst")
    assert code == 1 and report["counts"]["failed"] == 1
    assert "config.toml: page_sections must be a whole number of at least 1, not 0" in json.dumps(report)
    assert tree(tmp_kb) == before


def test_config_set_help_says_what_every_setting_does():
    from wikismith import config as settings

    code, out, _err = cli("config", "set", "--help")
    assert code == 0
    listing = " ".join(out.split("Settings:", 1)[1].split())
    for key in [*settings.DEFAULTS, *settings.OPTIONAL]:
        assert f"{key} {' '.join(settings.HELP[key].split()[:3])}" in listing, key
    assert "shows the sections of this many of its sources" in listing
