"""The benches are programs people run: their --json output must parse and carry the documented fields."""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_crash_bench_prints_one_json_report_and_exits_zero_when_all_survive():
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bench", "crash.py"), "--json", "--jobs", "1",
                           "--workload", "add-markdown-empty-kb", "--mode", "crash"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)  # nothing else may reach stdout
    (row,) = report["workloads"]
    assert row["workload"] == "add-markdown-empty-kb" and row["mode"] == "crash"
    assert row["states"] > 10 and row["survived"] == row["states"] and row["failures"] == []
    assert report["all_survived"] is True


def test_crash_bench_power_cut_mode_reports_states_allowed_and_run():
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bench", "crash.py"), "--json", "--jobs", "1",
                           "--workload", "store-change-empty-kb", "--mode", "power-cut", "--sample", "12"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (row,) = json.loads(proc.stdout)["workloads"]
    assert row["mode"] == "power-cut" and row["cut_points"] == row["operations"] + 1
    assert row["states_allowed"] > row["states_run"] == row["states"] == row["survived"] == 12
