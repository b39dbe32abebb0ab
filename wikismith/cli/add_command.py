"""`wikismith add`: documents into the KB, each its own transaction, with progress and a final table."""

from __future__ import annotations

import sys

import click

from wikismith.cli.common import NOTHING_HALF_DONE, console, open_kb, print_json


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH|URL|DOC_ID...")
@click.option("--dry-run", is_flag=True, help="List what would be added, updated and skipped; change nothing.")
@click.option("--allow-private", is_flag=True, help="Let URLs reach loopback and private addresses (your own "
              "intranet); refused by default against server-side request forgery.")
@click.option("--from-pageindex-cloud", "cloud", is_flag=True, help="Treat every argument as a PageIndex Cloud "
              "document id to import (key: PAGEINDEX_API_KEY, in the environment or the KB's .env).")
@click.option("--follow-symlinks", is_flag=True, help="In a folder, also follow symbolic links whose target is "
              "outside it (skipped by default, so that a link cannot pull in a file such as /etc/passwd).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes that convert and "
              "compile files (default: the jobs setting, else one per core); one process applies them in order.")
@click.option("--cluster", metavar="tcp://HOST:8786", default=None, help="Prepare files on the workers of this Dask "
              "scheduler (needs wikismith[distributed]); the knowledge base stays on this machine.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome of every file as JSON.")
@click.pass_context
def add(ctx: click.Context, paths: tuple[str, ...], dry_run: bool, allow_private: bool, cloud: bool,
        follow_symlinks: bool, jobs: int | None, cluster: str | None, as_json: bool) -> None:
    """Add documents: files, folders (recursive), http(s) URLs, or PageIndex Cloud documents.

    \b
    Each document is one transaction: interrupted, the KB keeps every document
    already added, and running the same command again skips them (same content)
    and carries on. A file already added from the same path with new content is
    updated in place. Formats: PDF, Markdown, reStructuredText, text, HTML,
    Word, PowerPoint, Excel, EPUB, Jupyter, CSV, JSON, XML/RSS, Outlook .msg.

    In a folder, hidden files and symbolic links that lead out of it are
    skipped, each with its reason.

    Exit status: 0 when nothing failed, 1 when any file failed, 2 on a usage
    error, 130 when interrupted (the documents listed before it are added).
    """
    kb = open_kb(ctx)
    reporter = _Reporter(enabled=not as_json)
    with reporter:
        report = kb.add(list(paths), dry_run=dry_run, progress=reporter.update, allow_private=allow_private,
                        cloud=cloud, follow_symlinks=follow_symlinks, jobs=jobs, cluster=cluster)
    if as_json:
        print_json(report.as_dict())
    else:
        _print_table(report, dry_run)
    if report.interrupted:
        click.echo(f"wikismith: interrupted; {NOTHING_HALF_DONE}", err=True)
        ctx.exit(130)
    ctx.exit(1 if report.failed else 0)


class _Reporter:
    """A rich progress bar on a terminal; plain lines on stderr when piped; nothing for --json."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.tty = enabled and sys.stderr.isatty()
        self.bar = None
        self.task = None
        self.prepared = None  # the workers' bar, in a parallel add

    def __enter__(self):
        if self.tty:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def update(self, index: int, total: int, path: str, phase: str) -> None:
        """phase "prepared" (a parallel add): `index` documents are prepared by workers; any other phase is the
        step document `index` is at (in a parallel add: being applied)."""
        if not self.enabled:
            return
        name = path.rsplit("/", 1)[-1]
        if self.bar is None:
            if phase in ("reading", "applying"):
                click.echo(f"[{index}/{total}] {path}", err=True)
            return
        if phase == "prepared":
            if self.prepared is None:
                self.prepared = self.bar.add_task("prepared", total=total)
            self.bar.update(self.prepared, completed=index)
            return
        if self.task is None:
            self.task = self.bar.add_task("", total=total)
        self.bar.update(self.task, completed=index - 1, description=f"{phase:10} {name[:50]}")


def _print_table(report, dry_run: bool) -> None:
    from rich.table import Table

    out = console()
    if report.outcomes and not out.is_terminal:
        # Piped: one plain line per file, never cut or wrapped, so a log shows each file with its reason.
        for o in report.outcomes:
            detail = _detail(o)
            if detail.startswith(o.path):  # reasons usually start with the file already
                detail = detail[len(o.path):].lstrip(": ")
            out.print(f"{o.status}: {o.path}" + (f": {detail}" if detail else ""), markup=False, soft_wrap=True)
    elif report.outcomes:
        table = Table(show_edge=False)
        table.add_column("status")
        table.add_column("file", overflow="fold")
        table.add_column("detail", overflow="fold")
        for o in report.outcomes:
            detail = _detail(o)
            style = {"failed": "red", "skipped": "dim", "added": "green", "updated": "yellow"}.get(o.status, "")
            table.add_row(f"[{style}]{o.status}[/{style}]" if style else o.status, o.path, detail)
        out.print(table)
    counts = {s: len(report.by_status(s)) for s in ("added", "updated", "skipped", "failed")}
    if dry_run:
        counts = {"would add": len(report.by_status("would-add")), "would update": len(report.by_status("would-update")),
                  "skipped": counts["skipped"], "failed": counts["failed"]}
    out.print(", ".join(f"{n} {s}" for s, n in counts.items()) + ("  (dry run: nothing changed)" if dry_run else ""))
    if report.overviews:
        o = report.overviews
        if o.get("failed"):
            out.print(f"overviews not refreshed (the documents are added): {o['failed']}", markup=False)
        else:
            out.print(f"refreshed the overviews of {o['pages']} pages ({o['usage']['calls']} model calls)")
    if report.stopped:
        out.print(f"[red]{report.stopped}[/red]; the knowledge base keeps every document added before it")
    if report.interrupted:
        done = len(report.by_status("added")) + len(report.by_status("updated"))
        out.print(f"[red]interrupted[/red]: {done} document(s) above were committed and stay in the knowledge base; "
                  "run the same command again to carry on")


def _detail(o) -> str:
    detail = o.detail or (f"as {o.doc_id}" if o.doc_id else "")
    if o.usage:
        about = "about " if o.usage.get("estimated") else ""
        cost = f", ${o.usage['cost']:.4f}" if o.usage.get("cost") else ""
        detail += (f"; {about}{o.usage['calls']} model calls, {o.usage['tokens_in']:,} tokens in, "
                   f"{o.usage['tokens_out']:,} out{cost}")
    if o.warnings:
        detail = (detail + "; " if detail else "") + "warning: " + "; ".join(o.warnings)
    return detail
