"""The ASGI app of `wikismith serve`: the REST API, the UI's static files, the OpenAPI schema and its docs, all
behind the security Guard. `serve()` runs it under uvicorn."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading

from wikismith.web.security import COOKIE, FORM_SLACK, Guard, Rules

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")


class KBs:
    """One KnowledgeBase handle per worker thread (a SQLite connection belongs to the thread that opened it)."""

    def __init__(self, opened):
        self.opened = opened  # closed: only a template for the handles
        self.local = threading.local()

    def fresh(self):
        return self.opened.another()

    def get(self):
        kb = getattr(self.local, "kb", None)
        if kb is None:
            kb = self.local.kb = self.fresh()
        kb.argv = []
        return kb


def create_app(root: str, rules: Rules):
    from fastapi import FastAPI
    from fastapi.responses import FileResponse, RedirectResponse
    from fastapi.staticfiles import StaticFiles

    from wikismith import __version__
    from wikismith.kb import KnowledgeBase
    from wikismith.web import api, errors

    opened = KnowledgeBase.open(root)  # finishes an interrupted transaction before the first request
    max_mb = float(opened.config.get("max_file_mb", 200))
    opened.close()
    rules.max_body = int(max_mb * 1024 * 1024) + FORM_SLACK

    app = FastAPI(title="wikismith", version=__version__, openapi_url="/api/openapi.json", docs_url=None,
                  redoc_url=None, description="The REST API of a wikismith knowledge base. Every change is one "
                  "transaction; every read sees one committed state. Errors are JSON {code, message}.")
    app.state.kbs = KBs(opened)
    app.state.rules = rules
    errors.install(app)
    app.include_router(api.router)

    # fastapi-offline is there for its Swagger UI files only: found, not imported
    docs_static = os.path.join(importlib.util.find_spec("fastapi_offline").submodule_search_locations[0], "static")
    app.mount("/api/docs-static", StaticFiles(directory=docs_static), name="docs-static")

    @app.get("/api/docs", include_in_schema=False)
    def docs():
        from fastapi.openapi.docs import get_swagger_ui_html

        return get_swagger_ui_html(openapi_url="/api/openapi.json", title="wikismith API",
                                   swagger_js_url="/api/docs-static/swagger-ui-bundle.js",
                                   swagger_css_url="/api/docs-static/swagger-ui.css",
                                   swagger_favicon_url="/api/docs-static/favicon.png")

    @app.get("/", include_in_schema=False)
    def index(token: str | None = None):
        if token is not None and rules.token is not None and rules.token_ok(token):  # keep it as a cookie
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
            return response
        return FileResponse(os.path.join(STATIC, "index.html"), headers=_NO_FRAMES)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return Guard(app, rules)


# The UI allows only its own scripts and styles, and cannot be framed by another site.
_NO_FRAMES = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
              "script-src 'self'; frame-ancestors 'none'", "X-Frame-Options": "DENY",
              "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def serve(root: str, *, host: str, port: int, token: str | None, read_only: bool,
          allow_hosts: tuple[str, ...] = ()) -> None:
    import uvicorn

    rules = Rules(host=host, port=port, token=token, read_only=read_only, allowed_names=allow_hosts)
    app = create_app(root, rules)
    mode = " (read-only)" if read_only else ""
    shown = f"[{host}]" if ":" in host else host
    print(f"wikismith: serving {root}{mode} at http://{shown}:{port}/ (API: /api/v1, docs: /api/docs); "
          "Ctrl-C stops", file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off",
                timeout_graceful_shutdown=3)
