"""The power-cut mode in CI: a seeded sample of the states a power failure at any file-system operation can leave
(bench/powercut.py states the disk model), on a few workloads that cover every kind of operation (replace, delete,
append, before-images kept for undo, folders made and removed). `python bench/crash.py --mode power-cut` runs every
workload; the closing notes report that run."""

import os

import pytest

from bench import powercut
from bench.workloads import WORKLOADS
from wikismith.kb import KnowledgeBase
from wikismith.store import db, fs, layout, platform

CI_SAMPLE = 30
CI_WORKLOADS = ("store-two-changes", "remove-shared-concepts", "undo-remove")
SERVER_SAMPLE = 10


@pytest.fixture(autouse=True)
def _fixed_clock_no_fsync(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    # The model reads the fsync calls the store asks for from the recording; doing them would only cost time.
    monkeypatch.setattr(fs, "SYNC", False)


@pytest.mark.parametrize("workload", CI_WORKLOADS)
def test_every_sampled_power_cut_state_recovers(workload, tmp_path):
    outcome, counts = powercut.run(WORKLOADS[workload](), jobs=1, tmp=str(tmp_path), sample=CI_SAMPLE,
                                   seed=20261202)
    assert counts["cut_points"] == counts["operations"] + 1 > 20
    assert counts["states_run"] == min(CI_SAMPLE, counts["states_allowed"]) == outcome.states
    assert outcome.survived == outcome.states, outcome.failures[:5]


def test_a_change_made_by_a_server_process_is_recorded_there(tmp_path):
    """The change is made by a `wikismith serve` process, not by the bench's child sending the request: its
    operations, commits and database snapshots must be recorded in that process (bench/serverwork.py), or the
    recorded run reaches no state and the mode raises."""
    outcome, counts = powercut.run(WORKLOADS["rest-remove"](), jobs=1, tmp=str(tmp_path), sample=SERVER_SAMPLE,
                                   seed=20261202)
    assert counts["operations"] > 20 and counts["states_allowed"] > SERVER_SAMPLE
    assert counts["states_run"] == SERVER_SAMPLE == outcome.states
    assert outcome.survived == outcome.states, outcome.failures[:5]


def test_a_power_cut_during_recovery_still_recovers(tmp_path):
    outcome, counts = powercut.run_during_recovery(WORKLOADS["remove-shared-concepts"](), tmp=str(tmp_path),
                                                   sample=16, seed=20261202)
    assert counts["crashed_states"] >= 2 and counts["recovery_states_allowed"] >= outcome.states >= 16
    assert outcome.survived == outcome.states, outcome.failures[:5]


def test_the_mode_catches_a_protocol_that_skips_folder_fsyncs(tmp_path, monkeypatch):
    """Without the fsync of the folders it published into, a commit can survive the power cut while the renames it
    depends on do not: the mode must find such states (here the protocol runs as on Windows, where NTFS orders
    metadata itself, but is judged under the Linux model)."""
    monkeypatch.setattr(fs, "platform", platform.SIMULATED["windows"])
    outcome, counts = powercut.run(WORKLOADS["store-change-empty-kb"](), jobs=1, tmp=str(tmp_path))
    assert counts["states_run"] == counts["states_allowed"] == outcome.states
    assert outcome.survived < outcome.states
    assert any("matches no accepted state" in f["problem"] for f in outcome.failures)


def test_the_store_commits_sqlite_with_full_synchronous_wal(tmp_path, monkeypatch):
    """The model trusts SQLite's documented guarantee for WAL with synchronous=FULL: check the store asks for it."""
    monkeypatch.setattr(fs, "SYNC", True)
    KnowledgeBase.init(str(tmp_path / "kb")).close()
    conn = db.open_db(os.path.join(str(tmp_path / "kb"), layout.DB))
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        conn.close()
