"""Turn a Draft into a Mutation against the KB as it is now. Runs under the exclusive lock, in milliseconds.

What it guarantees: a re-added edited document replaces its old contributions (never duplicates them), a
concept or entity page holds one section per contributing document, a page whose last section goes is deleted,
index.md lists every page, log.md gets one line, and no written page links to a page that will not exist.
"""

from __future__ import annotations

import contextlib
import json
import posixpath
import unicodedata
from dataclasses import dataclass

from wikismith.compile.draft import Contribution, Draft
from wikismith.errors import WikismithError
from wikismith.store.mutation import DocumentRow, Mutation, PageRow
from wikismith.store.view import KBView
from wikismith.wiki import frontmatter, index_splice, pages, scaffold, sections
from wikismith.wiki.links import unlink_unknown
from wikismith.wiki.slug import slugify

MAX_OVERVIEW_CHARS = 400


@dataclass
class MergeResult:
    action: str  # "added", "updated" or "skipped"
    doc_id: str
    mutation: Mutation | None
    reason: str = ""


def build_mutation(draft: Draft, view: KBView, *, when: str, raw_bytes: bytes | None) -> MergeResult:
    src = draft.source
    same = view.document_by_hash(src.hash)
    if same is not None:
        return MergeResult("skipped", same["id"], None, f"same content as {same['name']} (already in the KB)")
    old = view.document_by_source(src.source_path) if src.source_path else None
    doc_id = old["id"] if old else _free_id(slugify(_stem(src.name)), view)
    m = Mutation(label=f"{'update' if old else 'add'} {src.name}")
    work = _Work(view, m)
    if old:
        _forget(doc_id, old, view, work)

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
            _add_section(work, path, work.current(path), c, doc_id, draft, when, known)

    linked = {"concept": [], "entity": []}
    for path, c in planned.items():
        linked[c.kind].append((pages.target_of(path), work.titles.get(path, c.title)))
    summary_text = unlink_unknown(pages.render_summary(doc_id, draft, linked, when), known)
    work.put(summary, "summary", draft.title, draft.description, summary_text, [doc_id], when)
    # Links inside a converted document are the document's, not the wiki's: kept as text, never as broken links.
    source_text = pages.render_source(doc_id, draft.title, draft.description, src.origin,
                                      unlink_unknown(draft.source_markdown, frozenset()))
    work.put(source, "source", draft.title, draft.description, source_text, [doc_id], when)
    tree = pages.tree_path(doc_id)
    if draft.tree:
        m.writes[tree] = pages.render_tree_json(draft.tree).encode("utf-8")
        m.deletes.discard(tree)
    raw_path = _raw_path(src, doc_id, old, view, m) if raw_bytes is not None else None
    if raw_path:
        m.writes[raw_path] = raw_bytes

    work.finish()
    m.writes["wiki/index.md"] = work.index_text().encode("utf-8")
    verb = "update" if old else "add"
    # No wikilinks in the log: it is append-only, and a later removal must not leave a broken link behind.
    m.appends["wiki/log.md"] = scaffold.log_line(when, verb, f"{src.name} as summaries/{doc_id}").encode()
    meta = {"warnings": draft.warnings, "page_count": draft.page_count, "size": src.size,
            "tree": bool(draft.tree), "title": draft.title}
    m.put_documents.append(DocumentRow(id=doc_id, name=src.name, kind=src.kind, hash=src.hash, origin=src.origin,
                                       added_at=when, source_path=src.source_path, raw_path=raw_path,
                                       meta=json.dumps(meta, sort_keys=True)))
    return MergeResult("updated" if old else "added", doc_id, m)


