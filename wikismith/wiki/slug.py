"""Slugs: the file-name part of a page path, safe on every file system and never able to leave its folder."""

from __future__ import annotations

import hashlib
import unicodedata

# Names Windows refuses whatever the extension; a page called "con.md" could not be checked out there.
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(10)}
# Bytes, not characters: a file name is limited to 255 bytes, and we leave room for "-NN" and ".md".
_MAX_BYTES = 200


def _keep(ch: str, prev_kept: bool) -> bool:
    cat = unicodedata.category(ch)
    if cat[0] in "LN":
        return True
    # Combining marks belong to the letter before them (Devanagari vowel signs, for instance).
    return cat[0] == "M" and prev_kept


def slugify(text: str, max_len: int = 80) -> str:
    """Lower-case, '-'-separated letters and digits (any script) of `text`; never empty, never a path."""
    norm = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text or "").lower())
    out: list[str] = []
    kept = False
    for ch in norm:
        if _keep(ch, kept):
            out.append(ch)
            kept = True
        else:
            if out and out[-1] != "-":
                out.append("-")
            kept = False
    slug = "".join(out).strip("-")
    slug = _truncate(slug, max(1, max_len))
    if not slug:
        if not (text or "").strip():
            return "untitled"
        return "untitled-" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    if slug in _RESERVED:
        slug += "-page"
    return unicodedata.normalize("NFC", slug)


def _truncate(slug: str, max_len: int) -> str:
    if len(slug) <= max_len and len(slug.encode("utf-8")) <= _MAX_BYTES:
        return slug
    cut = slug[:max_len]
    while len(cut.encode("utf-8")) > _MAX_BYTES:
        cut = cut[:-1]
    if slug[len(cut) : len(cut) + 1] not in ("", "-"):
        # Cut in the middle of a word: end at the previous word boundary if that keeps at least half.
        boundary = cut.rfind("-")
        if boundary >= len(cut) // 2:
            cut = cut[:boundary]
    return cut.strip("-")


def unique_slug(base: str, taken: set[str] | frozenset[str]) -> str:
    """`base` if free, else the first free of `base-2`, `base-3`, …"""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
