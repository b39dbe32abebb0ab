"""Recovery in unusual places: a KB moved with a transaction pending, and a database that cannot be read.

What a user notices: a moved KB recovers where it is now and never writes to where it was; a damaged kb.sqlite3 is
reported in one line naming the file, and neither it nor raw/ and wiki/ are changed or deleted.
"""

import gc
import os
import signal
import time

import pytest

from bench import synthetic
from storekit import call, change, crashed_kb, journal, tree_bytes
from wikismith.ops import doctor
from wikismith.errors import StoreError
from wikismith.kb import KnowledgeBase
from wikismith.store import interrupts, layout, snapshot


def test_a_moved_kb_recovers_in_its_new_place(tmp_path, fixed_clock, run_cli):
    old_parent, new_parent = tmp_path / "old", tmp_path / "new"
    root, before, after, _k = crashed_kb(old_parent, where="publish", nth=4)
    for txn, seq, action, path, backup, _size in journal(root):
        assert not os.path.isabs(path) and not (backup and os.path.isabs(backup)), "the journal holds an absolute path"
        assert str(old_parent) not in f"{path} {backup}"
    new_parent.mkdir()
    moved = str(new_parent / "moved-kb")
    os.rename(root, moved)
    beside_old = sorted(os.listdir(old_parent))

    code, out, err = run_cli("status", "--json", kb=moved)
    assert code == 0 and "rolled back an interrupted transaction" in err, err
    assert snapshot.state(moved) == before
    assert snapshot.scratch_leftovers(moved) == []
    assert not os.path.exists(root), "recovery wrote to the KB's old place"
    assert sorted(os.listdir(old_parent)) == beside_old
    report = doctor.examine(moved, wiki=False)
    assert report.healthy, [f.problem for f in report.findings]
    kb = KnowledgeBase.open(moved)
    kb.apply(change())
    kb.close()
    assert snapshot.state(moved) == after and not os.path.exists(root)


# -- a damaged kb.sqlite3 -------------------------------------------------------------------------------------------

def _damage(root, offset: int, size: int) -> bytes:
    path = os.path.join(root, layout.DB)
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(b"\xde\xad garbage \xbe\xef" * (size // 16))
    with open(path, "rb") as fh:
        return fh.read()


def _open_and_read(root):
    kb = KnowledgeBase.open(root)
    try:
        return kb.status().as_dict()
    finally:
        kb.close()


def _state_folder(root) -> dict:
    base = os.path.join(root, layout.STATE)
    return {name: os.path.getsize(os.path.join(base, name)) for name in sorted(os.listdir(base))
            if os.path.isfile(os.path.join(base, name))}


# where to damage: the header (page 1: "file is not a database") or pages past it ("disk image is malformed")
DAMAGE = {"header": (0, 100), "past the header": (4096, 3 * 4096)}


@pytest.mark.parametrize("where", sorted(DAMAGE))
def test_a_damaged_database_is_reported_and_never_changed(tmp_path, fixed_clock, run_cli, capsys, where):
    root = str(tmp_path / "kb")
    synthetic.build_kb(root, 30).close()
    user_files = tree_bytes(os.path.join(root, "raw")), tree_bytes(os.path.join(root, "wiki"))
    db_path = os.path.join(root, layout.DB)
    damaged = _damage(root, *DAMAGE[where])
    folder = _state_folder(root)

    code, out, err = run_cli("status", kb=root)  # one real process, then the entry point in-process for the rest
    assert code == 3 and out == "" and len(err.splitlines()) == 1 and db_path in err, (code, out, err)
    for command in (["status"], ["status", "--json"], ["list"], ["list", "--json"]):
        code, out, err = call(capsys, "--kb", root, *command)
        lines = err.strip().splitlines()
        assert code == 3 and out == "", (command, code, out, err)
        assert len(lines) == 1 and db_path in lines[0] and "`wikismith doctor`" in lines[0], (command, err)
    for command in (["doctor", "--store-only"], ["doctor", "--repair", "--store-only"], ["doctor", "--repair", "--abandon", "--store-only"]):
        code, out, err = call(capsys, "--kb", root, *command)
        assert code == 1 and err == "", (command, code, out, err)
        assert out.startswith(f"database: {db_path}") and "will not delete it" in out, (command, out)
    with pytest.raises(StoreError) as refused:
        _open_and_read(root)
    assert refused.value.exit_code == 3 and db_path in str(refused.value)
    del refused
    gc.collect()  # the traceback held the failed open's connection; SQLite removes -wal/-shm when it closes

    with open(db_path, "rb") as fh:
        assert fh.read() == damaged, "kb.sqlite3 was changed"
    assert _state_folder(root) == folder, "a file in .wikismith/ appeared, vanished or changed size"
    assert (tree_bytes(os.path.join(root, "raw")), tree_bytes(os.path.join(root, "wiki"))) == user_files


def test_ctrl_c_is_held_through_an_apply_unless_the_command_was_started_with_it_ignored():
    previous = signal.getsignal(signal.SIGINT)
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        interrupts.clear()
        with interrupts.deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # no KeyboardInterrupt inside: it is held
        assert interrupts.pending()
        interrupts.clear()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a background job, `nohup`: Ctrl-C is not for it
        with interrupts.deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert not interrupts.pending()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        interrupts.clear()
        signal.signal(signal.SIGINT, previous)
