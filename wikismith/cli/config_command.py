"""`wikismith config`: read and change the KB's settings (one transaction, like every change)."""

from __future__ import annotations

import click

from wikismith.cli.common import open_kb, print_json


@click.group()
def config() -> None:
    """Read or change this knowledge base's settings (.wikismith/config.toml).

    \b
    wikismith config get                  every setting
    wikismith config get model            one setting
    wikismith config set model openai/gpt-4o-mini
    wikismith config set --help           every setting and what it does
    API keys never go here: set OPENAI_API_KEY (or the provider's variable, or
    WIKISMITH_API_KEY) in the environment or in a .env file in the KB.
    """


@config.command(name="get")
@click.argument("key", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def get(ctx: click.Context, key: str | None, as_json: bool) -> None:
    """Print one setting, or all of them. A setting with no value (an optional one) prints as unset."""
    report = open_kb(ctx).settings(key)
    if as_json:
        print_json(report.as_dict())
        return
    values = report.values
    for name in sorted(values):
        click.echo(f"{name} = {values[name]!r}" if not isinstance(values[name], str) else f"{name} = {values[name]}")
    for name in report.unset:
        click.echo(f"{name} is unset")


class _ListingSettings(click.Command):
    """A command whose --help ends with every setting and what it does (read only when the help is asked for)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from wikismith import config as settings

        with formatter.section("Settings"):
            formatter.write_dl(sorted(settings.HELP.items()))


@config.command(name="set", cls=_ListingSettings)
@click.argument("key")
@click.argument("value")
@click.pass_context
def set_(ctx: click.Context, key: str, value: str) -> None:
    """Change one setting."""
    report = open_kb(ctx).set_setting(key, value)
    click.echo(f"{key} = {report.values[key]}")
