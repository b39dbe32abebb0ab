"""Work: the pages one change has touched so far, over the KB as it is, turned into one Mutation at the end.

Every builder of a change (add, remove, recompile, undo, lint --fix) reads pages through `current()`, so that a page
touched twice in one change is read as the change has left it, and writes through `put()` and `delete()`. `finish()`
then writes the files, the registry rows and the lines of index.md that changed.
"""

from __future__ import annotations

from typing import NamedTuple

from wikismith import config
from wikismith.errors import UsageError
from wikismith.store.mutation import CandidateRow, Mutation, PageRow
from wikismith.store.view import KBView
from wikismith.wiki import catalog, scaffold

ALIAS = "alias"  # the kind of a candidate row that declares another name: page = the other name's, section = the term's
MENTION = ""  # the title of a candidate row that only mentions its page: it joins the page, never makes it exist


class Holders(NamedTuple):
    count: int  # documents holding the page, mentions included
    named: int  # of them, those that name it (not only mention it)
    strong: int  # of them, those holding it strong
    titles: dict[str, int]  # how many rows name it each way (mentions, which name it nothing, left out)


def _holds(row: CandidateRow | None, named: bool = False) -> bool:
    """Whether a row of this change holds its page (an other name's row does not), with named: and names it."""
    return row is not None and row.kind != ALIAS and not (named and row.title == MENTION)


def _folder(path: str) -> str:
    return path.rsplit("/", 1)[0]


def _page_sections(root: str) -> int:
    """How many sources' sections a concept or entity page shows: the KB's setting, checked (config.toml can be
    edited by hand)."""
    value = config.load(root)["page_sections"]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{root}/.wikismith/config.toml: page_sections must be a whole number of at least 1, "
                         f"not {value!r}; nothing was changed")
    return value


