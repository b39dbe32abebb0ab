"""Turn a Draft into a Mutation against the KB as it is now, and take a document's contributions out again. Runs
under the exclusive lock, in milliseconds.

What it guarantees: a re-added edited document replaces its old contributions (never duplicates them), a
concept or entity page holds one section per contributing document, a page whose last section goes is deleted
(unless it holds your own notes), index.md lists every page, log.md gets one line, and no written page links to a
page that will not exist. Every page is a function of the sections it holds: its overview and description come
from them, and its `updated` is the newest time one of its sources was added, so removing a document gives back
the pages as they were before it came.
"""

from __future__ import annotations

import contextlib
import json
import posixpath
import unicodedata
from dataclasses import dataclass

from wikismith.compile.draft import Contribution, Draft
from wikismith.errors import WikismithError
from wikismith.store.mutation import DocumentRow, Mutation
from wikismith.store.view import KBView
from wikismith.wiki import frontmatter, pages, sections
from wikismith.wiki.links import unlink_unknown
from wikismith.wiki.slug import slugify
from wikismith.wiki.work import Work

MAX_OVERVIEW_CHARS = 400
KIND_OF_FOLDER = {"concepts": "concept", "entities": "entity"}  # pages built from sections, by folder


@dataclass
class MergeResult:
    action: str  # "added", "updated" or "skipped"
    doc_id: str
    mutation: Mutation | None
    reason: str = ""


def build_mutation(draft: Draft, view: KBView, *, when: str, raw_bytes: bytes | None) -> MergeResult:
    """Add a document (or update the one added from the same path)."""
    src = draft.source
    same = view.document_by_hash(src.hash)
    if same is not None:
        return MergeResult("skipped", same["id"], None, f"same content as {same['name']} (already in the KB)")
    old = view.document_by_source(src.source_path) if src.source_path else None
    doc_id = old["id"] if old else _free_id(slugify(_stem(src.name)), view)
    verb = "update" if old else "add"
    work = Work(view, f"{verb} {src.name}")
    if old:
        forget(work, old)
    raw_path = _raw_path(src, doc_id, old, view, work.m) if raw_bytes is not None else None
    contribute(work, draft, doc_id, when)
    if raw_path:
        work.m.writes[raw_path] = raw_bytes
    m = work.finish((when, verb, f"{src.name} as summaries/{doc_id}"))
    m.put_documents.append(_document_row(draft, doc_id, when, raw_path))
    return MergeResult("updated" if old else "added", doc_id, m)


def build_recompile(draft: Draft, doc: dict, view: KBView, *, when: str) -> Mutation:
    """Rebuild a document's contribution from a fresh draft of its stored source; its raw file and the time it was
    added stay, so recompiling an up-to-date document changes nothing but the log."""
    work = Work(view, f"recompile {doc['name']}")
    recompile_into(work, draft, doc)
    m = work.finish((when, "recompile", f"{doc['name']} (summaries/{doc['id']})"))
    return None if _changes_nothing(m, view) else m


def _changes_nothing(m: Mutation, view: KBView) -> bool:
    """Whether applying `m` would leave every file and registry row as it is (its log line aside)."""
    if m.deletes or m.drop_pages or m.drop_documents:
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
    return True


def recompile_into(work: Work, draft: Draft, doc: dict) -> None:
    forget(work, doc, keep_raw=True)
    contribute(work, draft, doc["id"], doc["added_at"])
    work.m.put_documents.append(_document_row(draft, doc["id"], doc["added_at"], doc["raw_path"]))


def build_removal(doc: dict, view: KBView, *, when: str, keep_raw: bool = False) -> Mutation:
    """Take a document out: its sections leave every page, pages left with none go (unless they hold your own
    notes), and every link to a page that goes becomes plain text. No model call is needed to forget."""
    work = Work(view, f"remove {doc['name']}")
    forget(work, doc, keep_raw=keep_raw)
    unlink_referrers(work)
    m = work.finish((when, "remove", f"{doc['name']} (was summaries/{doc['id']})"))
    m.drop_documents.add(doc["id"])
    return m


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


# -- adding a document's contribution -------------------------------------------------------------------------------

def contribute(work: Work, draft: Draft, doc_id: str, added_at: str) -> None:
    """The document's sections on concept and entity pages, its summary, source page and tree."""
    src = draft.source
    work.added_at[doc_id] = added_at
    work.gone.discard(doc_id)
    # Which concept and entity pages this document reaches: every strong one, and weak ones that exist already.
    planned: dict[str, Contribution] = {}
    for c in sorted(draft.contributions, key=lambda c: (c.kind, c.key)):
        path = pages.page_path(c.kind, slugify(c.key))
        if path not in planned and (c.strong or work.current(path) is not None):
            planned[path] = c
    summary, source = pages.page_path("summary", doc_id), pages.page_path("source", doc_id)
    known = {pages.target_of(p) for p in (*planned, summary, source)}
    for path, c in planned.items():
        with _page_errors(path):
            _add_section(work, path, work.current(path), c, doc_id, draft, known)

    linked = {"concept": [], "entity": []}
    for path, c in planned.items():
        linked[c.kind].append((pages.target_of(path), work.titles.get(path, c.title)))
    summary_text = unlink_unknown(pages.render_summary(doc_id, draft, linked, added_at), known)
    work.put(summary, "summary", draft.title, draft.description, summary_text, [doc_id], added_at)
    # Links inside a converted document are the document's, not the wiki's: kept as text, never as broken links.
    source_text = pages.render_source(doc_id, draft.title, draft.description, src.origin,
                                      unlink_unknown(draft.source_markdown, frozenset()))
    work.put(source, "source", draft.title, draft.description, source_text, [doc_id], added_at)
    tree = pages.tree_path(doc_id)
    if draft.tree:
        work.m.writes[tree] = pages.render_tree_json(draft.tree).encode("utf-8")
        work.m.deletes.discard(tree)


