"""Turn a Draft into a Mutation against the KB as it is now, and take a document's contributions out again. Runs
under the exclusive lock, in milliseconds.

The rule: offline, the wiki is a function of the set of documents. Each document's candidate concept and entity
pages are registry rows (with its section for each). A page exists when one document holds it strong, or two
documents name it (a mention, a row with no title, joins a page and never makes one exist); then the first of the
documents holding it by id (the KB's `page_sections`, 50 by default) have their sections there and are the
sources its front matter lists, and each document's summary links to exactly the pages it names that exist.
Titles, overviews, descriptions (wiki/overview.py) and `updated` are chosen from the holders by rules that do not
depend on order. So whatever order documents arrive in, and whatever was added and removed before, the same set of
documents gives the same wiki (your own notes aside): removing a document gives back the wiki before it came, and
recompiling an up-to-date KB changes nothing.

What it costs stays bounded: a page comes into existence when a document makes it cross the threshold, and then at
most one earlier document named it (two would have made it exist already), and the sections written are at most
`page_sections`; a page goes when a removal makes it fall below, and then at most one document still names it.
A page shows at most `page_sections` sections, so a topic that every tenth document holds does not make each add
rewrite a page that grows with the KB: a document that comes after the shown ones leaves the page as it is, one that
comes before them pushes the last one off, and removing a shown one brings the next in line on. A command that
writes another document's section (a page that appears, one brought on) keeps that document's summary as it is,
recorded in the history, so undoing that document's add is refused while the command stands.
"""

from __future__ import annotations

import contextlib
import json
import posixpath
import unicodedata
from dataclasses import dataclass

from wikismith.compile.draft import Draft
from wikismith.errors import WikismithError
from wikismith.store.mutation import CandidateRow, DocumentRow, Mutation
from wikismith.store.view import KBView
from wikismith.wiki import frontmatter, overview, pages, sections
from wikismith.wiki.links import unlink_unknown
from wikismith.wiki.slug import slugify
from wikismith.wiki.work import ALIAS, MENTION, Work

KIND_OF_FOLDER = {"concepts": "concept", "entities": "entity"}  # pages built from sections, by folder


@dataclass
class MergeResult:
    action: str  # "added", "updated" or "skipped"
    doc_id: str
    mutation: Mutation | None
    reason: str = ""


def build_mutation(draft: Draft, view: KBView, *, when: str, raw_bytes: bytes | None,
                   adopt: str | None = None) -> MergeResult:
    """Add a document (or update the one added from the same path). With `adopt` (a path under raw/ where the file
    already lies, dropped there by the user), that file becomes the document's raw file as it is: nothing is
    copied or rewritten, so a watcher of raw/ sees no second file appear."""
    src = draft.source
    same = view.document_by_hash(src.hash)
    if same is not None:
        return MergeResult("skipped", same["id"], None, f"same content as {same['name']} (already in the KB)")
    old = view.document_by_source(src.source_path) if src.source_path else None
    if old is None and adopt:
        old = view.document_by_raw(adopt)  # a raw file of an earlier add, edited in place
    doc_id = old["id"] if old else _free_id(slugify(_stem(src.name)), view)
    verb = "update" if old else "add"
    work = Work(view, f"{verb} {src.name}")
    if old:
        forget(work, old)
    if adopt:
        raw_path = adopt
        work.m.deletes.discard(adopt)
    else:
        raw_path = _raw_path(src, doc_id, old, view, work.m) if raw_bytes is not None else None
    contribute(work, draft, doc_id, when)
    if raw_path and not adopt:
        work.m.writes[raw_path] = raw_bytes
    m = settle(work, (when, verb, f"{src.name} as summaries/{doc_id}"))
    m.put_documents.append(_document_row(draft, doc_id, when, raw_path))
    return MergeResult("updated" if old else "added", doc_id, m)


def build_recompile(draft: Draft, doc: dict, view: KBView, *, when: str) -> Mutation | None:
    """Rebuild a document's contribution from a fresh draft of its stored source; its raw file and the time it was
    added stay. None when that changes nothing (an up-to-date document)."""
    work = Work(view, f"recompile {doc['name']}")
    recompile_into(work, draft, doc)
    m = settle(work, (when, "recompile", f"{doc['name']} (summaries/{doc['id']})"))
    return None if _changes_nothing(m, view) else m


