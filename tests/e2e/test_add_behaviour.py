"""`wikismith add` behaviour through the CLI: exit codes, dedup and in-place update, --dry-run, an interrupted folder
add resumed, and determinism. SOURCE_DATE_EPOCH is fixed for every run (the run_cli fixture and wikicheck.cli set it),
because registry rows and pages record timestamps from it.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from wikicheck import CORPUS, add, cli, front_matter, listing, section_ids, structural_problems, tree_bytes
from wikismith.store import snapshot

# --- exit codes ------------------------------------------------------------------------------------------------


def test_add_without_a_path_is_a_usage_error_and_changes_nothing(tmp_kb, run_cli):
    before = snapshot.state(str(tmp_kb))
    code, out, err = run_cli("add", kb=tmp_kb)
    assert code == 2
    assert "PATH" in err and "Usage" in err
    code, out, err = run_cli("add", "--no-such-option", "x.md", kb=tmp_kb)
    assert code == 2
    assert snapshot.state(str(tmp_kb)) == before


def test_a_missing_path_is_reported_failed_by_name_and_the_rest_is_still_added(tmp_kb, tmp_path, run_cli):
    good = tmp_path / "good.md"
    good.write_text("# Good\n\nA small document about rain barrels. Rain barrels save water.\n", encoding="utf-8")
    code, report, _ = add(tmp_kb, tmp_path / "missing.md")
    assert code == 1
    [outcome] = report["files"]
    assert outcome["status"] == "failed" and "missing.md" in outcome["path"] and outcome["detail"]
    code, out, _ = run_cli("add", tmp_path / "missing.md", kb=tmp_kb)
    assert code == 1 and re.search(r"failed.*missing\.md", out), out

    code, report, _ = add(tmp_kb, tmp_path / "missing.md", good)
    assert code == 1
    assert {Path(o["path"]).name: o["status"] for o in report["files"]} == {"missing.md": "failed", "good.md": "added"}
    assert [d["name"] for d in listing(tmp_kb)["documents"]] == ["good.md"]


def test_exit_code_is_0_when_everything_is_added(tmp_kb, run_cli):
    code, out, err = run_cli("add", CORPUS / "peps" / "pep-0604.rst", CORPUS / "text" / "test.json", kb=tmp_kb)
    assert code == 0, out + err
    assert "2 added" in out and "0 failed" in out
    # Piped, progress is plain lines on stderr (document i of N and the file), not a redrawn bar.
    assert re.search(r"^\[1/2\] .*pep-0604\.rst$", err, re.MULTILINE), err
    assert re.search(r"^\[2/2\] .*test\.json$", err, re.MULTILINE), err
    assert "\x1b[" not in out + err, "no terminal escape codes when piped"


# --- dedup and update -----------------------------------------------------------------------------------------

NOTES_V1 = """# Garden notes

Quantum teleportation protocols move state between distant qubits. A quantum teleportation protocol needs an entangled pair.
Compost heaps turn kitchen scraps into soil. A compost heap needs air and water.
Every quantum teleportation protocol consumes the entangled pair. Compost heaps work slowly in winter.
Rain barrels collect water from the roof. A rain barrel saves water for dry weeks.
"""

NOTES_V2 = """# Garden notes

Solar panels charge the shed battery. A solar panel needs a clear view of the sky.
Compost heaps need turning every fortnight. A compost heap smells when it is too wet.
Every solar panel loses a little power each year. Compost heaps shrink to half their size by spring.
Rain barrels collect water from the roof. A rain barrel saves water for dry weeks.
"""

OTHER = """# Farm notes

Compost heaps feed the vegetable beds. A compost heap in the shade stays moist.
Compost heaps attract worms, which is good. Crop rotation keeps the soil healthy.
Crop rotation is old wisdom. The crop rotation plan changes every year.
"""


@pytest.fixture
def garden(tmp_kb, tmp_path):
    """A KB with docs/notes.md (v1) and docs/other.md added; the two share the concept "compost heap"."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text(NOTES_V1, encoding="utf-8")
    (docs / "other.md").write_text(OTHER, encoding="utf-8")
    code, report, err = add(tmp_kb, docs)
    assert code == 0, (report, err)
    assert [o["status"] for o in report["files"]] == ["added", "added"]
    concepts = tmp_kb / "wiki" / "concepts"
    # The premises of the update test: these pages exist and cite what we expect.
    assert section_ids((concepts / "quantum-teleportation-protocol.md").read_text()) == ["notes"]
    assert section_ids((concepts / "compost-heap.md").read_text()) == ["notes", "other"]
    return tmp_kb, docs