def _add_section(work: Work, path, current, c, doc_id, draft, known) -> None:
    """Splice this document's section into the page; the work is proportional to the change, not the page."""
    meta, body = frontmatter.parse(current) if current else ({}, "")
    title = meta.get("title") or c.title
    work.titles[path] = title
    if not body.strip():
        body = pages.heading(title) + "\n"
    # A section may link only to pages this document contributes to: they keep this document's section, so they
    # exist as long as the section does. Anything else becomes plain text.
    section = unlink_unknown(c.section, known)
    body = sections.upsert_section(body, doc_id, sections.make_section(doc_id, section, draft.title))
    sources = sorted(set(meta.get("sources") or []) | {doc_id})
    if c.overview is None and current:
        pass  # an LLM compiler refreshes the overviews of the pages an add touched, once, after the add
    else:
        overview = unlink_unknown(c.overview, frozenset()) if c.overview else _derived_overview(title, body, len(sources))
        body = sections.set_overview(body, overview)
    description = _derived_description(body) or c.description
    updated = work.updated(sources)
    meta = {**meta, "type": c.kind, "title": title, "description": description, "sources": sources,
            "updated": updated}
    work.put(path, c.kind, title, description, pages.with_front_matter(meta, body), sources, updated)


def _first_line(body: str) -> str:
    """The first line of prose of the page's first section: bounded work, however many sections there are."""
    start = body.find("<!-- source:")
    if start >= 0:
        end = body.find("<!-- /source:", start)
        for line in body[start:end].splitlines()[1:]:
            if line.strip() and not line.startswith("#"):
                return line.lstrip("-> ").strip()
    return ""


def _derived_description(body: str) -> str:
    """Always from the sections the page holds now, so it never quotes a document that is gone."""
    line = " ".join(_first_line(body).replace("**", "").split())
    return line if len(line) <= 160 else line[:159].rsplit(" ", 1)[0] + "…"


def _derived_overview(title: str, body: str, count: int) -> str:
    first = _first_line(body)
    noun = "source" if count == 1 else "sources"
    text = f"**{title}** is discussed in {count} {noun}."
    if first:
        text += f" {first}"
    return text[:MAX_OVERVIEW_CHARS].rstrip()


# -- taking a document's contribution out ---------------------------------------------------------------------------

def forget(work: Work, doc: dict, *, keep_raw: bool = False) -> None:
    """Remove every contribution of a document: its sections, pages left with none, its own pages and tree, and
    (unless keep_raw) its raw file."""
    doc_id = doc["id"]
    work.gone.add(doc_id)
    work.added_at.pop(doc_id, None)
    for path in work.view.pages_of_document(doc_id):
        folder = path.split("/")[1] if path.count("/") >= 2 else ""
        if folder in KIND_OF_FOLDER:
            with _page_errors(path):
                _forget_sections(work, doc_id, path, folder)
        else:
            work.delete(path)
    if work.view.exists(pages.tree_path(doc_id)):
        work.m.deletes.add(pages.tree_path(doc_id))
    if doc.get("raw_path") and not keep_raw:
        work.m.deletes.add(doc["raw_path"])


def _forget_sections(work: Work, doc_id: str, path: str, folder: str) -> None:
    text = work.current(path)
    if text is None:
        return
    meta, body = frontmatter.parse(text)
    body = sections.remove_section(body, doc_id)
    kind = meta.get("type") or KIND_OF_FOLDER[folder]
    sources = [s for s in meta.get("sources") or [] if s != doc_id]
    if not sections.section_ids(body):
        page = sections.parse_page(body)
        if not page.notes.strip():
            work.delete(path)
            return
        # Your own notes keep the page: its generated parts go, it lists no source, and lint shows it.
        body = f"# {page.title}\n\n{page.notes.strip()}\n" if page.title else f"{page.notes.strip()}\n"
        meta = {**meta, "description": "", "sources": [], "updated": meta.get("updated", "")}
        work.put(path, kind, meta.get("title", ""), "", pages.with_front_matter(meta, body), [], meta["updated"])
        return
    body = sections.set_overview(body, _derived_overview(meta.get("title", ""), body, len(sources)))
    updated = work.updated(sources)
    meta = {**meta, "sources": sources, "description": _derived_description(body) or meta.get("description", ""),
            "updated": updated}
    work.put(path, kind, meta.get("title", ""), meta["description"], pages.with_front_matter(meta, body), sources,
             updated)


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
        if row is not None:
            work.put(page, row.kind, row.title, row.description, fixed, row.sources, row.updated_at)
            continue
        old = work.view.page(page)
        if old is not None:
            work.put(page, old["kind"], old["title"], old["description"], fixed, old["sources"], old["updated_at"])


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
