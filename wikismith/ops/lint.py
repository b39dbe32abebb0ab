"""`lint`: what is wrong or worth a look in the wiki, read-only unless asked to fix or save.

Read-only, it answers from a registry snapshot and the files, so it works on a dirty KB and from a read-only front
end. `--fix` applies, in one transaction, only the fixes that restore what the KB itself generated (recompiling
documents whose pages were deleted by hand, a fresh index.md, broken links on generated pages turned into plain
text): it never deletes or rewrites a file you created. `--save` writes the report as a page under reports/.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from wikismith import clock
from wikismith.markdown import wikilinks
from wikismith.wiki import catalog, frontmatter, pages
from wikismith.wiki.check import CONTROL

REQUIRED_FIELDS = ("type", "title", "description", "sources")
MAX_LLM_PAGES = 5  # pages a model reads for contradictions, stale claims and gaps: a bounded sample
MAX_LLM_CHARS = 6_000


@dataclass(frozen=True)
class Finding:
    kind: str
    page: str
    detail: str
    fixable: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class LintReport:
    findings: list[Finding] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)  # what --fix did, a line each
    saved: str | None = None  # the report page --save wrote
    llm: dict | None = None  # estimate before, usage after, or why it was skipped

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for f in self.findings:
            counts[f.kind] += 1
        return dict(sorted(counts.items()))

    def as_dict(self) -> dict:
        return {"findings": [f.as_dict() for f in self.findings], "counts": self.counts(), "fixed": self.fixed,
                "saved": self.saved, "llm": self.llm}


# -- the checks -----------------------------------------------------------------------------------------------------

@dataclass
class _Pass:
    """One read of every page, shared by the checks."""

    registered: dict[str, dict]  # path -> registry row (kind, title, sources)
    texts: dict[str, str]  # path -> text, for every .md file under wiki/ (registered or not)
    links: dict[str, list[str]]  # path -> link targets, for every text
    index: str


def _read_all(view) -> _Pass:
    registered = {path: {"kind": kind, "title": title} for kind, path, title in view.pages()}
    texts: dict[str, str] = {}
    for rel in view.files_under("wiki", hidden=False):
        name = rel.rsplit("/", 1)[-1]
        if not name.endswith(".md") or name.startswith("."):
            continue
        text = view.read(rel)
        if text is not None:
            texts[rel] = text
    links = {path: wikilinks(text) for path, text in texts.items()}
    return _Pass(registered, texts, links, texts.get("wiki/index.md", ""))


def findings(view) -> list[Finding]:
    p = _read_all(view)
    out: list[Finding] = []
    special = {path for path in p.texts if path in ("wiki/AGENTS.md", "wiki/log.md") or catalog.is_catalog(path)}
    targets = {pages.target_of(path) for path in p.registered}
    on_disk_targets = {pages.target_of(path) for path in p.texts if path not in special}
    shard_targets = {pages.target_of(path) for path in p.texts if catalog.is_catalog(path) and path != catalog.INDEX}
    mine = {path for path in p.texts if path not in p.registered and path not in special}

    for path, found in sorted(p.links.items()):
        if path == "wiki/log.md":
            continue
        for target in sorted(set(found)):
            if target not in targets and target not in on_disk_targets and target not in shard_targets:
                fixable = path in p.registered or catalog.is_catalog(path)
                out.append(Finding("broken-link", path, f"links to [[{target}]], which does not exist", fixable))

    listed: dict[str, int] = defaultdict(int)
    for path in special:
        if catalog.is_catalog(path):
            for target in p.links.get(path, []):
                if not target.startswith("index/"):
                    listed[target] += 1
    linked_from_pages = {t for path, found in p.links.items() if path not in special for t in found}
    for path in sorted(p.registered):
        target = pages.target_of(path)
        if path not in p.texts:
            continue  # reported below, with the document it belongs to
        if target not in listed:
            out.append(Finding("missing-from-index", path, "listed neither in wiki/index.md nor in its shards", True))
        elif listed[target] > 1:
            out.append(Finding("listed-twice", path, f"listed {listed[target]} times in the catalogue", True))
        if target not in linked_from_pages:
            out.append(Finding("orphan", path, "no page links to it (the catalogue aside)"))
    for target in sorted(set(listed) - targets):
        out.append(Finding("index-without-page", "wiki/index.md", f"lists [[{target}]], which is no page", True))

    for path, text in sorted(p.texts.items()):
        if path in special:
            continue
        bad = CONTROL.search(text)
        if bad:
            line = text.count("\n", 0, bad.start()) + 1
            out.append(Finding("control-bytes", path, f"holds the control byte {bad.group()!r} on line {line}"))
        if path not in p.registered:
            continue
        meta, _ = frontmatter.parse(text)
        missing = [f for f in REQUIRED_FIELDS if f not in meta]
        if not meta:
            out.append(Finding("front-matter", path, "has no front matter"))
        elif missing:
            out.append(Finding("front-matter", path, f"front matter lacks {', '.join(missing)}"))
        elif meta.get("type") != p.registered[path]["kind"]:
            out.append(Finding("front-matter", path, f"type is {meta.get('type')!r}, the registry says "
                                                    f"{p.registered[path]['kind']!r}"))
        if meta.get("sources") == [] and p.registered[path]["kind"] in ("concept", "entity"):
            out.append(Finding("notes-only", path, "kept only for your notes: no document feeds it any more"))

    for path in sorted(mine):
        out.append(Finding("not-registered", path, "a file the KB does not know (yours?): reported, never removed"))

    raw = view.raw_paths()
    for rel in view.files_under("raw"):
        if rel not in raw:
            out.append(Finding("raw-orphan", rel, "no document names this file"))
    for rel, doc_id in sorted(raw.items()):
        if not view.exists(rel):
            out.append(Finding("raw-missing", rel, f"the original of {doc_id} is missing"))

    accounted: set[str] = set()
    for doc in view.documents():
        missing_pages = [path for path in view.pages_of_document(doc["id"]) if path not in p.texts]
        accounted.update(missing_pages)
        for kind in ("summary", "source"):
            path = pages.page_path(kind, doc["id"])
            if path not in p.registered and path not in missing_pages:
                missing_pages.append(path)
        if missing_pages:
            out.append(Finding("deleted-page", doc["id"], "pages deleted by hand: " + ", ".join(sorted(missing_pages)),
                               True))
    for path in sorted(set(p.registered) - set(p.texts) - accounted):
        out.append(Finding("missing-page", path, "registered, but the file was deleted by hand", True))

    out += _near_duplicates(p.registered)
    return out


_TRAILING = re.compile(r"\s+(type|types|class|object|objects)$")


def _near_duplicates(registered: dict[str, dict]) -> list[Finding]:
    """Concept and entity pages that probably mean one thing: the same name once normalised (case, plural,
    punctuation), or "X" and "X type". Reported only: which one to keep is the reader's call."""
    from wikismith.compile.lexicon import normalize

    groups: dict[str, list[str]] = defaultdict(list)
    for path, row in registered.items():
        if row["kind"] in ("concept", "entity"):
            key = _TRAILING.sub("", normalize(row["title"]) or row["title"].lower())
            groups[key].append(path)
    return [Finding("near-duplicate", paths[0], "probably the same as " + ", ".join(paths[1:]))
            for key, paths in sorted(groups.items()) if len(paths) > 1 for paths in [sorted(paths)]]


