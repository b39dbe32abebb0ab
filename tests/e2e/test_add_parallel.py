"""`add --jobs N`, end to end through the CLI: documents prepared by worker processes, applied in input order.

A parallel offline add must give the KB a serial add gives, byte for byte; `kill -9` at any moment keeps what was
committed and leaves no worker behind; a worker killed mid-document costs nothing but a retry; with a model, calls
are never repeated at apply and one budget of calls in flight is shared by every worker, a 429 pausing them all.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from bench import synthetic
from conftest import EPOCH
from fakes import wiki_responder
from fakes.openai_server import FakeOpenAI
from wikicheck import CORPUS, add, as_on_a_terminal, structural_problems
from wikismith.store import snapshot

KEY = "sk-test-PARALLEL-1234"


def _inbox(tmp_path, generated: int = 0):
    """Mixed real documents (PEPs, a PDF, a Word file, a duplicate, a broken PDF) plus generated notes."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    for name in ("pep-0484.rst", "pep-0526.rst", "pep-0604.rst", "pep-3107.rst"):
        shutil.copyfile(CORPUS / "peps" / name, folder / name)
    shutil.copyfile(CORPUS / "pdf" / "pdflatex-outline.pdf", folder / "outline.pdf")
    shutil.copyfile(CORPUS / "office" / "test.docx", folder / "report.docx")
    shutil.copyfile(CORPUS / "peps" / "pep-0604.rst", folder / "again-0604.rst")  # same content: skipped
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")  # fails to convert: fails alone
    for i in range(generated):
        (folder / f"note-{i:03d}.md").write_text(synthetic.generated_document(i), encoding="utf-8")
    return folder


def _new_kb(tmp_path, run_cli, name: str, *settings: tuple[str, str]):
    kb = tmp_path / name
    assert run_cli("init", kb)[0] == 0
    for key, value in settings:
        assert run_cli("config", "set", key, value, kb=kb)[0] == 0
    return kb


def _notes(tmp_path, count: int):
    inbox = tmp_path / "notes"
    inbox.mkdir()
    for i in range(count):
        (inbox / f"note-{i:03d}.md").write_text(synthetic.generated_document(i), encoding="utf-8")
    return inbox


