"""What maintaining a KB costs as it grows: remove, lint, and the room history takes.

    python bench/maintain.py --json [--repeat 15] [--quick]

- remove of one document (a PEP that feeds about 20 pages) from KBs of 100 and 20,000 pages, the sizes taking
  turns (target: t(20k) / t(100) <= 1.3);
- lint (no model) over 5,000 and 20,000 pages (targets: <= 5 s at 20,000, t(20k) / t(5k) <= 4.5: linear);
- the size of .wikismith/ after 200 adds with history on: history keeps the before-images of the last
  `history_keep` (20) commands, so its folder stops growing.
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

from bench import synthetic  # noqa: E402
from wikismith.kb import KnowledgeBase  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(os.path.dirname(REPO), "shared", "corpus", "peps", "pep-0484.rst")


def build(root: str, pages: int) -> None:
    synthetic.build_kb(root, pages).close()


def remove_rounds(sizes: list[int], repeat: int, work: str) -> dict:
    roots = {}
    for size in sizes:
        roots[size] = os.path.join(work, f"kb-{size}")
        build(roots[size], size)
    inbox = os.path.join(work, "inbox")
    os.makedirs(inbox)
    shutil.copyfile(DOC, os.path.join(inbox, os.path.basename(DOC)))
    times: dict[int, list[float]] = {size: [] for size in sizes}
    touched = {}
    for _ in range(repeat):
        for size in sizes:  # sizes take turns, so machine noise hits them alike
            kb = KnowledgeBase.open(roots[size])
            try:
                report = kb.add([os.path.join(inbox, os.path.basename(DOC))])
                doc_id = report.outcomes[0].doc_id
                t0 = time.perf_counter()
                removed = kb.remove([doc_id])
                times[size].append(time.perf_counter() - t0)
                plan = removed.plans[0]
                touched[size] = len(plan.pages_deleted) + len(plan.pages_changed)
            finally:
                kb.close()
    med = {size: statistics.median(ts) for size, ts in times.items()}
    return {"pages_touched": touched, "median_ms": {s: round(v * 1000, 2) for s, v in med.items()},
            "ratio": round(med[sizes[-1]] / med[sizes[0]], 3), "target_ratio": 1.3}


def lint_rounds(sizes: list[int], repeat: int, work: str) -> dict:
    roots = {}
    for size in sizes:
        roots[size] = os.path.join(work, f"lint-{size}")
        build(roots[size], size)
    times: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(repeat):
        for size in sizes:
            kb = KnowledgeBase.open(roots[size])
            try:
                t0 = time.perf_counter()
                kb.lint(llm=False)
                times[size].append(time.perf_counter() - t0)
            finally:
                kb.close()
    med = {size: statistics.median(ts) for size, ts in times.items()}
    return {"median_s": {s: round(v, 3) for s, v in med.items()}, "ratio": round(med[sizes[-1]] / med[sizes[0]], 3),
            "target_s_at_largest": 5.0, "target_ratio": 4.5}


def _size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def history_size(adds: int, work: str) -> dict:
    root = os.path.join(work, "history-kb")
    docs = os.path.join(work, "notes")
    os.makedirs(docs)
    KnowledgeBase.init(root).close()
    points = []
    for i in range(adds):
        path = os.path.join(docs, f"note-{i:03d}.md")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(synthetic.generated_document(i))
        kb = KnowledgeBase.open(root)
        try:
            kb.add([path])
        finally:
            kb.close()
        if (i + 1) % 50 == 0:
            state = os.path.join(root, ".wikismith")
            points.append({"adds": i + 1, "history_bytes": _size(os.path.join(state, "history")),
                           "state_bytes": _size(state), "commands_kept": len(os.listdir(os.path.join(state,
                                                                                                     "history")))})
    return {"points": points, "history_keep": 20}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    work = tempfile.mkdtemp(prefix="bench-maintain-")
    try:
        remove_sizes = [100, 2000] if args.quick else [100, 20_000]
        lint_sizes = [500, 2000] if args.quick else [5_000, 20_000]
        report = {
            "remove": remove_rounds(remove_sizes, 3 if args.quick else args.repeat, work),
            "lint": lint_rounds(lint_sizes, 1 if args.quick else 3, work),
            "history": history_size(50 if args.quick else 200, work),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=2) if args.json else report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
