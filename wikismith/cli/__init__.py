"""The command line: thin commands over the KnowledgeBase API. Heavy libraries are imported inside commands."""

from __future__ import annotations

import sys

import click

from wikismith import __version__
from wikismith.cli import (add_command, ask_commands, chat_command, config_command, kb_commands, maintain_commands,
                           mcp_command, serve_command, watch_command)


class _Group(click.Group):
    def list_commands(self, ctx):  # the order a new user meets them, not alphabetical
        return list(self.commands)


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Every command that changes the KB is one transaction: interrupted at any instant, the KB is left "
    "exactly as before or exactly as after, and the next command finishes the job. Exit codes: 0 success, "
    "1 some work failed, 2 usage error or no KB found, 3 the store needs `wikismith doctor`, 4 the KB is busy.",
)
@click.option("--kb", "kb_path", metavar="PATH", envvar="WIKISMITH_KB", help="The knowledge base to use "
              "(default: $WIKISMITH_KB, else the nearest folder upwards holding .wikismith/).")
@click.version_option(__version__, "-V", "--version", prog_name="wikismith")
@click.pass_context
def cli(ctx: click.Context, kb_path: str | None) -> None:
    """Compile your documents into an interlinked Markdown wiki, and keep it safe.

    \b
    Start here:
      wikismith init my-kb          create a knowledge base in my-kb/
      cd my-kb
      wikismith add paper.pdf notes/ https://example.org/page
                                    compile documents into the wiki
      wikismith status              what it holds
      wikismith doctor              check it; --repair finishes an interrupted command
    """
    ctx.obj = {**(ctx.obj or {}), "kb": kb_path}


for command in (kb_commands.init, add_command.add, ask_commands.search, ask_commands.query, chat_command.chat,
                maintain_commands.remove,
                maintain_commands.recompile, kb_commands.status, kb_commands.list_, maintain_commands.lint,
                maintain_commands.history, maintain_commands.undo, kb_commands.doctor, config_command.config,
                serve_command.serve, watch_command.watch):
    cli.add_command(command)
cli.add_command(mcp_command.mcp)


def main(argv: list[str] | None = None) -> None:
    from wikismith.cli.common import run

    sys.exit(run(cli, argv))