def _start_add(kb, inbox, stdout):
    """`wikismith add --jobs 2 INBOX` running in a session (process group) of its own; stderr piped."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKISMITH")}
    env["SOURCE_DATE_EPOCH"] = EPOCH
    return subprocess.Popen([sys.executable, "-m", "wikismith", "--kb", str(kb), "add", "--jobs", "2", str(inbox)],
                            stdout=stdout, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True,
                            preexec_fn=as_on_a_terminal)


def _without_seconds(report: dict) -> list[dict]:
    return [{k: v for k, v in f.items() if k != "seconds"} for f in report["files"]]


def test_a_parallel_add_gives_the_kb_a_serial_add_gives_byte_for_byte(tmp_path, run_cli):
    inbox = _inbox(tmp_path, generated=12)
    serial = _new_kb(tmp_path, run_cli, "serial")
    parallel = _new_kb(tmp_path, run_cli, "parallel")
    code1, one, err1 = add(serial, inbox, extra=("--jobs", "1"))
    code3, three, err3 = add(parallel, inbox, extra=("--jobs", "3"))
    assert code1 == code3 == 1, (err1, err3)  # broken.pdf failed in both
    assert _without_seconds(one) == _without_seconds(three)
    statuses = {f["path"].rsplit("/", 1)[-1]: f["status"] for f in three["files"]}
    assert statuses["broken.pdf"] == "failed" and statuses["pep-0604.rst"] == "skipped"
    assert statuses["outline.pdf"] == statuses["report.docx"] == statuses["note-011.md"] == "added"
    assert snapshot.file_hashes(str(serial)) == snapshot.file_hashes(str(parallel))
    assert run_cli("list", "--pages", "--json", kb=serial)[1] == run_cli("list", "--pages", "--json", kb=parallel)[1]
    assert run_cli("doctor", kb=parallel)[0] == 0 and structural_problems(parallel) == []


def test_jobs_comes_from_the_setting_and_a_worker_killed_mid_document_costs_only_a_retry(tmp_path, run_cli):
    inbox = _inbox(tmp_path, generated=6)
    serial = _new_kb(tmp_path, run_cli, "serial", ("jobs", "2"))
    assert add(serial, inbox, extra=("--jobs", "1"))[0] == 1  # the option wins over the setting
    kb = _new_kb(tmp_path, run_cli, "kb", ("jobs", "2"))
    # The worker preparing the 5th document (outline.pdf in name order) dies by SIGKILL on its first attempt.
    code, report, err = add(kb, inbox, env={"WIKISMITH_WORKER_KILL": "5"})
    assert code == 1, err
    assert [f["status"] for f in report["files"]].count("failed") == 1  # broken.pdf only
    assert snapshot.file_hashes(str(serial)) == snapshot.file_hashes(str(kb))


def test_kill_9_keeps_every_committed_document_leaves_no_worker_and_a_rerun_resumes(tmp_path, run_cli):
    inbox = _notes(tmp_path, 150)
    serial = _new_kb(tmp_path, run_cli, "serial")
    assert add(serial, inbox, extra=("--jobs", "1"))[0] == 0
    kb = _new_kb(tmp_path, run_cli, "kb")
    proc = _start_add(kb, inbox, stdout=subprocess.DEVNULL)
    seen = 0
    for line in proc.stderr:  # "[k/150] path" as each document is applied
        seen += 1
        if seen == 40:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the workers die with the command
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("worker processes outlived the killed command")
    code, out, err = run_cli("list", "--json", kb=kb)  # opening it recovers whatever was in flight
    assert code == 0 and run_cli("doctor", kb=kb)[0] == 0
    code, report, err = add(kb, inbox, extra=("--jobs", "2"))
    assert code == 0, err
    counts = report["counts"]
    assert counts["skipped"] >= 38 and counts["added"] + counts["skipped"] == 150
    assert snapshot.file_hashes(str(serial)) == snapshot.file_hashes(str(kb))


def test_ctrl_c_on_the_terminal_stops_between_documents_and_a_rerun_resumes(tmp_path, run_cli):
    """A terminal's Ctrl-C reaches the whole process group, workers included: the command stops between two
    transactions, reports exactly what it committed, exits 130, and leaves no worker behind."""
    inbox = _notes(tmp_path, 60)
    kb = _new_kb(tmp_path, run_cli, "kb")
    proc = _start_add(kb, inbox, stdout=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((kb / "raw").iterdir())) < 5:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    committed = sorted(p.name for p in (kb / "raw").iterdir())
    assert 5 <= len(committed) < 60
    assert f"interrupted: {len(committed)} document(s) above were committed" in out, out
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # no worker outlived the command
    code, report, err = add(kb, inbox, extra=("--jobs", "2"))
    assert code == 0 and report["counts"]["added"] == 60 - len(committed), err
    assert run_cli("doctor", kb=kb)[0] == 0


# -- with a model ----------------------------------------------------------------------------------------------------

class Meter:
    """A responder that answers like wiki_responder after `delay` seconds and records calls in flight over time."""

    def __init__(self, delay: float):
        self.delay = delay
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0
        self.starts: list[tuple[float, str]] = []

    def __call__(self, body: dict):
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.starts.append((time.monotonic(), body["messages"][0]["content"].split("\n", 1)[0]))
        try:
            time.sleep(self.delay)
            return wiki_responder.respond(body)
        finally:
            with self.lock:
                self.in_flight -= 1


def _model_kb(tmp_path, run_cli, name, fake, *more):
    return _new_kb(tmp_path, run_cli, name, ("model", "openai/gpt-4o-mini"), ("base_url", fake.base_url),
                   ("max_retries", "3"), *more)


def _peps(tmp_path, count: int):
    folder = tmp_path / "peps"
    folder.mkdir()
    for name in sorted(os.listdir(CORPUS / "peps"))[:count]:
        shutil.copyfile(CORPUS / "peps" / name, folder / name)
    return folder


def test_with_a_model_calls_share_one_budget_and_none_is_repeated_at_apply(tmp_path, run_cli):
    meter = Meter(0.15)
    with FakeOpenAI(default=meter) as fake:
        kb = _model_kb(tmp_path, run_cli, "kb", fake, ("concurrency", "2"))
        code, report, err = add(kb, _peps(tmp_path, 5), env={"OPENAI_API_KEY": KEY}, extra=("--jobs", "4"),
                                timeout=240)
        assert code == 0, err
        assert [f["status"] for f in report["files"]] == ["added"] * 5
        assert fake.calls_by_kind["summary"] == fake.calls_by_kind["plan"] == 5, "one of each per document"
        assert meter.most <= 2, f"{meter.most} calls in flight with concurrency 2 across 4 workers"
        assert all(f["usage"]["calls"] >= 3 for f in report["files"])
        assert {h.get("authorization") for h in fake.request_headers} == {f"Bearer {KEY}"}
    assert run_cli("doctor", kb=kb)[0] == 0 and structural_problems(kb) == []


class RefuseOnce:
    """The first call of a kind is refused with a 429 asking for a pause; its time is kept."""

    def __init__(self, seconds: int):
        self.seconds = seconds
        self.at = None

    def __call__(self, body: dict):
        self.at = time.monotonic()
        return ("status", 429, {"Retry-After": str(self.seconds)})


def test_a_429_seen_by_one_worker_pauses_every_worker(tmp_path, run_cli):
    meter, refuse = Meter(0.05), RefuseOnce(2)
    with FakeOpenAI(default=meter) as fake:
        fake.script("summary", [refuse, meter])
        kb = _model_kb(tmp_path, run_cli, "kb", fake, ("concurrency", "4"))
        code, report, err = add(kb, _peps(tmp_path, 4), env={"OPENAI_API_KEY": KEY}, extra=("--jobs", "4"),
                                timeout=240)
        assert code == 0, err
    assert fake.calls_by_kind["summary"] == 5  # four documents, one of them asked twice
    # Once the 429 has reached its worker and paused the gate (within 0.5 s even on a loaded machine: workers now
    # start calling sooner, and a busy worker's first 429 took up to 0.4 s to land), nobody sends anything for the
    # 2 s it asked for: not only the worker that got it.
    later = [t - refuse.at for t, _ in meter.starts if t > refuse.at + 0.5]
    assert later and min(later) >= 1.9, f"a call went out {min(later):.2f} s after the 429"


class SteppedPool:
    """A pool of workers that each take one apply's time to prepare a document: what was handed out before an apply
    is finished after it, and waits there until the owner collects it (as a real worker waits for the owner to read
    its answer before it gets its next document)."""

    jobs = 2

    def __init__(self):
        from wikismith.ops.add import prepare

        self.run, self.handed, self.finished, self.applies = prepare.run, [], [], 0

    def submit(self, task, *, first: bool = False) -> None:
        self.handed.append(task)

    def an_apply_starts(self) -> int:
        """The apply's time passes: what was handed out is finished. How many finished an apply ago or earlier."""
        stale = sum(1 for _, when in self.finished if when < self.applies)
        self.applies += 1
        self._finish()
        return stale

    def results(self, timeout=None):
        if timeout != 0 and not self.finished:
            self._finish()
        out, self.finished = [p for p, _ in self.finished], []
        return out

    def _finish(self) -> None:
        self.finished += [(self.run(task), self.applies) for task in self.handed]
        self.handed = []