class Work:
    def __init__(self, view: KBView, label: str):
        self.view = view
        self.shown = _page_sections(view.root)
        self.m = Mutation(label=label)
        self.written: dict[str, str] = {}
        self.rows: dict[str, PageRow] = {}
        self.added_at: dict[str, str] = {}  # documents this change adds or keeps, with the time they count from
        self.gone: set[str] = set()  # documents this change removes (or replaces)
        self.candidates: dict[str, dict[str, CandidateRow]] = {}  # documents this change (re)writes: page -> row
        self.relink: set[str] = set()  # documents whose summary must list its pages again (one came or went)
        self._stats: dict[tuple[str, frozenset], tuple[int, int, dict[str, int]]] = {}  # see _own()
        self._alias_cache: dict[tuple, object] = {}  # see _declared(), other_names(), holders()
        self._scanned: dict[str, tuple[dict, list]] = {}  # see _work_aliases()

    # -- which documents hold which pages, as this change leaves them ---------------------------------------------

    def _excluded(self) -> set[str]:
        return self.gone | set(self.candidates)

    def _own(self, page: str) -> Holders:
        """The documents holding `page` itself (not through an other name)."""
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
            if row is not None and row.kind != ALIAS:
                count, strong = count + 1, strong + int(row.strong)
                titles[row.title] = titles.get(row.title, 0) + 1
        mentions = titles.pop(MENTION, 0)
        return Holders(count, count - mentions, strong, titles)

    # -- other names: a present document's "X, a.k.a. Y" makes Y's page X's -------------------------------------

    def _declared(self, page: str) -> list[tuple[str, str, str]]:
        """(document, term's page, name) of every present declaration that `page` is another name of a term."""
        key = ("declared", page, frozenset(self._excluded()))
        known = self._alias_cache.get(key)
        if known is None:
            known = self._alias_cache[key] = self.view.aliases_declared(page, set(key[2]))
        extra = [(doc, r.section, r.title) for doc, r in self._work_aliases() if r.page == page]
        return sorted(known + extra)

    def _work_aliases(self) -> list[tuple[str, CandidateRow]]:
        """(document, row) of the other names the documents this change (re)writes declare: looked at on every
        question about a page, so each document's rows are scanned once, not on every question."""
        out = []
        for doc, rows in self.candidates.items():
            seen = self._scanned.get(doc)
            if seen is None or seen[0] is not rows:
                seen = self._scanned[doc] = (rows, [r for r in rows.values() if r.kind == ALIAS])
            out += [(doc, r) for r in seen[1]]
        return out

    def _direct(self, page: str) -> str | None:
        """The term a present document declares `page` another name of (several: the first in sort order)."""
        terms = {term for _doc, term, _name in self._declared(page) if _folder(term) == _folder(page)}
        return min(terms) if terms else None

    def target(self, page: str) -> str | None:
        """The page `page`'s holders land on while it is another name, None for a page that is its own. Followed
        to the end: the other name of an other name lands on the last term ("Z a.k.a. Y" and "Y a.k.a. X": Z's
        holders land on X); names that are other names of each other in a ring land on the first of the ring in
        sort order. Either way no holder's section is left on a page that does not exist, and the answer depends
        only on the set of declarations."""
        path, seen = [page], {page}
        step = self._direct(page)
        while step is not None and step not in seen:
            path.append(step)
            seen.add(step)
            step = self._direct(step)
        end = path[-1] if step is None else min(path[path.index(step):])
        return None if end == page else end

    def landing(self, rows: list[dict]) -> dict[str, str]:
        """The page each of a document's rows (other names left out) lands on, for the rows that can change a page:
        a mention of a page that is no page (nor another name) now changes nothing, and is not looked at further
        (a document has up to 60 mentions, most of them of pages that do not exist)."""
        mentioned = {r["page"] for r in rows if r["kind"] != ALIAS and r["title"] == MENTION}
        live = mentioned & (self.view.pages_or_other_names(mentioned) | set(self.rows)
                            | {r.page for _doc, r in self._work_aliases()}) if mentioned else set()
        return {r["page"]: self.page_of(r["page"]) for r in rows
                if r["kind"] != ALIAS and (r["title"] != MENTION or r["page"] in live)}

    def page_of(self, page: str) -> str:
        """The page a candidate for `page` lands on: its term's page while it is another name, else itself."""
        return self.target(page) or page

    def _naming(self, term: str) -> list[tuple[str, str, str]]:
        """(document, other name's page, name as written) of every present declaration naming `term` directly."""
        key = ("naming", term, frozenset(self._excluded()))
        known = self._alias_cache.get(key)
        if known is None:
            known = self._alias_cache[key] = self.view.aliases_naming(term, set(key[2]))
        return known + [(doc, r.page, r.title) for doc, r in self._work_aliases() if r.section == term]

    def other_names(self, term: str) -> list[tuple[str, str]]:
        """(other name's page, name as written) of every present declaration whose page lands on `term` now,
        through a chain of other names too."""
        found: set[tuple[str, str]] = set()
        visited, frontier = {term}, [term]
        while frontier:
            for _doc, page, name in self._naming(frontier.pop()):
                if page != term and self.target(page) == term:
                    found.add((page, name))
                    if page not in visited:
                        visited.add(page)
                        frontier.append(page)
        return sorted(found)

    def group(self, page: str) -> list[str]:
        """The pages whose candidates land on `page`: itself and its other names (none while it is one itself)."""
        if self.target(page) is not None:
            return []
        return [page, *sorted({other for other, _name in self.other_names(page)})]

    def _group_rows(self, page: str, limit: int | None, named: bool) -> list[dict]:
        """One row per document holding a page of the group of `page`, by document, the first `limit` of them
        (every one with None): its row for `page` itself when it has one, else for the first of the other names in
        sort order, a row naming the page before a mention. Bounded by `limit`: a document among the first `limit`
        has, on each page of the group, fewer than `limit` documents before it."""
        excluded = self._excluded()
        chosen: dict[str, dict] = {}
        for member in self.group(page):  # `page` first, then the other names in order
            rows = self.view.candidate_holders(member, excluded, limit, named=named)
            rows += [r.__dict__ for _doc, pages_of in sorted(self.candidates.items())
                     if _holds(r := pages_of.get(member), named)]
            for row in rows:
                had = chosen.get(row["document"])
                if had is None or (had["title"] == MENTION and row["title"] != MENTION):
                    chosen[row["document"]] = row
        rows = [chosen[doc] for doc in sorted(chosen)]
        return rows if limit is None else rows[:limit]

    def holders(self, page: str) -> Holders:
        """The documents holding `page` or one of its other names, each counted once; none for a page that is
        another name now."""
        members = self.group(page)
        if not members:
            return Holders(0, 0, 0, {})
        if len(members) == 1:
            return self._own(page)
        excluded = frozenset(self._excluded())
        key = ("group", tuple(members), excluded)
        known = self._alias_cache.get(key)
        if known is None:
            known = self._alias_cache[key] = self.view.candidate_group_stats(members, set(excluded))
        count, named, strong, titles = known[0], known[1], known[2], dict(known[3])
        for rows in self.candidates.values():
            held = [r for p in members if (r := rows.get(p)) is not None and r.kind != ALIAS]
            if held:
                count, strong = count + 1, strong + int(any(r.strong for r in held))
                named += any(r.title != MENTION for r in held)
                for r in held:
                    titles[r.title] = titles.get(r.title, 0) + 1
        titles.pop(MENTION, None)
        return Holders(count, named, strong, titles)

    def exists(self, page: str) -> bool:
        """The rule that makes the wiki a function of the set of documents: a concept or entity page exists when
        a document holds it (or one of its other names) strong, or two documents name it; a page that is another
        name of a term does not exist. Mentions join a page that exists; they never make one exist."""
        h = self.holders(page)
        return h.strong >= 1 or h.named >= 2

    def title(self, page: str, fallback: str) -> str:
        """A page's title: the name most of its own documents give it (ties: the first in sort order); with none,
        the name most of the documents of its other names give it."""
        titles = self._own(page).titles if self.target(page) is None else {}
        if not titles:
            titles = self.holders(page).titles
        return min(titles, key=lambda t: (-titles[t], t)) if titles else fallback

    def aliases(self, page: str, title: str) -> list[str]:
        """The other names its documents give the page ("Box<T>" for "Box", "Type Hint" for "Type Hints"), through
        its other names too ("Type Annotation" when a document holds that), one per spelling that differs beyond
        case, sorted: a function of the set of documents, like the title. An other name no document holds is not
        listed: it gathers nothing here (as before, inside the document that declares it)."""
        names = self.holders(page).titles
        seen = {title.casefold()}
        out = []
        for name in sorted(names):
            if name.casefold() not in seen:
                seen.add(name.casefold())
                out.append(name)
        return out

    def holder_rows(self, page: str, limit: int | None, *, named: bool = False) -> list[dict]:
        """Up to `limit` rows (with sections) of the documents holding `page` or one of its other names, one per
        document (every one with limit None); with named, of those that name it (not only mention it)."""
        members = self.group(page)
        if len(members) > 1:
            return self._group_rows(page, limit, named)
        if not members:
            return []
        rows = [r.__dict__ for _doc, pages_of in sorted(self.candidates.items())
                if _holds(r := pages_of.get(page), named)]
        rows = sorted(rows + self.view.candidate_holders(page, self._excluded(), limit, named=named),
                      key=lambda r: r["document"])
        return rows if limit is None else rows[:limit]

    def holding(self, page: str) -> list[str]:
        """Every document holding `page` itself (not through an other name), by id."""
        docs = {r["document"] for r in self.view.candidate_holders(page, self._excluded(), None)}
        docs |= {doc for doc, rows in self.candidates.items() if (r := rows.get(page)) is not None and r.kind != ALIAS}
        return sorted(docs)

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
        if not self.view.exists(path) and self.view.page(path) is None:
            # Written and taken back within this change (a recompile that forgets an other name, then declares
            # it again): nothing to delete.
            self.m.deletes.discard(path)
            self.m.drop_pages.discard(path)
            return
        self.m.deletes.add(path)
        self.m.drop_pages.add(path)

    def updated(self, sources, since: tuple[str, list, object] | None = None) -> str:
        """When a page last changed, as a function of its sources: the newest time one of them was added. So a
        page is the same whatever order its sources came in, and removing one gives back the page before it.
        since: (the page, its sources and `updated` as it stands): when every one of those sources stays and this
        change touches none of them, and the registry agrees on the time, only the new sources are looked up (a
        popular page has thousands)."""
        found = self._kept_updated(sources, since) if since is not None else None
        kept = None
        if found is not None:
            kept, before = found
            sources = [s for s in sources if s not in before]
            if not sources:
                return kept
        known = {s: self.added_at[s] for s in sources if s in self.added_at}
        rest = [s for s in sources if s not in known and s not in self.gone]
        known.update(self.view.added_at(set(rest)))
        return max([*known.values(), *([kept] if kept is not None else [])], default="")

    def _kept_updated(self, sources, since: tuple[str, list, object]) -> tuple[str, set] | None:
        """(the page's time as it stands, its sources then) when updated() may start from them; None when not."""
        path, before, stated = since
        if not before or not isinstance(stated, str) or not stated:
            return None
        row = self.rows.get(path)
        recorded = row.updated_at if row is not None else self.view.updated_at(path)
        if recorded != stated:
            return None
        before, after = set(before), set(sources)
        if not before <= after or not before.isdisjoint(self.gone) or not before.isdisjoint(self.added_at):
            return None
        return recorded, before

    def finish(self, log: tuple[str, str, str] | None, *, full_index: bool = False) -> Mutation:
        """The Mutation: pages written, the catalogue's touched parts rewritten (or, with full_index, all of it
        afresh from the registry), one log line (when, operation, detail)."""
        for path, text in self.written.items():
            self.m.writes[path] = text.encode("utf-8")
        self.m.keeps -= set(self.m.writes) | self.m.deletes
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
