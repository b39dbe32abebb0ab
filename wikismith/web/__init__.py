"""`wikismith serve`: the REST API (/api/v1) and the web UI, one ASGI app over the KnowledgeBase API.

    security.py   Host, Origin, token, read-only and body-size rules, checked before any route runs
    errors.py     every failure as JSON {"code", "message"} with its HTTP status, never a traceback
    api.py        the REST routes; each calls one KnowledgeBase method and returns its report's as_dict()
    events.py     server-sent events from work done in a thread (query tokens, add progress)
    render.py     a page's Markdown as HTML: raw HTML escaped, [[wikilinks]] made links
    app.py        the app: routes, static UI, OpenAPI at /api/openapi.json, docs at /api/docs
    static/       the UI: plain HTML, CSS and JS, no build step, nothing fetched from elsewhere
"""
