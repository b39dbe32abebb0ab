"""What durability costs as the KB grows: apply one 15-file Mutation, and recover after a crash, at several sizes.

    python bench/overhead.py --json [--sizes 100,1000,10000,20000] [--repeat 15] [--add-sizes 100,5000,20000]

Targets (issue 2): median apply <= 25 ms at 20,000 pages, apply(20,000) / apply(100) <= 1.3, recovery <= 100 ms.
Issue 13: one offline add of a short note end to end (bench/addflat.py), add(20,000) / add(100) <= 1.3.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import addflat, synthetic  # noqa: E402
from bench.crashkit import run_child  # noqa: E402
from wikismith.kb import KnowledgeBase  # noqa: E402
from wikismith.store.store import Store  # noqa: E402


def apply_once(root: str, pages: int, seed: int) -> float:
    kb = KnowledgeBase.open(root)
    try:
        mutation = synthetic.change_mutation(pages, seed)
        t0 = time.perf_counter()
        kb.apply(mutation)
        return time.perf_counter() - t0
    finally:
        kb.close()


def crash_point(root: str, pages: int, seed: int) -> int:
    """The last checkpoint before the commit: the crash that leaves the most to roll back."""
    probe = root + ".probe"
    shutil.copytree(root, probe)
    _, trace = run_child(lambda: _apply(probe, pages, seed), "count")
    shutil.rmtree(probe)
    commits = [i for i, (what, _) in enumerate(trace, 1) if what.startswith("sqlite commit")]
    return commits[0]


def _apply(root: str, pages: int, seed: int) -> None:
    kb = KnowledgeBase.open(root)
    kb.apply(synthetic.change_mutation(pages, seed))
    kb.close()


def recover_once(root: str, pages: int, seed: int) -> float:
    k = crash_point(root, pages, seed)
    status, _ = run_child(lambda: _apply(root, pages, seed), f"crash@{k}")
    t0 = time.perf_counter()
    store = Store(root)
    report = store.recover()
    store.close()
    elapsed = time.perf_counter() - t0
    if not report.rolled_back:
        raise RuntimeError(f"expected a rollback after crash@{k} (child status {status})")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sizes", default="100,1000,10000,20000")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--recover-repeat", type=int, default=5)
    parser.add_argument("--add-sizes", default="100,5000,20000", help="KB sizes for the end-to-end add ('' skips it)")
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="overhead-") as tmp:
        roots, builds = {}, {}
        for pages in sizes:
            roots[pages] = os.path.join(tmp, f"kb{pages}")
            t0 = time.perf_counter()
            synthetic.build_kb(roots[pages], pages).close()
            builds[pages] = time.perf_counter() - t0
        # Sizes take turns, so that a burst of load on this shared machine hits them all alike.
        applies = {pages: [] for pages in sizes}
        recoveries = {pages: [] for pages in sizes}
        for seed in range(1, args.repeat + 1):
            for pages in sizes:
                applies[pages].append(apply_once(roots[pages], pages, seed))
        for i in range(args.recover_repeat):
            for pages in sizes:
                recoveries[pages].append(recover_once(roots[pages], pages, 1000 + i))
        for pages in sizes:
            a, r = sorted(applies[pages]), recoveries[pages]
            rows.append({
                "pages": pages,
                "build_s": round(builds[pages], 2),
                "apply_median_ms": round(statistics.median(a) * 1000, 2),
                "apply_p90_ms": round(a[max(0, int(len(a) * 0.9) - 1)] * 1000, 2),
                "recover_median_ms": round(statistics.median(r) * 1000, 2),
                "recover_max_ms": round(max(r) * 1000, 2),
            })
        add = addflat.measure(tmp, [int(s) for s in args.add_sizes.split(",")], args.repeat) if args.add_sizes \
            else None
    first, last = rows[0], rows[-1]
    ratio = last["apply_median_ms"] / first["apply_median_ms"]
    summary = {
        "sizes": rows,
        "apply_ratio_largest_to_smallest": round(ratio, 3),
        "targets": {
            "apply_median_ms_at_largest_le_25": last["apply_median_ms"] <= 25,
            "apply_ratio_le_1_3": ratio <= 1.3,
            "recover_median_ms_at_largest_le_100": last["recover_median_ms"] <= 100,
        },
    }
    if add is not None:
        summary["add"] = add
        summary["targets"]["add_ratio_le_1_3"] = add["add_ratio_le_1_3"]
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
