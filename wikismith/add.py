"""`add`: files and folders into the KB, one transaction per document.

Slow work (reading, converting, compiling) happens without the lock; only the merge into the KB's current pages
and the apply hold it. A file that cannot be converted is reported and skipped; an error of the store itself (a
full disk, an I/O error) stops the command, with every document before it committed and the current one rolled back.
"""

from __future__ import annotations

import hashlib
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from wikismith import clock
from wikismith.errors import WikismithError
from wikismith.store import layout

SKIP_NAMES = {layout.STATE, "__pycache__", "node_modules"}


@dataclass
class FileOutcome:
    path: str
    status: str  # added, updated, skipped, failed, would-add, would-update
    detail: str = ""
    doc_id: str = ""
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    usage: dict | None = None  # model calls and tokens for this document (LLM compiler only)

    def as_dict(self) -> dict:
        out = {"path": self.path, "status": self.status, "detail": self.detail, "id": self.doc_id,
               "warnings": self.warnings, "seconds": round(self.seconds, 3)}
        if self.usage is not None:
            out["usage"] = self.usage
        return out


@dataclass
class AddReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    stopped: str | None = None  # why the command stopped early (a store error), if it did
    overviews: dict | None = None  # the batch refresh of overviews after an LLM add: pages, usage, or its failure

    def by_status(self, status: str) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def failed(self) -> bool:
        return bool(self.by_status("failed")) or self.stopped is not None


Progress = Callable[[int, int, str, str], None]  # (index, total, path, phase)


def expand(paths: list[str], kb_root: str) -> tuple[list[str], list[FileOutcome]]:
    """Files to add, in a stable order, and outcomes for what cannot be added at all."""
    from wikismith.ingest import SUPPORTED_SUFFIXES

    files: list[str] = []
    problems: list[FileOutcome] = []
    state_dir = os.path.join(kb_root, layout.STATE)
    for given in paths:
        path = os.path.abspath(given)
        if not os.path.lexists(path):
            problems.append(FileOutcome(given, "failed", "no such file or folder"))
        elif os.path.isdir(path):
            for folder, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_NAMES
                                 and os.path.join(folder, d) != state_dir)
                for name in sorted(names):
                    if name.startswith("."):
                        continue
                    full = os.path.join(folder, name)
                    if os.path.splitext(name)[1].lower() in SUPPORTED_SUFFIXES:
                        files.append(full)
                    else:
                        problems.append(FileOutcome(full, "skipped", "not a supported document type"))
        else:
            files.append(path)
    seen: set[str] = set()
    unique = [f for f in files if not (f in seen or seen.add(f))]
    return unique, problems


def read_source(path: str, max_bytes: int) -> bytes:
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise WikismithError(f"{path}: not a regular file (a folder, FIFO, socket or device is never read)")
    if st.st_size > max_bytes:
        raise WikismithError(f"{path}: {st.st_size / 1e6:.1f} MB is over the limit of {max_bytes / 1e6:.0f} MB "
                             "(config key max_file_mb)")
    with open(path, "rb") as fh:
        return fh.read(max_bytes + 1)


def add_paths(kb, paths: list[str], *, dry_run: bool = False, progress: Progress | None = None,
              allow_private: bool = False, cloud: bool = False) -> AddReport:
    """Add files, folders and URLs (or, with cloud, PageIndex Cloud document ids), one transaction each."""
    import time

    from wikismith import add_remote
    from wikismith.ingest import Limits

    report = AddReport()
    items: list[tuple[str, str]] = []  # (kind, what): kind is file, url or cloud
    for given in paths:
        if cloud:
            items.append(("cloud", given.strip()))
        elif add_remote.looks_like_url(given):
            items.append(("url", given.strip()))
        else:
            files, problems = expand([given], kb.root)
            report.outcomes.extend(problems)
            items.extend(("file", f) for f in files if ("file", f) not in items)
    cfg = kb.config
    limits = Limits.from_config(cfg)
    allow_private = allow_private or bool(cfg.get("allow_private", False))
    model = _Model.for_kb(kb, connect=not dry_run)
    client = add_remote.cloud_client(kb) if cloud and not dry_run else None
    for index, (kind, what) in enumerate(items, 1):
        started = time.perf_counter()
        phase = lambda name, i=index, w=what: progress and progress(i, len(items), w, name)  # noqa: E731
        phase("reading")
        try:
            if kind == "file":
                outcome = _add_one(kb, what, limits, dry_run, model, phase)
            elif kind == "url":
                outcome = add_remote.add_url(kb, what, limits, dry_run, model, phase, allow_private=allow_private)
            else:
                outcome = add_remote.add_cloud(kb, what, client, dry_run, model, phase)
        except WikismithError as exc:
            outcome = FileOutcome(what, "failed", str(exc))
        except OSError as exc:
            # The store itself failed (the document was rolled back): later documents would fail alike.
            report.outcomes.append(FileOutcome(what, "failed", _os_reason(exc)))
            report.stopped = f"stopped after a storage error on {what}: {_os_reason(exc)}"
            break
        outcome.seconds = time.perf_counter() - started
        report.outcomes.append(outcome)
    if model is not None and model.touched and report.stopped is None and not dry_run:
        if progress:
            progress(len(items), len(items), f"{len(model.touched)} pages", "overviews")
        report.overviews = model.refresh_overviews(kb)
    return report


