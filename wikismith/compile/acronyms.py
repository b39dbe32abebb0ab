"""Acronyms and what they stand for: "object-oriented programming (OOP)", "abstract base classes" beside "ABC".

An acronym whose letters are the initials of a phrase the document writes in lower case is a short name for that
phrase, a topic: its page is the phrase's concept page, not an entity of its own (one page for "OOP" and
"object-oriented programming"). An acronym spelled out in capitals ("Transmission Control Protocol (TCP)") names
a thing, and stays an entity.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from wikismith.compile.analysis import TOKEN, analyse
from wikismith.compile.lexicon import STOP, normalize

_CONNECTORS = {"and", "of", "for", "to", "in", "the", "a", "an"}  # may sit inside an expansion without a letter


@dataclass(frozen=True)
class Expansion:
    key: str  # the phrase's key: "object oriented programming"
    display: str  # as the document writes it, in lower case: "object-oriented programming"
    count: int  # occurrences of the phrase
    defined: bool  # written "phrase (ACRONYM)" at least once


def _letters(word: str) -> str:
    """The initials a word gives an acronym: "object-oriented" -> "oo"."""
    return "".join(p[0] for p in re.split(r"[-‐]", word) if p)


def _match(words: list[str], i: int, acronym: str) -> int:
    """The end (exclusive) of the words from i whose initials spell `acronym`, or -1."""
    need, j = acronym, i
    while need and j < len(words):
        w = words[j].lower()
        init = _letters(w)
        if j > i and w in _CONNECTORS and not need.startswith(init):
            j += 1
            continue
        if not need.startswith(init):
            return -1
        need, j = need[len(init) :], j + 1
    return j if not need and j - i >= 2 else -1


def expansions(text: str, acronyms: list[str]) -> dict[str, Expansion]:
    """For each acronym (as written: "OOP"), the lower-case phrase of the document it abbreviates, if any."""
    wanted = {a: a.lower().rstrip("s") if a.endswith("s") and a[:-1].isupper() else a.lower() for a in acronyms}
    wanted = {a: low for a, low in wanted.items() if low.isalpha() and 2 <= len(low) <= 6}
    if not wanted:
        return {}
    firsts = {low[0] for low in wanted.values()}
    seen: dict[str, Counter[str]] = {a: Counter() for a in wanted}
    lower: dict[str, Counter[str]] = {a: Counter() for a in wanted}
    defined: dict[str, set[str]] = {a: set() for a in wanted}
    for unit in analyse(text).units:
        if unit.skip or unit.kind not in ("sentence", "heading", "title"):
            continue
        normed = unit.norm.split()
        initials = ("".join(w[0] for w in normed), "".join(w[0] for w in normed if w not in _CONNECTORS))
        if not any(low in i for low in wanted.values() for i in initials):
            continue  # no run of words here has the initials of any acronym: the cheap test first
        tokens = [m for m in TOKEN.finditer(unit.text) if m.group("word")]
        words = [m.group("word") for m in tokens]
        for i, w in enumerate(words):
            if w[0].lower() not in firsts:
                continue
            for acronym, low in wanted.items():
                end = _match(words, i, low)
                if end < 0 or any(x.lower() in STOP for x in (words[i], words[end - 1])) or any(
                        x.lower() in STOP and x.lower() not in _CONNECTORS for x in words[i:end]):
                    continue
                surface = " ".join(words[i:end])
                key = normalize(surface)
                seen[acronym][key] += 1
                # lower case, but for a capital that only starts the sentence
                rest = words[i + 1 : end] if i == 0 else words[i:end]
                lower[acronym][key] += all(x.islower() or not x[:1].isupper() for x in rest) and (
                    i == 0 or words[i][:1].islower())
                after = unit.text[tokens[end - 1].end() : tokens[end - 1].end() + len(acronym) + 6]
                if re.match(r"[\s_*]*\(\s*[_*]*" + re.escape(acronym) + r"s?\b", after):
                    defined[acronym].add(key)
    out = {}
    for acronym in wanted:
        for key, n in sorted(seen[acronym].items(), key=lambda kv: (-(kv[0] in defined[acronym]), -kv[1], kv[0])):
            if lower[acronym][key] * 2 < n:
                continue  # spelled out in capitals: a proper name ("Transmission Control Protocol")
            if key not in defined[acronym] and n < 2 and len(wanted[acronym]) < 3:
                continue  # two letters spell out too much by chance ("is protected" for "IP")
            out[acronym] = Expansion(key, _display(text, key), n, key in defined[acronym])
            break
    return out


def _display(text: str, key: str) -> str:
    """The phrase as the document most often writes it in lower case."""
    forms: Counter[str] = Counter()
    for unit in analyse(text).units:
        if f" {key} " in unit.norm:
            words = [m.group("word") for m in TOKEN.finditer(unit.text) if m.group("word")]
            n = len(key.split())
            for i in range(len(words) - n + 1):
                surface = " ".join(words[i : i + n])
                if normalize(surface) == key:
                    forms[surface.lower()] += 1
    return min(forms.items(), key=lambda kv: (-kv[1], kv[0]))[0] if forms else key


MODIFIER_SHARE = 0.7  # an acronym this often followed by the same noun is a part of that compound, not a thing


def modifiers(text: str, acronyms: list[str], phrase_keys: set[str]) -> set[str]:
    """Acronyms the document uses as the first word of one of its key phrases, nearly every time ("IP" in "IP
    address", "CRLF" in "CRLF sequence"): the phrase is the topic; the acronym on its own names nothing."""
    wanted = set(acronyms)
    if not wanted:
        return set()
    followers: dict[str, Counter[str]] = {a: Counter() for a in wanted}
    for unit in analyse(text).units:
        if unit.skip or unit.kind != "sentence" or not any(a in unit.text for a in wanted):
            continue
        tokens = [m.group("word") or m.group(0) for m in TOKEN.finditer(unit.text)]
        for i, w in enumerate(tokens):
            a = w if w in wanted else w[:-1] if w.endswith("s") and w[:-1] in wanted else None
            if a:
                nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
                followers[a][normalize(nxt) if nxt[:1].isalpha() else ""] += 1
    out = set()
    for a, c in followers.items():
        total = sum(c.values())
        if total >= 3:
            word, n = min(c.items(), key=lambda kv: (-kv[1], kv[0]))
            if word and n >= MODIFIER_SHARE * total and normalize(f"{a} {word}") in phrase_keys:
                out.add(a)
    return out
