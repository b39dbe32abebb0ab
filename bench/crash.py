"""The crash-point bench: every workload, every checkpoint, every mode. Prints JSON; exits 1 unless all survive.

    python bench/crash.py --json                      # the whole matrix
    python bench/crash.py --workload store-two-changes --mode crash
    python bench/crash.py --mode power-cut --sample 200 --json   # power loss at every file-system operation
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if "--fsync" not in sys.argv:
    os.environ["WIKISMITH_FSYNC"] = "off"  # read once when the store is imported, just below

from bench import powercut  # noqa: E402
from bench.crashkit import EXTRA_MODES, MODES, ram_folder, run_matrix  # noqa: E402
from bench.workloads import WORKLOADS  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the full JSON report")
    parser.add_argument("--workload", action="append", choices=sorted(WORKLOADS), help="only these workloads")
    parser.add_argument("--mode", action="append",
                        choices=(*MODES, *EXTRA_MODES, powercut.MODE, powercut.RECOVERY_MODE),
                        help=f"only these modes ({powercut.MODE} and {powercut.RECOVERY_MODE} run only when named)")
    parser.add_argument("--sample", type=int, default=None, help=f"{powercut.MODE}: run a seeded sample of this "
                        "many states per workload when the model allows more (both counts are reported)")
    parser.add_argument("--seed", type=int, default=0, help=f"{powercut.MODE}: the sample's seed")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--fsync", action="store_true", help="keep fsync on (slower; changes nothing a killed "
                        f"process can observe; {powercut.MODE} models power loss from the fsync calls requested)")
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    started = time.perf_counter()
    rows = []
    # With fsync on, runs stay on the disk's file system, where an fsync costs what it costs a user.
    tmp = None if args.fsync else ram_folder()
    for name in args.workload or list(WORKLOADS):
        t0 = time.perf_counter()
        modes = tuple(m for m in args.mode or MODES + EXTRA_MODES if m in MODES + EXTRA_MODES)
        outcomes = run_matrix(WORKLOADS[name](), modes, jobs=args.jobs, tmp=tmp) if modes else []
        rows_here = [outcome.as_dict() for outcome in outcomes]
        if powercut.MODE in (args.mode or ()):
            outcome, counts = powercut.run(WORKLOADS[name](), jobs=args.jobs, sample=args.sample, seed=args.seed)
            outcomes.append(outcome)
            rows_here.append({**outcome.as_dict(), **counts})
        if powercut.RECOVERY_MODE in (args.mode or ()):
            outcome, counts = powercut.run_during_recovery(WORKLOADS[name](), sample=args.sample or 200,
                                                           seed=args.seed)
            outcomes.append(outcome)
            rows_here.append({**outcome.as_dict(), **counts})
        rows.extend(rows_here)
        for outcome in outcomes:
            if not args.json:
                print(f"{outcome.workload:32} {outcome.mode:22} {outcome.survived}/{outcome.states}", flush=True)
        if not args.json:
            print(f"  ({time.perf_counter() - t0:.1f} s)", flush=True)
    states = sum(r["states"] for r in rows)
    survived = sum(r["survived"] for r in rows)
    report = {"workloads": rows, "states": states, "survived": survived, "all_survived": states == survived,
              "seconds": round(time.perf_counter() - started, 1)}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"total {survived}/{states} states survived in {report['seconds']} s")
    return 0 if states == survived and states > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
