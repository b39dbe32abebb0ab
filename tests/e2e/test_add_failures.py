"""How `add` fails: a storage error stops the command with every earlier document kept, and a conversion over its
time limit is stopped, named, and leaves the KB as it was."""

from __future__ import annotations

import re
import shutil

from wikicheck import CORPUS, add, listing, structural_problems
from wikismith.store import snapshot


def _three_notes(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    for name in ("pep-0484.rst", "pep-0526.rst", "pep-0544.rst"):
        shutil.copyfile(CORPUS / "peps" / name, folder / name)
    return folder


def test_a_full_disk_mid_folder_stops_the_command_and_keeps_the_documents_before_it(tmp_kb, tmp_path, run_cli):
    folder = _three_notes(tmp_path)
    probe = tmp_path / "probe"
    shutil.copytree(tmp_kb, probe)
    code, _, err = run_cli("add", folder, kb=probe, env={"WIKISMITH_FAULTS": "count"})
    total = int(re.search(r"wikismith-faults: (\d+) checkpoints", err).group(1))
    # A checkpoint inside the second document's transaction: a little past a third of the run.
    k = total // 3 + 5
    code, report, err = add(tmp_kb, folder, env={"WIKISMITH_FAULTS": f"error@{k}+:ENOSPC"})
    assert code == 1
    statuses = [(f["path"].rsplit("/", 1)[-1], f["status"]) for f in report["files"]]
    assert statuses == [("pep-0484.rst", "added"), ("pep-0526.rst", "failed")], statuses
    assert "No space left on device" in report["files"][1]["detail"]
    assert report["stopped"] and "storage error" in report["stopped"]
    # The next command (no fault) recovers; the KB holds exactly the first document, whole.
    assert [d["name"] for d in listing(tmp_kb)["documents"]] == ["pep-0484.rst"]
    assert run_cli("doctor", kb=tmp_kb)[0] == 0
    assert structural_problems(tmp_kb) == []
    # Running the command again finishes the job.
    code, report, _ = add(tmp_kb, folder)
    assert code == 0 and [f["status"] for f in report["files"]] == ["skipped", "added", "added"]


def test_a_conversion_over_its_time_limit_is_stopped_and_changes_nothing(tmp_kb, run_cli):
    config = tmp_kb / ".wikismith" / "config.toml"
    config.write_text(re.sub(r"(?m)^convert_timeout = .*$", "convert_timeout = 0.001", config.read_text()))
    before = snapshot.state(str(tmp_kb))
    pdf = CORPUS / "pdf" / "GeoTopo-komprimiert.pdf"
    code, report, _ = add(tmp_kb, pdf, timeout=60)
    assert code == 1
    (outcome,) = report["files"]
    assert outcome["status"] == "failed"
    assert "GeoTopo-komprimiert.pdf" in outcome["detail"] and "longer than 0.001 s" in outcome["detail"]
    assert snapshot.state(str(tmp_kb)) == before
