"""The crash bench's workloads, by name. Later features add theirs here."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from typing import Callable

from bench import synthetic
from bench.crashkit import Workload
from wikismith.kb import KnowledgeBase


def _apply_changes(pages: int, *seeds: int):
    def action(root: str) -> None:
        kb = KnowledgeBase.open(root)
        try:
            for seed in seeds:
                kb.apply(synthetic.change_mutation(pages, seed))
        finally:
            kb.close()
    return action


def store_change_1000() -> Workload:
    return Workload("store-change-1000-pages", lambda root: synthetic.build_kb(root, 1000).close(),
                    _apply_changes(1000, 1), wiki=False)


def store_change_empty() -> Workload:
    return Workload("store-change-empty-kb", lambda root: synthetic.build_kb(root, 0).close(),
                    _apply_changes(0, 1), wiki=False)


def store_two_changes() -> Workload:
    return Workload("store-two-changes", lambda root: synthetic.build_kb(root, 40).close(),
                    _apply_changes(40, 1, 2), wiki=False)


WORKLOADS = {
    "store-change-1000-pages": store_change_1000,
    "store-change-empty-kb": store_change_empty,
    "store-two-changes": store_two_changes,
}


# -- add (issue 3) ------------------------------------------------------------------------------------------------

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(os.path.dirname(REPO), "shared", "corpus")


def _cli(*args: str) -> None:
    from wikismith.cli import cli
    from wikismith.cli.common import run

    code = run(cli, list(args))
    if code:
        raise SystemExit(code)


def _memoize_conversions() -> None:
    """Convert each source once in the bench process; forked runs inherit the results (no KB write happens there)."""
    import wikismith.ingest as ingest

    real = getattr(ingest.convert, "__wrapped__", ingest.convert)
    cache = getattr(ingest.convert, "cache", {})

    def convert(path, limits=ingest.Limits()):
        with open(path, "rb") as fh:  # by content: a URL's download lands at a new path in every run
            key = (hashlib.sha256(fh.read()).hexdigest(), os.path.splitext(path)[1], limits)
        if key not in cache:
            cache[key] = real(path, limits)
        return cache[key]

    convert.__wrapped__ = real
    convert.cache = cache
    ingest.convert = convert
    _memoize_compile()


def _memoize_compile() -> None:
    """Both compilers are deterministic and write nothing: compile each draft once, reuse it in every run."""
    import wikismith.compile.extractive as extractive
    import wikismith.compile.llm_compiler as llm_compiler

    for module in (extractive, llm_compiler):
        real = getattr(module.compile_document, "__wrapped__", module.compile_document)
        cache: dict = {}

        def compile_document(doc, source, *args, _real=real, _cache=cache, **kwargs):
            key = (source.hash, source.source_path)
            if key not in _cache:
                _cache[key] = _real(doc, source, *args, **kwargs)
            return _cache[key]

        compile_document.__wrapped__ = real
        module.compile_document = compile_document


def _inbox(files: dict[str, str]) -> str:
    """A folder outside any KB holding copies of the given files (name -> source path)."""
    folder = tempfile.mkdtemp(prefix="crash-inbox-")
    for name, src in files.items():
        shutil.copyfile(src, os.path.join(folder, name))
    return folder


def _kb_with_generated(count: int, inbox: str, settings: tuple[tuple[str, str], ...] = ()):
    """A KB holding `count` generated notes, added after `settings` are set (e.g. a model)."""
    def build(root: str) -> None:
        KnowledgeBase.init(root).close()
        for key, value in settings:
            _cli("--kb", root, "config", "set", key, value)
        if count:
            docs = os.path.join(inbox, "generated")
            os.makedirs(docs, exist_ok=True)
            for i in range(count):
                with open(os.path.join(docs, f"note-{i:03d}.md"), "w", encoding="utf-8") as fh:
                    fh.write(synthetic.generated_document(i))
            _cli("--kb", root, "add", docs)
    return build


def _add_one_file(name: str, src: str, build, teardown=None) -> Workload:
    """`wikismith add` of one copy of `src`, onto the KB that build(inbox) makes."""
    filename = os.path.basename(src)
    inbox = _inbox({filename: src})
    target = os.path.join(inbox, filename)
    _memoize_conversions()
    return Workload(name, build(inbox), lambda root: _cli("--kb", root, "add", target), warm=True, teardown=teardown)


WAL_NOTE = os.path.join(REPO, "examples", "write-ahead-logging.md")
GEOTOPO = os.path.join(CORPUS, "pdf", "GeoTopo-komprimiert.pdf")


def add_markdown_empty() -> Workload:
    return _add_one_file("add-markdown-empty-kb", WAL_NOTE, lambda inbox: _kb_with_generated(0, inbox))


def add_long_pdf() -> Workload:
    return _add_one_file("add-long-pdf-20-docs", GEOTOPO, lambda inbox: _kb_with_generated(20, inbox))


MIXED = {
    "a-notes.md": os.path.join(REPO, "examples", "hard-links.md"),
    "b-pep-0604.rst": os.path.join(CORPUS, "peps", "pep-0604.rst"),
    "c-blog.html": os.path.join(CORPUS, "web", "test_blog.html"),
    "d-report.docx": os.path.join(CORPUS, "office", "test.docx"),
    "e-outline.pdf": os.path.join(CORPUS, "pdf", "pdflatex-outline.pdf"),
}


def _prewarm(inbox: str) -> None:
    """Convert and compile the inbox once here, serially: a parallel add's workers, forked from the runs, then find
    every conversion and draft in the caches they inherit (a warm run would fill the workers' caches, not ours)."""
    scratch = tempfile.mkdtemp(prefix="crash-prewarm-")
    KnowledgeBase.init(os.path.join(scratch, "kb")).close()
    with open(os.devnull, "w") as sink:
        saved, sys.stdout, sys.stderr = (sys.stdout, sys.stderr), sink, sink
        try:
            _cli("--kb", os.path.join(scratch, "kb"), "add", "--jobs", "1", inbox)
        finally:
            sys.stdout, sys.stderr = saved
    shutil.rmtree(scratch)


def add_mixed_folder() -> Workload:
    inbox = _inbox(MIXED)
    _memoize_conversions()
    _prewarm(inbox)
    # The serial folder add (--jobs 1, or a one-core machine); the worker pool has its own workload, and forking it
    # in every state of this one made it the slowest test of CI on two busy cores.
    return Workload("add-folder-5-mixed", _kb_with_generated(0, inbox),
                    lambda root: _cli("--kb", root, "add", "--jobs", "1", inbox), warm=True)


WORKLOADS.update({
    "add-markdown-empty-kb": add_markdown_empty,
    "add-long-pdf-20-docs": add_long_pdf,
    "add-folder-5-mixed": add_mixed_folder,
})


# -- add through the LLM compiler (issue 4), against a fake OpenAI server in this process ---------------------------

def _fake_model():
    sys.path.insert(0, os.path.join(REPO, "tests"))
    from fakes import wiki_responder
    from fakes.openai_server import FakeOpenAI

    return FakeOpenAI(default=wiki_responder.respond).start()


def _llm_kb(fake, count: int, inbox: str):
    return _kb_with_generated(count, inbox, (("model", "openai/gpt-4o-mini"), ("base_url", fake.base_url)))


def llm_add_markdown() -> Workload:
    fake = _fake_model()
    return _add_one_file("llm-add-markdown-20-docs", WAL_NOTE, lambda inbox: _llm_kb(fake, 20, inbox), fake.stop)


def llm_add_long_pdf() -> Workload:
    fake = _fake_model()
    return _add_one_file("llm-add-long-pdf", GEOTOPO, lambda inbox: _llm_kb(fake, 0, inbox), fake.stop)


WORKLOADS.update({
    "llm-add-markdown-20-docs": llm_add_markdown,
    "llm-add-long-pdf": llm_add_long_pdf,
})


# -- add from the web and from PageIndex Cloud (issue 5), against servers in this process ---------------------------

def _site(files: dict[str, tuple[str, str]]) -> tuple[str, object]:
    """A web server on 127.0.0.1 serving {path: (content type, file)}; returns (base URL, server)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    bodies = {path: (ctype, open(src, "rb").read()) for path, (ctype, src) in files.items()}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            ctype, body = bodies.get(self.path, ("text/plain", None))
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def _stop(server) -> Callable[[], None]:
    def stop() -> None:
        server.shutdown()
        server.server_close()
    return stop


def url_add(name: str, path: str, ctype: str, src: str) -> Callable[[], Workload]:
    def make() -> Workload:
        base, server = _site({path: (ctype, src)})
        _memoize_conversions()
        inbox = tempfile.mkdtemp(prefix="crash-inbox-")
        return Workload(name, _kb_with_generated(0, inbox),
                        lambda root: _cli("--kb", root, "add", "--allow-private", base + path),
                        warm=True, teardown=_stop(server))
    return make


def cloud_import() -> Workload:
    sys.path.insert(0, os.path.join(REPO, "tests"))
    from fakes.pageindex_server import FakePageIndex

    fake = FakePageIndex(api_key="bench-key").start()
    pages = [f"Page {i}. The quarterly ledger shows steady growth and a careful audit." for i in range(1, 31)]
    tree = [{"title": "Summary", "node_id": "0000", "page_index": 1, "prefix_summary": "The year at a glance."},
            {"title": "Accounts", "node_id": "0001", "page_index": 6, "nodes": [
                {"title": "Ledger", "node_id": "0002", "page_index": 9, "prefix_summary": "Entries by month."}]},
            {"title": "Audit", "node_id": "0003", "page_index": 20}]
    fake.add_document("report-1", "Annual Report", pages, tree, description="A yearly report.")
    os.environ["PAGEINDEX_API_KEY"] = "bench-key"
    inbox = tempfile.mkdtemp(prefix="crash-inbox-")
    built = _kb_with_generated(20, inbox)

    def build(root: str) -> None:
        built(root)
        _cli("--kb", root, "config", "set", "pageindex_base_url", fake.base_url)

    _memoize_compile()
    return Workload("cloud-import-20-docs", build,
                    lambda root: _cli("--kb", root, "add", "--from-pageindex-cloud", "report-1"),
                    warm=True, teardown=fake.stop)


WORKLOADS.update({
    "url-add-html": url_add("url-add-html", "/article.html", "text/html",
                            os.path.join(CORPUS, "web", "test_blog.html")),
    "url-add-pdf": url_add("url-add-pdf", "/paper.pdf", "application/pdf",
                           os.path.join(CORPUS, "pdf", "pdflatex-outline.pdf")),
    "cloud-import-20-docs": cloud_import,
})


# -- maintain: remove, recompile, lint --fix, undo (issue 9) --------------------------------------------------------

PEPS = os.path.join(CORPUS, "peps")
# Three PEPs on type annotations that share many concepts, chosen among the shorter ones (49 KB in all): every state
# of a workload over them clones, runs and judges this KB, so its size is paid hundreds of times per workload.
THREE_PEPS = {name: os.path.join(PEPS, name) for name in ("pep-0526.rst", "pep-0585.rst", "pep-3107.rst")}


def _kb_with(files: dict[str, str], then: Callable[[str, str], None] | None = None, settings: dict | None = None):
    """A KB holding copies of `files` (name -> source), added as one folder; then(root, inbox) prepares more."""
    inbox = _inbox(files)
    _memoize_conversions()

    def build(root: str) -> None:
        KnowledgeBase.init(root, settings=settings).close()
        _cli("--kb", root, "add", inbox)
        if then is not None:
            then(root, inbox)
    return build, inbox


def remove_shared() -> Workload:
    build, _ = _kb_with(THREE_PEPS)
    return Workload("remove-shared-concepts", build, lambda root: _cli("--kb", root, "remove", "-y", "pep-3107"),
                    warm=True)


def remove_single_source() -> Workload:
    build, _ = _kb_with({**THREE_PEPS, "hard-links.md": os.path.join(REPO, "examples", "hard-links.md")})
    return Workload("remove-single-source", build, lambda root: _cli("--kb", root, "remove", "-y", "hard-links"),
                    warm=True)


NOTES = "\nMy own note on this page: check the 1996 paper first.\n"


def _write_notes(root: str, _inbox: str) -> None:
    with open(os.path.join(root, "wiki", "concepts", "hard-link.md"), "a", encoding="utf-8") as fh:
        fh.write(NOTES)


def remove_notes_page() -> Workload:
    build, _ = _kb_with({"a-pep.rst": THREE_PEPS["pep-3107.rst"],
                         "hard-links.md": os.path.join(REPO, "examples", "hard-links.md")}, _write_notes)
    return Workload("remove-last-source-of-notes-page", build,
                    lambda root: _cli("--kb", root, "remove", "-y", "hard-links"), warm=True)


def _delete_pages(root: str, _inbox: str) -> None:
    os.unlink(os.path.join(root, "wiki", "summaries", "pep-0526.md"))
    os.unlink(os.path.join(root, "wiki", "sources", "pep-3107.md"))


def recompile_three() -> Workload:
    build, _ = _kb_with(THREE_PEPS, _delete_pages)
    return Workload("recompile-three-peps", build,
                    lambda root: _cli("--kb", root, "recompile", "-y", "pep-0526", "pep-0585", "pep-3107"), warm=True)


def _break_things(root: str, _inbox: str) -> None:
    summary = os.path.join(root, "wiki", "summaries", "pep-3107.md")
    with open(summary, "a", encoding="utf-8") as fh:
        fh.write("\nSee [[concepts/never-written]].\n")
    _cli("--kb", root, "recompile", "-y", "pep-3107")  # the broken link is now a registered page's own
    index = os.path.join(root, "wiki", "index.md")
    with open(index, encoding="utf-8") as fh:
        text = fh.read()
    with open(index, "w", encoding="utf-8") as fh:
        fh.write(text.replace("- [[sources/pep-0526|", "- [[sources/gone|", 1))
    os.unlink(os.path.join(root, "wiki", "summaries", "pep-0585.md"))


def lint_fix() -> Workload:
    build, _ = _kb_with(THREE_PEPS, _break_things)

    def action(root: str) -> None:
        from wikismith.cli import cli
        from wikismith.cli.common import run

        code = run(cli, ["--kb", root, "lint", "--no-llm", "--fix"])
        if code not in (0, 1):  # 1: findings remain (near-duplicates are reported, never fixed)
            raise SystemExit(code)
    return Workload("lint-fix", build, action, warm=True)


MIXED_FOR_UNDO = {"a-notes.md": os.path.join(REPO, "examples", "hard-links.md"),
                  "b-pep-0604.rst": os.path.join(CORPUS, "peps", "pep-0604.rst"),
                  "c-blog.html": os.path.join(CORPUS, "web", "test_blog.html")}


def undo_folder_add() -> Workload:
    inbox = _inbox(MIXED_FOR_UNDO)
    _memoize_conversions()

    def build(root: str) -> None:
        _kb_with_generated(3, tempfile.mkdtemp(prefix="crash-inbox-"))(root)
        _cli("--kb", root, "add", inbox)
    return Workload("undo-folder-add", build, lambda root: _cli("--kb", root, "undo", "-y"), warm=True)


def undo_remove() -> Workload:
    build, _ = _kb_with(THREE_PEPS, lambda root, inbox: _cli("--kb", root, "remove", "-y", "pep-0526"))
    return Workload("undo-remove", build, lambda root: _cli("--kb", root, "undo", "-y"), warm=True)


def add_declaring() -> Workload:
    """PEP 526 says "type hints, a.k.a. type annotations": its add moves PEP 585's "Type Annotations" section onto
    the "Type Hints" page and relinks PEP 585's summary (an other name declared for the whole KB)."""
    declaring = os.path.join(PEPS, "pep-0526.rst")
    return _add_one_file("add-declaring-other-name", declaring, lambda inbox: _kb_with(
        {name: path for name, path in THREE_PEPS.items() if path != declaring})[0])


def remove_declaring() -> Workload:
    """Its removal moves that section back onto a page of its own."""
    build, _ = _kb_with(THREE_PEPS)
    return Workload("remove-declaring-other-name", build,
                    lambda root: _cli("--kb", root, "remove", "-y", "pep-0526"), warm=True)


# Pages that show 2 sections: the three PEPs fill the two they all hold ("Annotation", "Python").
SHOWING_TWO = {"page_sections": 2}


def remove_shown() -> Workload:
    """PEP 526's sections are shown on full pages: its removal brings PEP 3107's, next in line, on."""
    build, _ = _kb_with(THREE_PEPS, settings=SHOWING_TWO)
    return Workload("remove-shown-section", build, lambda root: _cli("--kb", root, "remove", "-y", "pep-0526"),
                    warm=True)


def add_before_shown() -> Workload:
    """PEP 526 sorts before the two PEPs shown on full pages: its add pushes PEP 3107's sections off them."""
    first = os.path.join(PEPS, "pep-0526.rst")
    return _add_one_file("add-before-shown-sections", first, lambda inbox: _kb_with(
        {name: path for name, path in THREE_PEPS.items() if path != first}, settings=SHOWING_TWO)[0])


# PEP 604 sorts after the two PEPs shown on the pages all three hold, which have more sources than they show.
FOURTH_PEP = os.path.join(PEPS, "pep-0604.rst")


def add_after_shown() -> Workload:
    """PEP 604 comes after the shown ones: its add leaves those pages as they are and links them from its summary."""
    return _add_one_file("add-after-shown-sections", FOURTH_PEP, lambda inbox: _kb_with(
        THREE_PEPS, settings=SHOWING_TWO)[0])


def remove_unshown() -> Workload:
    """Its removal leaves those pages as they are too (they still have more sources than they show)."""
    build, _ = _kb_with({**THREE_PEPS, "pep-0604.rst": FOURTH_PEP}, settings=SHOWING_TWO)
    return Workload("remove-unshown-section", build, lambda root: _cli("--kb", root, "remove", "-y", "pep-0604"),
                    warm=True)


# A catalogue several nodes deep with a handful of notes: leaves of 3 pages (150 in use). The summaries of
# note-000..note-003 and zeta sit under n -> no -> ... -> note-00, whose count no page holds. The notes are a word
# each (no concept or entity page: only summaries and sources), so that the states are those of the catalogue.
SMALL_LEAF = 3


def _short_note(name: str) -> str:
    return f"---\ntitle: {name}\n---\nok.\n"


def _small_leaves(step):
    """`step` run with the catalogue's LEAF at SMALL_LEAF, put back after (the bench process runs other workloads)."""
    def run(*args):
        from wikismith.wiki import catalog

        before, catalog.LEAF = catalog.LEAF, SMALL_LEAF
        try:
            return step(*args)
        finally:
            catalog.LEAF = before
    return run


def _deep_catalogue_kb(root: str) -> None:
    inbox = tempfile.mkdtemp(prefix="crash-inbox-")
    for name in ("note-000", "note-001", "note-002", "note-003", "zeta"):
        with open(os.path.join(inbox, f"{name}.md"), "w", encoding="utf-8") as fh:
            fh.write(_short_note(name))
    KnowledgeBase.init(root).close()
    _cli("--kb", root, "add", inbox)


def add_into_deep_catalogue() -> Workload:
    """An add rewrites index.md and the leaves its pages land in, not the nodes on the way down."""
    inbox = tempfile.mkdtemp(prefix="crash-inbox-")
    note = os.path.join(inbox, "note-004.md")
    with open(note, "w", encoding="utf-8") as fh:
        fh.write(_short_note("note-004"))
    return Workload("add-into-deep-catalogue", _small_leaves(_deep_catalogue_kb),
                    _small_leaves(lambda root: _cli("--kb", root, "add", note)), warm=True)


def remove_shrinking_catalogue_node() -> Workload:
    """A remove that leaves node "n" (no count on any page) with 3 summaries: it becomes a leaf again."""
    return Workload("remove-shrinking-catalogue-node", _small_leaves(_deep_catalogue_kb),
                    _small_leaves(lambda root: _cli("--kb", root, "remove", "-y", "note-003")), warm=True)


def undo_add_after_shown() -> Workload:
    """Undo of PEP 604's add, which left the busy pages as they were: undo leaves them too, and records them."""
    build, _ = _kb_with(THREE_PEPS, lambda root, inbox: _cli("--kb", root, "add", FOURTH_PEP), settings=SHOWING_TWO)
    return Workload("undo-add-after-shown-sections", build, lambda root: _cli("--kb", root, "undo", "-y"), warm=True)


def undo_refused() -> Workload:
    """An undo refused (a later command changed the same pages) changes nothing; the undo of the later one runs."""
    def then(root: str, inbox: str) -> None:
        shutil.copyfile(os.path.join(PEPS, "pep-0604.rst"), os.path.join(inbox, "pep-0604.rst"))
        _cli("--kb", root, "add", inbox)

    build, _ = _kb_with(THREE_PEPS, then)

    def action(root: str) -> None:
        from wikismith.cli import cli
        from wikismith.cli.common import run

        if run(cli, ["--kb", root, "undo", "-y", "1"]) != 1:
            raise SystemExit(9)  # it must be refused
        _cli("--kb", root, "undo", "-y")
    return Workload("undo-refused", build, action, warm=True)


WORKLOADS.update({
    "remove-shared-concepts": remove_shared,
    "remove-single-source": remove_single_source,
    "remove-last-source-of-notes-page": remove_notes_page,
    "recompile-three-peps": recompile_three,
    "lint-fix": lint_fix,
    "undo-folder-add": undo_folder_add,
    "undo-remove": undo_remove,
    "undo-refused": undo_refused,
    "add-declaring-other-name": add_declaring,
    "remove-declaring-other-name": remove_declaring,
    "remove-shown-section": remove_shown,
    "add-before-shown-sections": add_before_shown,
    "add-after-shown-sections": add_after_shown,
    "remove-unshown-section": remove_unshown,
    "undo-add-after-shown-sections": undo_add_after_shown,
    "add-into-deep-catalogue": add_into_deep_catalogue,
    "remove-shrinking-catalogue-node": remove_shrinking_catalogue_node,
})


# -- mentions: a page that comes to exist gathers the sections of the documents that only mention it ---------------

BOOK = os.path.join(CORPUS, "book")
# Two chapters that use "trait" without making it a topic of theirs, and the chapter that makes it one.
MENTIONING = {name: os.path.join(BOOK, name) for name in ("ch05-03-method-syntax.md", "ch18-01-what-is-oo.md")}
TRAITS = os.path.join(BOOK, "ch10-00-generics.md")


def add_gathering_mentions() -> Workload:
    """The add makes "Trait" exist: the page gets the mentioning chapters' sections (not their summaries' links)."""
    return _add_one_file("add-gathering-mentions", TRAITS, lambda inbox: _kb_with(MENTIONING)[0])


def remove_dropping_mentions() -> Workload:
    """The removal makes "Trait" go, with the sections of the chapters that only mention it."""
    build, _ = _kb_with({**MENTIONING, "ch10-00-generics.md": TRAITS})
    return Workload("remove-dropping-mentions", build,
                    lambda root: _cli("--kb", root, "remove", "-y", "ch10-00-generics"), warm=True)


WORKLOADS.update({"add-gathering-mentions": add_gathering_mentions, "remove-dropping-mentions": remove_dropping_mentions})


# -- asking: saved answers (issue 11) -------------------------------------------------------------------------------

def query_save() -> Workload:
    build, _ = _kb_with(THREE_PEPS)
    return Workload("query-save", build,
                    lambda root: _cli("--kb", root, "query", "What are function annotations?", "--save"), warm=True)


def chat_save() -> Workload:
    """A chat asks (two chat commits) and saves the answer (a transaction), as `/save` does."""
    build, _ = _kb_with(THREE_PEPS)

    def action(root: str) -> None:
        kb = KnowledgeBase.open(root, argv=["chat"])
        try:
            session = kb.chat()
            session.ask("How are union types written?")
            kb.save_answer(session.last, "union types")
        finally:
            kb.close()
    return Workload("chat-save", build, action, warm=True)


WORKLOADS.update({"query-save": query_save, "chat-save": chat_save})


# -- uploads over HTTP (issue 12): the op behind POST /api/v1/documents, in this process -----------------------------

def _upload(name: str, data: bytes) -> Callable[[str], None]:
    def action(root: str) -> None:
        kb = KnowledgeBase.open(root, argv=["web", "add", name])
        try:
            report = kb.add([], uploads=[(name, data)])
            if report.failed:
                raise OSError(report.outcomes[-1].detail)  # a fault the add reported: the run did not finish
        finally:
            kb.close()
    return action


def add_upload() -> Workload:
    with open(WAL_NOTE, "rb") as fh:
        data = fh.read()
    build, _ = _kb_with(THREE_PEPS)
    return Workload("add-upload", build, _upload("wal-notes.md", data), warm=True)


def add_upload_new_version() -> Workload:
    """An upload under a name already uploaded, with new content: the document is updated."""
    with open(WAL_NOTE, "rb") as fh:
        data = fh.read()
    build, _ = _kb_with(THREE_PEPS, lambda root, _inbox: _upload("wal-notes.md", data)(root))
    return Workload("add-upload-new-version", build, _upload("wal-notes.md", data + b"\nA checkpoint moves the log "
                                                             b"into the database file.\n"), warm=True)


WORKLOADS.update({"add-upload": add_upload, "add-upload-new-version": add_upload_new_version})


# -- changes made through a server process: MCP and the REST API (issue 12) ------------------------------------------
# Each state starts a server process, forked from the bench process where the server stack is imported once (an
# exec'd server spent 2 s importing it), so CI runs every checkpoint of these as of the others.


def mcp_add() -> Workload:
    from bench.serverwork import mcp_tool, preload

    preload()
    inbox = _inbox({"write-ahead-logging.md": WAL_NOTE})
    build, _ = _kb_with(THREE_PEPS)
    target = os.path.join(inbox, "write-ahead-logging.md")
    return Workload("mcp-add", build, lambda root: mcp_tool(root, ["--allow-writes", "--allow-root", inbox], "add",
                                                            {"source": target}))


def mcp_remove() -> Workload:
    from bench.serverwork import mcp_tool, preload

    preload()
    build, _ = _kb_with(THREE_PEPS)
    return Workload("mcp-remove", build,
                    lambda root: mcp_tool(root, ["--allow-writes"], "remove", {"document": "pep-3107"}))


WORKLOADS.update({"mcp-add": mcp_add, "mcp-remove": mcp_remove})


def rest_add() -> Workload:
    from bench.serverwork import multipart, preload, rest_request

    preload()
    with open(WAL_NOTE, "rb") as fh:
        body, headers = multipart("file", "write-ahead-logging.md", fh.read())
    build, _ = _kb_with(THREE_PEPS)
    return Workload("rest-add-upload", build,
                    lambda root: rest_request(root, "POST", "/api/v1/documents", body, headers))


def rest_remove() -> Workload:
    from bench.serverwork import preload, rest_request

    preload()
    build, _ = _kb_with(THREE_PEPS)
    return Workload("rest-remove", build, lambda root: rest_request(root, "DELETE", "/api/v1/documents/pep-3107"))


WORKLOADS.update({"rest-add-upload": rest_add, "rest-remove": rest_remove})
# -- parallel add (issue 13): documents prepared by 2 worker processes, applied in order by the command ------------

PARALLEL = {"a-notes.md": os.path.join(REPO, "examples", "hard-links.md"),
            "b-pep-0604.rst": os.path.join(CORPUS, "peps", "pep-0604.rst"),
            "c-blog.html": os.path.join(CORPUS, "web", "test_blog.html"),
            "d-outline.pdf": os.path.join(CORPUS, "pdf", "pdflatex-outline.pdf")}


def add_folder_parallel() -> Workload:
    """Every checkpoint of the applier (workers count none), and each document's worker SIGKILLed mid-document."""
    inbox = _inbox(PARALLEL)
    _memoize_conversions()
    _prewarm(inbox)
    return Workload("add-folder-parallel-jobs-2", _kb_with_generated(3, tempfile.mkdtemp(prefix="crash-inbox-")),
                    lambda root: _cli("--kb", root, "add", "--jobs", "2", inbox), warm=True,
                    extra_modes=("worker-killed",), documents=len(PARALLEL))


WORKLOADS["add-folder-parallel-jobs-2"] = add_folder_parallel
# -- watch (issue 13): a file dropped into raw/ is adopted in place, a raw file edited in place updates its document

def _drop_into_raw(root: str, _inbox: str) -> None:
    shutil.copyfile(os.path.join(PEPS, "pep-0604.rst"), os.path.join(root, "raw", "pep-0604.rst"))
    with open(os.path.join(root, "raw", "pep-0585.rst"), "a", encoding="utf-8") as fh:
        fh.write("\nAn edit made in raw/ by hand: stub files are checked by the type checker.\n")


def watch_adopt_raw() -> Workload:
    """What `watch` does when raw/ settles: add the dropped file and the edited one where they lie (no copy)."""
    build, _ = _kb_with(THREE_PEPS, then=_drop_into_raw)

    def action(root: str) -> None:
        here = os.getcwd()
        os.chdir(root)  # paths relative to the KB: the history records the same command line in every run
        try:
            # One file at a time, as watch adds: the serial path (a pool of workers per run would cost a second of
            # forking and compiling in every state, and the parallel applier has its own workload).
            _cli("--kb", root, "add", "--jobs", "1", "raw/pep-0585.rst", "raw/pep-0604.rst")
        finally:
            os.chdir(here)
    return Workload("watch-adopt-raw", build, action, warm=True)


WORKLOADS.update({"watch-adopt-raw": watch_adopt_raw})
