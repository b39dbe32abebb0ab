"""Several processes on one KB: concurrent writers lose nothing and never deadlock; a reader never sees half a change.

"Partial" here means any view, taken under the KB's lock, in which the files and the registry do not all belong to
one committed transaction: page files of different versions, a page file whose version disagrees with its registry
title, description or full-text row, a log.md whose last line is from another version, or an extra page that the
registry and the disk disagree about. The check is proven able to fail on a real torn state (a crash mid-publish).
"""

import json
import multiprocessing
import os
import re
import subprocess
import sys
import time

import pytest

from bench import synthetic
from bench.crashkit import run_child
from storekit import checkpoint, pending
from wikismith.kb import KnowledgeBase
from wikismith.store import snapshot
from wikismith.store.mutation import DocumentRow, Mutation, PageRow

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# -- two writers ---------------------------------------------------------------------------------------------------

WRITER = """
import json, os, sys, time
sys.path.insert(0, {repo!r})
from bench import synthetic
from wikismith.kb import KnowledgeBase
root, first, count, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
while not os.path.exists(go):
    time.sleep(0.001)
start = time.monotonic()
for seed in range(first, first + count):
    kb = KnowledgeBase.open(root)  # as a CLI command would: open (and recover) per change
    kb.apply(synthetic.change_mutation(0, seed))
    kb.close()
print(json.dumps([start, time.monotonic()]))
"""

PER_WRITER = 100