# -- the command ----------------------------------------------------------------------------------------------------

def lint(store, *, fix: bool = False, save: bool = False, llm: bool = True) -> LintReport:
    report = LintReport()
    with store.snapshot() as view:
        report.findings = findings(view)
    if llm:
        report.llm = _model_checks(store, report)
    if fix and any(f.fixable for f in report.findings):
        report.fixed = _fix(store, report.findings)
        with store.snapshot() as view:
            report.findings = findings(view)
    if save:
        report.saved = _save(store, report)
    return report


def _fix(store, found: list[Finding]) -> list[str]:
    """One transaction: recompile documents whose pages were deleted, turn broken links on pages the KB generated
    into plain text, and write index.md afresh."""
    from wikismith import config, envfile
    from wikismith.ingest import Limits
    from wikismith.ops.add.model import Model
    from wikismith.ops.recompile import stored_source
    from wikismith.wiki.merge import recompile_into, unlink_unknown_of
    from wikismith.wiki.work import Work

    cfg = config.load(store.root)
    model = Model.for_config(cfg, envfile.environment(store.root))
    limits = Limits.from_config(cfg)
    drafts = []
    done: list[str] = []
    for f in found:
        if f.kind == "deleted-page":
            doc = store.view().document(f.page)
            converted, source = stored_source(store, doc, limits)
            if model is None:
                from wikismith.compile.extractive import compile_document

                drafts.append((doc["id"], compile_document(converted, source)))
            else:
                drafts.append((doc["id"], model.compile(store, converted, source)[0]))
    broken = defaultdict(set)
    for f in found:
        if f.kind == "broken-link" and f.fixable and not catalog.is_catalog(f.page):
            broken[f.page].add(f.detail.split("[[", 1)[1].split("]]", 1)[0])

    gone_pages = [f.page for f in found if f.kind == "missing-page"]

    def build(view):
        work = Work(view, "lint --fix")
        for path in gone_pages:
            work.m.drop_pages.add(path)
            done.append(f"{path}: forgotten (its file was deleted)")
        for doc_id, draft in drafts:
            doc = view.document(doc_id)
            if doc is not None:
                recompile_into(work, draft, doc)
                done.append(f"recompiled {doc_id}")
        for path, gone in sorted(broken.items()):
            text = work.current(path)
            row = work.rows.get(path)
            old = view.page(path) if row is None else None
            if text is None or (row is None and old is None):
                continue
            fixed = unlink_unknown_of(text, gone)
            if fixed != text:
                if row is not None:
                    work.put(path, row.kind, row.title, row.description, fixed, row.sources, row.updated_at)
                else:
                    work.put(path, old["kind"], old["title"], old["description"], fixed, old["sources"],
                             old["updated_at"])
                done.append(f"{path}: links to {', '.join(sorted(gone))} made plain text")
        m = work.finish((clock.now_iso(), "lint", "fixed " + (", ".join(done) or "the index")), full_index=True)
        done.append("wrote the catalogue (wiki/index.md and its shards) afresh from the registry")
        return m

    store.change(build)
    return done


