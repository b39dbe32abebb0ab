"""Every failure as JSON `{"code": ..., "message": ...}` with the right HTTP status, never a traceback.

The code of a wikismith error is its class name in snake case (UsageError -> usage_error, UndoRefused ->
undo_refused, LockTimeout -> lock_timeout): stable, since the classes are the CLI's exit codes too.
"""

from __future__ import annotations

import logging
import re

from wikismith.errors import WikismithError

log = logging.getLogger("wikismith.web")

STATUS_OF_EXIT = {1: 422, 2: 400, 3: 503, 4: 503}
STATUS_OF_CODE = {"page_not_found": 404, "undo_refused": 409, "dirty_knowledge_base": 409}


def code_of(exc: Exception) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


def body(code: str, message: str) -> dict:
    return {"code": code, "message": message}


def install(app) -> None:
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    from wikismith.web.security import BodyTooLarge

    @app.exception_handler(WikismithError)
    async def wikismith_error(request, exc: WikismithError):
        code = code_of(exc)
        status = STATUS_OF_CODE.get(code, STATUS_OF_EXIT.get(exc.exit_code, 422))
        return JSONResponse(body(code, str(exc)), status_code=status)

    @app.exception_handler(HTTPException)
    async def http_error(request, exc: HTTPException):
        code = exc.detail.get("code") if isinstance(exc.detail, dict) else {
            404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, f"http_{exc.status_code}")
        message = exc.detail.get("message") if isinstance(exc.detail, dict) else str(exc.detail)
        return JSONResponse(body(code, message), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
        return JSONResponse(body("invalid_request", problems or "invalid request"), status_code=422)

    @app.exception_handler(BodyTooLarge)
    async def too_large(request, exc: BodyTooLarge):
        return JSONResponse(body("too_large", str(exc)), status_code=413)

    @app.exception_handler(OSError)
    async def os_error(request, exc: OSError):
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return JSONResponse(body("storage_error", f"{where}{exc.strerror or exc}; nothing was left half-done"),
                            status_code=500)

    @app.exception_handler(Exception)
    async def unexpected(request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(body("internal_error", f"unexpected {type(exc).__name__}; the server log has details"),
                            status_code=500)


def fail(status: int, code: str, message: str):
    from fastapi import HTTPException

    return HTTPException(status_code=status, detail=body(code, message))
