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
    API keys never go here: set OPENAI_API_KEY (or the provider's variable, or
    WIKISMITH_API_KEY) in the environment or in a .env file in the KB.
    """


@config.command(name="get")
@click.argument("key", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def get(ctx: click.Context, key: str | None, as_json: bool) -> None:
    """Print one setting, or all of them."""
    from wikismith import config as settings

    values = open_kb(ctx).config
    if key is not None:
        if key not in values:
            settings.coerce(key, "")  # unknown keys: the usual message with the known ones
            raise click.ClickException(f"{key} is not set")
        values = {key: values[key]}
    if as_json:
        print_json(values)
        return
    for name in sorted(values):
        click.echo(f"{name} = {values[name]!r}" if not isinstance(values[name], str) else f"{name} = {values[name]}")


@config.command(name="set")
@click.argument("key")
@click.argument("value")
@click.pass_context
def set_(ctx: click.Context, key: str, value: str) -> None:
    """Change one setting."""
    from wikismith import config as settings

    typed = settings.coerce(key, value)
    open_kb(ctx).set_config(key, typed)
    click.echo(f"{key} = {typed}")