def recompile_into(work: Work, draft: Draft, doc: dict) -> None:
    forget(work, doc, keep_raw=True)
    contribute(work, draft, doc["id"], doc["added_at"])
    work.m.put_documents.append(_document_row(draft, doc["id"], doc["added_at"], doc["raw_path"]))


def build_removal(doc: dict, view: KBView, *, when: str, keep_raw: bool = False) -> Mutation:
    """Take a document out: its sections leave every page, pages that no longer exist go (unless they hold your
    own notes), and every link to a page that goes becomes plain text. No model call is needed to forget."""
    work = Work(view, f"remove {doc['name']}")
    forget(work, doc, keep_raw=keep_raw)
    unlink_referrers(work)
    m = settle(work, (when, "remove", f"{doc['name']} (was summaries/{doc['id']})"))
    m.drop_documents.add(doc["id"])
    return m


def build_page_removal(path: str, view: KBView, *, when: str) -> Mutation:
    """Take out one page no document feeds (an exploration): the page goes, links to it become plain text."""
    work = Work(view, f"remove {path}")
    work.delete(path)
    unlink_referrers(work)
    return settle(work, (when, "remove", pages.target_of(path)))


def settle(work: Work, log: tuple[str, str, str], **options) -> Mutation:
    """Summaries whose pages came or went list them again; then the Mutation."""
    for doc_id in sorted(work.relink - work.gone):
        path = pages.page_path("summary", doc_id)
        text = work.current(path)
        if text is None:
            continue
        fixed = pages.replace_link_block(text, pages.link_block(_linked(work, doc_id)))
        if fixed is not None and fixed != text:
            row = work.rows.get(path)
            old = work.view.page(path) if row is None else None
            meta = row.__dict__ if row is not None else old
            if meta is not None:
                work.put(path, "summary", meta["title"], meta["description"], fixed, meta["sources"],
                         meta["updated_at"])
    return work.finish(log, **options)


def _linked(work: Work, doc_id: str) -> dict[str, list[tuple[str, str]]]:
    """The pages of a document's candidates that exist, by kind, labelled as the document names them."""
    linked: dict[str, list[tuple[str, str]]] = {"concept": [], "entity": []}
    rows = work.candidate_rows(doc_id)
    own = {row["page"] for row in rows if row["kind"] != ALIAS and row["title"] != MENTION}
    seen: set[str] = set()
    for row in rows:
        if row["kind"] == ALIAS or row["title"] == MENTION:
            continue  # a mention is not one of its pages: the page lists it, its summary does not
        page = work.page_of(row["page"])
        if page != row["page"] and page in own:
            continue  # an other name of one of its own pages: linked once, as it names that page
        if page not in seen and work.exists(page):
            seen.add(page)
            linked[row["kind"]].append((pages.target_of(page), row["title"]))
    return linked


def _document_row(draft: Draft, doc_id: str, added_at: str, raw_path: str | None) -> DocumentRow:
    src = draft.source
    meta = {"warnings": draft.warnings, "page_count": draft.page_count, "size": src.size,
            "tree": bool(draft.tree), "title": draft.title}
    return DocumentRow(id=doc_id, name=src.name, kind=src.kind, hash=src.hash, origin=src.origin, added_at=added_at,
                       source_path=src.source_path, raw_path=raw_path, meta=json.dumps(meta, sort_keys=True))


