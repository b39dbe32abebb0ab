"""Readers never block a writer and never see half a change: queries in a loop against a process that adds and
removes documents; the writer's waits for its lock are measured."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time

from wikicheck import CORPUS, add

from wikismith.ask.answer import offline_answer, retrieve
from wikismith.kb import KnowledgeBase

QUESTIONS = ("What are the rules of ownership?", "How do references and borrowing work?",
             "What is a vector?", "How are union types written?")


def _writer(root: str, docs: list[str], rounds: int, waits_file: str) -> None:
    kb = KnowledgeBase.open(root)
    lock = kb.store._lock
    real_acquire = lock.acquire
    waits: list[float] = []

    def timed_acquire(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return real_acquire(*args, **kwargs)
        finally:
            waits.append(time.perf_counter() - t0)

    lock.acquire = timed_acquire
    try:
        for _ in range(rounds):
            for path in docs:
                kb.add([path])
            kb.remove([os.path.splitext(os.path.basename(p))[0] for p in docs])
    finally:
        kb.close()
        with open(waits_file, "w", encoding="utf-8") as fh:
            fh.write("\n".join(str(w) for w in waits))


def test_queries_in_a_loop_never_cite_a_page_their_snapshot_lacks_and_never_keep_the_writer_waiting(tmp_kb, tmp_path):
    base, moving = tmp_path / "base", tmp_path / "moving"
    base.mkdir()
    moving.mkdir()
    shutil.copyfile(CORPUS / "book" / "ch04-01-what-is-ownership.md", base / "ch04-01-what-is-ownership.md")
    for name in ("ch04-02-references-and-borrowing.md", "ch08-01-vectors.md"):
        shutil.copyfile(CORPUS / "book" / name, moving / name)
    shutil.copyfile(CORPUS / "peps" / "pep-0604.rst", moving / "pep-0604.rst")
    assert add(tmp_kb, base)[0] == 0
    waits_file = str(tmp_path / "waits")
    writer = multiprocessing.get_context("fork").Process(
        target=_writer, args=(str(tmp_kb), sorted(str(p) for p in moving.iterdir()), 6, waits_file))
    writer.start()
    kb = KnowledgeBase.open(str(tmp_kb))
    answers = cited = 0
    problems: list[str] = []
    try:
        while writer.is_alive() or answers == 0:
            for question in QUESTIONS:
                with kb.store.snapshot() as view:  # what kb.query does: one committed state for the whole answer
                    answer, sources = offline_answer(retrieve(view, question))
                    for source in sources:
                        cited += 1
                        if view.page_text(source.page) is None or source.page not in answer and \
                                f"[[{source.page[5:-3]}" not in answer:
                            problems.append(f"{question!r} cites {source.page}, which its snapshot does not hold")
                answers += 1
                report = kb.query(question).as_dict()  # the public way, too
                assert report["found"] in (True, False)
    finally:
        writer.join(120)
        kb.close()
    assert writer.exitcode == 0
    assert problems == []
    assert answers > 20 and cited > 20, (answers, cited)
    with open(waits_file, encoding="utf-8") as fh:
        waits = [float(line) for line in fh if line.strip()]
    assert len(waits) >= 6 * 4 and max(waits) < 0.050, f"the writer waited up to {max(waits) * 1000:.1f} ms"
