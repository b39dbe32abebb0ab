"""Commands that ask the KB: search and query. Readers: they never wait for a writer."""

from __future__ import annotations

import click

from wikismith.cli.common import console, open_kb, print_json

KINDS = ("concept", "entity", "summary", "source", "exploration", "report")


@click.command()
@click.argument("text")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Only pages of this kind "
              "(repeatable).")
@click.option("--limit", type=click.IntRange(1, 200), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_context
def search(ctx: click.Context, text: str, kinds: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Full-text search (no model call, ever): the best passage of each matching page, with its heading, page
    numbers, score and a snippet.

    \b
    Words match through an English stemmer ("errors" finds "error"); text in a
    script without spaces, and words found nowhere, are looked up as substrings.
    Exit status: 0 when something matched, 1 when nothing did.
    """
    report = open_kb(ctx).search(text, kinds=kinds, limit=limit)
    if as_json:
        print_json(report.as_dict())
    else:
        out = console()
        for h in report.hits:
            where = f", p. {h.first_page}" + (f"-{h.last_page}" if h.last_page != h.first_page else "") \
                if h.first_page else ""
            heading = f" > {h.heading}" if h.heading and h.heading != h.title else ""
            out.print(f"[bold]{_escape(h.title)}[/bold]{_escape(heading)}  ({h.page}{where}, score {h.score:g})")
            out.print("  " + _bold(h.snippet))
        if not report.hits:
            out.print("nothing matched")
    ctx.exit(0 if report.hits else 1)


@click.command()
@click.argument("question")
@click.option("--save", "save", is_flag=False, flag_value="", default=None, metavar="[NAME]",
              help="Keep the answer as a page, wiki/explorations/<name>.md (NAME: default from the question).")
@click.option("--agent", is_flag=True, help="With a model: let it search and read the wiki with tools, for harder "
              "questions (bounded in turns and tokens).")
@click.option("--max-turns", type=click.IntRange(1, 50), default=None, help="With --agent: at most this many model "
              "turns (default 8).")
@click.option("--json", "as_json", is_flag=True, help="Print answer, found, sources, mode and usage as JSON.")
@click.pass_context
def query(ctx: click.Context, question: str, save: str | None, agent: bool, max_turns: int | None,
          as_json: bool) -> None:
    """Answer a question from the knowledge base, citing its pages.

    \b
    With no model (offline): the passages that answer it best, quoted and cited
    with their pages; when nothing relevant is found it says so.
    With a model: one call given the best passages, its claims citing [[page]]s.
    --agent: a tool loop (search, read pages, read pages M-N of a long source,
    list pages, backlinks), read-only.
    Citations are checked: a link to a page that does not exist is made text.
    Exit status: 0 with an answer, 1 when the KB does not answer it.
    """
    kb = open_kb(ctx)
    out = console()
    live = None
    streamed: list[str] = []
    on_delta = None
    if not as_json and out.is_terminal and not agent:
        from rich.live import Live
        from rich.markdown import Markdown

        live = Live(Markdown(""), console=out, refresh_per_second=12)

        def on_delta(piece: str) -> None:
            if not streamed:
                live.start()
            streamed.append(piece)
            live.update(Markdown("".join(streamed)))
    try:
        report = kb.query(question, save=save is not None, name=save or None, agent=agent, max_turns=max_turns,
                          on_delta=on_delta)
    finally:
        if live is not None and streamed:
            live.stop()
    if as_json:
        print_json(report.as_dict())
        ctx.exit(0 if report.found else 1)
    if not streamed:
        if out.is_terminal:
            from rich.markdown import Markdown

            out.print(Markdown(report.answer))
        else:
            click.echo(report.answer)
    if report.sources:
        click.echo("\nSources:")
        for s in report.sources:
            click.echo(f"- {s.cite()}" + (f" — {s.heading}" if s.heading and s.heading != s.title else ""))
    if report.usage:
        u = report.usage
        turns = f", {report.turns} turn(s)" if report.turns else ""
        click.echo(f"\n({report.mode}: {u['calls']} model call(s){turns}, {u['tokens_in']:,} tokens in, "
                   f"{u['tokens_out']:,} out)", err=True)
    if report.saved:
        click.echo(f"saved as {report.saved}")
    ctx.exit(0 if report.found else 1)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _bold(snippet: str) -> str:
    """A snippet's **matches** in bold (rich markup), everything else escaped."""
    parts = snippet.split("**")
    return "".join(f"[bold]{_escape(p)}[/bold]" if i % 2 else _escape(p) for i, p in enumerate(parts))
