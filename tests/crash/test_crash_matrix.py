"""The crash-point matrix in CI: every workload of bench/crash.py, every mode, every checkpoint must survive."""

import os

import pytest

from bench.crashkit import MODES, run_matrix
from bench.workloads import WORKLOADS


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_every_interrupted_state_recovers(workload, mode, tmp_path):
    (outcome,) = run_matrix(WORKLOADS[workload](), (mode,), jobs=1, tmp=str(tmp_path))
    assert outcome.states > 0, "the workload passed no checkpoint: the bench measured nothing"
    assert outcome.survived == outcome.states, outcome.failures[:5]
