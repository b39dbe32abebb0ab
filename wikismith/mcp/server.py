"""The MCP server: read tools always, `add` and `remove` only with --allow-writes; pages as resources.

Every tool is one call of the KB API and returns its report's `as_dict()` (what `--json` prints). A change made
through a tool is one command in the KB's history, recorded as `mcp <tool> <argument>`, and lands through the same
transaction seam as the CLI's. Logs go to stderr: on stdio, stdout carries the protocol only.

(No `from __future__ import annotations` here: the SDK reads the tools' annotations at run time to build their JSON
schemas, and some of them use names local to build().)
"""

import logging
import sys
from typing import Annotated, Any, Literal

from pydantic import Field

from wikismith.mcp import guard
from wikismith.mcp.access import Access, Failure

INSTRUCTIONS = ("A wikismith knowledge base: a wiki compiled from documents (summaries, concepts, entities, sources). "
                "Search it first (snippets), then read pages by name (e.g. concepts/type-hint); `query` answers a "
                "question with cited pages. Long documents are read a page range at a time with read_source.")
Kind = Literal["concept", "entity", "summary", "source", "exploration", "report"]


def build(root: str, *, allow_writes: bool = False, allow_roots: tuple[str, ...] = ()):
    """An MCPServer over the KB at `root`, and the Access holding its KnowledgeBases (close it when done)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ResourceError, ToolError
    from mcp_types import ToolAnnotations

    from wikismith import __version__

    access = Access(root)
    server = MCPServer("wikismith", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                                open_world_hint=False)

    def tool(name: str, description: str, annotations, fn):
        server.add_tool(fn, name=name, description=description, annotations=annotations, structured_output=True)

    def search(query: Annotated[str, Field(description="words to look for")],
               kind: Annotated[Kind | None, Field(description="only pages of this kind")] = None,
               limit: Annotated[int, Field(ge=1, le=50)] = 10) -> dict[str, Any]:
        with access.call() as kb:
            return kb.search(query, kinds=(kind,) if kind else (), limit=limit).as_dict()

    def read_page(page: Annotated[str, Field(description="a page name: concepts/x, summaries/doc, index.md")],
                  offset: Annotated[int, Field(ge=0, description="read on from here (long pages)")] = 0
                  ) -> dict[str, Any]:
        with access.call() as kb:
            return kb.page_slice(page, offset=offset).as_dict()

    def list_pages(kind: Kind,
                   offset: Annotated[int, Field(ge=0)] = 0,
                   limit: Annotated[int, Field(ge=1, le=500)] = 50) -> dict[str, Any]:
        with access.call() as kb:
            return kb.pages(kind, offset=offset, limit=limit).as_dict()

    def read_source(document: Annotated[str, Field(description="the document's name, e.g. geotopo-komprimiert")],
                    first_page: Annotated[int, Field(ge=1)], last_page: Annotated[int, Field(ge=1)]
                    ) -> dict[str, Any]:
        with access.call() as kb:
            return kb.source_range(document, first_page, last_page).as_dict()

    def query(question: str) -> dict[str, Any]:
        with access.call() as kb:
            return kb.query(question).as_dict()

    def status() -> dict[str, Any]:
        with access.call() as kb:
            return kb.status().as_dict()

    def history(limit: Annotated[int, Field(ge=1, le=500)] = 20) -> dict[str, Any]:
        with access.call() as kb:
            return kb.history(limit=limit).as_dict()

    tool("search", "Full-text search of the wiki: the best passage of each matching page, as a snippet with its "
         "page, heading and page numbers (never whole pages).", read_only, search)
    tool("read_page", "The Markdown of one page of the wiki and the pages linking to it; long pages come in parts "
         "(next_offset).", read_only, read_page)
    tool("list_pages", "Pages of one kind (concept, entity, summary, source, exploration, report), a slice at a "
         "time.", read_only, list_pages)
    tool("read_source", "Pages first_page..last_page of a long document's converted text (a PDF's pages; its "
         "summary page shows the document's outline).", read_only, read_source)
    tool("query", "Answer a question from the wiki, citing its pages (offline from the best passages, or from the "
         "KB's configured model).", read_only, query)
    tool("status", "What the knowledge base holds: documents, pages by kind, pending transactions, dirty or not.",
         read_only, status)
    tool("history", "The commands that changed the knowledge base, newest first.", read_only, history)

    if allow_writes:
        roots = [str(r) for r in allow_roots]

        def add(source: Annotated[str, Field(description="an http(s) URL, or an absolute path under an allowed "
                                                          "root (" + (", ".join(roots) or "none") + ")")]
                ) -> dict[str, Any]:
            with access.call(["mcp", "add", source.strip()]) as kb:
                target = source.strip() if guard.is_url(source) else guard.allowed_path(source, roots)
                report = kb.add([target])
                if report.failed:
                    reasons = "; ".join(f"{o.path}: {o.detail}" for o in report.by_status("failed"))
                    raise Failure(f"not added: {reasons or report.stopped}")
            return report.as_dict()

        def remove(document: Annotated[str, Field(description="a document's id, name, source path or URL")],
                   dry_run: Annotated[bool, Field(description="only show what would be removed")] = False
                   ) -> dict[str, Any]:
            with access.call(["mcp", "remove", document]) as kb:
                return kb.remove([document], dry_run=dry_run).as_dict()

        tool("add", "Add a document (an http(s) URL, or a file or folder under an allowed root) to the wiki, as "
             "one transaction per document.", ToolAnnotations(read_only_hint=False, destructive_hint=False,
                                                               idempotent_hint=True, open_world_hint=True), add)
        tool("remove", "Remove a document and exactly what it contributed to the wiki, as one transaction "
             "(undoable with `wikismith undo`).", ToolAnnotations(read_only_hint=False, destructive_hint=True,
                                                                   idempotent_hint=False, open_world_hint=False),
             remove)

    @server.resource("wikismith://page/{+path}", name="page", mime_type="text/markdown",
                     description="A page of the wiki by name, e.g. wikismith://page/concepts/type-hint")
    def page_resource(path: str) -> str:
        try:
            with access.call() as kb:
                return kb.page_slice(path, limit=10_000_000).text
        except ToolError as exc:
            raise ResourceError(str(exc)) from None

    @server.resource("wikismith://index", name="index", mime_type="text/markdown",
                     description="The wiki's catalogue of pages (index.md)")
    def index_resource() -> str:
        with access.call() as kb:
            return kb.page_slice("index.md", limit=10_000_000).text

    return server, access


def run(root: str, *, http: bool = False, host: str = "127.0.0.1", port: int = 7701, allow_writes: bool = False,
        allow_roots: tuple[str, ...] = (), names: tuple[str, ...] = ()) -> None:
    """Serve until the client hangs up (stdio) or the process is stopped (HTTP)."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="wikismith mcp: %(message)s", force=True)
    server, access = build(root, allow_writes=allow_writes, allow_roots=allow_roots)
    try:
        if http:
            print(f"wikismith mcp: streamable HTTP on http://{host}:{port}/mcp", file=sys.stderr, flush=True)
            server.run("streamable-http", host=host, port=port, stateless_http=False,
                       transport_security=guard.http_security(host, port, names))
        else:
            server.run("stdio")
    finally:
        access.close()
