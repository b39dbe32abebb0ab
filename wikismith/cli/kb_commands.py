"""Commands about the knowledge base itself: init, status, list, doctor."""

from __future__ import annotations

import click

from wikismith.cli.common import console, open_kb, print_json

json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of a table.")


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--model", metavar="MODEL", help='The model that compiles the wiki: "offline" (default: no model) or '
              "provider/model, e.g. openai/gpt-4o-mini, anthropic/claude-3-5-haiku-latest, ollama/llama3.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def init(directory: str, model: str | None, as_json: bool) -> None:
    """Create a knowledge base in DIRECTORY (default: the current folder).

    Makes raw/ for your documents, wiki/ with AGENTS.md, index.md and log.md, and .wikismith/ for the
    database and settings. Refuses, changing nothing, if DIRECTORY already is a knowledge base.
    """
    from wikismith.config import coerce
    from wikismith.kb import InitReport, KnowledgeBase

    kb = KnowledgeBase.init(directory, settings={"model": coerce("model", model)} if model else None)
    if as_json:
        print_json(InitReport(kb.root).as_dict())
    else:
        click.echo(f"Created a knowledge base in {kb.root}")
        click.echo("Next: wikismith --kb " + click.format_filename(directory) + " status")


@click.command()
@json_option
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show documents, pages by kind, pending transactions, and whether the KB is dirty."""
    info = open_kb(ctx).status().as_dict()
    if as_json:
        print_json(info)
        return
    out = console()
    out.print(f"Knowledge base  {info['root']}")
    out.print(f"Model           {info['model']}")
    out.print(f"Documents       {info['documents']}")
    kinds = ", ".join(f"{kind} {count}" for kind, count in info["pages"].items()) or "none"
    out.print(f"Pages           {info['pages_total']} ({kinds})")
    out.print(f"Pending         {len(info['pending_transactions'])} transaction(s)")
    out.print(f"State           {'DIRTY: ' + info['dirty_reason'] if info['dirty'] else 'clean'}", markup=False)


@click.command(name="list")
@click.option("--pages", "with_pages", is_flag=True, help="Also list every page, by kind.")
@json_option
@click.pass_context
def list_(ctx: click.Context, with_pages: bool, as_json: bool) -> None:
    """List documents: id, name, kind, where each came from, content hash, pages it feeds.

    The id is what other commands take to name a document; SOURCE is the path it was added from (or its URL),
    so that two files of the same name from different folders are told apart.
    """
    info = open_kb(ctx).listing(pages=with_pages).as_dict()
    if as_json:
        print_json(info)
        return
    from rich.table import Table

    out = console()
    columns = ("id", "name", "kind", "source", "hash", "pages")
    rows = [(d["id"], d["name"], d["kind"], d["source"], d["hash"][:12], str(d["pages"])) for d in info["documents"]]
    if out.is_terminal:
        table = Table(title=f"{len(rows)} document(s)")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        out.print(table)
    else:  # piped: one tab-separated line per document, never wrapped
        for row in [columns, *rows]:
            out.print("\t".join(row), markup=False, soft_wrap=True)
    for kind, pages in (info.get("pages") or {}).items():
        out.print(f"[bold]{kind}[/bold] ({len(pages)})")
        for page in pages:
            out.print(f"  {page['path']}  {page['title']}", markup=False)


@click.command()
@click.option("--repair", is_flag=True, help="Run recovery: finish or undo interrupted commands, clear scratch folders.")
@click.option("--abandon", is_flag=True, help="With --repair on a dirty KB: accept the files as they are now and keep "
              "the unusable transaction's before-images in .wikismith/quarantine/.")
@click.option("--clear-downloads", is_flag=True, help="Remove the downloads that failed URL adds kept for a retry.")
@click.option("--store-only", is_flag=True, help="Skip the wiki checks (broken links, pages missing from index.md), "
              "which read every page.")
@json_option
@click.pass_context
def doctor(ctx: click.Context, repair: bool, abandon: bool, clear_downloads: bool, store_only: bool,
           as_json: bool) -> None:
    """Check the store (schema, journal, scratch folders, registry against disk) and the wiki (links, index).

    Exits 0 when healthy, 1 when something needs attention. Nothing a user wrote is ever deleted.
    """
    from wikismith.kb import KnowledgeBase, locate

    if abandon and not repair:
        raise click.UsageError("--abandon goes with --repair")
    report = KnowledgeBase.doctor(locate(ctx.obj.get("kb")), repair=repair, abandon=abandon, wiki=not store_only,
                                  clear_downloads=clear_downloads)
    if as_json:
        print_json(report.as_dict())
    else:
        for line in report.repaired:
            click.echo(f"repaired: {line}")
        for line in report.notes:
            click.echo(f"note: {line}")
        for finding in report.findings:
            click.echo(f"{finding.check}: {finding.problem}" + (f"\n  -> {finding.hint}" if finding.hint else ""))
        if report.healthy:
            click.echo(f"healthy: {report.root} (schema version {report.schema_version})")
    ctx.exit(0 if report.healthy else 1)

