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


def test_serve_bench_reports_latencies_per_endpoint_and_a_whole_kb_after_the_writer():
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bench", "serve.py"), "--json", "--pages", "300",
                           "--readers", "2", "--seconds", "2", "--docs", "3"],
                          capture_output=True, text=True, timeout=600)
    report = json.loads(proc.stdout)  # latency targets may be missed on a busy machine; the report must be whole
    for phase in ("unloaded", "loaded"):
        for endpoint in ("page", "search"):
            row = report[phase][endpoint]
            assert row["count"] > 0 and 0 < row["p50_ms"] <= row["p95_ms"] and row["errors"] == 0
        assert report[phase]["half_states_total"] == 0
    assert report["loaded"]["add"]["count"] == 3 and report["loaded"]["add"]["errors"] == 0
    assert report["final_documents"] == 4 and report["final_pending"] == [] and report["doctor_findings"] == 0
    assert set(report["loaded_p95_over_unloaded_p95"]) == {"page", "search"}


def test_overhead_bench_reports_the_end_to_end_add_beside_the_apply():
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bench", "overhead.py"), "--json", "--sizes", "20,60",
                           "--repeat", "3", "--recover-repeat", "1", "--add-sizes", "20,60"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert [row["pages"] for row in report["add"]["sizes"]] == [20, 60]
    assert all(row["add_median_ms"] > 0 for row in report["add"]["sizes"])
    assert report["add"]["add_ratio_largest_to_smallest"] > 0 and "apply_ratio_largest_to_smallest" in report
    assert "add_ratio_le_1_3" in report["targets"]


def test_crash_bench_power_cut_mode_reports_states_allowed_and_run():
    proc = subprocess.run([sys.executable, os.path.join(REPO, "bench", "crash.py"), "--json", "--jobs", "1",
                           "--workload", "store-change-empty-kb", "--mode", "power-cut", "--sample", "12"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (row,) = json.loads(proc.stdout)["workloads"]
    assert row["mode"] == "power-cut" and row["cut_points"] == row["operations"] + 1
    assert row["states_allowed"] > row["states_run"] == row["states"] == row["survived"] == 12
