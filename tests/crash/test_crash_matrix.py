"""The crash-point matrix in CI: every workload of bench/crash.py, every mode, every checkpoint must survive."""

import pytest

from bench.crashkit import MODES, run_matrix
from bench.workloads import WORKLOADS
from wikismith.store import fs


@pytest.fixture(autouse=True)
def _fixed_clock_no_fsync(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    # A killed process loses nothing the page cache holds: fsync cannot change what this matrix observes.
    monkeypatch.setattr(fs, "SYNC", False)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_every_interrupted_state_recovers(workload, mode, tmp_path):
    (outcome,) = run_matrix(WORKLOADS[workload](), (mode,), jobs=1, tmp=str(tmp_path))
    assert outcome.states > 0, "the workload passed no checkpoint: the bench measured nothing"
    assert outcome.survived == outcome.states, outcome.failures[:5]
