"""The KB's settings in `.wikismith/config.toml`: defaults, reading, and rendering back to TOML."""

from __future__ import annotations

import tomllib

from wikismith.errors import UsageError

DEFAULTS: dict[str, object] = {
    "model": "offline",
    "language": "en",
    "long_document_pages": 20,
    "max_file_mb": 200,
    "convert_timeout": 120,
    "max_text_mb": 50,
}


def parse(text: str, *, source: str = "config.toml") -> dict[str, object]:
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{source}: not valid TOML ({exc})") from None
    merged = dict(DEFAULTS)
    merged.update(values)
    return merged


def render(values: dict[str, object]) -> str:
    lines = ["# wikismith settings; `wikismith config set KEY VALUE` edits this file safely.", ""]
    for key in sorted(values):
        lines.append(f"{key} = {_toml_value(values[key])}")
    return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
