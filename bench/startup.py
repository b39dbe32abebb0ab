"""How fast the CLI starts: `wikismith --help` and `--version`, median of repeated runs in fresh processes.

    python bench/startup.py --json      # target: --help in <= 150 ms
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time


def timed(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "wikismith", *args], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


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
    print(json.dumps({"help_ms": round(help_s * 1000, 1), "version_ms": round(bare * 1000, 1),
                      "bare_python_ms": round(python_s * 1000, 1), "target_help_le_150ms": help_s <= 0.150}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
