"""KnowledgeBase: find, create and open a KB, and one method per operation. The CLI is a thin layer over this."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from wikismith import clock, config
from wikismith.errors import KnowledgeBaseExists, NotAKnowledgeBase
from wikismith.store import db, fs, layout, txn
from wikismith.store.mutation import Mutation
from wikismith.store.store import Store
from wikismith.wiki import scaffold

ENV_KB = "WIKISMITH_KB"


def locate(explicit: str | None = None, cwd: str | None = None) -> str:
    """The KB root: `--kb`, else $WIKISMITH_KB, else the nearest folder upwards holding `.wikismith/`."""
    for given, origin in ((explicit, "--kb"), (os.environ.get(ENV_KB), ENV_KB)):
        if given:
            root = os.path.abspath(os.path.expanduser(given))
            if not os.path.isdir(os.path.join(root, layout.STATE)):
                raise NotAKnowledgeBase(f"{root} (from {origin}) is not a wikismith knowledge base; create one with `wikismith init {given}`")
            return root
    probe = os.path.abspath(cwd or os.getcwd())
    while True:
        if os.path.isdir(os.path.join(probe, layout.STATE)):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            raise NotAKnowledgeBase(
                "not inside a wikismith knowledge base (no .wikismith/ here or above); "
                "run `wikismith init DIR`, or name one with --kb or WIKISMITH_KB"
            )
        probe = parent


@dataclass
class OpenReport:
    recovery: txn.RecoveryReport = field(default_factory=txn.RecoveryReport)
    recovery_error: str | None = None


class KnowledgeBase:
    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        self.store = Store(self.root)
        self.opened = OpenReport()

    # -- finding, creating, opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, explicit: str | None = None, *, cwd: str | None = None) -> "KnowledgeBase":
        """Open the KB and run recovery first, so no command ever sees an interrupted transaction."""
        kb = cls(locate(explicit, cwd))
        try:
            kb.store.check_open()
            kb.opened.recovery = kb.store.recover()
        except OSError as exc:
            # Reads still work on the last committed state; every mutation runs recovery again first.
            kb.opened.recovery_error = f"recovery could not finish ({exc}); it runs again before any change"
        except BaseException:
            kb.close()
            raise
        return kb

    @classmethod
    def init(cls, directory: str, *, settings: dict[str, object] | None = None) -> "KnowledgeBase":
        root = os.path.abspath(directory)
        if os.path.isdir(os.path.join(root, layout.STATE)):
            raise KnowledgeBaseExists(f"{root} is already a wikismith knowledge base; nothing was changed")
        if os.path.exists(root) and not os.path.isdir(root):
            raise KnowledgeBaseExists(f"{root} exists and is not a folder; nothing was changed")
        values = dict(config.DEFAULTS)
        values.update(settings or {})
        # The wiki skeleton first, `.wikismith/` last: the KB exists exactly when its state folder does, and an
        # interrupted init is completed by running it again. Existing files are never overwritten.
        for folder in (layout.RAW, *(f"{layout.WIKI}/{sub}" for sub in layout.WIKI_FOLDERS)):
            fs.makedirs(os.path.join(root, folder))
        starts = {
            "wiki/AGENTS.md": scaffold.AGENTS_MD,
            "wiki/index.md": scaffold.INDEX_MD,
            "wiki/log.md": scaffold.LOG_MD + scaffold.log_line(clock.now_iso(), "init", "created the knowledge base"),
        }
        for rel, text in starts.items():
            path = os.path.join(root, rel)
            if not os.path.exists(path):
                fs.atomic_write(path, text.encode("utf-8"))
        Store.create(root, config.render(values))
        return cls(root)

    def close(self) -> None:
        self.store.close()

    # -- settings -------------------------------------------------------------------------------------------------

    @property
    def config(self) -> dict[str, object]:
        path = self.store.path(layout.CONFIG)
        with open(path, encoding="utf-8") as fh:
            return config.parse(fh.read(), source=path)

    def set_config(self, key: str, value: object) -> None:
        """Change one setting through a transaction (the config file is part of the KB's state)."""
        with self.store.locked():
            values = self.config
            values[key] = value
            mutation = Mutation(label=f"config {key}")
            mutation.writes[layout.CONFIG] = config.render(values).encode("utf-8")
            mutation.appends["wiki/log.md"] = scaffold.log_line(clock.now_iso(), "config", f"{key} = {value}").encode()
            self.store.apply_locked(mutation)

    # -- changing the KB ------------------------------------------------------------------------------------------

    def apply(self, mutation: Mutation) -> str:
        return self.store.apply(mutation)

    # -- reading --------------------------------------------------------------------------------------------------

    def status(self) -> dict:
        conn = self.store.conn
        with self.store.locked():
            documents = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
            kinds = dict(conn.execute("SELECT kind, count(*) FROM pages GROUP BY kind ORDER BY kind").fetchall())
            pending = [{"id": t, "state": s, "label": label} for t, s, label in txn.pending(conn)]
            dirty = self.store.dirty_reason()
        return {
            "root": self.root,
            "documents": documents,
            "pages": kinds,
            "pages_total": sum(kinds.values()),
            "pending_transactions": pending,
            "dirty": dirty,
            "model": self.config.get("model"),
            "schema_version": db.schema_version(conn),
        }

    def listing(self) -> dict:
        conn = self.store.conn
        with self.store.locked():
            docs = conn.execute(
                "SELECT d.id, d.name, d.kind, d.hash, d.origin, d.added_at, d.raw_path, "
                "(SELECT count(*) FROM provenance p WHERE p.document = d.id) FROM documents d ORDER BY d.id"
            ).fetchall()
            pages = conn.execute("SELECT kind, path, title FROM pages ORDER BY kind, path").fetchall()
        documents = [
            {"id": i, "name": n, "kind": k, "hash": h, "origin": o, "added_at": a, "raw_path": r, "pages": c}
            for i, n, k, h, o, a, r, c in docs
        ]
        by_kind: dict[str, list[dict]] = {}
        for kind, path, title in pages:
            by_kind.setdefault(kind, []).append({"path": path, "title": title})
        return {"documents": documents, "pages": by_kind}

    def reading(self):
        """Hold the lock for several reads that must see one committed state (with `with kb.reading():`)."""
        return self.store.locked()

    def read_page(self, rel: str) -> str:
        """A page's text, read under the lock so that it matches the registry at one committed state."""
        with self.store.locked():
            with open(self.store.path(rel), encoding="utf-8") as fh:
                return fh.read()
