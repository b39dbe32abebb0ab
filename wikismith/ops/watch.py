"""`watch`: keep the KB in step with raw/ (and any folders given) while it runs.

A watchdog observer thread only notes which paths had events; the main thread decides. A path is taken up once it
has been quiet for the debounce and its size and modification time did not move across it (a file still being
written is never read half-way); then what it is *now* decides what happens, not which events led there: a
supported file that exists is added (one transaction, through the same add as `wikismith add`: an unchanged file
is skipped by its hash, so a burst of events never doubles a document), and a file that is gone takes its document
out only when removing was asked for. A file under raw/ is adopted in place as its document's raw file, so the
watcher never makes a second file that would wake it again; the raw files the KB writes itself (for files added
from other folders) are recognised by their hash and skipped.

Everything runs in the main thread between transactions, so Ctrl-C stops the loop either between two of them or
inside an add, which rolls the document in progress back and reports what was committed.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from wikismith.store import interrupts, layout

Outcome = dict  # {"event": added|updated|skipped|failed|removed|kept|ignored, "path": ..., "detail": ...}


@dataclass
class WatchReport:
    folders: list[str]
    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False

    def count(self, event: str) -> int:
        return sum(1 for o in self.outcomes if o["event"] == event)

    def as_dict(self) -> dict:
        events = ("added", "updated", "skipped", "failed", "removed", "kept")
        return {"folders": self.folders, "outcomes": self.outcomes, "interrupted": self.interrupted,
                "counts": {e: self.count(e) for e in events}}


@dataclass
class _Seen:
    last_event: float
    stat: tuple | None


class Pending:
    """Paths with events, each taken up when it has been quiet for `debounce` seconds with a steady size."""

    def __init__(self, debounce: float, clock: Callable[[], float] = time.monotonic):
        self.debounce = debounce
        self.clock = clock
        self.paths: dict[str, _Seen] = {}

    def touch(self, path: str) -> None:
        self.paths[path] = _Seen(self.clock(), _stat(path))

    def ready(self) -> list[str]:
        """The paths to act on now, in name order; the others wait for another quiet spell."""
        now = self.clock()
        out = []
        for path, seen in list(self.paths.items()):
            if now - seen.last_event < self.debounce:
                continue
            current = _stat(path)
            if current != seen.stat:  # still growing, though no event said so: wait a whole debounce more
                self.paths[path] = _Seen(now, current)
                continue
            del self.paths[path]
            out.append(path)
        return sorted(out)


def _stat(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def wanted(path: str, root: str) -> bool:
    """A supported document, not hidden, not inside the KB's own state or wiki."""
    from wikismith.ingest import SUPPORTED_SUFFIXES

    if os.path.basename(path).startswith(".") or layout.STATE in path.split(os.sep):
        return False
    wiki = os.path.join(root, layout.WIKI) + os.sep
    if path.startswith(wiki):
        return False
    return os.path.splitext(path)[1].lower() in SUPPORTED_SUFFIXES


def watch(root: str, folders: list[str], *, debounce: float, remove_deleted: bool,
          add: Callable[[str], object], remove: Callable[[str], object], find: Callable[[str], dict | None],
          unclaimed: Callable[[list[str]], list[str]], on_outcome: Callable[[Outcome], None] | None = None,
          on_ready: Callable[[list[str]], None] | None = None, tick: float | None = None) -> WatchReport:
    """Run until Ctrl-C (KeyboardInterrupt, or an add that reports it was interrupted).

    add(path) -> AddReport and remove(doc_id) -> RemoveReport land changes through the KB; find(path) is the
    document a path is the source or raw file of; unclaimed(paths) keeps the files no document came from (to catch
    up, at start, with files dropped while nothing watched)."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    events: queue.SimpleQueue[str] = queue.SimpleQueue()

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event):
            if event.is_directory or event.event_type in ("opened", "closed_no_write"):
                return
            for attr in ("src_path", "dest_path"):
                path = getattr(event, attr, "")
                if path:
                    events.put(os.fsdecode(path))

    report = WatchReport([os.path.abspath(f) for f in folders])
    pending = Pending(debounce)
    observer = Observer()
    for folder in report.folders:
        observer.schedule(Handler(), folder, recursive=True)
    observer.start()

    def record(outcome: Outcome) -> None:
        with interrupts.deferred():  # a Ctrl-C here waits until the outcome is both kept and shown
            report.outcomes.append(outcome)
            if on_outcome:
                on_outcome(outcome)

    try:
        for path in unclaimed(sorted(_walk(report.folders, root))):
            pending.touch(path)
        if on_ready:
            on_ready(report.folders)
        step = tick if tick is not None else min(0.25, max(0.02, debounce / 4))
        while True:
            _drain(events, pending, root)
            ready = pending.ready()
            # Deletions first: a file renamed with --remove-deleted loses its old document before the new name is
            # added (else the new name would be skipped as the same content, and then removed with the old).
            for path in [p for p in ready if not os.path.lexists(p)] + [p for p in ready if os.path.lexists(p)]:
                if _act(path, remove_deleted, add, remove, find, record) or interrupts.pending():
                    interrupts.clear()
                    report.interrupted = True
                    return report
            time.sleep(step)
    except KeyboardInterrupt:
        report.interrupted = True
        return report
    finally:
        observer.stop()
        observer.join(timeout=5)


def _walk(folders: list[str], root: str):
    for folder in folders:
        for base, dirs, names in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != layout.STATE]
            for name in names:
                path = os.path.join(base, name)
                if wanted(path, root):
                    yield path


def _drain(events: queue.SimpleQueue, pending: Pending, root: str) -> None:
    while True:
        try:
            path = events.get_nowait()
        except queue.Empty:
            return
        if wanted(path, root):
            pending.touch(path)


def _act(path: str, remove_deleted: bool, add, remove, find, record) -> bool:
    """Bring the KB in step with one path; True when Ctrl-C stopped the add."""
    if os.path.lexists(path):
        result = add(path)
        for o in result.outcomes:
            record({"event": o.status, "path": o.path, "detail": o.detail, "id": o.doc_id})
        return bool(result.interrupted)
    doc = find(path)
    if doc is None:
        return False  # never a document (or already removed): nothing to do
    if not remove_deleted:
        record({"event": "kept", "path": path, "id": doc["id"],
                "detail": "the file is gone; its document stays (watch with --remove-deleted to take it out)"})
        return False
    result = remove(doc["id"])
    for doc_id in result.removed:
        record({"event": "removed", "path": path, "id": doc_id, "detail": ""})
    return False


def document_of(view, root: str, path: str) -> dict | None:
    """The document whose source or raw file `path` is."""
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    if rel.startswith(layout.RAW + "/"):
        doc = view.document_by_raw(rel)
        if doc is not None:
            return doc
    return view.document_by_source(path)


def unclaimed(view, root: str, paths: list[str]) -> list[str]:
    """The files no document was added from, nor keeps as its raw file."""
    raw = view.raw_paths()
    sources = {d["source_path"] for d in view.documents() if d.get("source_path")}
    return [p for p in paths if p not in sources and os.path.relpath(p, root).replace(os.sep, "/") not in raw]
