"""A parallel add: documents prepared by workers (processes here, or a Dask cluster), applied by this process alone.

The owner (this process) reads each file, skips what the KB already holds, and hands the document to a worker. A
worker converts and compiles it into a Draft. The owner applies drafts one at a time, in the order of the inputs,
through the same merge and change seam as a serial add, so an offline parallel add gives the KB a serial add gives.
With a model a document takes two trips: the worker converts it and names the phrases it is about; the owner looks up
the pages the KB has for them at that moment and ships them back with the document; a worker then makes the model
calls. At apply, the draft merges as usual and no model call is repeated.

At most a window of documents is out at once (dispatched, not yet applied), so memory stays bounded however many
files a folder holds. A document whose preparation fails is reported failed like any other; the rest go on.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from wikismith.errors import WikismithError
from wikismith.ops.add import FileOutcome, Item, os_reason
from wikismith.ops.add.files import read_source
from wikismith.ops.add.model import page_paths
from wikismith.ops.add.prepare import Prepared, Task, worker_settings
from wikismith.store import interrupts

WINDOW_PER_WORKER = 4


@dataclass
class _Ready:
    outcome: FileOutcome | None = None  # settled before any work (unreadable, already in the KB, failed)
    prepared: Prepared | None = None


def add_files(store, files: list[str], *, limits, cfg: dict, model, report, progress, pool, ship_bytes: bool,
              env_root: str | None) -> None:
    """Prepare `files` on `pool`'s workers and apply them in order. Raises KeyboardInterrupt on Ctrl-C; a storage
    error stops the command (report.stopped), as in a serial add."""
    Owner(store, files, limits, cfg, model, report, progress, pool, ship_bytes, env_root).run()


class Owner:
    def __init__(self, store, files, limits, cfg, model, report, progress, pool, ship_bytes, env_root):
        self.store, self.files, self.limits, self.cfg, self.model = store, files, limits, cfg, model
        self.report, self.progress, self.pool = report, progress, pool
        self.ship_bytes, self.env_root = ship_bytes, env_root
        self.window = max(2, WINDOW_PER_WORKER * pool.jobs)
        self.ready: dict[int, _Ready] = {}
        self.held: dict[int, tuple[bytes, object, str | None]] = {}  # index -> (bytes, SourceInfo, adopt) while out
        self.prepared = 0
        self.asked: set[str] = set()  # pages whose overview call went out ahead of the batch
        self.coming: dict[int, set[str]] | None = None  # once all are prepared: document -> pages its draft goes to

    def run(self) -> None:
        total = len(self.files)
        dispatched = applied = 0
        while applied < total:
            while dispatched < total and dispatched - applied < self.window:
                self._dispatch(dispatched)
                dispatched += 1
            if applied in self.ready:
                if not self._apply(applied):
                    return
                applied += 1
                if interrupts.pending():  # Ctrl-C during that apply: it is committed; stop here
                    raise KeyboardInterrupt
                # Workers that finished during that apply wait for us: hand them their next trip before the next
                # apply, or a run of ready documents would keep every worker idle (the applier is the bottleneck).
                for p in self.pool.results(timeout=0):
                    self._received(p)
                self._overviews_ahead()
                continue
            for p in self.pool.results():
                self._received(p)

    # -- before: read, skip, hand out ------------------------------------------------------------------------------

    def _dispatch(self, i: int) -> None:
        from wikismith.compile.draft import SourceInfo
        from wikismith.ingest import sniff
        from wikismith.ops.add.local import in_raw

        path = self.files[i]
        try:
            try:
                data = read_source(path, self.limits.max_file_bytes)
            except OSError as exc:
                raise WikismithError(f"{path}: cannot read it ({exc.strerror or exc})") from None
        except WikismithError as exc:
            return self._settled(i, FileOutcome(path, "failed", str(exc)))
        digest = hashlib.sha256(data).hexdigest()
        same = self.store.view().document_by_hash(digest)
        if same is not None:
            reason = f"same content as {same['name']} (already in the KB)"
            return self._settled(i, FileOutcome(path, "skipped", reason, same["id"]))
        try:
            kind = sniff(path)
        except OSError:
            kind = "unknown"  # the worker's conversion says why
        adopt = in_raw(self.store.root, path)
        source = SourceInfo(name=os.path.basename(path), origin=f"file:{os.path.basename(path)}", hash=digest,
                            kind=kind, source_path=None if adopt else path, raw_file=path, size=len(data))
        self.held[i] = (data, source, adopt)
        stage = "compile" if self.model is None else "convert"
        self.pool.submit(Task(i + 1, path, source, self.limits, stage, data=data if self.ship_bytes else None))

    def _received(self, p: Prepared) -> None:
        i = p.index - 1
        if p.error is None and p.stage == "convert":
            self._ship_to_model(i, p)
            return
        self._settled(i, FileOutcome(self.files[i], "failed", p.error) if p.error else None, p)

    def _settled(self, i: int, outcome: FileOutcome | None, prepared: Prepared | None = None) -> None:
        """Document i is ready to apply (or to report, when `outcome` says it needs no transaction)."""
        self.ready[i] = _Ready(outcome, prepared)
        self.prepared += 1
        if self.progress:
            self.progress(self.prepared, len(self.files), self.files[i], "prepared")

    def _ship_to_model(self, i: int, p: Prepared) -> None:
        """The second trip of a model add: the document with the candidate pages the KB has for it now."""
        view = self.store.view()
        _data, source, _adopt = self.held[i]
        self.pool.submit(Task(p.index, self.files[i], source, self.limits, "model", doc=p.doc,
                              candidates=view.candidates(p.hints), agents_md=view.read("wiki/AGENTS.md") or "",
                              model=worker_settings(self.cfg), env_root=self.env_root), first=True)

    def _overviews_ahead(self) -> None:
        """Once every document is prepared (the workers make no more calls), a page that no document still to apply
        contributes to is as the overview batch will find it: its call can go out now, beside the last applies."""
        if self.model is None or self.prepared < len(self.files):
            return
        if self.coming is None:  # every draft is known from now on: the pages each one still to apply goes to
            self.coming = {i: set(page_paths(r.prepared.draft)) for i, r in self.ready.items()
                           if r.prepared is not None and r.prepared.draft is not None}
        for i in [i for i in self.coming if i not in self.ready]:
            del self.coming[i]
        coming = set().union(*self.coming.values())
        ahead = [path for path in self.model.touched if path not in coming and path not in self.asked]
        self.asked.update(ahead)
        self.model.refresh_early(self.store.view(), ahead)

    # -- after: apply in input order -------------------------------------------------------------------------------

    def _apply(self, i: int) -> bool:
        """Apply document i; False when a storage error stops the command."""
        from wikismith.ops.add.local import commit

        ready = self.ready.pop(i)
        data, _source, adopt = self.held.pop(i, (None, None, None))
        path = self.files[i]
        item = Item(self.report, self.progress, i + 1, len(self.files), path)
        item.phase("applying")
        if ready.outcome is not None:
            item.done(ready.outcome)
            return True
        p = ready.prepared
        try:
            commit(self.store, path, p.draft, data, self.model, item, p.usage, adopt=adopt)
        except WikismithError as exc:
            item.done(FileOutcome(path, "failed", str(exc)))
        except OSError as exc:
            item.done(FileOutcome(path, "failed", os_reason(exc)))
            self.report.stopped = f"stopped after a storage error on {path}: {os_reason(exc)}"
            return False
        return True