def _save(store, report: LintReport) -> str:
    from wikismith.wiki.work import Work

    stamp = clock.now_iso().replace(":", "").replace("-", "")
    path = f"wiki/reports/lint-{stamp}.md"
    counts = report.counts()
    lines = [pages.heading(f"Lint report {clock.now_iso()}"), "",
             f"{len(report.findings)} finding(s)" + (": " + ", ".join(f"{n} {k}" for k, n in counts.items())
                                                    if counts else "."), ""]
    for f in report.findings:
        lines.append(f"- **{f.kind}** `{f.page}`: {f.detail.replace('[[', '`').replace(']]', '`')}")
    if report.fixed:
        lines += ["", "## Fixed", ""] + [f"- {line}" for line in report.fixed]
    body = "\n".join(lines) + "\n"
    title = f"Lint report {clock.now_iso()}"
    description = f"{len(report.findings)} finding(s)"

    def build(view):
        work = Work(view, "lint --save")
        target = path
        n = 1
        while work.current(target) is not None:  # never overwrite: a second report in the same second
            n += 1
            target = f"wiki/reports/lint-{stamp}-{n}.md"
        meta = {"type": "report", "title": title, "description": description, "sources": []}
        work.put(target, "report", title, description, pages.with_front_matter(meta, body), [], clock.now_iso())
        saved.append(target)
        return work.finish((clock.now_iso(), "lint", f"saved reports/{target.rsplit('/', 1)[1][:-3]}"))

    saved: list[str] = []
    store.change(build)
    return saved[-1]


def _model_checks(store, report: LintReport) -> dict | None:
    """With a model: contradictions between sources, stale claims and gaps, over the pages with the most sources
    (a bounded sample), the cost estimated first and reported after."""
    from wikismith import config, envfile
    from wikismith.errors import WikismithError

    cfg = config.load(store.root)
    if str(cfg.get("model", "offline")) == "offline":
        return None
    with store.snapshot() as view:
        sample = view.pages_with_most_sources(("concept", "entity"), MAX_LLM_PAGES)
    estimate = {"calls": len(sample), "tokens_in": len(sample) * (MAX_LLM_CHARS // 4 + 400),
                "tokens_out": len(sample) * 300}
    if not sample:
        return {"estimate": estimate, "pages": 0}
    from wikismith.compile.llm_compiler import check_page
    from wikismith.llm import client_for

    client = client_for(cfg, envfile.environment(store.root))
    view = store.view()
    try:
        for path in sample:
            text = view.read(path)
            if text is None:
                continue
            meta, body = frontmatter.parse(text)
            for item in check_page(client, title=str(meta.get("title", path)), body=body[:MAX_LLM_CHARS],
                                   language=str(cfg.get("language", "en"))):
                report.findings.append(Finding(item["kind"], path, item["detail"]))
    except WikismithError as exc:
        return {"estimate": estimate, "failed": str(exc), "usage": _usage(client)}
    return {"estimate": estimate, "pages": len(sample), "usage": _usage(client)}


def _usage(client) -> dict:
    u = client.usage.snapshot()
    return {"calls": u.calls, "tokens_in": u.tokens_in, "tokens_out": u.tokens_out, "cost": u.cost}
