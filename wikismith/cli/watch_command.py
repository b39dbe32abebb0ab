"""`wikismith watch`: add files as they appear in raw/ (and other folders), until Ctrl-C."""

from __future__ import annotations

import json

import click

from wikismith.cli.common import NOTHING_HALF_DONE, open_kb


@click.command()
@click.argument("folders", nargs=-1, type=click.Path(exists=True, file_okay=False), metavar="[FOLDER]...")
@click.option("--debounce", type=click.FloatRange(min=0.05), default=1.0, show_default=True, metavar="SECONDS",
              help="How long a file must stay quiet, with a steady size, before it is read.")
@click.option("--remove-deleted", is_flag=True, help="When a file is deleted, take its document out of the KB "
              "too (by default the document stays and the deletion is only reported).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per outcome, a line each.")
@click.pass_context
def watch(ctx: click.Context, folders: tuple[str, ...], debounce: float, remove_deleted: bool, as_json: bool) -> None:
    """Watch raw/ and FOLDERs; add each new or changed document as it settles.

    \b
    Each file is added as `wikismith add` would add it, one transaction each;
    a file dropped into raw/ becomes its document's raw file where it lies.
    Files dropped while nothing watched are picked up at start. Unchanged
    files are skipped. Stop with Ctrl-C: it stops between transactions, and
    every document reported before it stays added (exit status 130).
    """
    kb = open_kb(ctx)

    def show(outcome: dict) -> None:
        if as_json:
            click.echo(json.dumps(outcome, sort_keys=True, ensure_ascii=False))
        elif outcome["event"] != "skipped":
            detail = outcome.get("detail") or (f"as {outcome['id']}" if outcome.get("id") else "")
            click.echo(f"{outcome['event']}: {outcome['path']}" + (f": {detail}" if detail else ""))

    def ready(watched: list[str]) -> None:
        shown = ", ".join(watched)
        click.echo(f"wikismith: watching {shown} (Ctrl-C to stop)", err=True)

    report = kb.watch(list(folders), debounce=debounce, remove_deleted=remove_deleted, on_outcome=show,
                      on_ready=ready)
    counts = report.as_dict()["counts"]
    click.echo("wikismith: stopped; " + ", ".join(f"{n} {e}" for e, n in counts.items() if n) if any(
        counts.values()) else "wikismith: stopped; nothing changed", err=True)
    if report.interrupted:
        click.echo(f"wikismith: interrupted; {NOTHING_HALF_DONE}", err=True)
        ctx.exit(130)
    ctx.exit(1 if counts["failed"] else 0)
