"""`add --cluster`, end to end: the CLI in a subprocess against a real Dask LocalCluster of 2 worker processes.

The KB stays with the command; documents travel as bytes. The result is the serial add's KB; a document whose
workers keep dying fails alone; a model key is read by each worker from its own environment.
"""

from __future__ import annotations

import contextlib
import shutil

import pytest

from bench import synthetic
from fakes import wiki_responder
from fakes.openai_server import FakeOpenAI
from wikicheck import CORPUS, add, structural_problems
from wikismith.store import snapshot

distributed = pytest.importorskip("distributed")
import dask  # noqa: E402  (installed with distributed)

WORKER_KEY = "sk-worker-OWN-ENV-777"
OWNER_KEY = "sk-owner-NEVER-SHIPPED-555"


@contextlib.contextmanager
def _cluster(**env):
    # Converting a PDF or an Office file forks a child: Dask's worker processes must not be daemons (the nanny reads
    # this each time it starts a worker, restarts included).
    with dask.config.set({"distributed.worker.daemon": False, "distributed.scheduler.allowed-failures": 1}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                      env=env or None) as cluster:
            yield cluster


@pytest.fixture(scope="module")
def cluster():
    with _cluster(OPENAI_API_KEY=WORKER_KEY) as c:
        yield c


def _inbox(tmp_path, notes: int = 4):
    folder = tmp_path / "inbox"
    folder.mkdir()
    for name in ("pep-0526.rst", "pep-0604.rst"):
        shutil.copyfile(CORPUS / "peps" / name, folder / name)
    shutil.copyfile(CORPUS / "pdf" / "pdflatex-outline.pdf", folder / "outline.pdf")
    shutil.copyfile(CORPUS / "office" / "test.docx", folder / "report.docx")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    for i in range(notes):
        (folder / f"note-{i:02d}.md").write_text(synthetic.generated_document(i), encoding="utf-8")
    return folder


def _kb(tmp_path, run_cli, name, *settings):
    kb = tmp_path / name
    assert run_cli("init", kb)[0] == 0
    for key, value in settings:
        assert run_cli("config", "set", key, value, kb=kb)[0] == 0
    return kb


def test_a_cluster_add_gives_the_serial_kb_and_a_broken_file_fails_alone(tmp_path, run_cli, cluster):
    inbox = _inbox(tmp_path)
    serial, remote = _kb(tmp_path, run_cli, "serial"), _kb(tmp_path, run_cli, "remote")
    code, one, _ = add(serial, inbox, extra=("--jobs", "1"))
    code2, two, err = add(remote, inbox, extra=("--cluster", cluster.scheduler_address), timeout=240)
    assert code == code2 == 1, err
    assert [(f["path"], f["status"], f["detail"]) for f in one["files"]] == \
        [(f["path"], f["status"], f["detail"]) for f in two["files"]]
    failed = [f for f in two["files"] if f["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["path"].endswith("broken.pdf")
    assert str(inbox / "broken.pdf") in failed[0]["detail"], "the error names the user's file, not a worker's copy"
    assert snapshot.file_hashes(str(serial)) == snapshot.file_hashes(str(remote))
    assert run_cli("doctor", kb=remote)[0] == 0 and structural_problems(remote) == []


def test_a_document_whose_workers_die_fails_alone_and_the_rest_are_added(tmp_path, run_cli):
    inbox = _inbox(tmp_path, notes=2)
    kb = _kb(tmp_path, run_cli, "kb")
    with _cluster(WIKISMITH_WORKER_KILL="3") as doomed:  # the worker preparing document 3 dies, on every worker
        code, report, err = add(kb, inbox, extra=("--cluster", doomed.scheduler_address), timeout=300)
    assert code == 1, err
    by_name = {f["path"].rsplit("/", 1)[-1]: f for f in report["files"]}
    assert by_name["note-01.md"]["status"] == "failed"  # document 3 in name order
    assert "could not prepare it" in by_name["note-01.md"]["detail"]
    assert [n for n, f in by_name.items() if f["status"] == "added"] == [
        "note-00.md", "outline.pdf", "pep-0526.rst", "pep-0604.rst", "report.docx"]
    assert run_cli("doctor", kb=kb)[0] == 0


def test_with_a_model_each_worker_uses_the_key_of_its_own_environment(tmp_path, run_cli, cluster):
    with FakeOpenAI(default=wiki_responder.respond) as fake:
        kb = _kb(tmp_path, run_cli, "kb", ("model", "openai/gpt-4o-mini"), ("base_url", fake.base_url),
                 ("concurrency", "2"))
        folder = tmp_path / "peps"
        folder.mkdir()
        for name in ("pep-0526.rst", "pep-0604.rst", "pep-3107.rst"):
            shutil.copyfile(CORPUS / "peps" / name, folder / name)
        code, report, err = add(kb, folder, env={"OPENAI_API_KEY": OWNER_KEY},
                                extra=("--cluster", cluster.scheduler_address), timeout=240)
        assert code == 0, err
        assert [f["status"] for f in report["files"]] == ["added"] * 3
        used = {}
        for kind, headers in zip(fake.kinds, fake.request_headers):
            used.setdefault(kind, set()).add(headers.get("authorization"))
    # Document calls ran on the workers, with the key from their environment; the owner's key stayed home
    # (it only refreshes overviews, after the documents).
    for kind in ("summary", "plan", "sections"):
        assert used[kind] == {f"Bearer {WORKER_KEY}"}
    assert used["overview"] == {f"Bearer {OWNER_KEY}"}
    assert fake.calls_by_kind["summary"] == 3


def test_an_unreachable_scheduler_is_a_usage_error_that_changes_nothing(tmp_path, run_cli):
    kb = _kb(tmp_path, run_cli, "kb")
    before = snapshot.file_hashes(str(kb))
    code, out, err = run_cli("add", "--cluster", "tcp://127.0.0.1:9", _inbox(tmp_path, notes=1), kb=kb, timeout=120)
    assert code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err, out + err
    assert snapshot.file_hashes(str(kb)) == before
