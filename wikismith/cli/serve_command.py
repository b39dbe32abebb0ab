"""`wikismith serve`: the web UI and the REST API of a KB. FastAPI and uvicorn are imported only when it runs."""

from __future__ import annotations

import click

from wikismith.errors import UsageError


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on. Anything but "
              "loopback needs a token.")
@click.option("--port", type=click.IntRange(1, 65535), default=7700, show_default=True)
@click.option("--token", envvar="WIKISMITH_TOKEN", metavar="TOKEN", help="Required on every request (header "
              "`Authorization: Bearer TOKEN`; in a browser open /?token=TOKEN once). Default: $WIKISMITH_TOKEN.")
@click.option("--read-only", is_flag=True, help="Refuse every change (reading, search, query and lint still work).")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME", help="Another name the server may be "
              "reached by (the Host header is checked on every request, against DNS rebinding). Repeatable.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, token: str | None, read_only: bool,
          allow_hosts: tuple[str, ...]) -> None:
    """Browse, search, ask and change the KB from a browser, or script it over HTTP.

    \b
    UI at http://127.0.0.1:7700/, REST API under /api/v1 (the same JSON as
    --json), OpenAPI schema at /api/openapi.json, interactive docs at /api/docs.
    Every change is one transaction, as from the command line; every read sees
    one committed state. Changes are accepted only from the server's own pages
    (Origin) or with the token in a header.
    """
    from wikismith.kb import locate
    from wikismith.web.app import serve as run
    from wikismith.web.security import is_loopback

    if token is not None and not token.strip():
        raise UsageError("--token is empty")
    if not is_loopback(host) and not token:
        raise UsageError(f"--host {host} is reachable from other machines: give a --token (or set WIKISMITH_TOKEN)")
    run(locate(ctx.obj.get("kb")), host=host, port=port, token=token, read_only=read_only, allow_hosts=allow_hosts)
