"""KnowledgeBase: the one API every front end calls (the CLI today; the web UI, the REST API and MCP alike).

One method per operation, each returning a report whose `as_dict()` is what `--json` prints and what any other
front end serves. Every change lands through one seam, `change(build)`: lock, recover, hand `build` a view of the KB
as it is, apply the Mutation it returns. Readers answer from one committed snapshot and never wait for a writer.

    front ends (cli/)  ->  kb  ->  operations (ops/)  ->  store/      nothing calls back up
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from wikismith import clock, config
from wikismith.errors import KnowledgeBaseExists, NotAKnowledgeBase
from wikismith.store import fs, layout, txn
from wikismith.store.store import Builder, Store
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
    found = enclosing_kb(os.path.abspath(cwd or os.getcwd()))
    if found is None:
        raise NotAKnowledgeBase(
            "not inside a wikismith knowledge base (no .wikismith/ here or above); "
            "run `wikismith init DIR`, or name one with --kb or WIKISMITH_KB"
        )
    return found


def enclosing_kb(path: str) -> str | None:
    """The nearest folder at or above `path` that is a KB, or None."""
    probe = path
    while True:
        if os.path.isdir(os.path.join(probe, layout.STATE)):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return None
        probe = parent


@dataclass
class OpenReport:
    recovery: txn.RecoveryReport = field(default_factory=txn.RecoveryReport)
    recovery_error: str | None = None


@dataclass
class InitReport:
    root: str

    def as_dict(self) -> dict:
        return {"created": self.root}


class KnowledgeBase:
    def __init__(self, root: str, *, argv: list[str] | None = None):
        self.root = os.path.abspath(root)
        self.store = Store(self.root)
        self.opened = OpenReport()
        self.argv = list(argv or [])  # the command line, as history records it

    # -- finding, creating, opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, explicit: str | None = None, *, cwd: str | None = None,
             argv: list[str] | None = None) -> "KnowledgeBase":
        """Open the KB and finish any interrupted transaction first, unless a live process holds the lock (its
        transaction is still going: readers see the last committed state, and every change recovers first)."""
        kb = cls(locate(explicit, cwd), argv=argv)
        try:
            kb.store.check_open()
            kb.store.history_keep = int(kb.config.get("history_keep", kb.store.history_keep))
            kb.opened.recovery = kb.store.recover(wait=False)
        except OSError as exc:
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
        outer = enclosing_kb(os.path.dirname(root))
        if outer is not None:
            raise KnowledgeBaseExists(f"{root} is inside the knowledge base at {outer}; a knowledge base cannot hold "
                                      "another. Nothing was changed")
        inner = _kb_below(root)
        if inner is not None:
            raise KnowledgeBaseExists(f"{root} holds the knowledge base at {inner}; a knowledge base cannot hold "
                                      "another. Nothing was changed")
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

    def another(self) -> "KnowledgeBase":
        """Another handle on this KB, with the same settings and no recovery: one per thread of a server (an SQLite
        connection belongs to the thread that opened it). Changes through any handle serialise on the KB's lock."""
        kb = KnowledgeBase(self.root)
        kb.store.history_keep = self.store.history_keep
        return kb

    # -- the seam -------------------------------------------------------------------------------------------------

    def change(self, build: Builder) -> str | None:
        """Lock, recover, build(view) -> Mutation, apply: the one way anything in the KB changes."""
        return self.store.change(build)

    def apply(self, mutation) -> str | None:
        """Land a Mutation computed without reading the KB (a change whose builder ignores the view)."""
        return self.store.apply(mutation)

    def command(self, label: str):
        """Everything changed inside is one command in the history, recorded with this KB's command line."""
        return self.store.command(self.argv or [label], label)

    # -- operations that change the KB ----------------------------------------------------------------------------

    def add(self, paths: list[str], **options):
        """Files, folders, URLs or (cloud=True) PageIndex Cloud ids; see ops.add.add for the options."""
        from wikismith.ops.add import add

        with self.command("add"):
            return add(self.store, paths, **options)

    def remove(self, names: list[str], **options):
        """Documents by id, name, source, URL, cloud id or unique prefix; see ops.remove.remove for the options."""
        from wikismith.ops.remove import remove

        with self.command("remove"):
            return remove(self.store, names, **options)

    def recompile(self, names: list[str], **options):
        """Rebuild documents (or every=True: all of them) from their stored sources, one transaction each."""
        from wikismith.ops.recompile import recompile

        with self.command("recompile"):
            return recompile(self.store, names, **options)

    def watch(self, folders: list[str] = (), *, debounce: float = 1.0, remove_deleted: bool = False,
              on_outcome=None, on_ready=None):
        """Add each new or changed file of raw/ and `folders` as it settles (one command and transaction each; with
        remove_deleted, a deleted file's document goes too), until Ctrl-C; see ops.watch."""
        from wikismith.ops import watch

        def find(path: str) -> dict | None:
            with self.store.snapshot() as view:
                return watch.document_of(view, self.root, path)

        def unclaimed(paths: list[str]) -> list[str]:
            with self.store.snapshot() as view:
                return watch.unclaimed(view, self.root, paths)

        return watch.watch(self.root, [self.store.path(layout.RAW), *folders], debounce=debounce,
                           remove_deleted=remove_deleted, add=lambda path: self.add([path]),
                           remove=lambda doc_id: self.remove([doc_id]), find=find, unclaimed=unclaimed,
                           on_outcome=on_outcome, on_ready=on_ready)

    def lint(self, **options):
        """Findings about the wiki; read-only unless fix=True or save=True (each one transaction)."""
        from wikismith.ops.lint import lint

        with self.command("lint"):
            return lint(self.store, **options)

    def undo(self, command_id: int | None = None, **options):
        """Revert one whole command (the latest by default) as one new transaction."""
        from wikismith.ops.history import undo

        return undo(self.store, command_id, argv=self.argv, **options)

    # -- asking -------------------------------------------------------------------------------------------------

    def search(self, text: str, *, kinds: tuple[str, ...] = (), limit: int = 10):
        """Passages of the KB for `text` (full text, no model), from one committed snapshot."""
        from wikismith.ask.search import search

        with self.store.snapshot() as view:
            return search(view, text, kinds=kinds, limit=limit)

    def query(self, question: str, *, save: bool = False, name: str | None = None, agent: bool = False,
              max_turns: int | None = None, on_delta=None, offline: bool = False):
        """An answer: offline (no model configured, or offline=True), from a model given the best passages, or from
        an agent with read-only tools (agent=True); with save, kept as an exploration page (one transaction)."""
        from wikismith import envfile
        from wikismith.ask import query as q
        from wikismith.llm import client_for

        cfg = self.config
        if offline or str(cfg.get("model", "offline")) == "offline":
            report = q.offline(self.store, question)
        else:
            client = client_for(cfg, envfile.environment(self.root))
            language = str(cfg.get("language", "en"))
            if agent:
                report = q.agent(self.store, client, question, max_turns=max_turns or q.MAX_TURNS, language=language)
            else:
                report = q.with_model(self.store, client, question, language=language, on_delta=on_delta)
        if save:
            report.saved = self.save_answer(report, name)
        return report

    def chat(self, *, resume: int | None = None):
        """A chat session (new, or resumed by id): ask(question) answers like query and remembers."""
        from wikismith import envfile
        from wikismith.ask.chat import Chat
        from wikismith.llm import client_for

        cfg = self.config
        client = None if str(cfg.get("model", "offline")) == "offline" else client_for(cfg, envfile.environment(
            self.root))
        return Chat.start(self.store, client, resume=resume, language=str(cfg.get("language", "en")))

    def chat_sessions(self):
        from wikismith.ask.chat import SessionsReport

        with self.store.snapshot() as view:
            return SessionsReport(view.chat_sessions())

    def chat_delete(self, session: int) -> bool:
        return self.store.chat_delete(session)

    def save_answer(self, report, name: str | None = None) -> str:
        """Keep an answer (a query or chat report) as an exploration page, one transaction."""
        from wikismith.ask.save import save

        with self.command("save"):
            return save(self.store, report, name)

    def history(self, *, limit: int | None = None):
        from wikismith.ops.history import history

        return history(self.store, limit=limit)

    def status(self):
        from wikismith.ops.inspect import status

        return status(self.store)

    def listing(self, *, pages: bool = False):
        from wikismith.ops.inspect import listing

        return listing(self.store, pages=pages)

    def settings(self, key: str | None = None):
        from wikismith.ops import settings

        return settings.get(self.store, key)

    def set_setting(self, key: str, value: str):
        from wikismith.ops import settings

        with self.command("config"):
            return settings.set_(self.store, key, value)

    @staticmethod
    def doctor(root: str, **options):
        """Doctor works on a KB that cannot be opened (a damaged database), so it takes the root, not an open KB."""
        from wikismith.ops.doctor import examine

        return examine(root, **options)

    # -- reading --------------------------------------------------------------------------------------------------

    def reading(self):
        """Hold the lock for several reads that must see one committed state (with `with kb.reading():`)."""
        return self.store.locked()

    def read_page(self, rel: str) -> str:
        """A page's text as the registry holds it, from one committed snapshot (whatever a writer is doing to the
        file meanwhile); a file of the wiki that is not a page (index.md, log.md) is read as it is."""
        with self.store.snapshot() as view:
            text = view.page_text(rel)
        if text is not None:
            return text
        with open(self.store.path(rel), encoding="utf-8") as fh:
            return fh.read()

    def page(self, name: str):
        """One page (by path or link target) with its backlinks and outline, from one committed snapshot."""
        from wikismith.ops.pages import read

        return read(self.store, name)

    def graph(self, name: str | None = None, *, depth: int = 1, limit: int = 60):
        """The pages around one page (or the wiki's hubs) and the links among them, bounded in size."""
        from wikismith.ops.pages import neighbourhood

        return neighbourhood(self.store, name, depth=depth, limit=limit)

    def page_slice(self, name: str, *, offset: int = 0, limit: int | None = None):
        """A page by a name from outside (`concepts/x`, `index.md`): refused unless it is a page of the wiki."""
        from wikismith.ops import reading

        return reading.page(self.store, name, offset=offset, limit=limit or reading.MAX_CHARS)

    def pages(self, kind: str, *, offset: int = 0, limit: int = 50):
        """Pages of one kind, a slice at a time."""
        from wikismith.ops import reading

        return reading.pages(self.store, kind, offset=offset, limit=limit)

    def source_range(self, document: str, first: int, last: int):
        """Pages first..last of a long document's converted source."""
        from wikismith.ops import reading

        return reading.source_range(self.store, document, first, last)

    @property
    def config(self) -> dict[str, object]:
        return config.load(self.root)


def _kb_below(root: str, depth: int = 3) -> str | None:
    """A KB inside `root`, looked for a few levels down (a vault is shallow; a home folder is not walked whole)."""
    if not os.path.isdir(root):
        return None
    frontier = [root]
    for _ in range(depth):
        nxt = []
        for folder in frontier:
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name == layout.STATE:
                        return folder
                    if not entry.name.startswith("."):
                        nxt.append(entry.path)
        frontier = nxt
    return None
