"""`query --save`: an answer kept as a page of the wiki, `wiki/explorations/<slug>.md`, through a transaction."""

from __future__ import annotations

from wikismith import clock
from wikismith.wiki import pages
from wikismith.wiki.slug import slugify
from wikismith.wiki.work import Work


def build_exploration(view, report, name: str | None, *, when: str):
    """The Mutation writing the answer as an exploration page (a name already taken gets a suffix; nothing is ever
    overwritten), and the page's path."""
    title = " ".join((name or report.question).split())[:200] or "Exploration"
    base = slugify(name or report.question, max_len=60)
    path, n = pages.page_path("exploration", base), 1
    while view.exists(path) or view.kinds_of({path}):
        n += 1
        path = pages.page_path("exploration", f"{base}-{n}")
    lines = [pages.heading(title), "", f"**Question:** {' '.join(report.question.split())}", "", report.answer.strip(),
             ""]
    if report.sources:
        lines += ["## Sources", ""] + [f"- {s.cite()}" + (f" — {s.heading}" if s.heading else "")
                                       for s in report.sources] + [""]
    description = " ".join(report.answer.split())
    description = description if len(description) <= 160 else description[:159].rsplit(" ", 1)[0] + "…"
    description = description.replace("[[", "").replace("]]", "")
    meta = {"type": "exploration", "title": title, "description": description, "sources": [],
            "question": " ".join(report.question.split()), "mode": report.mode, "updated": when}
    work = Work(view, f"save {path}")
    work.put(path, "exploration", title, description, pages.with_front_matter(meta, "\n".join(lines)), [], when)
    return work.finish((when, "save", f"an answer as {pages.target_of(path)}")), path


def save(store, report, name: str | None = None) -> str:
    saved = []

    def build(view):
        mutation, path = build_exploration(view, report, name, when=clock.now_iso())
        saved.append(path)
        return mutation

    store.change(build)
    return saved[-1]
