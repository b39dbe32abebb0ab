"""The REST API under /api/v1. Each route calls one KnowledgeBase method and answers with its report's `as_dict()`,
the same dict `wikismith ... --json` prints. Reads run in worker threads, each with its own KB handle (one SQLite
connection per thread), and see one committed snapshot; every change is a KB operation, so a transaction.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from wikismith.web import events
from wikismith.web.errors import fail
from wikismith.web.render import to_html

KINDS = ("concept", "entity", "summary", "source", "exploration", "report")
MAX_FILES = 16

router = APIRouter(prefix="/api/v1")


def kbs(request: Request):
    return request.app.state.kbs


def answer(report: dict) -> JSONResponse:
    """A report's dict as JSON. Returning a Response skips what FastAPI does to a returned dict: validating it
    against the `dict` annotation in a second trip through the thread pool, then walking it with jsonable_encoder
    (a report holds JSON types only). That was most of a page read's time on the server."""
    return JSONResponse(report)


# -- reading ------------------------------------------------------------------------------------------------------

@router.get("/status", summary="Documents, pages by kind, pending transactions, dirty or clean")
def status(request: Request) -> JSONResponse:
    return answer(kbs(request).get().status().as_dict())


@router.get("/documents", summary="Every document: id, name, kind, source, hash, pages")
def documents(request: Request) -> JSONResponse:
    return answer(kbs(request).get().listing().as_dict())


@router.get("/pages", summary="Every page by kind (path and title)")
def pages(request: Request, kind: Annotated[list[str] | None, Query()] = None) -> JSONResponse:
    listing = kbs(request).get().listing(pages=True).as_dict()["pages"]
    if kind:
        listing = {k: v for k, v in listing.items() if k in kind}
    return answer({"pages": listing})


@router.get("/pages/{name:path}", summary="One page: Markdown, rendered HTML, backlinks, outline")
def page(request: Request, name: str) -> JSONResponse:
    report = kbs(request).get().page(name).as_dict()
    report["html"] = to_html(report["markdown"])
    return answer(report)


@router.get("/search", summary="Full-text search: the best passage of each page (no model call)")
def search(request: Request, q: Annotated[str, Query(min_length=1, max_length=1000)],
           kind: Annotated[list[str] | None, Query()] = None,
           limit: Annotated[int, Query(ge=1, le=200)] = 10) -> JSONResponse:
    bad = [k for k in kind or () if k not in KINDS]
    if bad:
        raise fail(422, "invalid_request", f"unknown kind {bad[0]!r}; one of {', '.join(KINDS)}")
    return answer(kbs(request).get().search(q, kinds=tuple(kind or ()), limit=limit).as_dict())


@router.get("/query", summary="Ask: server-sent events passages, tokens, sources, done (the query report)")
async def query_stream(request: Request, q: Annotated[str, Query(min_length=1, max_length=2000)]):
    def work(kb, emit) -> None:
        emit("passages", kb.search(q, limit=5).as_dict()["hits"])
        streamed: list[str] = []

        def on_delta(piece: str) -> None:
            streamed.append(piece)
            emit("tokens", {"text": piece})

        report = kb.query(q, on_delta=on_delta)
        if not streamed:  # offline, or a model that did not stream: the whole answer at once
            emit("tokens", {"text": report.answer})
        emit("sources", [s.as_dict() for s in report.sources])
        emit("done", {**report.as_dict(), "html": to_html(report.answer)})

    return events.stream(work, kbs(request))


@router.get("/lint", summary="Findings about the wiki (read-only)")
def lint(request: Request, llm: bool = False) -> JSONResponse:
    return answer(kbs(request).get().lint(llm=llm).as_dict())


@router.get("/history", summary="The commands that changed the KB, newest first")
def history(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 20) -> JSONResponse:
    return answer(kbs(request).get().history(limit=limit).as_dict())


@router.get("/undo/plan", summary="What undo would do (changes nothing)")
def undo_plan(request: Request, id: int | None = None) -> JSONResponse:
    return answer(kbs(request).get().undo(id, dry_run=True).as_dict())


@router.get("/documents/{doc:path}/removal", summary="What removing a document would do (changes nothing)")
def removal_plan(request: Request, doc: str) -> JSONResponse:
    return answer(kbs(request).get().remove([doc], dry_run=True).as_dict())


@router.get("/graph", summary="A page's neighbourhood in the link graph (or the wiki's hubs), bounded in size")
def graph(request: Request, page: str | None = None, depth: Annotated[int, Query(ge=1, le=3)] = 1,
          limit: Annotated[int, Query(ge=1, le=200)] = 60) -> JSONResponse:
    return answer(kbs(request).get().graph(page, depth=depth, limit=limit).as_dict())


# -- changing -----------------------------------------------------------------------------------------------------