def _add_one(kb, path: str, limits, dry_run: bool, model, phase) -> FileOutcome:
    from wikismith.compile.draft import SourceInfo
    from wikismith.ingest import convert, sniff
    from wikismith.view import StoreView

    try:
        data = read_source(path, limits.max_file_bytes)
    except OSError as exc:
        raise WikismithError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    digest = hashlib.sha256(data).hexdigest()
    view = StoreView(kb.store)
    same = view.document_by_hash(digest)
    if same is not None:
        return FileOutcome(path, "skipped", f"same content as {same['name']} (already in the KB)", same["id"])
    if dry_run:
        old = view.document_by_source(path)
        estimate = model.estimate(len(data)) if model is not None else None
        return FileOutcome(path, "would-update" if old else "would-add", "", old["id"] if old else "", usage=estimate)
    phase("converting")
    doc = convert(path, limits)
    source = SourceInfo(name=os.path.basename(path), origin=f"file:{os.path.basename(path)}", hash=digest, kind=sniff(path),
                        source_path=path, raw_file=path, size=len(data))
    return compile_and_apply(kb, path, doc, source, data, model, phase)


def compile_and_apply(kb, label: str, doc, source, data: bytes | None, model, phase) -> FileOutcome:
    """The common end of every add: compile (no lock), then merge and apply under the lock."""
    from wikismith.compile.extractive import compile_document
    from wikismith.view import StoreView
    from wikismith.wiki.merge import build_mutation

    phase("compiling")
    usage = None
    if model is None:
        draft = compile_document(doc, source)
    else:
        draft, usage = model.compile(kb, doc, source)
    phase("writing")
    with kb.store.locked():
        result = build_mutation(draft, StoreView(kb.store), when=clock.now_iso(), raw_bytes=data)
        if result.mutation is not None:
            kb.store.apply_locked(result.mutation)
    if model is not None and result.mutation is not None:
        model.note_sections(draft, result.mutation)
    return FileOutcome(label, result.action, result.reason, result.doc_id, list(draft.warnings), usage=usage)


class _Model:
    """The LLM side of one `add` command: the client, per-document usage, and the pages whose overviews to refresh."""

    def __init__(self, client, language: str):
        self.client = client
        self.language = language
        self.touched: dict[str, list[str]] = {}

    @classmethod
    def for_kb(cls, kb, *, connect: bool = True) -> "_Model | None":
        """None for the offline compiler; without connect (a dry run), no client and no key are needed."""
        cfg = kb.config
        if str(cfg.get("model", "offline")) == "offline":
            return None
        if not connect:
            return cls(None, str(cfg.get("language", "en")))
        from wikismith.llm.client import LLMClient
        from wikismith.llm.litellm_backend import LiteLLMClient
        from wikismith.llm.providers import load_dotenv, resolve

        env = {**load_dotenv(os.path.join(kb.root, ".env")), **os.environ}
        settings = resolve(str(cfg["model"]), cfg, env)
        client = (LiteLLMClient if settings.provider == "litellm" else LLMClient)(settings)
        return cls(client, str(cfg.get("language", "en")))

    @staticmethod
    def estimate(size: int) -> dict:
        """An upper bound before any call: three bounded document calls, and an overview call per page it may touch
        (tree-node calls of long documents come on top)."""
        from wikismith.compile import llm_compiler, prompts

        document = min(size, prompts.MAX_DOCUMENT_CHARS) // 4 + 500
        pages = llm_compiler.MAX_CONCEPTS + llm_compiler.MAX_ENTITIES
        return {"estimated": True, "calls": 3 + pages, "tokens_in": 3 * document + pages * 1500,
                "tokens_out": 3 * 800 + pages * 200}

    def compile(self, kb, doc, source):
        from wikismith.compile import llm_compiler
        from wikismith.view import StoreView

        before = self.client.usage.snapshot()
        view = StoreView(kb.store)
        draft = llm_compiler.compile_document(doc, source, self.client, candidates=view.candidates,
                                              language=self.language, agents_md=view.read("wiki/AGENTS.md") or "")
        return draft, _usage_since(self.client.usage, before)

    def note_sections(self, draft, mutation) -> None:
        from wikismith.wiki import pages
        from wikismith.wiki.slug import slugify

        for c in draft.contributions:
            path = pages.page_path(c.kind, slugify(c.key))
            if path in mutation.writes:
                self.touched.setdefault(path, []).append(c.section)

    def refresh_overviews(self, kb) -> dict:
        """One model call per touched page, from bounded input; then one transaction that sets them all."""
        from wikismith.compile.llm_compiler import refresh_overview
        from wikismith.view import StoreView
        from wikismith.wiki import frontmatter, sections
        from wikismith.wiki.merge import build_overview_mutation

        before = self.client.usage.snapshot()
        view = StoreView(kb.store)
        fresh: dict[str, str] = {}
        def refresh(path: str) -> None:
            text = view.read(path)
            if text is not None:
                meta, body = frontmatter.parse(text)
                current = sections.parse_page(body).overview
                fresh[path] = refresh_overview(self.client, title=str(meta.get("title", "")), overview=current,
                                               sections=self.touched[path], language=self.language)

        try:
            with ThreadPoolExecutor(max_workers=self.client.settings.concurrency) as pool:
                list(pool.map(refresh, sorted(self.touched)))  # the client caps calls in flight
            with kb.store.locked():
                mutation = build_overview_mutation(StoreView(kb.store), fresh, when=clock.now_iso())
                if mutation is not None:
                    kb.store.apply_locked(mutation)
        except WikismithError as exc:
            return {"pages": 0, "failed": str(exc), "usage": _usage_since(self.client.usage, before)}
        return {"pages": len(fresh), "usage": _usage_since(self.client.usage, before)}


def _usage_since(usage, before) -> dict:
    now = usage.snapshot()
    cost = None if now.cost is None else round(now.cost - (before.cost or 0.0), 6)
    return {"calls": now.calls - before.calls, "tokens_in": now.tokens_in - before.tokens_in,
            "tokens_out": now.tokens_out - before.tokens_out, "cost": cost}


def _os_reason(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"
