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