def _free_id(base: str, view: KBView) -> str:
    candidate, n = base, 1
    while view.has_document(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


class _Work:
    """The pages this merge has touched so far, over the KB as it is."""

    def __init__(self, view: KBView, mutation: Mutation):
        self.view = view
        self.m = mutation
        self.written: dict[str, str] = {}
        self.rows: dict[str, PageRow] = {}
        self.titles: dict[str, str] = {}

    def current(self, path: str) -> str | None:
        if path in self.written:
            return self.written[path]
        if path in self.m.deletes:
            return None
        return self.view.read(path)

    def put(self, path, kind, title, description, text, sources, when) -> None:
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

    def finish(self) -> None:
        for path, text in self.written.items():
            self.m.writes[path] = text.encode("utf-8")
        self.m.put_pages = [self.rows[p] for p in sorted(self.rows)]

    def index_text(self) -> str:
        """index.md after this change: spliced where it can be, rendered whole where it must be."""
        changes = {p: (r.kind, r.title, r.description) for p, r in self.rows.items()}
        changes.update({p: None for p in self.m.drop_pages})
        old_kinds = self.view.kinds_of(set(changes))
        current = self.view.read("wiki/index.md")
        spliced = index_splice.splice(current, changes, old_kinds, self.view.successor) if current else None
        return spliced if spliced is not None else pages.render_index(self.index_rows())

    def index_rows(self) -> list[tuple[str, str, str, str]]:
        rows = {path: (kind, path, title, desc) for kind, path, title, desc in self.view.index_rows()}
        for path in self.m.drop_pages:
            rows.pop(path, None)
        for path, row in self.rows.items():
            rows[path] = (row.kind, path, row.title, row.description)
        return list(rows.values())


def _add_section(work: _Work, path, current, c, doc_id, draft, when, known) -> None:
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
    meta = {**meta, "type": c.kind, "title": title, "description": description, "sources": sources, "updated": when}
    work.put(path, c.kind, title, description, pages.with_front_matter(meta, body), sources, when)


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


def _forget(doc_id: str, old: dict, view: KBView, work: _Work) -> None:
    """Remove every contribution of an existing document: its sections, and pages left with none."""
    for path in view.pages_of_document(doc_id):
        kind = path.split("/")[1] if path.count("/") >= 2 else ""
        if kind in ("concepts", "entities"):
            with _page_errors(path):
                _forget_sections(doc_id, path, kind, work)
        else:
            work.delete(path)
    if view.exists(pages.tree_path(doc_id)):
        work.m.deletes.add(pages.tree_path(doc_id))
    if old.get("raw_path"):
        work.m.deletes.add(old["raw_path"])


def _forget_sections(doc_id: str, path: str, kind: str, work: _Work) -> None:
    text = work.current(path)
    if text is None:
        return
    meta, body = frontmatter.parse(text)
    body = sections.remove_section(body, doc_id)
    if not sections.section_ids(body):
        work.delete(path)
        return
    sources = [s for s in meta.get("sources") or [] if s != doc_id]
    body = sections.set_overview(body, _derived_overview(meta.get("title", ""), body, len(sources)))
    meta = {**meta, "sources": sources, "description": _derived_description(body) or meta.get("description", "")}
    work.put(path, meta.get("type", kind[:-1]), meta.get("title", ""), meta["description"],
             pages.with_front_matter(meta, body), sources, meta.get("updated", ""))


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
    m = Mutation(label=f"refresh {len(overviews)} overviews")
    work = _Work(view, m)
    for path in sorted(overviews):
        text = work.current(path)
        if text is None:
            continue  # removed since the overview was written
        with _page_errors(path):
            meta, body = frontmatter.parse(text)
            body = sections.set_overview(body, unlink_unknown(overviews[path], frozenset()))
        work.put(path, str(meta.get("type", "concept")), str(meta.get("title", "")), str(meta.get("description", "")),
                 pages.with_front_matter({**meta, "updated": when}, body), list(meta.get("sources") or []), when)
    if not work.written:
        return None
    work.finish()
    m.appends["wiki/log.md"] = scaffold.log_line(when, "refresh", f"overviews of {len(work.written)} pages").encode()
    return m
