"""One file into the KB, and the common end of every add: compile without the lock, merge and apply under it."""

from __future__ import annotations

import hashlib
import os

from wikismith import clock
from wikismith.errors import WikismithError
from wikismith.ops.add import FileOutcome
from wikismith.ops.add.files import read_source
from wikismith.store import interrupts


def add_file(store, path: str, limits, dry_run: bool, model, item) -> None:
    from wikismith.compile.draft import SourceInfo
    from wikismith.ingest import convert, sniff

    try:
        data = read_source(path, limits.max_file_bytes)
    except OSError as exc:
        raise WikismithError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    digest = hashlib.sha256(data).hexdigest()
    if settled(store, path, path, digest, len(data), dry_run, model, item):
        return
    item.phase("converting")
    doc = convert(path, limits)
    adopt = in_raw(store.root, path)
    # An adopted file is known by its place in raw/, not by an absolute path that a moved KB would make wrong.
    source = SourceInfo(name=os.path.basename(path), origin=f"file:{os.path.basename(path)}", hash=digest,
                        kind=sniff(path), source_path=None if adopt else path, raw_file=path, size=len(data))
    land(store, path, doc, source, data, model, item, adopt=adopt)


def settled(store, label: str, source_path: str, digest: str, size: int, dry_run: bool, model, item) -> bool:
    """Whether the outcome is known before any conversion: the same content is already in the KB (skipped), or
    this is a dry run (would add, or would update the document from the same source). Records it when so."""
    view = store.view()
    same = view.document_by_hash(digest)
    if same is not None:
        item.done(FileOutcome(label, "skipped", f"same content as {same['name']} (already in the KB)", same["id"]))
        return True
    if dry_run:
        old = view.document_by_source(source_path)
        estimate = model.estimate(size) if model is not None else None
        item.done(FileOutcome(label, "would-update" if old else "would-add", "", old["id"] if old else "",
                              usage=estimate))
        return True
    return False


def in_raw(root: str, path: str) -> str | None:
    """The KB-relative path of a file that already lies under the KB's raw/ (dropped there by hand or found by the
    watcher): it is adopted in place as its document's raw file. None for any other file, a symbolic link, or a
    name a Mutation cannot carry (it is then copied, as any other file)."""
    from wikismith.store.mutation import InvalidPath, check_relpath

    if os.path.islink(path):
        return None
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(root)).replace(os.sep, "/")
    if not rel.startswith("raw/"):
        return None
    try:
        return check_relpath(rel)
    except InvalidPath:
        return None


def land(store, label: str, doc, source, data: bytes | None, model, item, adopt: str | None = None) -> None:
    """Compile `doc` (no lock), then merge the draft into the KB as it is and apply it, through the change seam.
    The outcome is recorded with Ctrl-C held, so that a commit is never left out of the report."""
    from wikismith.compile.extractive import compile_document

    item.phase("compiling")
    usage = None
    if model is None:
        draft = compile_document(doc, source)
    else:
        draft, usage = model.compile(store, doc, source)
    commit(store, label, draft, data, model, item, usage, adopt=adopt)


def commit(store, label: str, draft, data: bytes | None, model, item, usage: dict | None = None,
           adopt: str | None = None) -> None:
    """Merge a prepared draft into the KB as it is now and apply it (the applier's half, serial or parallel)."""
    from wikismith.wiki.merge import build_mutation

    item.phase("writing")
    merged = []

    def build(view):
        merged.append(build_mutation(draft, view, when=clock.now_iso(), raw_bytes=data, adopt=adopt))
        return merged[-1].mutation

    with interrupts.deferred():
        store.change(build)
        result = merged[-1]
        item.done(FileOutcome(label, result.action, result.reason, result.doc_id, list(draft.warnings), usage=usage))
    if model is not None and result.mutation is not None:
        model.note_sections(draft, result.mutation)
