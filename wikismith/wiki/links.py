"""Writing wikilinks, and turning the ones that would break into plain text. Finding them is wikismith.markdown's
job: links inside code (fenced blocks, `inline spans`) are not links, as in Obsidian."""

from __future__ import annotations

import re

from wikismith.markdown import rewrite_wikilinks

_BAD_TARGET = re.compile(r"[\[\]|#\n\r\\^]")
_LABEL_FIX = str.maketrans({"[": "(", "]": ")", "|": "/", "\n": " ", "\r": " "})


def link(target: str, label: str | None = None) -> str:
    """`[[target]]` or `[[target|label]]`; the label is made safe, a target that cannot be linked raises."""
    if not target or target != target.strip() or _BAD_TARGET.search(target):
        raise ValueError(f"cannot link to {target!r}")
    if target.startswith("/") or any(part in ("", ".", "..") for part in target.split("/")):
        raise ValueError(f"cannot link to {target!r}")
    if label is None:
        return f"[[{target}]]"
    label = " ".join(label.translate(_LABEL_FIX).split())
    return f"[[{target}]]" if not label or label == target else f"[[{target}|{label}]]"


def unlink_unknown(text: str, known: set[str] | frozenset[str]) -> str:
    """`text` with every link to a page not in `known` replaced by its label (or its target) as plain text."""

    def fix(page: str, label: str | None, original: str) -> str:
        if page in known:
            return original
        shown = label.strip() if label and label.strip() else original[2:-2].split("|", 1)[0].strip()
        return shown

    return rewrite_wikilinks(text, fix)
