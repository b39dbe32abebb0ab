"""How well the KB answers: the question set of bench/labels/questions.json over a KB of the whole shared corpus.

    python bench/query.py --json [--kb DIR] [--llm] [--latency] [--apply]

Offline (no model): hit@1, hit@5 and MRR at passage level (a cited passage holds the answering phrase) and at
document level (a cited passage belongs to the answering document), by kind of question; the share of no-answer
questions answered `found: false` (and of answerable ones answered `found: true`); latency.
--llm: the retrieve-then-answer and agent modes against the fake OpenAI server: calls and tokens per question, on
the corpus KB and on the same KB grown by 20,000 pages (the ratio must stay near 1: flat as the KB grows).
--latency: search and offline query on that 20,000-page KB (in-process, the two sizes taking turns).
--apply: the apply time of adding the 117-page PDF with its search rows, against the same add without them.

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


def grown(root: str, pages: int) -> str:
    """A copy of the corpus KB with `pages` more synthetic concept pages (distractors for every question)."""
    import shutil

    from bench import synthetic

    big = root + f"-plus{pages}"
    if not os.path.isdir(big):
        shutil.copytree(root, big)
        kb = KnowledgeBase.open(big)
        try:
            for start in range(0, pages, 2000):
                kb.apply(synthetic.bulk_mutation(start, min(pages, start + 2000)))
        finally:
            kb.close()
    return big


def _questions(kind: str | None = None) -> list[dict]:
    with open(QUESTIONS, encoding="utf-8") as fh:
        return [q for q in json.load(fh)["questions"] if kind is None or q["kind"] == kind]


def llm_modes(roots: dict[str, str], n: int = 20) -> dict:
    sys.path.insert(0, os.path.join(REPO, "tests"))
    from fakes import wiki_responder
    from fakes.openai_server import FakeOpenAI

    asked = _questions("own-words")[:n]
    out: dict = {}
    with FakeOpenAI(default=wiki_responder.respond) as fake:
        os.environ["OPENAI_API_KEY"] = "sk-bench"
        for label, root in roots.items():
            kb = KnowledgeBase.open(root)
            try:
                for key, value in (("model", "openai/gpt-4o-mini"), ("base_url", fake.base_url)):
                    kb.set_setting(key, value)
                for mode in ("model", "agent"):
                    calls, tin, tout, found = [], [], [], 0
                    for q in asked:
                        report = kb.query(q["question"], agent=mode == "agent")
                        calls.append(report.usage["calls"])
                        tin.append(report.usage["tokens_in"])
                        tout.append(report.usage["tokens_out"])
                        found += report.found
                    out.setdefault(mode, {})[label] = {
                        "questions": len(asked), "calls_mean": round(statistics.mean(calls), 2),
                        "calls_max": max(calls), "tokens_in_mean": round(statistics.mean(tin)),
                        "tokens_out_mean": round(statistics.mean(tout)), "answered": found}
                kb.set_setting("model", "offline")
            finally:
                kb.close()
    for mode, rows in out.items():
        small, large = rows[list(roots)[0]], rows[list(roots)[-1]]
        rows["tokens_in_ratio"] = round(large["tokens_in_mean"] / small["tokens_in_mean"], 3)
    return out


def latency(roots: dict[str, str], rounds: int = 3) -> dict:
    from wikismith.ask.answer import offline_answer
    from wikismith.ask.search import search

    asked = [q["question"] for q in _questions() if q["kind"] != "no-answer"]
    times: dict[str, dict[str, list[float]]] = {label: {"search": [], "query": []} for label in roots}
    kbs = {label: KnowledgeBase.open(root) for label, root in roots.items()}
    try:
        for _ in range(rounds):
            for question in asked:
                for label, kb in kbs.items():  # sizes take turns, question by question
                    with kb.store.snapshot() as view:
                        t0 = time.perf_counter()
                        search(view, question, limit=10)
                        t1 = time.perf_counter()
                        offline_answer(retrieve(view, question))
                        t2 = time.perf_counter()
                    times[label]["search"].append(t1 - t0)
                    times[label]["query"].append(t2 - t1)
    finally:
        for kb in kbs.values():
            kb.close()

    def pct(values: list[float], p: float) -> float:
        return round(sorted(values)[min(len(values) - 1, int(len(values) * p))] * 1000, 2)

    return {label: {what: {"p50_ms": pct(v, 0.5), "p95_ms": pct(v, 0.95)} for what, v in rows.items()}
            for label, rows in times.items()} | {"targets": "at 20,000 pages: search p50 <= 20 ms, p95 <= 60 ms; "
                                                            "offline query p50 <= 50 ms"}


def apply_cost(repeat: int = 5) -> dict:
    """Apply time (merge + transaction) of adding the 117-page PDF, with its search rows and without them."""
    import shutil

    from bench import synthetic
    from wikismith.store import registry, txn

    pdf = os.path.join(CORPUS, "pdf", "GeoTopo-komprimiert.pdf")
    work = tempfile.mkdtemp(prefix="bench-apply-")
    root = os.path.join(work, "kb")
    docs = os.path.join(work, "docs")
    os.makedirs(docs)
    KnowledgeBase.init(root).close()
    for i in range(20):
        with open(os.path.join(docs, f"note-{i:02d}.md"), "w", encoding="utf-8") as fh:
            fh.write(synthetic.generated_document(i))
    kb = KnowledgeBase.open(root)
    kb.add([docs])
    shutil.copyfile(pdf, os.path.join(work, "geotopo.pdf"))
    real_index, real_apply = registry.index_passages, txn.apply
    spent: list[float] = []

    def timed_apply(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return real_apply(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t0)

    txn.apply = timed_apply
    times: dict[str, list[float]] = {"with_index": [], "without_index": []}
    try:
        kb.add([os.path.join(work, "geotopo.pdf")])  # warm: the conversion is cached by nothing, but imports are
        kb.remove(["geotopo"])
        for _ in range(repeat):
            for label in times:
                registry.index_passages = real_index if label == "with_index" else (lambda *a, **k: None)
                spent.clear()
                kb.add([os.path.join(work, "geotopo.pdf")])
                times[label].append(spent[0])
                registry.index_passages = real_index
                kb.remove(["geotopo"])
    finally:
        registry.index_passages, txn.apply = real_index, real_apply
        kb.close()
        shutil.rmtree(work, ignore_errors=True)
    med = {label: statistics.median(v) for label, v in times.items()}
    return {"median_ms": {k: round(v * 1000, 1) for k, v in med.items()},
            "ratio": round(med["with_index"] / med["without_index"], 2)}


def _rates(ranks: list[int | None]) -> dict:
    n = len(ranks) or 1
    return {"hit@1": round(sum(1 for r in ranks if r == 1) / n, 3),
            "hit@5": round(sum(1 for r in ranks if r is not None and r <= 5) / n, 3),
            "mrr": round(sum(1 / r for r in ranks if r) / n, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--kb", help="reuse (or build once into) this KB folder")
    parser.add_argument("--llm", action="store_true", help="also the model and agent modes (fake server)")
    parser.add_argument("--latency", action="store_true", help="also latency on a 20,000-page KB")
    parser.add_argument("--apply", action="store_true", help="also the apply cost of the search rows")
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    root = args.kb or os.path.join(tempfile.mkdtemp(prefix="bench-query-"), "kb")
    t0 = time.perf_counter()
    ids = build(root)
    built = time.perf_counter() - t0
    report = evaluate(root, ids)
    report["documents"] = len(ids)
    report["build_s"] = round(built, 1)
    if args.llm or args.latency:
        big = grown(root, 20_000)
        sizes = {"corpus": root, "corpus+20000": big}
        if args.latency:
            report["latency_20k"] = latency(sizes)
        if args.llm:
            report["llm"] = llm_modes(sizes)
    if args.apply:
        report["apply_117_page_pdf"] = apply_cost()
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
