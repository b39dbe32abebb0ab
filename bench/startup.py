"""How fast the CLI starts: `wikismith --help` and `--version`, median of repeated runs in fresh processes; and
`wikismith serve`, from exec to its first 200 answer (GET /api/v1/status on a new KB).

    python bench/startup.py --json      # targets: --help in <= 150 ms, serve answering in <= 1 s
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.serve import cpu_seconds, loadavg  # noqa: E402
from bench.serverwork import free_port  # noqa: E402


def timed(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "wikismith", *args], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def serve_to_first_answer(root: str) -> tuple[float, float]:
    """(wall seconds from exec to the first 200, CPU seconds the server spent by then): on shared cores the wall
    time swings with the other load; the CPU time does not."""
    port = free_port()
    t0 = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "wikismith", "--kb", root, "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while server.poll() is None:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/status")
                if conn.getresponse().status == 200:
                    return time.perf_counter() - t0, cpu_seconds(server.pid)
            except OSError:
                time.sleep(0.005)
        raise RuntimeError("wikismith serve ended before answering")
    finally:
        server.terminate()
        server.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    timed(["--help"], 2)  # warm the file cache
    bare = timed(["--version"], args.runs)
    help_s = timed(["--help"], args.runs)
    python_s = statistics.median(
        [(lambda t0: (subprocess.run([sys.executable, "-c", "pass"]), time.perf_counter() - t0)[1])(time.perf_counter())
         for _ in range(args.runs)])
    work = tempfile.mkdtemp(prefix="bench-startup-")
    try:
        root = os.path.join(work, "kb")
        subprocess.run([sys.executable, "-m", "wikismith", "init", root], check=True, capture_output=True)
        runs = [serve_to_first_answer(root) for _ in range(max(3, args.runs // 3))]
        serve_s, serve_cpu = (statistics.median(r[i] for r in runs) for i in (0, 1))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"help_ms": round(help_s * 1000, 1), "version_ms": round(bare * 1000, 1),
                      "bare_python_ms": round(python_s * 1000, 1), "serve_first_answer_ms": round(serve_s * 1000, 1),
                      "serve_cpu_ms": round(serve_cpu * 1000), "loadavg": loadavg(),
                      "target_help_le_150ms": help_s <= 0.150, "target_serve_le_1000ms": serve_s <= 1.0}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
