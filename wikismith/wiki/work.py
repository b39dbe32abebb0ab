"""Work: the pages one change has touched so far, over the KB as it is, turned into one Mutation at the end.

Every builder of a change (add, remove, recompile, undo, lint --fix) reads pages through `current()`, so that a page
touched twice in one change is read as the change has left it, and writes through `put()` and `delete()`. `finish()`
then writes the files, the registry rows and the lines of index.md that changed.
"""

from __future__ import annotations

from wikismith.store.mutation import CandidateRow, Mutation, PageRow
from wikismith.store.view import KBView
from wikismith.wiki import catalog, scaffold


class Work:
    def __init__(self, view: KBView, label: str):
        self.view = view
        self.m = Mutation(label=label)
        self.written: dict[str, str] = {}
        self.rows: dict[str, PageRow] = {}
        self.titles: dict[str, str] = {}
        self.added_at: dict[str, str] = {}  # documents this change adds or keeps, with the time they count from
        self.gone: set[str] = set()  # documents this change removes (or replaces)
        self.candidates: dict[str, dict[str, CandidateRow]] = {}  # documents this change (re)writes: page -> row
        self.relink: set[str] = set()  # documents whose summary must list its pages again (one came or went)
        self._stats: dict[tuple[str, frozenset], tuple[int, int, dict[str, int]]] = {}  # see holders()

    # -- which documents hold which pages, as this change leaves them ---------------------------------------------

    def _excluded(self) -> set[str]:
        return self.gone | set(self.candidates)

    def holders(self, page: str) -> tuple[int, int, dict[str, int]]:
        """(documents holding `page`, of them strongly, how many name it each way)."""
        excluded = frozenset(self._excluded())
        key = (page, excluded)
        known = self._stats.get(key)
        if known is None:
            # The registry does not change while a change is built: each page's holders are counted once per set
            # of documents left out, not on each of the ~30 questions an add asks (an aggregate over every
            # holder, thousands on a popular page).
            known = self._stats[key] = self.view.candidate_stats(page, set(excluded))
        count, strong, titles = known[0], known[1], dict(known[2])
        for rows in self.candidates.values():
            row = rows.get(page)
            if row is not None:
                count, strong = count + 1, strong + int(row.strong)
                titles[row.title] = titles.get(row.title, 0) + 1
        return count, strong, titles

    def exists(self, page: str) -> bool:
        """The rule that makes the wiki a function of the set of documents: a concept or entity page exists when
        a document holds it strong, or two documents hold it."""
        count, strong, _ = self.holders(page)
        return strong >= 1 or count >= 2

    def title(self, page: str, fallback: str) -> str:
        """A page's title: the name most of its documents give it (ties: the first in sort order)."""
        _, _, titles = self.holders(page)
        return min(titles, key=lambda t: (-titles[t], t)) if titles else fallback

    def aliases(self, page: str, title: str) -> list[str]:
        """The other names its documents give the page ("Box<T>" for "Box", "Type Hint" for "Type Hints"), one per
        spelling that differs beyond case, sorted: a function of the set of holders, like the title."""
        _, _, titles = self.holders(page)
        seen = {title.casefold()}
        out = []
        for name in sorted(titles):
            if name.casefold() not in seen:
                seen.add(name.casefold())
                out.append(name)
        return out

    def holder_rows(self, page: str, limit: int) -> list[dict]:
        """Up to `limit` rows (with sections) of the documents holding `page`."""
        rows = [r.__dict__ for doc, pages_of in sorted(self.candidates.items())
                if (r := pages_of.get(page)) is not None]
        return sorted(rows + self.view.candidate_holders(page, self._excluded(), limit),
                      key=lambda r: r["document"])[:limit]

    def candidate_rows(self, doc_id: str) -> list[dict]:
        if doc_id in self.candidates:
            return [r.__dict__ for _, r in sorted(self.candidates[doc_id].items())]
        return [] if doc_id in self.gone else self.view.candidates_of(doc_id)

    def current(self, path: str) -> str | None:
        if path in self.written:
            return self.written[path]
        if path in self.m.deletes:
            return None
        return self.view.read(path)

    def put(self, path: str, kind: str, title: str, description: str, text: str, sources, when: str) -> None:
        self.written[path] = text
        self.m.deletes.discard(path)
        self.m.drop_pages.discard(path)
        self.rows[path] = PageRow(path=path, kind=kind, title=title, updated_at=when, description=description,
                                  body=text, sources=tuple(sorted(sources)))

    def delete(self, path: str) -> None:
        self.written.pop(path, None)
        self.rows.pop(path, None)
        self.m.deletes.add(path)
        self.m.drop_pages.add(path)

    def updated(self, sources) -> str:
        """When a page last changed, as a function of its sources: the newest time one of them was added. So a
        page is the same whatever order its sources came in, and removing one gives back the page before it."""
        known = {s: self.added_at[s] for s in sources if s in self.added_at}
        rest = [s for s in sources if s not in known and s not in self.gone]
        known.update(self.view.added_at(set(rest)))
        return max(known.values(), default="")

    def finish(self, log: tuple[str, str, str] | None, *, full_index: bool = False) -> Mutation:
        """The Mutation: pages written, the catalogue's touched parts rewritten (or, with full_index, all of it
        afresh from the registry), one log line (when, operation, detail)."""
        for path, text in self.written.items():
            self.m.writes[path] = text.encode("utf-8")
        self.m.put_pages = [self.rows[p] for p in sorted(self.rows)]
        for doc_id in sorted(self.gone - set(self.candidates)):
            self.m.drop_candidates.add(doc_id)
        for doc_id, rows in sorted(self.candidates.items()):
            self.m.put_candidates[doc_id] = [rows[p] for p in sorted(rows)]
        if full_index or self.rows or self.m.drop_pages:
            rows = {p: (r.kind, r.title, r.description) for p, r in self.rows.items()}
            rows.update({p: None for p in self.m.drop_pages})
            files = (catalog.full(self.view, rows) if full_index
                     else catalog.changes(self.view, rows, self.view.kinds_of(set(rows))))
            for path, text in files.items():
                if text is None:
                    if self.view.exists(path):
                        self.m.deletes.add(path)
                else:
                    self.m.writes[path] = text.encode("utf-8")
        if log is not None:
            # No wikilinks in the log: it is append-only, and a later removal must not leave a broken link behind.
            self.m.appends["wiki/log.md"] = scaffold.log_line(*log).encode()
        return self.m
