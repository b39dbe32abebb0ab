"""YAML front matter, rendered and read by code (no YAML library needed).

`render` writes a small, safe subset of YAML — scalars and lists of scalars, strings plain only when nothing can
misread them and double-quoted otherwise — so any YAML reader (Obsidian, PyYAML) loads exactly the values given.
`parse` reads that subset back exactly, and is lenient with what a person may type by hand in the same style
(single quotes, flow lists `[a, b]`); lines it does not understand are skipped, never fatal.
"""

from __future__ import annotations

import functools
import math
import re

_CLOSING = re.compile(r"^(?:---|\.\.\.)\r*$", re.MULTILINE)  # the line that ends a front-matter block
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)[ \t]*:(?:[ \t]+(.*?))?[ \t]*\Z")
_ITEM = re.compile(r"[ \t]*-(?:[ \t]+(.*?))?[ \t]*\Z")
# Words YAML 1.1 readers (PyYAML) turn into booleans or null when written plain.
_SPECIAL_WORDS = {
    w
    for base in ("y", "yes", "n", "no", "true", "false", "on", "off", "null")
    for w in (base, base.capitalize(), base.upper())
}
# Letters and digits of any script (\\w is exactly str.isalnum() plus "_") and a few safe punctuation marks.
_PLAIN_CHARS = re.compile(r"[\w \-.,()/'+]*")
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+]?[0-9]+)?\Z")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}
_UNESCAPES = {"\\": "\\", '"': '"', "/": "/", "n": "\n", "t": "\t", "r": "\r", "0": "\0", " ": " ",
              "a": "\a", "b": "\b", "e": "\x1b", "f": "\f", "v": "\v", "N": "\x85", "_": "\xa0",
              "L": "\u2028", "P": "\u2029"}
_HEX_LEN = {"x": 2, "u": 4, "U": 8}


def render(meta: dict) -> str:
    """`---`, one `key: value` line per entry (lists as `- item` lines), `---`; in the dict's order."""
    lines = ["---"]
    for key, value in meta.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValueError(f"front matter key {key!r} must be a simple name")
        if isinstance(value, (list, tuple)):
            if not value:
                lines.append(f"{key}: []")
                continue
            lines.append(f"{key}:")
            if all(type(item) is str for item in value):  # a page's `sources`: thousands, on a popular page
                lines.append("  - " + "\n  - ".join(map(_string, value)))
            else:
                lines.extend(f"  - {_scalar(item)}" for item in value)
        else:
            lines.append(f"{key}: {_scalar(value)}")
    lines.append("---")
    return "\n".join(lines) + "\n"


def _scalar(value: object) -> str:
    if type(value) is str:
        return _string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return value if _is_plain_safe(value) else _quote(value)
    raise TypeError(f"front matter values must be scalars or lists of scalars, not {type(value).__name__}")


@functools.lru_cache(maxsize=1 << 16)
def _string(value: str) -> str:
    """A string as _scalar writes it, remembered: a page's `sources` list (one id per document that holds it, and
    thousands on a popular page) is written again on every add with one more id."""
    return value if _is_plain_safe(value) else _quote(value)


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:  # YAML 1.1 wants a dot: 1e+20 would load as a string
        mantissa += ".0"
    return mantissa + e + exponent


def _is_plain_safe(s: str) -> bool:
    if not s or not s[0].isalpha() or s != s.strip() or s in _SPECIAL_WORDS:
        return False
    return _PLAIN_CHARS.fullmatch(s) is not None


def _quote(s: str) -> str:
    out = []
    for ch in s:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02X}" if code < 0x100 else f"\\u{code:04X}" if code < 0x10000 else f"\\U{code:08X}")
    return '"' + "".join(out) + '"'


def parse(text: str) -> tuple[dict, str]:
    """(meta, body) of a page; ({}, text) when it has no front matter."""
    if not (text.startswith("---\n") or text.startswith("---\r\n")):
        return {}, text
    start = text.index("\n") + 1
    closing = _CLOSING.search(text, start)
    if closing is None:
        return {}, text  # never closed: not front matter
    pos, end = closing.start(), closing.end()
    return _parse_block(text[start:pos]), ("" if end >= len(text) else text[end + 1 :])


def _parse_block(block: str) -> dict:
    meta: dict = {}
    current: str | None = None  # key whose `- item` lines may follow
    lines = block.splitlines()
    at, count = 0, len(lines)
    while at < count:
        raw = lines[at]
        at += 1
        if current is not None and raw.startswith("  - "):
            # A run of `  - item` lines (a page's `sources`, one per document that holds it, thousands on a
            # popular page), each read as the item pattern below reads it, without a pattern match per line.
            end = at
            while end < count and lines[end].startswith("  - "):
                end += 1
            if meta.get(current) is None:
                meta[current] = []
            if isinstance(meta[current], list):
                run = lines[at - 1 : end]
                items = _plain_items(run)
                meta[current].extend(items if items is not None else [_value(item[4:].rstrip("\r")) for item in run])
            at = end
            continue
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = _ITEM.match(line)
        if item and current is not None:
            if meta.get(current) is None:
                meta[current] = []
            if isinstance(meta[current], list):
                meta[current].append(_value(item.group(1) or ""))
            continue
        m = _LINE.match(line)
        if not m or line[0].isspace():
            continue
        key, rest = m.group(1), m.group(2) or ""
        current = key if not rest else None
        meta[key] = _value(rest) if rest else None
    return meta


_PLAIN_RUN = re.compile(r"(?:  - [^\W\d_][\w.\-]*\n)*  - [^\W\d_][\w.\-]*\Z")
_WORD_ATOMS = frozenset({"null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE"})


def _plain_items(run: list[str]) -> list[str] | None:
    """The items of a run of `  - item` lines when every one is a plain word that reads as itself (a letter, then
    letters, digits, "_", "." or "-": no quote, number, null or boolean), in one C-speed check; None otherwise."""
    if not _PLAIN_RUN.match("\n".join(run)):
        return None
    items = [line[4:] for line in run]
    return None if not _WORD_ATOMS.isdisjoint(items) else items


def _value(text: str) -> object:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        return _flow_list(text[1:-1])
    return _atom(text)


@functools.lru_cache(maxsize=1 << 16)
def _atom(text: str) -> object:
    """A value that is not a flow list (immutable, so remembered: see _string)."""
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        return _unquote_double(text[1:-1])
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text) and any(c.isdigit() for c in text):
        return float(text.replace("_", ""))
    low = text.lower()
    if low in (".inf", "+.inf", "-.inf", ".nan"):
        return float(low.replace(".", ""))
    return text


def _unquote_double(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch != "\\" or i + 1 >= len(body):
            out.append(ch)
            i += 1
            continue
        esc = body[i + 1]
        if esc in _HEX_LEN:
            n = _HEX_LEN[esc]
            out.append(chr(int(body[i + 2 : i + 2 + n], 16)))
            i += 2 + n
        else:
            out.append(_UNESCAPES.get(esc, "\\" + esc))
            i += 2
    return "".join(out)


def _flow_list(inner: str) -> list:
    items, buf, quote = [], [], ""
    for ch in inner:
        if quote:
            buf.append(ch)
            if ch == quote and not (quote == '"' and len(buf) > 1 and buf[-2] == "\\"):
                quote = ""
        elif ch in "\"'" and not "".join(buf).strip():
            quote = ch
            buf.append(ch)
        elif ch == ",":
            items.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if "".join(buf).strip() or items:
        items.append("".join(buf))
    return [_value(item) for item in items]