def test_the_same_bytes_are_skipped_whatever_their_name_and_nothing_changes(garden, tmp_path):
    kb, docs = garden
    before = snapshot.state(str(kb))
    renamed = tmp_path / "elsewhere" / "Copy of my notes.md"
    renamed.parent.mkdir()
    shutil.copy(docs / "notes.md", renamed)
    code, report, _ = add(kb, docs / "notes.md", renamed, docs)
    assert code == 0
    # notes.md named twice (directly and through its folder) is one file; its renamed copy is another.
    statuses = [(Path(o["path"]).name, o["status"]) for o in report["files"]]
    assert statuses == [("notes.md", "skipped"), ("Copy of my notes.md", "skipped"), ("other.md", "skipped")]
    assert "notes.md" in report["files"][1]["detail"], "a skip says which document has the same content"
    assert snapshot.state(str(kb)) == before
    assert len(listing(kb)["documents"]) == 2


def test_an_edited_file_added_again_replaces_its_old_contributions(garden, run_cli):
    kb, docs = garden
    (docs / "notes.md").write_text(NOTES_V2, encoding="utf-8")
    code, report, err = add(kb, docs / "notes.md")
    assert code == 0, (report, err)
    [outcome] = report["files"]
    assert outcome["status"] == "updated" and outcome["id"] == "notes"

    docs_listed = listing(kb)["documents"]
    mine = [d for d in docs_listed if d["name"] == "notes.md"]
    assert len(mine) == 1, "one document for the file, not two"
    assert mine[0]["hash"] == hashlib.sha256(NOTES_V2.encode()).hexdigest()
    assert (kb / mine[0]["raw_path"]).read_text(encoding="utf-8") == NOTES_V2
    assert sorted(p.name for p in (kb / "raw").iterdir()) == ["notes.md", "other.md"], "the old raw copy is gone"

    concepts = kb / "wiki" / "concepts"
    for page in list(concepts.glob("*.md")) + list((kb / "wiki" / "entities").glob("*.md")):
        assert section_ids(page.read_text()).count("notes") <= 1, f"{page.name}: two sections for notes"
    # Concepts only the old version had are gone (no other document has them) ...
    assert not (concepts / "quantum-teleportation-protocol.md").exists()
    assert "quantum" not in (kb / "wiki" / "index.md").read_text().lower()
    # ... a concept only the new version has appears ...
    assert section_ids((concepts / "solar-panel.md").read_text()) == ["notes"]
    # ... and a shared concept keeps the other document's section and gets the new one, old sentences gone.
    compost = (concepts / "compost-heap.md").read_text()
    assert section_ids(compost) == ["notes", "other"]
    assert front_matter(compost)[0]["sources"] == ["notes", "other"]
    mine = _section(compost, "notes")
    assert "turning every fortnight" in mine and "kitchen scraps" not in mine
    assert "worms" in _section(compost, "other")
    summary = (kb / "wiki" / "summaries" / "notes.md").read_text()
    assert "concepts/solar-panel" in summary and "quantum" not in summary.lower()
    assert "Quantum" not in (kb / "wiki" / "sources" / "notes.md").read_text()

    log = (kb / "wiki" / "log.md").read_text().splitlines()
    assert "update" in log[-1] and "notes.md" in log[-1]
    assert run_cli("doctor", kb=kb)[0] == 0
    assert structural_problems(kb, docs_listed) == []

    # The old bytes again, from the same path: an update back, not a skip (the KB no longer holds them).
    (docs / "notes.md").write_text(NOTES_V1, encoding="utf-8")
    code, report, _ = add(kb, docs / "notes.md")
    assert code == 0 and report["files"][0]["status"] == "updated"
    assert section_ids((concepts / "quantum-teleportation-protocol.md").read_text()) == ["notes"]
    assert not (concepts / "solar-panel.md").exists()


def test_an_update_leaves_no_sentence_of_the_old_version_on_shared_pages(garden):
    kb, docs = garden
    (docs / "notes.md").write_text(NOTES_V2, encoding="utf-8")
    code, report, _ = add(kb, docs / "notes.md")
    assert code == 0 and report["files"][0]["status"] == "updated"
    compost = (kb / "wiki" / "concepts" / "compost-heap.md").read_text()
    assert "kitchen scraps" not in compost, "the page still quotes the old version (e.g. in its description)"
    assert "kitchen scraps" not in (kb / "wiki" / "index.md").read_text()


def _section(page: str, doc_id: str) -> str:
    m = re.search(rf"^<!-- source:{re.escape(doc_id)} -->\n(.*?)^<!-- /source:{re.escape(doc_id)} -->", page,
                  re.MULTILINE | re.DOTALL)
    assert m, f"no section for {doc_id}"
    return m.group(1)