def test_the_applier_collects_finished_workers_between_applies(tmp_path, monkeypatch):
    """A run of documents ready to apply must not keep finished workers waiting until the run ends: under a
    model the applier is the slow part, and every worker would sit idle behind it."""
    from wikismith.ingest import Limits
    from wikismith.kb import KnowledgeBase
    from wikismith.ops.add import AddReport, local, parallel

    inbox = _notes(tmp_path, 20)
    kb = KnowledgeBase.init(str(tmp_path / "kb"))
    pool, stale = SteppedPool(), []
    commit = local.commit

    def stepping_commit(*args, **kwargs):
        stale.append(pool.an_apply_starts())
        return commit(*args, **kwargs)

    monkeypatch.setattr(local, "commit", stepping_commit)
    report = AddReport()
    try:
        parallel.add_files(kb.store, sorted(str(p) for p in inbox.iterdir()), limits=Limits(), cfg={}, model=None,
                           report=report, progress=None, pool=pool, ship_bytes=False, env_root=None)
    finally:
        kb.close()
    assert [o.status for o in report.outcomes] == ["added"] * 20
    assert max(stale) == 0, f"{max(stale)} finished documents waited through a whole apply to be collected"


def test_with_a_model_overviews_go_out_beside_the_last_applies_and_change_nothing(tmp_path, monkeypatch,
                                                                                 fixed_clock):
    """Once every document is prepared, a page no document still to apply goes to has its overview asked for while
    the applier finishes (it was the slowest part of a model add); the wiki is still the serial add's, byte for
    byte, with no call made twice."""
    from wikismith.kb import KnowledgeBase
    from wikismith.ops.add import local

    inbox = _notes(tmp_path, 10)
    applying: list[float] = []
    commit = local.commit

    def slow_commit(*args, **kwargs):  # an applier slower than its workers, as on a busy disk
        applying.append(time.monotonic())
        time.sleep(0.3)
        return commit(*args, **kwargs)

    monkeypatch.setattr(local, "commit", slow_commit)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    overviews = {}
    for jobs in (1, 3):
        meter = Meter(0.02)
        applying.clear()
        with FakeOpenAI(default=meter) as fake:
            kb = KnowledgeBase.init(str(tmp_path / f"kb-{jobs}"), settings={
                "model": "openai/gpt-4o-mini", "base_url": fake.base_url, "concurrency": 4})
            try:
                report = kb.add([str(inbox)], jobs=jobs)
            finally:
                kb.close()
        assert [o.status for o in report.outcomes] == ["added"] * 10
        overviews[jobs] = [t for t, kind in meter.starts if kind.endswith("overview")]
        assert len(overviews[jobs]) == report.overviews["pages"] == report.overviews["usage"]["calls"]
    assert min(overviews[3]) < applying[-1], "no overview call went out before the last document was applied"
    assert len(overviews[1]) == len(overviews[3])
    assert snapshot.file_hashes(str(tmp_path / "kb-1")) == snapshot.file_hashes(str(tmp_path / "kb-3"))
