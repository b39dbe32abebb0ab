"""`add`: files, folders, URLs and PageIndex Cloud documents into the KB, one transaction per document.

Slow work (reading, converting, compiling) happens without the lock; only the merge into the KB's current pages
and the apply hold it (Store.change). A file that cannot be converted is reported and skipped; an error of the store
itself (a full disk, an I/O error) stops the command, with every document before it committed and the current one
rolled back. Ctrl-C stops it the same way, and the report says what was committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from wikismith.errors import WikismithError

STATUSES = ("added", "updated", "skipped", "failed", "would-add", "would-update")
Progress = Callable[[int, int, str, str], None]  # (index, total, path, phase)


@dataclass
class FileOutcome:
    path: str
    status: str  # one of STATUSES
    detail: str = ""
    doc_id: str = ""
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU time of the thread that landed it, waits left out (for benches; not reported)
    usage: dict | None = None  # model calls and tokens for this document (LLM compiler only)

    def as_dict(self) -> dict:
        out = {"path": self.path, "status": self.status, "detail": self.detail, "id": self.doc_id,
               "warnings": self.warnings, "seconds": round(self.seconds, 3)}
        if self.usage is not None:
            out["usage"] = self.usage
        return out


@dataclass
class AddReport:
    dry_run: bool = False
    outcomes: list[FileOutcome] = field(default_factory=list)
    stopped: str | None = None  # why the command stopped early (a store error), if it did
    interrupted: bool = False  # stopped by Ctrl-C: every outcome listed before it is committed
    overviews: dict | None = None  # the batch refresh of overviews after an LLM add: pages, usage, or its failure

    def by_status(self, status: str) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def failed(self) -> bool:
        return bool(self.by_status("failed")) or self.stopped is not None

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "files": [o.as_dict() for o in self.outcomes],
                "counts": {s: len(self.by_status(s)) for s in STATUSES}, "stopped": self.stopped,
                "interrupted": self.interrupted, "overviews": self.overviews}


def add(store, paths: list[str], *, dry_run: bool = False, progress: Progress | None = None,
        allow_private: bool = False, cloud: bool = False, follow_symlinks: bool = False,
        uploads: list[tuple[str, bytes]] = (), jobs: int | None = None, cluster: str | None = None) -> AddReport:
    """Add files, folders and URLs (or, with cloud, PageIndex Cloud document ids), one transaction each; and
    `uploads`, (file name, bytes) sent over HTTP.

    Files are prepared by `jobs` worker processes (default: the `jobs` setting, else one per core), or on the Dask
    cluster whose scheduler `cluster` names, and applied here one by one in input order (ops/add/parallel.py)."""
    from wikismith import config, envfile
    from wikismith.ingest import Limits
    from wikismith.ops.add import files, local, remote, upload
    from wikismith.ops.add.model import Model
    from wikismith.store import interrupts

    report = AddReport(dry_run=dry_run)
    items: list[tuple[str, object]] = []  # (kind, what): kind is file, url, cloud or upload
    for given in paths:
        if cloud:
            items.append(("cloud", given.strip()))
        elif remote.looks_like_url(given):
            items.append(("url", given.strip()))
        else:
            found, left = files.expand(given, store.root, follow_symlinks=follow_symlinks)
            report.outcomes += [FileOutcome(x.path, x.status, x.reason) for x in left]
            items += [("file", f) for f in found if ("file", f) not in items]
    items += [("upload", upload) for upload in uploads]
    cfg = config.load(store.root)
    env = envfile.environment(store.root)
    limits = Limits.from_config(cfg)
    allow_private = allow_private or bool(cfg.get("allow_private", False))
    model = Model.for_config(cfg, env, connect=not dry_run)
    client = remote.cloud_client(cfg, env) if cloud and not dry_run else None
    workers = jobs_for(jobs, cfg)
    parallel = not dry_run and items and all(kind == "file" for kind, _ in items) and (
        cluster or (workers > 1 and len(items) > 1))
    try:
        if parallel:
            _add_in_parallel(store, [what for _, what in items], limits, cfg, model, report, progress, workers,
                             cluster)
        for index, (kind, what) in enumerate([] if parallel else items, 1):
            label = what[0] if kind == "upload" else what
            item = Item(report, progress, index, len(items), label)
            item.phase("reading")
            try:
                if kind == "upload":
                    upload.add_upload(store, what[0], what[1], limits, dry_run, model, item)
                elif kind == "file":
                    local.add_file(store, what, limits, dry_run, model, item)
                elif kind == "url":
                    remote.add_url(store, what, cfg, limits, dry_run, model, item, allow_private=allow_private)
                else:
                    remote.add_cloud(store, what, client, dry_run, model, item)
            except WikismithError as exc:
                item.done(FileOutcome(label, "failed", str(exc)))
            except OSError as exc:
                # The store itself failed (the document was rolled back): later documents would fail alike.
                item.done(FileOutcome(label, "failed", os_reason(exc)))
                report.stopped = f"stopped after a storage error on {label}: {os_reason(exc)}"
                break
            if interrupts.pending():  # Ctrl-C during that document's apply: it is committed; stop here
                raise KeyboardInterrupt
        if model is not None and model.touched and report.stopped is None and not dry_run:
            if progress:
                progress(len(items), len(items), f"{len(model.touched)} pages", "overviews")
            report.overviews = model.refresh_overviews(store)
    except KeyboardInterrupt:
        interrupts.clear()
        report.interrupted = True  # the document in progress was not committed (its transaction rolled back)
    finally:
        if model is not None:
            model.close()
    return report


def jobs_for(jobs: int | None, cfg: dict) -> int:
    """Worker processes for an add: as asked, else the `jobs` setting, else one per core (0 means one per core)."""
    import os

    wanted = jobs if jobs is not None else int(cfg.get("jobs", 0) or 0)
    return wanted if wanted > 0 else (os.cpu_count() or 1)


def _add_in_parallel(store, files, limits, cfg, model, report, progress, workers: int, cluster: str | None) -> None:
    from wikismith.ops.add import parallel

    if cluster:
        from wikismith.ops.add.cluster import ClusterPool

        pool = ClusterPool(cluster, cfg)
    else:
        from wikismith.llm.gate import ProcessGate
        from wikismith.ops.add.pool import LocalPool
        from wikismith.ops.add.prepare import warm, worker_settings

        warm(worker_settings(cfg) if model is not None else None, store.root)
        gate = ProcessGate(int(cfg.get("concurrency", 4))) if model is not None else None
        pool = LocalPool(workers, gate)
    with pool:
        parallel.add_files(store, files, limits=limits, cfg=cfg, model=model, report=report, progress=progress,
                           pool=pool, ship_bytes=bool(cluster), env_root=None if cluster else store.root)


class Item:
    """One document of an add: its progress, and its outcome, recorded once."""

    def __init__(self, report: AddReport, progress: Progress | None, index: int, total: int, what: str):
        self.report, self.progress, self.index, self.total, self.what = report, progress, index, total, what
        self.started, self.cpu_started = time.perf_counter(), time.thread_time()

    def phase(self, name: str) -> None:
        if self.progress:
            self.progress(self.index, self.total, self.what, name)

    def done(self, outcome: FileOutcome) -> None:
        outcome.seconds = time.perf_counter() - self.started
        outcome.cpu_seconds = time.thread_time() - self.cpu_started
        self.report.outcomes.append(outcome)


def os_reason(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"
