"""How good the offline wiki is, scored against the frozen labels in bench/labels/quality.json (issue 10).

    python bench/quality.py --json [--skip order,speed]

The 37 labelled documents (30 Rust-book chapters, the seven typing PEPs) are added to a new KB through the KB API;
every concept and entity page is read back from `wiki/` (title, `aliases`, `sources` in its front matter) and
matched against the gold lists of its source documents. A name matches when it is equal after normalisation: case,
backticks, hyphens and line wrapping, a `typing.` prefix, an English plural.

Figures: concept precision (concept pages matching a gold topic of one of their documents, over all concept
pages) and recall (gold topics of a document that got a page holding that document), the same for entities,
author recall, labelled twins left (pairs from `same` whose two names both have a page, but not one page for
both), pages per document, share of concepts with two or more sources, order independence (the whole `wiki/`,
`log.md` aside, byte-identical after adding 40 book chapters in three orders), and time (the seven PEPs, the
117-page PDF, the whole book).

Targets: concept precision >= 0.8 with recall >= 0.6; entity precision >= 0.9; author recall 1.0; 0 twins left;
order independence exact; 7 PEPs <= 1 s, PDF >= 300 pages/s, the book <= 30 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys
import tempfile
import time
import unicodedata

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
CORPUS = os.path.join(os.path.dirname(REPO), "shared", "corpus")
LABELS = os.path.join(REPO, "bench", "labels", "quality.json")
ORDER_CHAPTERS = 40

from wikismith.ingest import Limits, convert  # noqa: E402
from wikismith.kb import KnowledgeBase  # noqa: E402
from wikismith.wiki import frontmatter  # noqa: E402


# -- matching names ---------------------------------------------------------------------------------------------------

def _singular(word: str) -> str:
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1]


def norm(name: str) -> str:
    """A surface form as the labels compare it: case, backticks, hyphens, wrapping, `typing.` and plurals aside."""
    s = unicodedata.normalize("NFKC", name).lower().replace("`", "").replace("’", "'")
    s = re.sub(r"(?<![\w.])typing\.(?=\w)", "", s)
    s = " ".join(s.replace("-", " ").split())
    return " ".join(_singular(w) for w in s.split(" "))


def forms(item: dict) -> set[str]:
    return {norm(item["name"]), *(norm(a) for a in item.get("aliases", []))}


# -- reading the wiki back ----------------------------------------------------------------------------------------

def read_pages(root: str) -> list[dict]:
    """Every concept and entity page: kind, title, the names it answers to, its source documents."""
    out = []
    for kind, folder in (("concept", "concepts"), ("entity", "entities")):
        base = os.path.join(root, "wiki", folder)
        for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            if not name.endswith(".md"):
                continue
            with open(os.path.join(base, name), encoding="utf-8") as fh:
                meta, _ = frontmatter.parse(fh.read())
            aliases = meta.get("aliases") or []
            names = {norm(str(meta.get("title", name[:-3]))), *(norm(str(a)) for a in aliases)}
            out.append({"kind": kind, "file": f"{folder}/{name}", "title": str(meta.get("title", "")),
                        "names": names, "sources": set(meta.get("sources") or [])})
    return out


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def score(pages: list[dict], gold: dict[str, dict], same: list[list[str]]) -> dict:
    """`gold` maps a document id to its labels."""
    def matches(page: dict, items: list[dict]) -> bool:
        return any(page["names"] & forms(i) for i in items)

    figures: dict = {}
    for kind, field in (("concept", "concepts"), ("entity", "entities")):
        own = [p for p in pages if p["kind"] == kind]
        good = [p for p in own if any(matches(p, gold[d][field] + _authors(gold[d]) * (kind == "entity"))
                                      for d in p["sources"] if d in gold)]
        wanted = [(d, item) for d, labels in gold.items() for item in labels[field]]
        found = [(d, item) for d, item in wanted
                 if any(d in p["sources"] and p["names"] & forms(item) for p in pages)]
        figures[f"{kind}_precision"] = _ratio(len(good), len(own))
        figures[f"{kind}_recall"] = _ratio(len(found), len(wanted))
        figures[f"{kind}_pages"] = len(own)
        figures[f"{kind}_wrong_sample"] = sorted(p["title"] for p in own if p not in good)[:40]
    authors = [(d, a) for d, labels in gold.items() for a in labels["authors"]]
    got = [(d, a) for d, a in authors
           if any(d in p["sources"] and p["kind"] == "entity" and norm(a) in p["names"] for p in pages)]
    figures["author_recall"] = _ratio(len(got), len(authors))
    figures["authors_missing"] = sorted(a for d, a in authors if (d, a) not in got)
    twins = []
    for a, b in same:
        with_a = {p["file"] for p in pages if norm(a) in p["names"]}
        with_b = {p["file"] for p in pages if norm(b) in p["names"]}
        if with_a and with_b and (with_a != with_b or len(with_a) > 1):
            twins.append([a, b])
    figures["twins_left"] = len(twins)
    figures["twins_left_pairs"] = twins
    concepts = [p for p in pages if p["kind"] == "concept"]
    figures["pages_per_document"] = _ratio(len(pages), len(gold))
    figures["concepts_with_2_sources"] = _ratio(sum(len(p["sources"]) >= 2 for p in concepts), len(concepts))
    return figures


def _authors(labels: dict) -> list[dict]:
    return [{"name": a, "aliases": []} for a in labels["authors"]]


# -- runs ---------------------------------------------------------------------------------------------------------------

def labelled(tmp: str) -> dict:
    with open(LABELS, encoding="utf-8") as fh:
        labels = json.load(fh)
    paths = [os.path.join(CORPUS, rel) for rel in sorted(labels["documents"])]
    root = os.path.join(tmp, "labelled-kb")
    kb = KnowledgeBase.init(root)
    t0 = time.perf_counter()
    for path in paths:
        kb.add([path])
    seconds = time.perf_counter() - t0
    ids = {d["source"]: d["id"] for d in kb.listing().as_dict()["documents"]}
    kb.close()
    gold = {ids[os.path.join(CORPUS, rel)]: item for rel, item in labels["documents"].items()}
    figures = score(read_pages(root), gold, labels["same"])
    figures["documents"] = len(gold)
    figures["add_seconds"] = round(seconds, 2)
    return figures


def _wiki_digest(root: str) -> dict[str, str]:
    out = {}
    wiki = os.path.join(root, "wiki")
    for folder, _, files in os.walk(wiki):
        for name in files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, wiki)
            if rel != "log.md":
                with open(path, "rb") as fh:
                    out[rel] = hashlib.sha256(fh.read()).hexdigest()
    return out


def order(tmp: str, seed: int) -> dict:
    book = os.path.join(CORPUS, "book")
    chapters = sorted(f for f in os.listdir(book) if f.startswith("ch") and f.endswith(".md"))
    chosen = sorted(random.Random(seed).sample(chapters, ORDER_CHAPTERS))
    shuffled = list(chosen)
    random.Random(seed + 1).shuffle(shuffled)
    orders = {"sorted": chosen, "reversed": chosen[::-1], "shuffled": shuffled}
    digests = {}
    for name, files in orders.items():
        root = os.path.join(tmp, f"order-{name}")
        kb = KnowledgeBase.init(root)
        for f in files:
            kb.add([os.path.join(book, f)])
        kb.close()
        digests[name] = _wiki_digest(root)
    base = digests["sorted"]
    differing = sorted({rel for d in digests.values() for rel in set(d) | set(base) if d.get(rel) != base.get(rel)})
    return {"chapters": ORDER_CHAPTERS, "orders": len(orders), "files": len(base),
            "identical": not differing, "differing_files": len(differing), "differing_sample": differing[:10]}


def speed(tmp: str) -> dict:
    kb = KnowledgeBase.init(os.path.join(tmp, "peps-kb"))
    t0 = time.perf_counter()
    kb.add([os.path.join(CORPUS, "peps")])
    peps_s = time.perf_counter() - t0
    kb.close()
    pdf = os.path.join(CORPUS, "pdf", "GeoTopo-komprimiert.pdf")
    convert_s = []
    for _ in range(3):
        t0 = time.perf_counter()
        doc = convert(pdf, Limits())
        convert_s.append(time.perf_counter() - t0)
    pages = doc.page_count or 0
    kb = KnowledgeBase.init(os.path.join(tmp, "pdf-kb"))
    t0 = time.perf_counter()
    kb.add([pdf])
    pdf_add_s = time.perf_counter() - t0
    kb.close()
    kb = KnowledgeBase.init(os.path.join(tmp, "book-kb"))
    t0 = time.perf_counter()
    report = kb.add([os.path.join(CORPUS, "book")])
    book_s = time.perf_counter() - t0
    book_docs = len(report.by_status("added"))
    kb.close()
    return {"peps_seconds": round(peps_s, 2), "peps_per_document_s": round(peps_s / 7, 3),
            "pdf_pages": pages, "pdf_convert_pages_per_s": round(pages / min(convert_s), 1),
            "pdf_add_seconds": round(pdf_add_s, 2), "pdf_add_pages_per_s": round(pages / pdf_add_s, 1),
            "book_documents": book_docs, "book_seconds": round(book_s, 1),
            "book_per_document_s": round(book_s / max(1, book_docs), 3)}


def targets(result: dict) -> dict:
    q, o, s = result["labelled"], result.get("order"), result.get("speed")
    out = {"concept_precision_ge_0_8": (q["concept_precision"] or 0) >= 0.8,
           "concept_recall_ge_0_6": (q["concept_recall"] or 0) >= 0.6,
           "entity_precision_ge_0_9": (q["entity_precision"] or 0) >= 0.9,
           "author_recall_1": q["author_recall"] == 1.0,
           "twins_left_0": q["twins_left"] == 0}
    if o:
        out["order_identical"] = o["identical"]
    if s:
        out.update({"peps_le_1s": s["peps_seconds"] <= 1.0, "pdf_ge_300_pages_per_s": s["pdf_convert_pages_per_s"] >= 300,
                    "book_le_30s": s["book_seconds"] <= 30})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: order, speed")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    with open(LABELS, encoding="utf-8") as fh:
        seed = json.load(fh)["seed"]
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="quality-bench-") as tmp:
        result["labelled"] = labelled(tmp)
        if "order" not in skip:
            result["order"] = order(tmp, seed)
        if "speed" not in skip:
            result["speed"] = speed(tmp)
    result["targets"] = targets(result)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        for part, figures in result.items():
            print(part)
            for k, v in figures.items():
                print(f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
