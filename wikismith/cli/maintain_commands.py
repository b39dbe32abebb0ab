"""Commands that maintain the KB: remove, recompile, lint, history, undo. Those that change it show their plan
first and ask on a terminal."""

from __future__ import annotations

import sys

import click

from wikismith.cli.common import console, open_kb, print_json

json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
yes_option = click.option("-y", "--yes", is_flag=True, help="Do not ask before changing the KB.")
dry_run_option = click.option("--dry-run", is_flag=True, help="Show the plan; change nothing.")


def _confirm(question: str, yes: bool, as_json: bool, show=None):
    """A confirm(plan) callback that shows the plan and asks, on a terminal; None (nobody to ask) with -y, --json
    or when stdin is not a terminal."""
    if yes or as_json or not sys.stdin.isatty():
        return None

    def confirm(plan) -> bool:
        if show is not None:
            show(plan)
        return click.confirm(question, default=False, err=True)
    return confirm


@click.command()
@click.argument("documents", nargs=-1, required=True, metavar="DOC...")
@dry_run_option
@yes_option
@click.option("--keep-raw", is_flag=True, help="Keep the original file in raw/ (no document names it any more).")
@json_option
@click.pass_context
def remove(ctx: click.Context, documents: tuple[str, ...], dry_run: bool, yes: bool, keep_raw: bool,
           as_json: bool) -> None:
    """Take documents out of the KB, as if they had never been added.

    \b
    DOC is a document's id, name, source path or URL, PageIndex Cloud id, or a
    unique prefix (3+ characters) of any of them; `wikismith list` shows them.
    Each document's sections leave every page; pages left with no source go,
    unless you wrote your own notes on them (then they stay, listing no source).
    A link to a page that goes becomes plain text. No model call is made.
    Each document is one transaction; `wikismith undo` brings them back.

    Exit status: 0 done (or nothing to do), 1 refused, 2 unknown or ambiguous DOC.
    """
    kb = open_kb(ctx)
    out = console()

    def show(plans) -> None:
        if not as_json:
            for p in plans:
                _print_plan(out, p)

    asked = _confirm("Remove these documents?", yes, as_json, show)
    report = kb.remove(list(documents), dry_run=dry_run, keep_raw=keep_raw, confirm=asked)
    if asked is None or dry_run:
        show(report.plans)
    if as_json:
        print_json(report.as_dict())
        return
    if dry_run:
        out.print("(dry run: nothing changed)")
    elif report.removed:
        out.print(f"removed {len(report.removed)} document(s): {', '.join(report.removed)}", markup=False)
        if report.overviews:
            o = report.overviews
            out.print(f"overviews not refreshed: {o['failed']}" if o.get("failed") else
                      f"refreshed the overviews of {o['pages']} pages ({o['usage']['calls']} model calls)",
                      markup=False)
    else:
        out.print("nothing was removed")
        ctx.exit(1)


def _print_plan(out, p) -> None:
    out.print(f"[bold]{p.id}[/bold] ({p.name})")
    for label, items in (("delete", p.pages_deleted), ("change", p.pages_changed),
                         ("keep for your notes", p.pages_kept_for_notes)):
        if items:
            shown = ", ".join(items[:8]) + (f" ... and {len(items) - 8} more" if len(items) > 8 else "")
            out.print(f"  {label} {len(items)} page(s): {shown}", markup=False)
    out.print(f"  registry rows: {p.rows['documents']} document, {p.rows['pages']} page(s)")
    if p.raw_file:
        out.print(f"  delete {p.raw_file}", markup=False)


@click.command()
@click.argument("documents", nargs=-1, metavar="[DOC...]")
@click.option("--all", "every", is_flag=True, help="Every document, oldest first.")
@dry_run_option
@yes_option
@json_option
@click.pass_context
def recompile(ctx: click.Context, documents: tuple[str, ...], every: bool, dry_run: bool, yes: bool,
              as_json: bool) -> None:
    """Rebuild documents' pages from their stored sources, one transaction each.

    
    After an upgrade of wikismith's compiler, after switching from offline to a
    model (`--dry-run` then estimates the model calls and tokens), or after a
    page was deleted by hand. Your own notes outside the markers stay. The
    source is the original in raw/, else the converted text the KB kept.
    """
    if bool(documents) == every:
        raise click.UsageError("name the documents to recompile, or give --all")
    kb = open_kb(ctx)
    out = console()

    def show(docs) -> None:
        out.print(f"recompile {len(docs)} document(s): " + ", ".join(d["id"] for d in docs[:10])
                  + (" ..." if len(docs) > 10 else ""), markup=False)

    report = kb.recompile(list(documents), every=every, dry_run=dry_run,
                          confirm=_confirm("Recompile them?", yes, as_json, show))
    if as_json:
        print_json(report.as_dict())
    else:
        for d in report.documents:
            usage = d.get("usage")
            cost = (f"; {'about ' if usage.get('estimated') else ''}{usage['calls']} model calls, "
                    f"{usage['tokens_in']:,} tokens in, {usage['tokens_out']:,} out") if usage else ""
            out.print(f"{d['status']}: {d['id']}" + (f": {d['detail']}" if d.get("detail") else "") + cost,
                      markup=False)
        if dry_run:
            out.print("(dry run: nothing changed)")
    ctx.exit(1 if report.failed else 0)


