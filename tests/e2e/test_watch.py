"""`wikismith watch` end to end: a real watcher process on a temporary KB, files copied in as a user would."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from bench.synthetic import generated_document
from tests.conftest import EPOCH
from wikicheck import as_on_a_terminal

PEPS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "corpus", "peps")
PEP = {n: os.path.join(PEPS, f"pep-{n:04d}.rst") for n in (484, 526, 544, 585)}


class Watcher:
    """`wikismith watch` in a subprocess; its JSON lines collected as they come."""

    def __init__(self, kb, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("WIKISMITH")}
        env["SOURCE_DATE_EPOCH"] = EPOCH
        self.proc = subprocess.Popen([sys.executable, "-m", "wikismith", "--kb", str(kb), "watch", "--json",
                                      *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env, preexec_fn=as_on_a_terminal)
        self.outcomes: list[dict] = []
        self.err: list[str] = []
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()
        self.wait_for(lambda: any("watching" in line for line in self.err), "the watcher to start")

    def _read_out(self):
        for line in self.proc.stdout:
            self.outcomes.append(json.loads(line))

    def _read_err(self):
        for line in self.proc.stderr:
            self.err.append(line)

    def events(self, event: str) -> list[dict]:
        return [o for o in self.outcomes if o["event"] == event]

    def wait_for(self, condition, what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                raise AssertionError(f"the watcher exited ({self.proc.returncode}) waiting for {what}: {self.err}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}: {self.outcomes} {self.err}")
            time.sleep(0.05)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=30)
        finally:
            time.sleep(0.1)  # let the reader threads take the last lines

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def watcher():
    started: list[Watcher] = []

    def start(kb, *args) -> Watcher:
        started.append(Watcher(kb, *args))
        return started[-1]

    yield start
    for w in started:
        w.kill()


def documents(run_cli, kb) -> dict[str, dict]:
    code, out, err = run_cli("list", "--json", kb=kb)
    assert code == 0, err
    return {d["name"]: d for d in json.loads(out)["documents"]}


def healthy(run_cli, kb) -> None:
    code, out, err = run_cli("doctor", kb=kb)
    assert code == 0, out + err


def test_a_file_dropped_into_raw_is_adopted_where_it_lies(tmp_kb, run_cli, watcher):
    w = watcher(tmp_kb, "--debounce", "0.3")
    shutil.copy(PEP[484], tmp_kb / "raw")
    w.wait_for(lambda: w.events("added"), "the add")
    time.sleep(1.0)  # time enough for any echo of its own writes to come round again
    assert w.stop() == 130
    assert sorted(os.listdir(tmp_kb / "raw")) == ["pep-0484.rst"]  # never copied to a second name
    docs = documents(run_cli, tmp_kb)
    assert list(docs) == ["pep-0484.rst"]
    assert [o["event"] for o in w.outcomes] == ["added"]
    assert (tmp_kb / "wiki" / "summaries" / "pep-0484.md").exists()
    healthy(run_cli, tmp_kb)


def test_files_in_a_watched_folder_are_added_and_an_edit_updates_its_document(tmp_kb, tmp_path, run_cli, watcher):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    w = watcher(tmp_kb, inbox, "--debounce", "0.3")
    (inbox / "note.md").write_text("# Tides\n\nThe moon pulls the tides of the ocean twice a day.\n")
    w.wait_for(lambda: w.events("added"), "the add")
    (inbox / "note.md").write_text("# Tides\n\nThe moon and the sun pull the tides; spring tides are higher.\n")
    w.wait_for(lambda: w.events("updated"), "the update")
    time.sleep(1.0)
    assert w.stop() == 130
    assert sorted(os.listdir(tmp_kb / "raw")) == ["note.md"]  # the KB's copy, updated in place
    assert "spring tides" in (tmp_kb / "raw" / "note.md").read_text()
    assert [o["event"] for o in w.outcomes if o["event"] != "skipped"] == ["added", "updated"]
    assert list(documents(run_cli, tmp_kb)) == ["note.md"]
    healthy(run_cli, tmp_kb)


@pytest.mark.slow
def test_a_burst_of_500_files_is_added_without_missing_or_doubling_one(tmp_kb, tmp_path, run_cli, watcher):
    source = tmp_path / "made"
    source.mkdir()
    for i in range(500):
        (source / f"note-{i:03d}.md").write_text(generated_document(i))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    w = watcher(tmp_kb, inbox, "--debounce", "0.5")
    for name in sorted(os.listdir(source)):  # copied all at once, as a file manager would
        shutil.copy(source / name, inbox / name)
    w.wait_for(lambda: len(w.events("added")) >= 500, "500 adds", timeout=400)
    time.sleep(1.5)
    assert w.stop() == 130
    added = [o["path"] for o in w.events("added")]
    assert sorted(added) == sorted(str(inbox / name) for name in os.listdir(source))  # each once
    assert not w.events("failed") and not w.events("updated")
    assert len(documents(run_cli, tmp_kb)) == 500
    healthy(run_cli, tmp_kb)


def test_a_file_still_being_written_is_read_only_when_complete(tmp_kb, run_cli, watcher):
    w = watcher(tmp_kb, "--debounce", "1.0")
    text = open(PEP[526], encoding="utf-8").read()
    chunks = [text[i:i + len(text) // 8 + 1] for i in range(0, len(text), len(text) // 8 + 1)]
    with open(tmp_kb / "raw" / "pep-0526.rst", "w", encoding="utf-8") as fh:
        for chunk in chunks:  # slower than the debounce as a whole, each pause shorter than it
            fh.write(chunk)
            fh.flush()
            time.sleep(0.4)
    w.wait_for(lambda: w.events("added"), "the add")
    time.sleep(1.5)
    assert w.stop() == 130
    assert [o["event"] for o in w.outcomes if o["event"] != "skipped"] == ["added"]  # once, never a part of it
    source_page = (tmp_kb / "wiki" / "sources" / "pep-0526.md").read_text()
    assert "Copyright" in text[-600:] and "public domain" in source_page.lower()  # the last lines made it in
    healthy(run_cli, tmp_kb)


def test_a_deleted_file_keeps_its_document_unless_asked(tmp_kb, tmp_path, run_cli, watcher):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    w = watcher(tmp_kb, inbox, "--debounce", "0.3")
    shutil.copy(PEP[544], inbox)
    w.wait_for(lambda: w.events("added"), "the add")
    os.remove(inbox / "pep-0544.rst")
    w.wait_for(lambda: w.events("kept"), "the deletion to be reported")
    assert w.stop() == 130
    assert list(documents(run_cli, tmp_kb)) == ["pep-0544.rst"]  # the KB kept it, and its raw copy
    assert (tmp_kb / "raw" / "pep-0544.rst").exists()

    w = watcher(tmp_kb, "--debounce", "0.3", "--remove-deleted")
    shutil.copy(PEP[585], tmp_kb / "raw")
    w.wait_for(lambda: w.events("added"), "the add")
    os.remove(tmp_kb / "raw" / "pep-0585.rst")
    w.wait_for(lambda: w.events("removed"), "the removal")
    os.remove(tmp_kb / "raw" / "pep-0544.rst")  # a raw copy of a file added from elsewhere: its document goes too
    w.wait_for(lambda: len(w.events("removed")) == 2, "the second removal")
    assert w.stop() == 130
    assert documents(run_cli, tmp_kb) == {}
    assert not (tmp_kb / "wiki" / "summaries" / "pep-0585.md").exists()
    healthy(run_cli, tmp_kb)


def test_files_dropped_while_nothing_watched_are_picked_up_at_start(tmp_kb, run_cli, watcher):
    shutil.copy(PEP[484], tmp_kb / "raw")
    w = watcher(tmp_kb, "--debounce", "0.2")
    w.wait_for(lambda: w.events("added"), "the add")
    assert w.stop() == 130
    assert list(documents(run_cli, tmp_kb)) == ["pep-0484.rst"]


def test_ctrl_c_stops_between_transactions_and_keeps_every_reported_document(tmp_kb, tmp_path, run_cli, watcher):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    w = watcher(tmp_kb, inbox, "--debounce", "0.2")
    for i in range(60):
        (inbox / f"note-{i:03d}.md").write_text(generated_document(i))
    w.wait_for(lambda: len(w.events("added")) >= 3, "a few adds")
    code = w.stop()  # in the middle of the burst
    assert code == 130
    assert any("interrupted" in line for line in w.err)
    reported = {os.path.basename(o["path"]) for o in w.events("added")}
    assert set(documents(run_cli, tmp_kb)) == reported  # what it said it added, and nothing half-done
    healthy(run_cli, tmp_kb)


def test_a_file_renamed_in_raw_with_remove_deleted_stays_one_document_under_its_new_name(tmp_kb, run_cli, watcher):
    w = watcher(tmp_kb, "--debounce", "0.3", "--remove-deleted")
    shutil.copy(PEP[484], tmp_kb / "raw")
    w.wait_for(lambda: w.events("added"), "the add")
    os.rename(tmp_kb / "raw" / "pep-0484.rst", tmp_kb / "raw" / "typing.rst")
    w.wait_for(lambda: len(w.events("added")) == 2, "the add under the new name")
    assert w.stop() == 130
    assert [o["event"] for o in w.outcomes if o["event"] != "skipped"] == ["added", "removed", "added"]
    assert list(documents(run_cli, tmp_kb)) == ["typing.rst"]
    assert sorted(os.listdir(tmp_kb / "raw")) == ["typing.rst"]
    healthy(run_cli, tmp_kb)


def test_add_of_a_file_lying_in_raw_adopts_it_and_an_edit_there_updates_its_document(tmp_kb, tmp_path, run_cli):
    shutil.copy(PEP[526], tmp_kb / "raw")
    code, out, err = run_cli("add", tmp_kb / "raw" / "pep-0526.rst", kb=tmp_kb)
    assert code == 0, err
    shutil.copy(PEP[484], tmp_path)
    code, out, err = run_cli("add", tmp_path / "pep-0484.rst", kb=tmp_kb)  # copied into raw/ by the add
    assert code == 0, err
    assert sorted(os.listdir(tmp_kb / "raw")) == ["pep-0484.rst", "pep-0526.rst"]
    with open(tmp_kb / "raw" / "pep-0484.rst", "a", encoding="utf-8") as fh:  # edited where the KB keeps it
        fh.write("\nA note on gradual typing, added by hand.\n")
    code, out, err = run_cli("add", tmp_kb / "raw" / "pep-0484.rst", kb=tmp_kb)
    assert code == 0 and "updated" in out, out + err
    assert sorted(os.listdir(tmp_kb / "raw")) == ["pep-0484.rst", "pep-0526.rst"]  # no second copy of either
    assert sorted(documents(run_cli, tmp_kb)) == ["pep-0484.rst", "pep-0526.rst"]
    assert "gradual typing, added by hand" in (tmp_kb / "wiki" / "sources" / "pep-0484.md").read_text()
    healthy(run_cli, tmp_kb)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_folder_add_of_raw_adopts_every_file_in_place_serial_or_parallel(tmp_kb, run_cli, jobs):
    for n in (526, 544, 585):
        shutil.copy(PEP[n], tmp_kb / "raw")
    code, out, err = run_cli("add", "--jobs", jobs, tmp_kb / "raw", kb=tmp_kb)
    assert code == 0, out + err
    assert sorted(os.listdir(tmp_kb / "raw")) == ["pep-0526.rst", "pep-0544.rst", "pep-0585.rst"]
    assert sorted(documents(run_cli, tmp_kb)) == ["pep-0526.rst", "pep-0544.rst", "pep-0585.rst"]
    healthy(run_cli, tmp_kb)