def test_two_processes_applying_100_mutations_each_lose_nothing(tmp_path, fixed_clock):
    root = str(tmp_path / "kb")
    synthetic.build_kb(root, 0).close()
    go = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIKISMITH")}
    script = WRITER.format(repo=REPO)
    procs = [subprocess.Popen([sys.executable, "-c", script, root, str(first), str(PER_WRITER), str(go)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for first in (0, PER_WRITER)]
    time.sleep(0.3)  # both started and waiting: release them together
    go.touch()
    spans = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=90)
            assert proc.returncode == 0, err
            spans.append(json.loads(out))
    except subprocess.TimeoutExpired:
        pytest.fail("the writers did not finish within 90 s: deadlock or starvation")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    (a0, a1), (b0, b1) = spans
    assert a0 < b1 and b0 < a1, "the two writers never ran at the same time: nothing was tested"

    seeds = range(2 * PER_WRITER)
    kb = KnowledgeBase.open(root)
    status, listing = kb.status().as_dict(), kb.listing(pages=True).as_dict()
    kb.close()
    assert status["documents"] == len(seeds)
    assert {d["id"] for d in listing["documents"]} == {f"change-{s}" for s in seeds}
    expected = {synthetic.page_path(1_000_000 + s * 100 + j): (s, 1_000_000 + s * 100 + j) for s in seeds for j in range(10)}
    assert sorted(p["path"] for p in listing["pages"]["concept"]) == sorted(expected)
    on_disk = set(os.listdir(os.path.join(root, "wiki/concepts")))
    assert on_disk == {os.path.basename(p) for p in expected}, "files on disk differ from the registry"
    for path, (seed, i) in expected.items():
        with open(os.path.join(root, path), encoding="utf-8") as fh:
            assert fh.read() == synthetic.page_text(i, seed), path
    with open(os.path.join(root, "wiki/log.md"), encoding="utf-8") as fh:
        logged = [int(m) for m in re.findall(r"synthetic\*\* change (\d+)", fh.read())]
    assert sorted(logged) == list(seeds), "log.md lost or doubled an append"
    switches = sum((x < PER_WRITER) != (y < PER_WRITER) for x, y in zip(logged, logged[1:]))
    assert switches >= 1, "one writer applied all its changes before the other began: they never interleaved"
    assert status["pending_transactions"] == [] and snapshot.scratch_leftovers(root) == []


# -- a reader and a writer -----------------------------------------------------------------------------------------

SAME = [f"wiki/concepts/same-{i}.md" for i in range(6)]
EXTRA = "wiki/concepts/extra.md"  # present at odd versions only: the page count changes with every commit
WHEN = synthetic.WHEN


def page_text(path: str, v: int) -> str:
    return f"---\ntype: concept\ntitle: {os.path.basename(path)} v{v}\nversion: {v}\n---\n# version {v}\n\nbody {v}\n"


def versioned(v: int) -> Mutation:
    """Rewrite every page of SAME and their registry rows to version v; add or remove EXTRA (a page and a document)."""
    m = Mutation(label=f"version {v}")
    m.put_documents.append(DocumentRow(id="doc", name="doc", kind="markdown", hash=f"{v:064d}", origin="test",
                                       added_at=WHEN, meta=json.dumps({"version": v})))
    if v % 2:
        m.put_documents.append(DocumentRow(id="extra-doc", name="extra", kind="markdown", hash="0" * 64, origin="test",
                                           added_at=WHEN))
    elif v > 0:
        m.drop_documents.add("extra-doc")
    for path in SAME + ([EXTRA] if v % 2 else []):
        text = page_text(path, v)
        m.writes[path] = text.encode()
        m.put_pages.append(PageRow(path=path, kind="concept", title=f"{os.path.basename(path)} v{v}", updated_at=WHEN,
                                   description=f"version {v}", body=text, sources=("doc",)))
    if v % 2 == 0 and v > 0:
        m.deletes.add(EXTRA)
        m.drop_pages.add(EXTRA)
    m.appends["wiki/log.md"] = f"- version {v}\n".encode()
    return m


def view(kb: KnowledgeBase) -> dict:
    """Everything a reader sees in one locked read: status, every page, the registry rows, the log's last line."""
    conn = kb.store.conn
    with kb.store.locked():  # the lock is re-entrant: status() and read_page() inside see the same committed state
        status = kb.status().as_dict()
        texts = {p: _read(kb.store.path(p)) for p in SAME}  # the files, as a reader of the vault sees them
        extra_on_disk = os.path.exists(kb.store.path(EXTRA))
        rows = {path: (title, desc, body) for path, title, desc, body in conn.execute(
            "SELECT p.path, p.title, p.description, f.body FROM pages p JOIN pages_fts f ON f.rowid = p.id")}
        meta = conn.execute("SELECT meta FROM documents WHERE id = 'doc'").fetchone()[0]
        with open(kb.store.path("wiki/log.md"), encoding="utf-8") as fh:
            last = fh.read().splitlines()[-1]
    return {"status": status, "texts": texts, "extra_on_disk": extra_on_disk, "rows": rows, "meta": meta, "last": last}


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def disagreements(seen: dict) -> list[str]:
    """Why this view cannot be one committed state (empty when it is)."""
    found = []
    versions = {p: int(re.search(r"^version: (\d+)$", t, re.M).group(1)) for p, t in seen["texts"].items()}
    v = json.loads(seen["meta"])["version"]
    for path, text in seen["texts"].items():
        if versions[path] != v or text != page_text(path, v):
            found.append(f"{path} is at version {versions[path]}, the registry at {v}")
        if seen["rows"].get(path) != (f"{os.path.basename(path)} v{v}", f"version {v}", page_text(path, v)):
            found.append(f"{path}: registry row {seen['rows'].get(path)!r} is not version {v}")
    if seen["extra_on_disk"] != bool(v % 2) or (EXTRA in seen["rows"]) != bool(v % 2):
        found.append(f"{EXTRA}: on disk {seen['extra_on_disk']}, registered {EXTRA in seen['rows']}, at version {v}")
    status = seen["status"]
    if (status["pages_total"], status["documents"]) != (len(SAME) + v % 2, 1 + v % 2) or status["pending_transactions"]:
        found.append(f"status: {status['pages_total']} pages, {status['documents']} documents, at version {v}")
    if seen["last"] != f"- version {v}":
        found.append(f"log.md ends with {seen['last']!r}, not version {v}")
    return found


def _writer(root: str, versions: int) -> None:
    kb = KnowledgeBase.open(root)
    for v in range(1, versions + 1):
        kb.apply(versioned(v))
        time.sleep(0.01)  # a writer that does something between commands, as real ones do
    kb.close()


def make_versioned(root: str) -> str:
    kb = KnowledgeBase.init(root)
    kb.apply(versioned(0))
    assert disagreements(view(kb)) == []
    kb.close()
    return root


@pytest.fixture
def versioned_kb(tmp_path, fixed_clock):
    return make_versioned(str(tmp_path / "kb"))


def test_the_partial_state_check_catches_a_torn_view(versioned_kb, tmp_path):
    """Crash a writer mid-publish and look without recovery: the check must see the torn state."""
    twin = make_versioned(str(tmp_path / "twin"))
    status, steps = run_child(lambda: _writer(twin, 1), "count")
    assert status == 0
    k = checkpoint([what for what, _ in steps], "publish", 3)  # 3 of the 7 renames done
    run_child(lambda: _writer(versioned_kb, 1), f"crash@{k}")
    assert pending(versioned_kb) == ["active"]
    torn = KnowledgeBase(versioned_kb)  # no recovery: this is what an unguarded reader would see
    problems = disagreements(view(torn))
    torn.close()
    assert any("is at version 1, the registry at 0" in p for p in problems), problems


def test_a_reader_never_sees_a_partial_state_while_a_writer_loops(versioned_kb):
    versions = 50
    writer = multiprocessing.get_context("fork").Process(target=_writer, args=(versioned_kb, versions))
    writer.start()
    kb = KnowledgeBase.open(versioned_kb)
    seen_versions, views, problems = set(), 0, []
    deadline = time.monotonic() + 60
    try:
        while writer.is_alive() and time.monotonic() < deadline:
            seen = view(kb)
            views += 1
            seen_versions.add(json.loads(seen["meta"])["version"])
            problems += disagreements(seen)
            # each public read on its own is consistent too
            status = kb.status().as_dict()
            assert status["pages_total"] - len(SAME) == status["documents"] - 1 in (0, 1), status
            assert re.search(r"# version (\d+)", kb.read_page(SAME[0]))
    finally:
        writer.join(timeout=60)
        kb.close()
    assert writer.exitcode == 0, "the writer failed (or hung)"
    assert problems == [], problems[:5]
    assert len(seen_versions) >= 5, f"the reader saw only versions {seen_versions} in {views} views: no real overlap"
    final = KnowledgeBase.open(versioned_kb)
    assert disagreements(view(final)) == [] and json.loads(view(final)["meta"])["version"] == versions
    final.close()
