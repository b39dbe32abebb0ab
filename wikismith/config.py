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
    "timeout": 60,
    "max_retries": 4,
    "concurrency": 4,
    "max_tokens": 2048,
    "fetch_timeout": 30,
    "max_download_mb": 100,
    "history_keep": 20,
    "page_sections": 50,
}
# Keys with no default: set only when a user needs them.
OPTIONAL: dict[str, type] = {"base_url": str, "api_key_env": str, "allow_private": bool, "pageindex_base_url": str,
                              "jobs": int}

HELP = {
    "model": '"offline" (the extractive compiler, no model) or provider/model, e.g. openai/gpt-4o-mini, ollama/llama3',
    "language": "language of the wiki's prose when a model writes it",
    "long_document_pages": "a PDF of at least this many pages gets a tree index",
    "max_file_mb": "larger files are refused",
    "convert_timeout": "seconds a file's conversion may take",
    "max_text_mb": "documents with more extracted text are refused",
    "timeout": "seconds one model call may take",
    "max_retries": "retries of a failed model call (429, 5xx, timeouts, malformed answers)",
    "concurrency": "model calls in flight at once",
    "max_tokens": "most tokens a model answer may have",
    "fetch_timeout": "seconds `add URL` waits to connect, and between two pieces of a download",
    "max_download_mb": "larger downloads are cut off and refused",
    "history_keep": "how many recent commands keep what `wikismith undo` needs (their files' before-images)",
    "page_sections": "a concept or entity page shows the sections of this many of its sources (the first by document "
                     "id) and counts the rest; `wikismith recompile --all` applies a change to the pages there are",
    "base_url": "an OpenAI-compatible server to use instead of the provider's own",
    "api_key_env": "the environment variable holding the API key (the key itself never goes in this file)",
    "allow_private": "true: `add URL` may fetch from loopback and private addresses (your own intranet)",
    "jobs": "worker processes that prepare documents in `add` (default: one per core; 1: no workers)",
    "pageindex_base_url": "the PageIndex Cloud API to import from (default https://api.pageindex.ai)",
}


def check_key(key: str) -> None:
    """UsageError naming the known settings when `key` is not one of them."""
    if key not in DEFAULTS and key not in OPTIONAL:
        known = ", ".join(sorted([*DEFAULTS, *OPTIONAL]))
        raise UsageError(f"unknown setting {key!r}; known settings: {known}")


def coerce(key: str, text: str) -> object:
    """A value typed as the setting wants it, from the command line; UsageError when it cannot be."""
    check_key(key)
    kind = type(DEFAULTS[key]) if key in DEFAULTS else OPTIONAL[key]
    if kind is bool:
        if text.lower() not in ("true", "false", "yes", "no", "on", "off", "1", "0"):
            raise UsageError(f"{key} takes true or false, not {text!r}")
        return text.lower() in ("true", "yes", "on", "1")
    if kind is int:
        try:
            value = int(text)
        except ValueError:
            raise UsageError(f"{key} takes a whole number, not {text!r}") from None
        if value < 0:
            raise UsageError(f"{key} cannot be negative")
        if key == "page_sections" and value < 1:
            raise UsageError("page_sections must be at least 1")
        return value
    if key == "model" and not text.strip():
        raise UsageError('model cannot be empty; use "offline" for no model')
    return text


def load(root: str) -> dict[str, object]:
    """The settings of the KB at `root`, defaults filled in."""
    import os

    path = os.path.join(root, ".wikismith", "config.toml")
    with open(path, encoding="utf-8") as fh:
        return parse(fh.read(), source=path)


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