def _free_id(base: str, view: KBView) -> str:
    candidate, n = base, 1
    while view.has_document(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _changes_nothing(m: Mutation, view: KBView) -> bool:
    """Whether applying `m` would leave every file and registry row as it is (its log line aside)."""
    if m.deletes or m.drop_pages or m.drop_documents or m.drop_candidates:
        return False
    for path, data in m.writes.items():
        current = view.read(path)
        if current is None or current.encode("utf-8") != data:
            return False
    for row in m.put_pages:
        old = view.page(row.path)
        if old is None or (old["kind"], old["title"], old["description"], old["updated_at"], old["body"],
                           tuple(old["sources"])) != (row.kind, row.title, row.description, row.updated_at,
                                                      row.body, tuple(row.sources)):
            return False
    for doc in m.put_documents:
        old = view.document(doc.id)
        if old is None or any(old[name] != getattr(doc, name) for name in old):
            return False
    for doc_id, rows in m.put_candidates.items():
        if view.candidates_of(doc_id) != [{**r.__dict__, "strong": int(r.strong)} for r in rows]:
            return False
    return True


# -- adding a document's contribution -------------------------------------------------------------------------------

def candidate_rows(draft: Draft, doc_id: str) -> dict[str, CandidateRow]:
    """The document's candidates, one per page (the first of its contributions that names the page), a row of
    kind "alias" for each other name it declares for one of them (page: the other name's, section: the term's),
    and a row with no title for each phrase it only mentions (see Work.exists)."""
    rows: dict[str, CandidateRow] = {}
    own = {pages.target_of(pages.page_path(c.kind, slugify(c.key))) for c in draft.contributions if c.strong}
    known = own | {f"summaries/{doc_id}", f"sources/{doc_id}"}
    for c in sorted(draft.contributions, key=lambda c: (c.kind, c.key)):
        path = pages.page_path(c.kind, slugify(c.key))
        if path not in rows:
            # A section may link only to pages this document holds strong: they exist as long as it does.
            rows[path] = CandidateRow(document=doc_id, page=path, kind=c.kind, title=c.title, strong=c.strong,
                                      section=unlink_unknown(c.section, known), description=c.description)
    for other in sorted(draft.other_names, key=lambda o: (o.kind, o.key, o.term)):
        path, term = pages.page_path(other.kind, slugify(other.key)), pages.page_path(other.kind, slugify(other.term))
        if path not in rows and term in rows and rows[term].kind == other.kind:
            rows[path] = CandidateRow(document=doc_id, page=path, kind=ALIAS, title=other.title, strong=False,
                                      section=term, description="")
    for c in sorted(draft.mentions, key=lambda c: c.key):
        path = pages.page_path("concept", slugify(c.key))
        if path not in rows:
            rows[path] = CandidateRow(document=doc_id, page=path, kind="concept", title=MENTION, strong=False,
                                      section=unlink_unknown(c.section, known), description=c.description)
    return rows


def _declares(rows: list[dict]) -> list[str]:
    """The other names' pages a document's candidate rows declare."""
    return [r["page"] for r in rows if r["kind"] == ALIAS]


def contribute(work: Work, draft: Draft, doc_id: str, added_at: str) -> None:
    """The document's sections on the concept and entity pages that exist with it, its summary, source page and
    tree; pages it makes exist get the sections of the documents that held them before (the first shown ones: at
    most one of them names it, the others mention it). Other names it declares that no present document declared
    before move their holders' sections (see _rename)."""
    src = draft.source
    rows = candidate_rows(draft, doc_id)
    listed = [r.__dict__ for r in rows.values()]
    targets = {other: work.target(other) for other in _declares(listed)}
    landing = work.landing(listed)
    existed = {page: work.exists(page) for page in set(landing.values())}
    work.added_at[doc_id] = added_at
    work.gone.discard(doc_id)
    work.candidates[doc_id] = rows
    renamed = _renamed(work, targets)
    overviews = {path: c.overview for c in draft.contributions
                 for path in [pages.page_path(c.kind, slugify(c.key))]}
    for page in sorted(set(landing.values()) - renamed):
        if not work.exists(page):
            continue
        # Its row for the page itself, else for the first of its other names, one naming it before a mention (as
        # Work.holder_rows chooses).
        row = rows[min((p for p, q in landing.items() if q == page),
                       key=lambda p: (rows[p].title == MENTION, p != page, p))].__dict__
        with _page_errors(page):
            if existed[page]:
                _write_section(work, page, row, draft.title, overviews.get(row["page"], ""))
            else:  # it exists from now on: the documents holding it get their sections (the first shown ones),
                # and the one other that names it (two would have made it exist) links it from its summary
                for holder in work.holder_rows(page, 2, named=True):
                    if holder["document"] != doc_id:
                        work.relink.add(holder["document"])
                for holder in work.holder_rows(page, work.shown):
                    _write_section(work, page, holder, _doc_title(work, holder["document"], draft, doc_id),
                                   overviews.get(holder["page"], "") if holder["document"] == doc_id else "")
    _rename(work, renamed, draft, doc_id)

    summary, source = pages.page_path("summary", doc_id), pages.page_path("source", doc_id)
    known = {pages.target_of(work.page_of(p)) for p in landing if work.exists(work.page_of(p))}
    known |= {pages.target_of(summary), pages.target_of(source)}
    summary_text = unlink_unknown(pages.render_summary(doc_id, draft, _linked(work, doc_id), added_at), known)
    work.put(summary, "summary", draft.title, draft.description, summary_text, [doc_id], added_at)
    # Links inside a converted document are the document's, not the wiki's: kept as text, never as broken links.
    source_text = pages.render_source(doc_id, draft.title, draft.description, src.origin,
                                      unlink_unknown(draft.source_markdown, frozenset()))
    work.put(source, "source", draft.title, draft.description, source_text, [doc_id], added_at)
    tree = pages.tree_path(doc_id)
    if draft.tree:
        work.m.writes[tree] = pages.render_tree_json(draft.tree).encode("utf-8")
        work.m.deletes.discard(tree)


def _renamed(work: Work, before: dict[str, str | None]) -> set[str]:
    """The pages whose holders change with the other names a change declares or forgets: each other name whose
    term changed (`before`: its term before the change), its old term and its new one."""
    out: set[str] = set()
    for other, term in before.items():
        now = work.target(other)
        if now != term:
            out |= {page for page in (other, term, now) if page is not None}
    return out


def _rename(work: Work, renamed: set[str], draft: Draft | None, own_id: str) -> None:
    """Make each page of `renamed` what its holders (through its other names) make it now: every holder's section
    moves onto the term's page when an other name is declared, and back when no present document declares it.
    This costs in proportion to the holders of those pages: unlike a page that appears, it is not bounded."""
    for page in sorted(renamed):
        with _page_errors(page):
            _refresh(work, page, draft, own_id)
    gone = {pages.target_of(p): pages.target_of(work.page_of(p)) for p in sorted(renamed)
            if work.target(p) is not None and work.exists(work.page_of(p))}
    if gone:
        _retarget_referrers(work, gone)


def _refresh(work: Work, page: str, draft: Draft | None, own_id: str) -> None:
    """The page with exactly the documents that hold it (or one of its other names) as its sources, the first
    `work.shown` with their sections, when it exists; gone when it does not; every document holding it, or landing
    on it, lists its pages again."""
    want = work.holder_rows(page, None) if work.exists(page) else []
    work.relink.update(work.holding(page))
    for other, _name in work.other_names(page):  # they land here even when this page is another name itself
        work.relink.update(work.holding(other))
    work.relink.update(row["document"] for row in want)
    current = work.current(page)
    if not want:
        if current is not None:
            _drop_page(work, page)
        return
    have: set[str] = set()
    if current is not None:
        meta, body = frontmatter.parse(current)
        have = set(sections.section_ids(body)) | set(meta.get("sources") or [])
    for row in want:
        _write_section(work, page, row, _doc_title(work, row["document"], draft, own_id), "")
    wanted = {row["document"] for row in want}
    for doc_id in sorted(have):
        if doc_id not in wanted:
            _forget_section(work, doc_id, page, draft, own_id)


def _retarget_referrers(work: Work, moved: dict[str, str]) -> None:
    """Links to an other name's page that goes (`moved`: its target -> the term's) lead to the term's page, on the
    pages the links table names (summaries list their pages again anyway)."""
    from wikismith.markdown import rewrite_wikilinks

    def fix(target: str, label: str | None, original: str) -> str:
        if target not in moved:
            return original
        text = label.strip() if label and label.strip() else original[2:-2].split("|", 1)[0].strip()
        return pages.link(moved[target], text)

    for page, _target in work.view.links_to(set(moved)):
        if page in work.m.drop_pages or page.startswith("wiki/summaries/"):
            continue
        text = work.current(page)
        if text is None:
            continue
        fixed = rewrite_wikilinks(text, fix)
        row = work.rows.get(page)
        meta = row.__dict__ if row is not None else work.view.page(page)
        if fixed != text and meta is not None:
            work.put(page, meta["kind"], meta["title"], meta["description"], fixed, meta["sources"],
                     meta["updated_at"])


def _doc_title(work: Work, doc_id: str, draft: Draft | None, own_id: str) -> str:
    if draft is not None and doc_id == own_id:
        return draft.title
    doc = work.view.document(doc_id) or {}
    try:
        return json.loads(doc.get("meta") or "{}").get("title") or doc.get("name") or doc_id
    except ValueError:
        return doc.get("name") or doc_id


def _write_section(work: Work, path: str, holder: dict, doc_title: str, given: str | None) -> None:
    """Splice one document's section into the page, with the page's title, overview, description and sources
    as its holders make them; the work is proportional to the change, not the page. A document that comes after
    the shown ones changes nothing there (unless it brings a new name): the page is not even rewritten."""
    doc_id = holder["document"]
    current = work.current(path)
    meta, body = frontmatter.parse(current) if current else ({}, "")
    title = work.title(path, holder["title"])
    if current and _unshown(work, path, meta, body, doc_id, title, given):
        work.m.keeps.add(path)
        return
    if not body.strip():
        body = pages.heading(title) + "\n"
    elif meta.get("title") and meta.get("title") != title:
        body = sections.set_title(body, pages.heading(title))
    body = sections.shown_upsert(body, doc_id, _section(holder, doc_title), work.shown)
    sources = sections.sorted_ids(body)
    if doc_id in sources:
        _depends_on(work, doc_id)
    first = None  # the page's first defining (or first) line, when the new body is known to have the same
    if given is None and current:
        pass  # an LLM compiler refreshes the overviews of the pages an add touched, once, after the add
    elif given:
        body = sections.set_overview(body, unlink_unknown(given, frozenset()))
    else:
        before = sections.overview_text(body)
        line = overview.defining_line(title, body) or overview.first_line(body)
        derived = overview.overview_of(title, line, work.holders(path).count, work.shown)
        body = sections.set_overview(body, derived)
        # Only the overview changed: unless either overview has a line that could be the defining or the first
        # line, the new body's is the same line, and a second pass over a page of thousands of sections is spared.
        if title and before is not None and overview.quiet_overview(title, before) \
                and overview.quiet_overview(title, derived):
            first = line
    if first is not None:
        description = overview.description_of(first) or holder["description"]
    else:
        description = overview.derived_description(body, title) or holder["description"]
    updated = work.updated(sources, since=(path, meta.get("sources") or [], meta.get("updated")))
    meta = {**meta, "type": holder["kind"], "title": title, "description": description, "sources": sources,
            "updated": updated}
    meta = _with_aliases(work, path, meta, title)
    work.put(path, holder["kind"], title, description, pages.with_front_matter(meta, body), sources, updated)


def _section(holder: dict, doc_title: str) -> str:
    """A holder's section as the page shows it: "From" the document, or "Mentioned in" it for a mention."""
    return sections.make_section(holder["document"], holder["section"], doc_title, mention=holder["title"] == MENTION)


def _unshown(work: Work, path: str, meta: dict, body: str, doc_id: str, title: str, given: str | None) -> bool:
    """Whether the page stays as it is with `doc_id` among its sources or without it: the document's section is
    not shown (it comes after the first `work.shown` by id), the title and aliases stay, and the overview already
    says the page has more sources than it shows (or an LLM writes it, later)."""
    names = sections.sorted_ids(body)
    if doc_id in names or len(names) < work.shown or doc_id < names[work.shown - 1]:
        return False
    if meta.get("title") != title or (meta.get("aliases") or []) != work.aliases(path, title):
        return False
    if given is None:
        return True
    return not given and (sections.overview_text(body) or "").startswith(overview.crowded(title, work.shown))


def _with_aliases(work: Work, path: str, meta: dict, title: str) -> dict:
    """`meta` with the page's `aliases` as its holders make them now (Obsidian and search find it by any)."""
    meta = {k: v for k, v in meta.items() if k != "aliases"}
    aliases = work.aliases(path, title)
    return {**meta, "aliases": aliases} if aliases else meta


# -- taking a document's contribution out ---------------------------------------------------------------------------

def forget(work: Work, doc: dict, *, keep_raw: bool = False) -> None:
    """Remove every contribution of a document: its sections, pages that no longer exist without it, its own
    pages and tree, and (unless keep_raw) its raw file. Other names only it declared move their holders'
    sections back (see _rename)."""
    doc_id = doc["id"]
    rows = work.candidate_rows(doc_id)
    targets = {other: work.target(other) for other in _declares(rows)}
    landing = work.landing(rows)
    existed = {page: work.exists(page) for page in set(landing.values())}
    work.gone.add(doc_id)
    work.candidates.pop(doc_id, None)
    work.added_at.pop(doc_id, None)
    renamed = _renamed(work, targets)
    for path in sorted(set(landing.values()) - renamed):
        if not existed[path]:
            continue
        with _page_errors(path):
            if work.exists(path):
                _forget_section(work, doc_id, path)
            else:  # the page no longer exists: the document that still names it (at most one) stops linking it
                for holder in work.holder_rows(path, 1, named=True):
                    work.relink.add(holder["document"])
                _drop_page(work, path)
    _rename(work, renamed, None, doc_id)
    for path in work.view.pages_of_document(doc_id):
        folder = path.split("/")[1] if path.count("/") >= 2 else ""
        if folder in KIND_OF_FOLDER:
            if path not in existed and path not in renamed:  # a contribution made before candidates were kept
                with _page_errors(path):
                    _forget_section(work, doc_id, path)
        else:
            work.delete(path)
    if work.view.exists(pages.tree_path(doc_id)):
        work.m.deletes.add(pages.tree_path(doc_id))
    if doc.get("raw_path") and not keep_raw:
        work.m.deletes.add(doc["raw_path"])


def _forget_section(work: Work, doc_id: str, path: str, draft: Draft | None = None, own_id: str = "") -> None:
    text = work.current(path)
    if text is None:
        return
    meta, body = frontmatter.parse(text)
    title = work.title(path, meta.get("title", ""))
    if work.holders(path).count > work.shown and _unshown(work, path, meta, body, doc_id, title, ""):
        work.m.keeps.add(path)  # a source whose section was not shown, on a page that still has more than it shows
        return
    without = sections.remove_section(body, doc_id)
    body = _bring_on(work, path, without, draft, own_id) if without != body else without
    if not sections.section_ids(body):
        _drop_page(work, path)
        return
    kind = meta.get("type") or KIND_OF_FOLDER[path.split("/")[1]]
    sources = sections.sorted_ids(body)
    if meta.get("title") != title:
        body = sections.set_title(body, pages.heading(title))
    body = sections.set_overview(body, overview.derived_overview(title, body, work.holders(path).count, work.shown))
    updated = work.updated(sources)
    meta = {**meta, "title": title, "sources": sources,
            "description": overview.derived_description(body, title) or meta.get("description", ""), "updated": updated}
    meta = _with_aliases(work, path, meta, title)
    work.put(path, kind, title, meta["description"], pages.with_front_matter(meta, body), sources, updated)


def _bring_on(work: Work, path: str, body: str, draft: Draft | None, own_id: str) -> str:
    """A page's body after one of its shown sections went: the sources now among its first `work.shown` get theirs
    (at most the one next in line, found through an index: bounded work however many sources the page has)."""
    have = set(sections.section_ids(body))
    for row in work.holder_rows(path, work.shown):
        doc_id = row["document"]
        if doc_id not in have:
            body = sections.shown_upsert(body, doc_id, _section(row, _doc_title(work, doc_id, draft, own_id)),
                                         work.shown)
            _depends_on(work, doc_id)
    return body


def _depends_on(work: Work, doc_id: str) -> None:
    """This change wrote a section of `doc_id` (a page that appeared, one brought on): it keeps the document's summary
    as it is, so that the history ties the two and undoing the document's add is refused while this change stands
    (it would leave the section behind). A summary this change writes anyway is no keep (see Work.finish)."""
    if doc_id not in work.gone:
        work.m.keeps.add(pages.page_path("summary", doc_id))


def _drop_page(work: Work, path: str) -> None:
    """A concept or entity page that no longer exists: deleted, unless it holds your own notes; then its generated
    parts go and it stays, listing no source (lint shows it)."""
    text = work.current(path)
    if text is None:
        return
    meta, body = frontmatter.parse(text)
    page = sections.parse_page(body)
    if not page.notes.strip():
        work.delete(path)
        return
    kind = meta.get("type") or KIND_OF_FOLDER[path.split("/")[1]]
    body = f"# {page.title}\n\n{page.notes.strip()}\n" if page.title else f"{page.notes.strip()}\n"
    meta = {**meta, "description": "", "sources": [], "updated": meta.get("updated", "")}
    work.put(path, kind, meta.get("title", ""), "", pages.with_front_matter(meta, body), [], meta["updated"])


def unlink_referrers(work: Work) -> None:
    """Every link to a page this change deletes becomes plain text, on the pages the links table names (your own
    notes on those pages included), never by reading every page."""
    gone = {pages.target_of(p) for p in work.m.drop_pages}
    if not gone:
        return
    for page, _target in work.view.links_to(gone):
        if page in work.m.drop_pages:
            continue
        text = work.current(page)
        if text is None:
            continue
        fixed = unlink_unknown_of(text, gone)
        if fixed == text:
            continue
        row = work.rows.get(page)
        old = work.view.page(page) if row is None else None
        meta = row.__dict__ if row is not None else old
        if meta is not None:
            work.put(page, meta["kind"], meta["title"], meta["description"], fixed, meta["sources"],
                     meta["updated_at"])


def unlink_unknown_of(text: str, gone: set[str]) -> str:
    """`text` with the links to pages in `gone` as plain text, every other link kept."""
    from wikismith.markdown import rewrite_wikilinks

    def fix(page: str, label: str | None, original: str) -> str:
        if page not in gone:
            return original
        return label.strip() if label and label.strip() else original[2:-2].split("|", 1)[0].strip()

    return rewrite_wikilinks(text, fix)


@contextlib.contextmanager
def _page_errors(path: str):
    try:
        yield
    except sections.SectionError as exc:
        raise WikismithError(f"{path}: {exc}; mend its <!-- source:... --> markers by hand, then run the "
                             "command again (nothing was changed)") from None


def _raw_path(src, doc_id: str, old: dict | None, view: KBView, m: Mutation) -> str:
    name = unicodedata.normalize("NFC", src.name)
    name = "".join(ch if ch.isprintable() and ch not in "/\\" else "_" for ch in name).lstrip(".") or doc_id
    candidate = f"raw/{name}"
    if old and old.get("raw_path") == candidate:
        m.deletes.discard(candidate)
        return candidate
    stem, ext = posixpath.splitext(name)
    n = 1
    while view.exists(candidate) and candidate not in m.deletes:
        n += 1
        candidate = f"raw/{stem}-{n}{ext}"
    m.deletes.discard(candidate)
    return candidate


def _stem(name: str) -> str:
    stem, _ext = posixpath.splitext(name)
    return stem or name


def build_overview_mutation(view: KBView, overviews: dict[str, str], *, when: str) -> Mutation | None:
    """Set the overview of each page (under the lock, over the pages as they are now); None when none is left."""
    work = Work(view, f"refresh {len(overviews)} overviews")
    for path in sorted(overviews):
        text = work.current(path)
        if text is None:
            continue  # removed since the overview was written
        with _page_errors(path):
            meta, body = frontmatter.parse(text)
            body = sections.set_overview(body, unlink_unknown(overviews[path], frozenset()))
        updated = str(meta.get("updated", ""))
        work.put(path, str(meta.get("type", "concept")), str(meta.get("title", "")), str(meta.get("description", "")),
                 pages.with_front_matter(meta, body), list(meta.get("sources") or []), updated)
    if not work.written:
        return None
    return work.finish((when, "refresh", f"overviews of {len(work.written)} pages"))