class UrlAdd(BaseModel):
    urls: list[str] = Field(min_length=1, max_length=MAX_FILES)


@router.post("/documents", summary="Add documents: multipart files (field `file`) and/or `url` fields, or JSON "
             "{\"urls\": [...]}; with Accept: text/event-stream, progress events then done")
async def add(request: Request):
    uploads, urls = await _add_request(request)
    argv = ["web", "add", *[name for name, _ in uploads], *urls]

    def run(kb, progress=None):
        kb.argv = argv
        return kb.add(urls, uploads=uploads, progress=progress)

    if "text/event-stream" in request.headers.get("accept", ""):
        def work(kb, emit) -> None:
            report = run(kb, lambda i, n, path, phase: emit("progress", {"index": i, "total": n, "file": path,
                                                                          "phase": phase}))
            emit("done", report.as_dict())

        return events.stream(work, kbs(request))
    report = await run_in_threadpool(lambda: run(kbs(request).get()))
    out = report.as_dict()
    if report.failed:
        failed = [f for f in out["files"] if f["status"] == "failed"]
        out.update(code="add_failed", message=report.stopped or "; ".join(f["detail"] for f in failed))
        return JSONResponse(out, status_code=422)
    return answer(out)


async def _add_request(request: Request) -> tuple[list[tuple[str, bytes]], list[str]]:
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        try:
            return [], UrlAdd.model_validate(await request.json()).urls
        except ValueError as exc:
            raise fail(422, "invalid_request", f"expected {{\"urls\": [...]}}: {exc}") from None
    if not kind.startswith("multipart/form-data"):
        raise fail(415, "unsupported_media_type", "send multipart/form-data (files, url fields) or JSON {\"urls\"}")
    form = await request.form(max_files=MAX_FILES, max_fields=MAX_FILES)
    uploads, urls = [], []
    for key, value in form.multi_items():
        if key == "file" and hasattr(value, "read"):
            uploads.append((value.filename or "", await value.read()))
        elif key == "url" and isinstance(value, str) and value.strip():
            urls.append(value.strip())
    if not uploads and not urls:
        raise fail(422, "invalid_request", "nothing to add: send files in `file` fields or URLs in `url` fields")
    return uploads, urls


@router.delete("/documents/{doc:path}", summary="Remove a document (one transaction; undo brings it back)")
def remove(request: Request, doc: str, keep_raw: bool = False) -> JSONResponse:
    kb = kbs(request).get()
    kb.argv = ["web", "remove", doc]
    report = kb.remove([doc], keep_raw=keep_raw)
    if not report.removed:
        raise fail(409, "nothing_removed", f"{doc} was not removed (removed meanwhile?)")
    return answer(report.as_dict())


class RecompileBody(BaseModel):
    documents: list[str] = []
    all: bool = False
    dry_run: bool = False


@router.post("/recompile", summary="Rebuild documents from their stored sources, one transaction each")
def recompile(request: Request, body: RecompileBody) -> JSONResponse:
    if bool(body.documents) == body.all:
        raise fail(422, "invalid_request", "name the documents to recompile, or give \"all\": true")
    kb = kbs(request).get()
    kb.argv = ["web", "recompile", *(["--all"] if body.all else body.documents)]
    return answer(kb.recompile(body.documents, every=body.all, dry_run=body.dry_run).as_dict())


class LintBody(BaseModel):
    fix: bool = True
    save: bool = False
    llm: bool = False


@router.post("/lint", summary="Lint and fix what only restores what the KB generated (one transaction)")
def lint_fix(request: Request, body: LintBody) -> JSONResponse:
    kb = kbs(request).get()
    kb.argv = ["web", "lint", *(["--fix"] if body.fix else []), *(["--save"] if body.save else [])]
    return answer(kb.lint(fix=body.fix, save=body.save, llm=body.llm).as_dict())


class UndoBody(BaseModel):
    id: int | None = None


@router.post("/undo", summary="Revert one whole command (the latest by default) as one new transaction")
def undo(request: Request, body: UndoBody) -> JSONResponse:
    kb = kbs(request).get()
    kb.argv = ["web", "undo", *([str(body.id)] if body.id is not None else [])]
    report = kb.undo(body.id)
    if not report.undone:
        raise fail(409, "nothing_undone", "nothing was undone")
    return answer(report.as_dict())


class QueryBody(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    save: bool = False
    name: str | None = None


@router.post("/query", summary="Ask and, with save, keep the answer as an exploration page (JSON, not streamed)")
def query(request: Request, body: QueryBody) -> JSONResponse:
    kb = kbs(request).get()
    kb.argv = ["web", "query", body.question, *(["--save"] if body.save else [])]
    return answer(kb.query(body.question, save=body.save, name=body.name).as_dict())
