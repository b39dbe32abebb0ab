"""Short extractive summaries: the first meaningful sentences of a text, deterministic and cheap."""

from __future__ import annotations

import re

_SCAN_CHARS = 20_000
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_PUNCTUATED_END = re.compile(r"[.,;:!?)]$")
_MD_NOISE = (
    (re.compile(r"<!--.*?-->", re.S), " "),
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), " "),
    (re.compile(r"\[\[(?:[^\]|]*\|)?([^\]]*)\]\]"), r"\1"),
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"(\*\*|__|`)"), ""),
)


def plain_text(markdown: str) -> str:
    """Markdown → plain lines: no fenced code, headings, tables, comments, images or link targets."""
    out: list[str] = []
    fence = False
    for line in markdown[: _SCAN_CHARS * 2].split("\n"):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fence = not fence
            continue
        if fence or stripped.startswith(("#", "|", "<!--")) or re.fullmatch(r"[=\-*_~]{3,}", stripped or "x"):
            out.append("")
            continue
        out.append(stripped.lstrip(">*-+ ").strip())
    text = "\n".join(out)
    for pattern, replacement in _MD_NOISE:
        text = pattern.sub(replacement, text)
    return text


def summarize(text: str, limit: int = 300, after: str | None = None) -> str:
    """The first meaningful sentences of `text`, at most `limit` characters.

    `after`: a heading to skip to when it occurs near the start (a section that begins mid-page).
    Lines that look like headings or labels (short, no closing punctuation) are never part of a sentence.
    Falls back to the first words of the text when no sentence qualifies.
    """
    text = text[:_SCAN_CHARS]
    if after:
        text = _skip_to(text, after)
    # Sentences are split and tested lazily: only those up to the first one that overflows `limit` are ever looked
    # at (a node's text runs to 20,000 characters; its summary to a few sentences).
    sentences = (s for block in _iter_blocks(text) for s in _SENTENCE_END.split(block) if _meaningful(s))
    summary = first = ""
    for sentence in sentences:
        first = first or sentence
        candidate = f"{summary} {sentence}".strip()
        if len(candidate) > limit:
            break
        summary = candidate
    if summary:
        return summary
    source = first if first else " ".join(" ".join(_blocks(text)).split())
    return _cut(source, limit)


def _skip_to(text: str, heading: str) -> str:
    words = heading.split()
    if not words:
        return text
    pattern = r"\s+".join(re.escape(word) for word in words)
    match = re.search(pattern, text[:3000], re.IGNORECASE)
    return text[match.end():] if match else text


def _blocks(text: str) -> list[str]:
    """Paragraphs with their lines joined; short unpunctuated lines (headings, labels) stand alone."""
    return list(_iter_blocks(text))


def _iter_blocks(text: str):
    current: list[str] = []
    for line in text.split("\n"):
        line = " ".join(line.split())
        if not line or (len(line) < 40 and not _PUNCTUATED_END.search(line)):
            if current:
                yield " ".join(current)
                current = []
            if line:
                yield line
            continue
        current.append(line)
    if current:
        yield " ".join(current)


def _meaningful(sentence: str) -> bool:
    words = sentence.split()
    if len(words) < 5 or len(sentence) > 1000:
        return False
    letters = sum(ch.isalpha() for ch in sentence)
    if letters < 0.6 * sum(not ch.isspace() for ch in sentence):
        return False
    return sentence.rstrip()[-1] in ".!?:;)\"'”" or len(words) >= 12


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "…"