@click.command()
@click.option("--fix", is_flag=True, help="Apply, in one transaction, the fixes that only restore what the KB "
              "generated (recompile documents whose pages were deleted, index.md, broken links on its own pages); "
              "never deletes or rewrites a file you created.")
@click.option("--save", is_flag=True, help="Save the report as a page, wiki/reports/lint-TIME.md.")
@click.option("--no-llm", is_flag=True, help="Skip the model's reading (contradictions, stale claims, gaps).")
@json_option
@click.pass_context
def lint(ctx: click.Context, fix: bool, save: bool, no_llm: bool, as_json: bool) -> None:
    """Check the wiki: broken links, orphan pages, index.md, front matter, files the registry does not know,
    pages deleted by hand, control bytes, pages kept only for your notes, near-duplicate pages; with a model, a
    bounded sample read for contradictions, stale claims and gaps.

    Read-only unless --fix or --save, so it works on a dirty KB. Exit status: 0 when nothing is found, 1 when
    findings remain.
    """
    report = open_kb(ctx).lint(fix=fix, save=save, llm=not no_llm)
    if as_json:
        print_json(report.as_dict())
    else:
        out = console()
        for line in report.fixed:
            out.print(f"fixed: {line}", markup=False)
        for f in report.findings:
            out.print(f"{f.kind}: {f.page}: {f.detail}" + (" (lint --fix)" if f.fixable and not fix else ""),
                      markup=False)
        if report.llm and report.llm.get("usage"):
            u = report.llm["usage"]
            out.print(f"model: {report.llm.get('pages', 0)} page(s) read, {u['calls']} calls, "
                      f"{u['tokens_in']:,} tokens in, {u['tokens_out']:,} out", markup=False)
        if report.saved:
            out.print(f"saved {report.saved}", markup=False)
        counts = report.counts()
        out.print(("no findings" if not counts else
                   f"{len(report.findings)} finding(s): " + ", ".join(f"{n} {k}" for k, n in counts.items())),
                  markup=False)
    ctx.exit(1 if report.findings else 0)


@click.command()
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True, help="How many commands to show.")
@json_option
@click.pass_context
def history(ctx: click.Context, limit: int, as_json: bool) -> None:
    """List the commands that changed the KB, newest first: id, time, command line, documents, transactions,
    files touched. `wikismith undo ID` reverts one."""
    report = open_kb(ctx).history(limit=limit)
    if as_json:
        print_json(report.as_dict())
        return
    out = console()
    if not report.commands:
        out.print("no command has changed this knowledge base yet")
        return
    for c in report.commands:
        line = " ".join(c["argv"]) or c["label"]
        docs = ", ".join(c["documents"][:5]) + (f" (+{len(c['documents']) - 5})" if len(c["documents"]) > 5 else "")
        out.print(f"{c['id']:>5}  {c['at']}  {line}", markup=False)
        out.print(f"       {c['transactions']} transaction(s), {c['files']} file(s)"
                  + (f", documents: {docs}" if docs else "") + (f", undoes {c['undoes']}" if c["undoes"] else ""),
                  markup=False)
    out.print(f"(undo keeps what it needs for the last {report.keep} commands; config key history_keep)")


@click.command()
@click.argument("command_id", required=False, type=int, metavar="[ID]")
@dry_run_option
@yes_option
@json_option
@click.pass_context
def undo(ctx: click.Context, command_id: int | None, dry_run: bool, yes: bool, as_json: bool) -> None:
    """Revert one whole command (the latest by default) as one new transaction.

    \b
    A folder add of 50 documents is one command: undo takes all 50 out.
    Undo of a remove brings the documents back exactly; undo of an undo redoes.
    Refused, naming them, when a later command changed what undo would put
    back (undo those first), or when a file was edited by hand since. A
    command already undone is not undone twice: undo its undo to redo it.
    The plan (--dry-run too) is read under the KB's lock, after finishing or
    rolling back an interrupted transaction: while another command is inside
    one, it waits for that transaction to end.
    """
    kb = open_kb(ctx)
    out = console()

    def show(plan) -> None:
        if not as_json:
            _print_undo_plan(out, plan)

    asked = _confirm("Undo this command?", yes, as_json, show)
    report = kb.undo(command_id, dry_run=dry_run, confirm=asked)
    if as_json:
        print_json(report.as_dict())
        return
    if dry_run or asked is None:
        show(report.plan)
    if dry_run:
        out.print("(dry run: nothing changed)")
    elif report.undone:
        out.print(f"undone: command {report.plan.command['id']} (this undo is command {report.command})")
    else:
        out.print("nothing was undone")
        ctx.exit(1)


def _print_undo_plan(out, plan) -> None:
    c = plan.command
    out.print(f"command {c['id']}: {' '.join(c['argv']) or c['label']} ({c['at']})", markup=False)
    for label, items in (("put back", plan.restore), ("delete", plan.delete)):
        if items:
            shown = ", ".join(items[:8]) + (f" ... and {len(items) - 8} more" if len(items) > 8 else "")
            out.print(f"  {label} {len(items)} file(s): {shown}", markup=False)
    if plan.documents:
        out.print(f"  documents: {', '.join(plan.documents)}", markup=False)
