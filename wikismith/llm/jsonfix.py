"""Tolerant reading of the JSON a model writes: fences, chatter around the object, and near-JSON.

Strict `json.loads` first; then the outermost {...}; then a repair pass for the usual slips (trailing commas,
single quotes, unquoted keys, Python True/False/None, // comments, raw newlines in strings). A truncated answer is
not guessed at: it stays an error.
"""

from __future__ import annotations

import json
import re

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n?(.*?)```", re.DOTALL)
_WORDS = {"True": "true", "true": "true", "False": "false", "false": "false", "None": "null", "null": "null",
          "NaN": "null", "Infinity": "null", "undefined": "null"}
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def parse_json_lenient(text: object) -> object:
    """The JSON value in a model's answer; ValueError with a short reason when there is none."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("empty answer")
    text = _THINK.sub("", text).strip()
    candidates = [text]
    fenced = _FENCE.search(text)
    if fenced:
        candidates.insert(0, fenced.group(1).strip())
    for candidate in list(candidates):
        start, end = candidate.find("{"), candidate.rfind("}")
        if 0 <= start < end:
            candidates.append(candidate[start:end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate, strict=False)
        except ValueError:
            pass
    for candidate in candidates[::-1]:
        if candidate.startswith("{"):
            try:
                return json.loads(_repair(candidate), strict=False)
            except ValueError:
                pass
    if "{" in text and text.rfind("}") < text.find("{"):
        raise ValueError("the JSON object is not closed (truncated answer?)")
    if "{" not in text:
        raise ValueError("no JSON object in the answer")
    raise ValueError("the answer is not valid JSON, even after repair")


def _repair(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            string, i = _read_string(text, i)
            out.append(string)
        elif c == "/" and text.startswith("//", i):
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
        elif c == "/" and text.startswith("/*", i):
            close = text.find("*/", i + 2)
            i = n if close < 0 else close + 2
        elif c == "#":
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
        elif c in "}]":
            while out and out[-1].isspace():
                out.pop()
            if out and out[-1] == ",":
                out.pop()  # trailing comma
            out.append(c)
            i += 1
        elif c == "-" or c == "." or c.isdigit():
            m = _NUMBER.match(text, i)
            if m and m.end() > i:
                out.append(_normal_number(m.group()))
                i = m.end()
            else:
                out.append(c)
                i += 1
        elif c.isalpha() or c in "_$":
            j = i
            while j < n and (text[j].isalnum() or text[j] in "_$-"):
                j += 1
            word = text[i:j]
            k = j
            while k < n and text[k] in " \t":
                k += 1
            if k < n and text[k] == ":":
                out.append(json.dumps(word))
            elif word in _WORDS:
                out.append(_WORDS[word])
            else:
                out.append(json.dumps(word))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _read_string(text: str, i: int) -> tuple[str, int]:
    """The string starting at text[i] (either quote) as a JSON string literal, and the index after it."""
    quote = text[i]
    j, n = i + 1, len(text)
    chars: list[str] = []
    while j < n:
        d = text[j]
        if d == "\\" and j + 1 < n:
            nxt = text[j + 1]
            chars.append("'" if nxt == "'" else "\\" + nxt)
            j += 2
            continue
        if d == quote:
            return '"' + "".join(chars) + '"', j + 1
        if d == '"':
            chars.append('\\"')
        elif d == "\n":
            chars.append("\\n")
        else:
            chars.append(d)
        j += 1
    return '"' + "".join(chars) + '"', n


def _normal_number(token: str) -> str:
    if token.startswith("."):
        token = "0" + token
    if token.startswith("-."):
        token = "-0" + token[1:]
    if token.endswith("."):
        token += "0"
    return token
