"""`wikismith mcp`: serve the KB to AI assistants over the Model Context Protocol (stdio, or streamable HTTP)."""

from __future__ import annotations

import os

import click


@click.command()
@click.option("--http", is_flag=True, help="Serve streamable HTTP at http://HOST:PORT/mcp instead of stdio.")
@click.option("--host", default="127.0.0.1", show_default=True, help="With --http: the address to bind.")
@click.option("--port", type=click.IntRange(1, 65535), default=7701, show_default=True, help="With --http: the port.")
@click.option("--allowed-host", "names", multiple=True, metavar="NAME", help="With --http: another name the Host "
              "header may give for this server (repeatable); every other Host is refused.")
@click.option("--allow-writes", is_flag=True, help="Also offer the add and remove tools (each a transaction).")
@click.option("--allow-root", "roots", multiple=True, type=click.Path(exists=True, file_okay=False),
              metavar="DIR", help="With --allow-writes: files under DIR may be added (repeatable; none by default, "
              "so only http(s) URLs can be added).")
@click.pass_context
def mcp(ctx: click.Context, http: bool, host: str, port: int, names: tuple[str, ...], allow_writes: bool,
        roots: tuple[str, ...]) -> None:
    """Serve this knowledge base to AI assistants (Claude Desktop, Cursor, any MCP client).

    \b
    Tools: search (snippets), read_page, list_pages, read_source (a page range
    of a long document), query, status, history; with --allow-writes also add
    (a URL, through the same guard as `add`: no private addresses; or a path
    under an --allow-root) and remove. Resources: wikismith://page/<name>.
    On stdio (the default) the protocol is on stdout and logs go to stderr.
    """
    from wikismith.errors import UsageError
    from wikismith.kb import locate
    from wikismith.mcp.server import run

    if roots and not allow_writes:
        raise UsageError("--allow-root only matters with --allow-writes")
    if http and host not in ("127.0.0.1", "localhost", "::1") and not os.environ.get("WIKISMITH_MCP_EXPOSE"):
        raise UsageError(f"refusing to serve MCP on {host}: it has no authentication; bind 127.0.0.1 (the default), "
                         "or set WIKISMITH_MCP_EXPOSE=1 if a proxy in front of it authenticates")
    run(locate(ctx.obj.get("kb")), http=http, host=host, port=port, allow_writes=allow_writes,
        allow_roots=tuple(os.path.abspath(r) for r in roots), names=names)
