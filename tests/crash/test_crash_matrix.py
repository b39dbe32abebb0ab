"""The crash-point matrix in CI: every workload of bench/crash.py, every mode. A workload of more than 300
checkpoints runs a seeded sample of 100 of each mode's (all of a mode that has fewer), and crash-during-recovery at
least 100 of its (crash, recovery crash) states;
`python bench/crash.py` runs them all, and the closing notes report that full run.

Each workload's matrix runs in a fresh interpreter (bench/crashkit.run_matrix_apart): its states fork that process,
which is far smaller than a test worker that has run hundreds of tests."""

import pytest

from bench.crashkit import EXTRA_MODES, MODES, ram_folder, run_matrix_apart
from bench.workloads import WORKLOADS

CI_SAMPLE = 100


@pytest.fixture(autouse=True)
def _fixed_clock_no_fsync(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    # A killed process loses nothing the page cache holds: fsync cannot change what this matrix observes.
    monkeypatch.setenv("WIKISMITH_FSYNC", "off")


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_every_interrupted_state_recovers(workload, tmp_path):
    outcomes, extra_modes = run_matrix_apart(workload, MODES + EXTRA_MODES, jobs=1, tmp=ram_folder() or str(tmp_path),
                                             sample=CI_SAMPLE, seed=20261202)
    for outcome in outcomes:
        assert outcome.states > 0, f"{outcome.mode}: the workload passed no checkpoint: the bench measured nothing"
        assert outcome.survived == outcome.states, (outcome.mode, outcome.failures[:5])
    assert {o.mode for o in outcomes} == set(MODES) | set(extra_modes)
