"""A knowledge base's environment: the process environment over the KB's `.env` file, merged in one place."""

from __future__ import annotations

import os
import re
from pathlib import Path


def environment(root: str) -> dict[str, str]:
    """The variables a command in the KB at `root` sees: its `.env` file, overridden by the process environment."""
    return {**load_dotenv(os.path.join(root, ".env")), **os.environ}


_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def load_dotenv(path: str | Path) -> dict[str, str]:
    """The variables a `.env` file sets (KEY=VALUE, quotes, `export `, comments), without exporting them.

    A missing or unreadable file gives {}. Malformed lines are skipped. Nothing is interpolated.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return {}
    result: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        match = _ENV_LINE.match(line)
        if match is None:
            continue
        key, raw = match.group(1), match.group(2)
        if raw[:1] in ("'", '"'):
            quote = raw[0]
            body = raw[1:]
            # A quoted value may run over several lines until its closing quote.
            while _closing_quote(body, quote) < 0 and i < len(lines):
                body += "\n" + lines[i]
                i += 1
            end = _closing_quote(body, quote)
            if end < 0:
                continue
            value = body[:end]
            if quote == '"':
                value = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), value)
        else:
            value = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
            if value.startswith("#"):
                value = ""
        result[key] = value
    return result


def _closing_quote(body: str, quote: str) -> int:
    j = 0
    while j < len(body):
        if body[j] == "\\" and quote == '"':
            j += 2
            continue
        if body[j] == quote:
            return j
        j += 1
    return -1
