"""A full disk mid-publish, recovery run twice, and the WIKISMITH_FAULTS switch itself.

What a user notices: after ENOSPC the KB is exactly as before (no stray file, no scratch, no pending journal), the
CLI says so in one line, recovery never does anything twice, and with WIKISMITH_FAULTS unset nothing is injected.
"""

import errno
import os
import re
import signal

import pytest

from bench.crashkit import run_child
from storekit import build, change, checkpoint, crashed_kb, fault_plan, pending, reference, tree_bytes
from wikismith.ops import doctor
from wikismith.kb import KnowledgeBase
from wikismith.store import faults, fs, layout, snapshot
from wikismith.store.store import Store

# Checkpoints of the publish phase (name prefix, occurrence): first and a later rename, a delete, the log append,
# the fsync of the published folders, and the commit itself.
PUBLISH_POINTS = [("publish", 0), ("publish", 7), ("unlink", 1), ("append", 0), ("fsync-dirs", 2), ("sqlite commit", 0)]


def _kb_and_checkpoint(tmp_path, where, nth):
    names, _before, after = reference()
    return build(tmp_path / "kb"), checkpoint(names, where, nth), after


def _clean(root) -> None:
    assert snapshot.scratch_leftovers(root) == []
    assert pending(root) == []
    report = doctor.examine(root, wiki=False)
    assert report.healthy, [f.problem for f in report.findings]


@pytest.mark.parametrize("where,nth", PUBLISH_POINTS)
def test_enospc_mid_publish_leaves_the_kb_exactly_as_before(tmp_path, fixed_clock, where, nth):
    root, k, after = _kb_and_checkpoint(tmp_path, where, nth)
    before = snapshot.state(root)
    kb = KnowledgeBase.open(root)
    with fault_plan(f"error@{k}:ENOSPC"), pytest.raises(OSError) as err:
        kb.apply(change())
    assert err.value.errno == errno.ENOSPC
    assert snapshot.state(root) == before
    _clean(root)
    kb.apply(change())  # space is back: the same command now succeeds
    kb.close()
    assert snapshot.state(root) == after


@pytest.mark.parametrize("where,nth", [("publish", 3), ("sqlite commit", 0)])
def test_a_disk_that_stays_full_keeps_reads_working_and_recovers_when_freed(tmp_path, fixed_clock, where, nth):
    root, k, _after = _kb_and_checkpoint(tmp_path, where, nth)
    before = snapshot.state(root)
    kb = KnowledgeBase.open(root)
    with fault_plan(f"error@{k}+:ENOSPC"):
        with pytest.raises(OSError) as err:
            kb.apply(change())
        assert err.value.errno == errno.ENOSPC
        # The in-process rollback could not run either; the journal keeps the transaction `active`.
        assert pending(root) == ["active"]
        reader = KnowledgeBase.open(root)
        assert "No space left on device" in (reader.opened.recovery_error or "")
        status = reader.status().as_dict()  # reads still work, on the last committed registry
        assert status["documents"] == 1 and status["pages_total"] == 8
        assert [t["state"] for t in status["pending_transactions"]] == ["active"]
        reader.close()
    kb.close()
    kb = KnowledgeBase.open(root)  # the disk has room again: recovery completes
    assert len(kb.opened.recovery.rolled_back) == 1 and kb.opened.recovery_error is None
    kb.close()
    assert snapshot.state(root) == before
    _clean(root)


def _init_config_checkpoint(tmp_path) -> int:
    """K of init's write of .wikismith/config.toml, found from a counted run (inside its temp state folder)."""
    with fault_plan("count") as plan:
        KnowledgeBase.init(str(tmp_path / "counted")).close()
        names = [what for what, _ in plan.trace]
    k = checkpoint(names, "atomic-write", 3)
    assert names[k - 1].endswith("config.toml"), names
    return k


def test_the_cli_reports_enospc_in_one_line(tmp_path, run_cli):
    # init is the CLI's one changing command so far; fail it at its config write.
    k = _init_config_checkpoint(tmp_path)
    other = tmp_path / "other"
    code, out, err = run_cli("init", other, env={"WIKISMITH_FAULTS": f"error@{k}:ENOSPC"})
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wikismith: ") and "No space left on device" in lines[0], err
    assert not (other / layout.STATE).exists(), "a failed init must not leave a half-made KB"


def test_init_rerun_after_enospc_leaves_no_stray_folder(tmp_path, run_cli):
    target = tmp_path / "kb"
    k = _init_config_checkpoint(tmp_path)
    assert run_cli("init", target, env={"WIKISMITH_FAULTS": f"error@{k}:ENOSPC"})[0] == 1
    assert run_cli("init", target)[0] == 0
    assert sorted(os.listdir(target)) == [".wikismith", "raw", "wiki"]


# -- recovery run twice ---------------------------------------------------------------------------------------------

def _recover(root):
    store = Store(root)
    try:
        return store.recover(force=True)
    finally:
        store.close()


def _files(root) -> dict[str, bytes]:
    return {p: b for p, b in tree_bytes(root).items() if not p.endswith(("-wal", "-shm"))}


@pytest.mark.parametrize("where,nth,recovery_crash_at", [("publish", 5, None), ("publish", 5, 3), ("link", 2, None)],
                         ids=["mid-publish", "mid-publish, recovery crashed", "before the journal"])
def test_recovery_run_twice_the_second_is_a_no_op(tmp_path, fixed_clock, where, nth, recovery_crash_at):
    root, before, _after, _k = crashed_kb(tmp_path, where=where, nth=nth, journaled=where == "publish")
    assert snapshot.scratch_leftovers(root), "the crash left no scratch folder: nothing to recover"
    if recovery_crash_at is not None:  # recovery itself dies part way; the next one must still finish the job
        status, _ = run_child(lambda: _recover(root), f"crash@{recovery_crash_at}")
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    first = _recover(root)
    assert first.did_anything and first.dirty is None
    assert snapshot.state(root) == before
    files = _files(root)
    second = _recover(root)
    assert not second.did_anything, second
    assert snapshot.state(root) == before
    assert _files(root) == files, "the second recovery changed a byte somewhere in the KB"
    _clean(root)


# -- the WIKISMITH_FAULTS switch ------------------------------------------------------------------------------------

def test_faults_unset_injects_nothing(tmp_path, fixed_clock, run_cli):
    assert os.environ.get(faults.ENV) is None
    assert faults.active is None and faults.passed() == 0
    assert fs._checkpoint("anything", tearable=True) is False
    code, out, err = run_cli("init", tmp_path / "kb")
    assert code == 0 and "wikismith-faults" not in err


def test_count_reports_the_checkpoints_of_a_cli_run(tmp_path, run_cli):
    code, out, err = run_cli("init", tmp_path / "kb", env={"WIKISMITH_FAULTS": "count"})
    assert code == 0
    match = re.search(r"^wikismith-faults: (\d+) checkpoints$", err, re.M)
    assert match and int(match.group(1)) > 0, err
    assert (tmp_path / "kb" / layout.DB).is_file()


def test_crash_at_the_first_checkpoint_kills_init_before_it_writes(tmp_path, run_cli):
    target = tmp_path / "kb"
    code, out, err = run_cli("init", target, env={"WIKISMITH_FAULTS": "crash@1"})
    assert code == -signal.SIGKILL
    assert not (target / layout.STATE).exists()
    assert not target.exists() or os.listdir(target) == []
