"""Helpers for the store's robustness tests: build small KBs, find a checkpoint, crash a real child there."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import tempfile

from bench import synthetic
from bench.crashkit import run_child
from wikismith.kb import KnowledgeBase
from wikismith.store import faults, layout, snapshot

PAGES = 8


def build(root, pages: int = PAGES, prepare=None) -> str:
    root = str(root)
    synthetic.build_kb(root, pages).close()
    if prepare is not None:
        prepare(root)
    return root


def change(pages: int = PAGES, seed: int = 1):
    return synthetic.change_mutation(pages, seed)


def applier(root, mutation):
    def go() -> None:
        kb = KnowledgeBase.open(str(root))
        try:
            kb.apply(mutation)
        finally:
            kb.close()
    return go


def trace(root, mutation) -> list[str]:
    """Apply `mutation` to the KB at root in a child that counts checkpoints; their names, in order."""
    status, steps = run_child(applier(root, mutation), "count")
    assert status == 0, f"the clean run failed (status {status})"
    return [what for what, _tearable in steps]


def checkpoint(names: list[str], prefix: str, nth: int = 0) -> int:
    """The number K (from 1) of the nth checkpoint whose name starts with prefix."""
    ks = [k for k, what in enumerate(names, 1) if what.startswith(prefix)]
    assert len(ks) > nth, f"no checkpoint #{nth} starting with {prefix!r} in {names}"
    return ks[nth]


def crash(root, mutation, k: int, mode: str = "crash") -> None:
    """Apply `mutation` in a forked child that really dies (SIGKILL) at checkpoint k."""
    status, _ = run_child(applier(root, mutation), f"{mode}@{k}")
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"the child did not die: {status}"


_REFERENCE: dict = {}


def reference(pages: int = PAGES, seed: int = 1):
    """(checkpoint names, before-state, after-state) of a clean run of change(pages, seed) on a fresh KB; cached.

    Needs the fixed clock (conftest's fixed_clock), so that every KB built alike is byte-identical.
    """
    assert os.environ.get("SOURCE_DATE_EPOCH"), "use the fixed_clock fixture"
    key = (pages, seed, os.environ["SOURCE_DATE_EPOCH"])
    if key not in _REFERENCE:
        with tempfile.TemporaryDirectory() as tmp:
            twin = build(os.path.join(tmp, "twin"), pages)
            before = snapshot.state(twin)
            names = trace(twin, change(pages, seed))
            _REFERENCE[key] = (names, before, snapshot.state(twin))
    return _REFERENCE[key]


def crashed_kb(tmp_path, *, where: str = "publish", nth: int = 3, mode: str = "crash", prepare=None, name="kb",
               journaled: bool = True):
    """Build a KB and crash the change on it in a real child at checkpoint `where` #nth (found from a clean run).

    Returns (root, before-state, after-state, k). The KB is left unrecovered: with an `active` transaction when
    journaled (a crash after the journal's commit), else with scratch folders that no journal names.
    """
    names, before, after = reference()
    root = build(tmp_path / name, prepare=prepare)
    assert snapshot.state(root) == before, "two KBs built alike differ: the test cannot compare states"
    k = checkpoint(names, where, nth)
    crash(root, change(), k, mode)
    assert pending(root) == (["active"] if journaled else []), f"the crash at {names[k - 1]} left {pending(root)}"
    return root, before, after, k


def call(capsys, *argv) -> tuple[int, str, str]:
    """Run the CLI entry point in this process (as `wikismith ARGV` would); returns (exit code, stdout, stderr)."""
    from wikismith.cli import cli
    from wikismith.cli.common import run

    capsys.readouterr()
    code = run(cli, [str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def pending(root) -> list[str]:
    """Journal states, read with a plain read-only connection (no recovery, no lock)."""
    conn = sqlite3.connect(f"file:{os.path.join(root, layout.DB)}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("SELECT state FROM txns")]
    finally:
        conn.close()


def journal(root) -> list[tuple]:
    conn = sqlite3.connect(f"file:{os.path.join(root, layout.DB)}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT txn, seq, action, path, backup, old_size FROM txn_entries ORDER BY seq").fetchall()
    finally:
        conn.close()


def tree_bytes(top) -> dict[str, bytes]:
    """Every file under top (relative path -> bytes); symlinks are not followed."""
    found = {}
    for folder, dirs, files in os.walk(top):
        dirs.sort()
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as fh:
                found[os.path.relpath(path, top)] = fh.read()
    return found


@contextlib.contextmanager
def fault_plan(spec: str):
    """Install a WIKISMITH_FAULTS plan in this process for the block, and always remove it after."""
    faults.configure(spec)
    try:
        yield faults.active
    finally:
        faults.configure(None)
