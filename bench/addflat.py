"""End-to-end add flatness: one offline add of a short note, in-process through the KB API, into KBs of N concept
pages (the synthetic pages of bench/synthetic.py, listed in a catalogue as wikismith writes it). Used by
bench/overhead.py; sizes take turns and each takes the median.

Before timing, each KB takes history_keep + 1 notes, so that the history of its bulk build (thousands of rows per
command, which no add makes) is pruned as it would be in a KB grown by adds.
"""

from __future__ import annotations

import os
import statistics
import time

from bench import synthetic
from wikismith import config
from wikismith.kb import KnowledgeBase
from wikismith.store.mutation import Mutation
from wikismith.wiki import catalog


def note(seed: int) -> str:
    """A short note (about 200 bytes), different for each seed, sharing its concepts with the other notes."""
    return (f"# Harbor note {seed}\n\nThe harbor pilot checks the tide tables before ferry {seed} leaves. "
            f"Tide tables list high water for berth {seed % 7}, and the harbor pilot logs it.\n")


def build(root: str, pages: int) -> None:
    kb = synthetic.build_kb(root, pages)
    try:
        def catalogue(view):
            m = Mutation(label="catalogue")
            for path, text in catalog.full(view).items():
                if text is None:
                    m.deletes.add(path)
                else:
                    m.writes[path] = text.encode("utf-8")
            return m

        kb.change(catalogue)
    finally:
        kb.close()
    for i in range(int(config.DEFAULTS.get("history_keep", 20)) + 1):
        add_once(root, -1 - i)


def add_once(root: str, seed: int) -> float:
    folder = root + ".notes"
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"note-{seed}.md")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(note(seed))
    kb = KnowledgeBase.open(root)
    try:
        t0 = time.perf_counter()
        report = kb.add([path])
        elapsed = time.perf_counter() - t0
    finally:
        kb.close()
    if [o.status for o in report.outcomes] != ["added"]:
        raise RuntimeError(f"the note was not added: {report.as_dict()}")
    return elapsed


def measure(tmp: str, sizes: list[int], repeat: int) -> dict:
    roots = {}
    for pages in sizes:
        roots[pages] = os.path.join(tmp, f"add{pages}")
        build(roots[pages], pages)
    times: dict[int, list[float]] = {pages: [] for pages in sizes}
    for seed in range(repeat):
        for pages in sizes:
            times[pages].append(add_once(roots[pages], seed))
    rows = [{"pages": pages, "add_median_ms": round(statistics.median(times[pages]) * 1000, 2),
             "add_min_ms": round(min(times[pages]) * 1000, 2)} for pages in sizes]
    ratio = rows[-1]["add_median_ms"] / rows[0]["add_median_ms"]
    return {"sizes": rows, "add_ratio_largest_to_smallest": round(ratio, 3), "add_ratio_le_1_3": ratio <= 1.3}