# --- dry run ----------------------------------------------------------------------------------------------------

def test_dry_run_lists_what_would_happen_and_changes_nothing(garden, run_cli):
    kb, docs = garden
    (docs / "notes.md").write_text(NOTES_V2, encoding="utf-8")
    (docs / "new.md").write_text("# New\n\nBee hives need a sunny spot. Bee hives need water nearby.\n", encoding="utf-8")
    before = snapshot.state(str(kb))
    code, report, err = add(kb, docs, extra=("--dry-run",))
    assert code == 0, err
    assert report["dry_run"] is True
    statuses = {Path(o["path"]).name: o["status"] for o in report["files"]}
    assert statuses == {"new.md": "would-add", "notes.md": "would-update", "other.md": "skipped"}
    assert snapshot.state(str(kb)) == before

    code, out, _ = run_cli("add", "--dry-run", docs, kb=kb)
    assert code == 0
    assert "dry run" in out and "new.md" in out and "notes.md" in out and "other.md" in out
    assert snapshot.state(str(kb)) == before
    assert not list((kb / ".wikismith" / "staging").iterdir()) and not list((kb / ".wikismith" / "backups").iterdir())

    # What the dry run announced is what a real run then does.
    code, report, _ = add(kb, docs)
    assert code == 0
    done = {Path(o["path"]).name: o["status"] for o in report["files"]}
    assert done == {"new.md": "added", "notes.md": "updated", "other.md": "skipped"}


# --- an interrupted folder add, resumed; determinism -------------------------------------------------------------

MIXED = [CORPUS / "pdf" / "pdflatex-outline.pdf", CORPUS / "peps" / "pep-0604.rst", CORPUS / "peps" / "pep-3107.rst",
         CORPUS / "web" / "test_blog.html", CORPUS / "text" / "test_notebook.ipynb"]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A folder of five mixed files, and a KB where it was added without interruption (counting checkpoints)."""
    base = tmp_path_factory.mktemp("mixed")
    folder = base / "docs"
    folder.mkdir()
    for path in MIXED:
        shutil.copy(path, folder / path.name)
    kb = base / "kb"
    assert cli("init", kb)[0] == 0
    code, report, err = add(kb, folder, env={"WIKISMITH_FAULTS": "count"})
    assert code == 0, (report, err)
    assert [o["status"] for o in report["files"]] == ["added"] * len(MIXED)
    m = re.search(r"wikismith-faults: (\d+) checkpoints", err)
    assert m, err
    return folder, kb, int(m.group(1))


def test_an_interrupted_folder_add_keeps_what_was_committed_and_the_rerun_finishes_the_job(mixed, tmp_path):
    folder, reference, checkpoints = mixed
    kb = tmp_path / "kb"
    assert cli("init", kb)[0] == 0
    k = checkpoints // 2
    code, out, err = cli("add", "--json", folder, kb=kb, env={"WIKISMITH_FAULTS": f"crash@{k}"})
    assert code in (-9, 137), f"crash@{k} of {checkpoints} should kill the process: {code} {err}"

    kept = [d["name"] for d in listing(kb)["documents"]]
    names = sorted(p.name for p in folder.iterdir())
    assert 0 < len(kept) < len(names), f"crash@{k}/{checkpoints}: expected some, not all, documents kept: {kept}"
    assert sorted(kept) == names[: len(kept)], "the documents kept are the ones before the interruption"

    code, report, err = add(kb, folder)
    assert code == 0, (report, err)
    statuses = [o["status"] for o in report["files"]]
    assert statuses == ["skipped"] * len(kept) + ["added"] * (len(names) - len(kept))
    # The content is the same; the history differs, as it should (two commands here, one there).
    assert snapshot.state(str(kb), history=False) == snapshot.state(str(reference), history=False), \
        "resumed KB differs from an uninterrupted one"
    assert snapshot.scratch_leftovers(str(kb)) == []
    assert cli("doctor", kb=kb)[0] == 0


def test_two_fresh_kbs_given_the_same_files_are_byte_identical(mixed, tmp_path):
    folder, reference, _ = mixed
    kb = tmp_path / "kb"
    assert cli("init", kb)[0] == 0
    code, report, err = add(kb, folder)
    assert code == 0, (report, err)
    mine, theirs = tree_bytes(kb), tree_bytes(reference)
    assert sorted(mine) == sorted(theirs)
    assert [p for p in mine if mine[p] != theirs[p]] == []
    assert listing(kb) == listing(reference)
