"""Ingest figures: PDF conversion speed, the seven typing PEPs offline, and 500 documents added one by one.

    python bench/ingest.py --json [--bulk 500]

Targets (issue 3): >= 300 PDF pages/s on GeoTopo-komprimiert.pdf; the seven PEPs in <= 5 s; mean add time of
documents 451-500 / documents 1-50 <= 1.2; peak memory <= 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
CORPUS = os.path.join(os.path.dirname(REPO), "shared", "corpus")

from bench.synthetic import generated_document  # noqa: E402

from wikismith.ingest import Limits, convert  # noqa: E402
from wikismith.kb import KnowledgeBase  # noqa: E402

def pdf_speed() -> dict:
    path = os.path.join(CORPUS, "pdf", "GeoTopo-komprimiert.pdf")
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        doc = convert(path, Limits())
        runs.append(time.perf_counter() - t0)
    pages = doc.page_count or len(doc.pages or [])
    best = min(runs)
    return {"file": "GeoTopo-komprimiert.pdf", "pages": pages, "seconds": round(best, 3),
            "pages_per_s": round(pages / best, 1), "target_ge_300": pages / best >= 300}


def peps(tmp: str) -> dict:
    kb = KnowledgeBase.init(os.path.join(tmp, "peps-kb"))
    t0 = time.perf_counter()
    report = kb.add([os.path.join(CORPUS, "peps")])
    seconds = time.perf_counter() - t0
    added = len(report.by_status("added"))
    kb.close()
    return {"documents": added, "seconds": round(seconds, 2), "target_le_5s": seconds <= 5 and added == 7}


def bulk(tmp: str, count: int) -> dict:
    """Documents 1-50 into a new KB and documents 451-500 into the KB that holds 1-450, taking turns, so that
    load on this shared machine falls on both alike; the ratio of the two means is the growth of an add's cost."""
    docs = os.path.join(tmp, "bulk-docs")
    os.makedirs(docs)
    paths = []
    for i in range(count):
        paths.append(os.path.join(docs, f"note-{i:04d}.md"))
        with open(paths[-1], "w", encoding="utf-8") as fh:
            fh.write(generated_document(i))
    window = max(1, count // 10)
    big = KnowledgeBase.init(os.path.join(tmp, "bulk-kb"))
    t0 = time.perf_counter()
    for path in paths[: count - window]:
        _add(big, path)
    build_s = time.perf_counter() - t0
    small = KnowledgeBase.init(os.path.join(tmp, "bulk-kb-small"))
    early, late = [], []
    for i in range(window):
        early.append(_add(small, paths[i]))
        late.append(_add(big, paths[count - window + i]))
    status = big.status().as_dict()
    big.close()
    small.close()
    mean_early, mean_late = statistics.mean(early), statistics.mean(late)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"documents": count, "pages": status["pages_total"], "window": window,
            "mean_first_ms": round(mean_early * 1000, 1), "mean_last_ms": round(mean_late * 1000, 1),
            "median_first_ms": round(statistics.median(early) * 1000, 1),
            "median_last_ms": round(statistics.median(late) * 1000, 1),
            "ratio_last_to_first": round(mean_late / mean_early, 3), "target_ratio_le_1_2": mean_late / mean_early <= 1.2,
            "peak_memory_mb": round(peak_mb, 1), "target_memory_le_500mb": peak_mb <= 500,
            "build_first_docs_s": round(build_s, 1)}


def _add(kb, path: str) -> float:
    t0 = time.perf_counter()
    report = kb.add([path])
    elapsed = time.perf_counter() - t0
    if report.failed or not report.by_status("added"):
        raise RuntimeError(f"bulk add of {path} did not add it: {report.outcomes[-1].as_dict()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--bulk", type=int, default=500)
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        result = {"pdf": pdf_speed(), "peps": peps(tmp), "bulk": bulk(tmp, args.bulk)}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
