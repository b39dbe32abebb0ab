"""`remove`: take documents out of the KB, one transaction each, with no model call; and naming documents.

A document is named by its id, its name, the path or URL it came from, its PageIndex Cloud id, or a unique prefix
(three characters at least) of any of them. A name that fits several documents lists them and changes nothing.
An answer saved as an exploration page is removed the same way, by its name (`explorations/<slug>`, the slug or
its title).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from wikismith import clock
from wikismith.errors import UsageError
from wikismith.store.mutation import Mutation
from wikismith.wiki.merge import KIND_OF_FOLDER, build_page_removal, build_removal

MIN_PREFIX = 3
CLOUD = "pageindex-cloud:"


def _keys(doc: dict) -> set[str]:
    if doc.get("exploration"):  # a saved answer: by its page, its slug or its title
        return {doc["id"], doc["id"].split("/", 1)[1], doc["name"]}
    keys = {doc["id"], doc["name"], doc["origin"]}
    if doc.get("source_path"):
        keys.add(doc["source_path"])
    if doc["origin"].startswith(CLOUD):
        keys.add(doc["origin"][len(CLOUD):])
    return {k for k in keys if k}


def resolve(documents: list[dict], name: str, *, cwd: str | None = None) -> dict:
    """The one document `name` means; UsageError (exit 2) naming the candidates when it means several or none."""
    if not name.strip():
        raise UsageError("an empty name names no document")
    absolute = os.path.abspath(os.path.join(cwd or os.getcwd(), name))
    exact = [d for d in documents if name in _keys(d) or d.get("source_path") == absolute]
    if len(exact) == 1:
        return exact[0]
    if not exact and len(name) >= MIN_PREFIX:
        exact = [d for d in documents if any(k.startswith(name) for k in _keys(d))]
        if len(exact) == 1:
            return exact[0]
    if exact:
        shown = "\n".join(f"  {d['id']}  ({d.get('source_path') or d['origin']})" for d in exact[:20])
        more = f"\n  ... and {len(exact) - 20} more" if len(exact) > 20 else ""
        raise UsageError(f"{name!r} names {len(exact)} documents; name one of them by its id:\n{shown}{more}")
    hint = f" (a prefix needs at least {MIN_PREFIX} characters)" if len(name) < MIN_PREFIX else ""
    raise UsageError(f"no document is named {name!r}{hint}; `wikismith list` shows every document")


@dataclass
class Plan:
    """What removing one document does, computed over the KB as it is."""

    id: str
    name: str
    pages_deleted: list[str]
    pages_changed: list[str]
    pages_kept_for_notes: list[str]
    rows: dict[str, int]
    raw_file: str | None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class RemoveReport:
    dry_run: bool
    plans: list[Plan] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    overviews: dict | None = None

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "documents": [p.as_dict() for p in self.plans], "removed": self.removed,
                "overviews": self.overviews}


def plan_of(doc: dict, mutation: Mutation) -> Plan:
    kept_for_notes = sorted(p.path for p in mutation.put_pages if not p.sources
                            and p.path.split("/")[1] in KIND_OF_FOLDER)
    return Plan(
        id=doc["id"], name=doc["name"],
        pages_deleted=sorted(mutation.drop_pages),
        pages_changed=sorted(p.path for p in mutation.put_pages if p.path not in kept_for_notes),
        pages_kept_for_notes=kept_for_notes,
        rows={"documents": len(mutation.drop_documents), "pages": len(mutation.drop_pages) + len(mutation.put_pages)},
        raw_file=next((p for p in sorted(mutation.deletes) if p.startswith("raw/")), None),
    )


def documents(store, names: list[str], cwd: str | None = None, *, explorations: bool = True) -> list[dict]:
    """The documents (or, with explorations, saved answers) `names` mean, each once, in the order named."""
    with store.snapshot() as view:
        every = view.documents() + ([
            {"id": path[len("wiki/"):-len(".md")], "name": title, "origin": "exploration", "source_path": None,
             "raw_path": None, "exploration": path} for path, title, _ in view.kind_rows("exploration")]
            if explorations else [])
    chosen: list[dict] = []
    for name in names:
        doc = resolve(every, name, cwd=cwd)
        if doc["id"] not in {d["id"] for d in chosen}:
            chosen.append(doc)
    return chosen


def plan(store, names: list[str], *, keep_raw: bool = False, cwd: str | None = None) -> list[tuple[dict, Plan]]:
    """The documents `names` mean and what removing each would do (nothing is changed)."""
    view = store.view()
    when = clock.now_iso()
    return [(doc, plan_of(doc, _removal(doc, view, when, keep_raw))) for doc in documents(store, names, cwd)]


def _removal(doc: dict, view, when: str, keep_raw: bool) -> Mutation:
    if doc.get("exploration"):
        return build_page_removal(doc["exploration"], view, when=when)
    return build_removal(doc, view, when=when, keep_raw=keep_raw)


def remove(store, names: list[str], *, dry_run: bool = False, keep_raw: bool = False, cwd: str | None = None,
           confirm=None) -> RemoveReport:
    """Remove the named documents, one transaction each (`confirm(plans)` may still say no: nothing changes).
    With a model configured, the overviews of the pages that lost a section are rewritten afterwards."""
    from wikismith import config, envfile
    from wikismith.ops.add.model import Model

    if dry_run or confirm is not None:
        planned = plan(store, names, keep_raw=keep_raw, cwd=cwd)
        report = RemoveReport(dry_run=dry_run, plans=[p for _, p in planned])
        if dry_run or not confirm(report.plans):
            return report
        chosen = [doc for doc, _ in planned]
    else:  # nobody to ask: the plans reported are those of the removals as applied
        chosen = documents(store, names, cwd)
        report = RemoveReport(dry_run=False)
    model = Model.for_config(config.load(store.root), envfile.environment(store.root))
    changed: dict[str, list[str]] = {}
    for doc in chosen:
        done: list[Mutation] = []

        def build(view, doc=doc):
            fresh = doc if doc.get("exploration") and view.kinds_of({doc["exploration"]}) \
                else view.document(doc["id"])
            if fresh is None:
                return None  # removed meanwhile by another process
            done.append(_removal(fresh, view, clock.now_iso(), keep_raw))
            return done[-1]

        if store.change(build) is not None:
            report.removed.append(doc["id"])
            if confirm is None:
                report.plans.append(plan_of(doc, done[-1]))
            for row in done[-1].put_pages:
                if row.sources and row.path.split("/")[1] in KIND_OF_FOLDER:
                    changed[row.path] = []
    if model is not None and changed:
        report.overviews = model.refresh_remaining(store, sorted(changed))
    return report
