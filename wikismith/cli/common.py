"""What every command shares: opening the KB, printing, and turning errors into one line and an exit code."""

from __future__ import annotations

import json
import sys

import click

from wikismith.errors import WikismithError


NOTHING_HALF_DONE = "nothing was left half-done (finished steps are kept, the one in progress was undone)"


def run(group: click.Group, argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        result = group.main(args=argv, prog_name="wikismith", standalone_mode=False, obj={"argv": argv})
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Abort:
        click.echo("wikismith: interrupted", err=True)
        return 130
    except WikismithError as exc:
        click.echo(f"wikismith: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo(f"wikismith: interrupted; {NOTHING_HALF_DONE}", err=True)
        return 130
    except OSError as exc:
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        click.echo(f"wikismith: {where}{exc.strerror or exc}; {NOTHING_HALF_DONE}", err=True)
        return 1


def open_kb(ctx: click.Context):
    from wikismith.kb import KnowledgeBase

    kb = KnowledgeBase.open(ctx.obj.get("kb"), argv=_without_kb(ctx.obj.get("argv") or []))
    report = kb.opened
    for line in report.recovery.rolled_back:
        click.echo(f"wikismith: rolled back an interrupted transaction: {line}", err=True)
    if report.recovery.dirty:
        click.echo(f"wikismith: warning: {report.recovery.dirty}; run `wikismith doctor`", err=True)
    if report.recovery_error:
        click.echo(f"wikismith: warning: {report.recovery_error}", err=True)
    ctx.call_on_close(kb.close)
    return kb


def _without_kb(argv: list[str]) -> list[str]:
    """The command line as history records it: `--kb PATH` names the KB the history belongs to, so it is left out."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--kb":
            skip = True
        elif not arg.startswith("--kb="):
            out.append(arg)
    return out


def print_json(value) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


def console():
    """Rich output on a terminal; piped, lines are never wrapped (a log or a grep sees each line whole)."""
    from rich.console import Console

    out = Console(highlight=False, soft_wrap=False)
    if not out.is_terminal:
        out.soft_wrap = True
    return out
