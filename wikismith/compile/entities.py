"""Entities of a document: acronyms (PEP, JSON), names (Guido van Rossum) and identifiers (PEP 484, TypeVar)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from wikismith.compile.analysis import TOKEN, Analysis, Unit, analyse
from wikismith.compile.commonness import everyday
from wikismith.compile.lexicon import STOP, name_key, normalize


@dataclass(frozen=True)
class Entity:
    key: str
    display: str
    kind: str  # "person" (an author), "acronym", "name" or "identifier"
    count: int


_ACRONYM = re.compile(r"[A-Z][A-Z&]{1,7}[0-9]{0,3}s?\Z")
_ROMAN = re.compile(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})\Z")
_NUMBERED = re.compile(r"\b([A-Z]{2,8})[ \-](\d{1,6})\b")
_CODE_IDENT = re.compile(r"`([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)")
_DOTTED = re.compile(r"(?<![\w.@/])([A-Za-z_]\w+(?:\.[A-Za-z_]\w+)+)(?![\w@/]|\.\w)")
_CAMEL = re.compile(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+\Z|[a-z]{2,}(?:[A-Z][a-z0-9]+)+\Z")
_NOT_IDENT = {"None", "True", "False", "NotImplemented", "Ellipsis"}
_FILE_SUFFIX = {"org", "com", "net", "io", "py", "txt", "md", "html", "htm", "de", "edu", "gov", "pdf", "rst", "json"}
_CONNECTORS = {"van", "von", "de", "der", "den", "da", "di", "du", "del", "della", "la", "le", "bin", "ibn", "of"}


def entities(text: str, limit: int = 15) -> list[Entity]:
    """The document's authors first, then up to `limit` acronyms, multi-word names and identifiers, most frequent first; words
    of everyday language ("January", "OK", "Chapter") are no names."""
    a = analyse(text)
    hits: list[tuple[str, str, int]] = []  # (surface, kind, unit index)
    authors: dict[str, str] = {}
    for unit in a.units:
        if unit.kind == "author":
            authors.setdefault(normalize(unit.text), unit.text)
        elif not unit.skip and unit.kind in ("sentence", "heading", "title"):
            _unit_entities(unit, a, hits)
    count: Counter[str] = Counter()
    first: dict[str, int] = {}
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    for surface, kind, index in hits:
        key = name_key(surface)
        if not key:
            continue
        count[key] += 1
        first.setdefault(key, index)
        kinds[key][kind] += 1
        surfaces[key][surface] += 1
    out = [Entity(key, name, "person", max(1, count[key])) for key, name in authors.items() if key]
    names_single = {k for k, c in kinds.items() if set(c) == {"single"}}
    numbered = Counter(k.split(" ", 1)[0] for k, c in kinds.items() if "identifier" in c and " " in k)
    ranked = sorted(count, key=lambda k: (-count[k], first[k], k))
    for key in ranked:
        if len(out) >= limit + len(authors):  # the authors come on top of the `limit` other names
            break
        if key in authors:
            continue
        if key in names_single and (count[key] < 3 or a.german):
            continue
        if a.german and set(kinds[key]) == {"name"} and count[key] < 2:
            continue  # German writes every noun with a capital: a name must at least recur
        kind = min(kinds[key].items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if not a.german and _ordinary(key, kind, numbered):
            continue
        display = min(surfaces[key].items(), key=lambda kv: (-kv[1], kv[0]))[0]
        out.append(Entity(key, display, "name" if kind == "single" else kind, count[key]))
    return out


def _ordinary(key: str, kind: str, numbered: Counter[str]) -> bool:
    """A name made only of everyday words ("Secret Number", "Monday", "OK", "PM"), or the bare prefix of numbered
    identifiers ("PEP" of "PEP 484"): nothing a page should be about."""
    if kind == "acronym" and numbered[key]:
        return True
    if kind == "identifier":  # `add_one`, `file_path`: a local name made of plain words, not an API
        parts = [p for p in re.split(r"[\s_.]", key) if p]
        return len(parts) > 1 and all(everyday(p) for p in parts)
    words = [w for w in key.split() if w not in _CONNECTORS]
    return all(everyday(w) for w in words)


_LOCAL_RECEIVER = re.compile(r"[a-z][a-z0-9]?\.(?=[A-Za-z_])")  # `rx.recv`, `s.len`: a method on a short local variable


def _method_of_local(name: str) -> str:
    """`rx.recv` -> `recv`: a method called on a one- or two-letter variable is known by the method's name."""
    m = _LOCAL_RECEIVER.match(name)
    return name[m.end() :] if m else name


def _unit_entities(unit: Unit, a: Analysis, hits: list) -> None:
    text, idx = unit.text, unit.index
    for m in _NUMBERED.finditer(text):
        hits.append((m.group(0), "identifier", idx))
    for m in _CODE_IDENT.finditer(text):
        name = m.group(1)
        if text.startswith("!", m.end()) and "." not in name and len(name) > 2:
            hits.append((name + "!", "identifier", idx))  # a Rust macro: `println!`, `vec![…]`, named with its "!"
        elif text.startswith(",", m.end()):
            continue  # `Hello, world!`: text set in code, not a name
        elif name not in _NOT_IDENT and len(name) > 2 and ("." in name or "_" in name.strip("_")[1:]
                                                         or name[0].isupper() or _CAMEL.match(name)):
            hits.append((_method_of_local(name), "identifier", idx))
    prose = re.sub(r"`[^`]*`", " \u2022 ", text)  # a boundary that cannot pair up like a backtick
    for m in _DOTTED.finditer(prose):
        parts = m.group(1).split(".")
        if parts[-1].lower() not in _FILE_SUFFIX:
            hits.append((_method_of_local(m.group(1)), "identifier", idx))
    words = [m.group("word") for m in TOKEN.finditer(prose)]  # None for a token that is no word
    shouting = sum(1 for w in words if w and w.isupper()) * 2 > len(words) > 4
    # A headline in Title Case is not a run of names; a list of authors ("Ann Lee, Bo Wu, …") is.
    capitals = sum(1 for w in words if w and w[0].isupper())
    headline = capitals >= 3 and capitals * 5 >= 3 * sum(1 for w in words if w) \
        and text.count(",") * 3 < capitals
    names_here = unit.kind == "sentence" and not headline
    name: list[str] = []
    name_at_start = seen_word = False
    for w in [*words, None]:
        capital = False
        if w:
            if not shouting and _is_acronym(w, a):
                hits.append((w[:-1] if w.endswith("s") else w, "acronym", idx))
                capital = w[0].isupper() and w[1:2].islower() and not _CAMEL.match(w)
            elif _CAMEL.match(w):
                hits.append((w, "identifier", idx))
            else:
                capital = w[0].isupper() and w[1:2].islower()
        if names_here and (capital or (name and w in _CONNECTORS and not a.german)):
            if not name:
                name_at_start = not seen_word
            name.append(w)
        elif name:
            _flush_name(name, name_at_start, a, hits, idx)
            name = []
        seen_word = seen_word or bool(w)


def _flush_name(name: list[str], at_start: bool, a: Analysis, hits: list, idx: int) -> None:
    while name and name[-1] in _CONNECTORS:
        name.pop()
    if name and at_start and (name[0].lower() in STOP or name[0].lower() in a.lower_words):
        name.pop(0)
    while name and (name[0] in _CONNECTORS or name[0].lower() in STOP):
        name.pop(0)
    common = a.lower_words | a.after_article if a.german else a.lower_words
    if len(name) >= 2 and any(w.lower() not in common for w in name if w not in _CONNECTORS) \
            and not _is_heading(name, a):
        hits.append((" ".join(w.removesuffix("'s").removesuffix("’s") for w in name), "name", idx))
    elif len(name) == 1 and not at_start and name[0].lower() not in a.lower_words and len(name[0]) > 2:
        hits.append((name[0].removesuffix("'s"), "single", idx))


def _is_heading(name: list[str], a: Analysis) -> bool:
    """A Title Case run that repeats a heading of the document is a cross-reference, not a name."""
    norm = " " + normalize(" ".join(name)) + " "
    return any(norm in u.norm for u in a.units if u.kind == "heading")


def _is_acronym(w: str, a: Analysis) -> bool:
    if not _ACRONYM.match(w) or _ROMAN.match(w) or sum(c.isupper() for c in w) < 2:
        return False
    low = w.lower()
    if low in STOP or (len(w) > 3 and (low in a.lower_words or low in a.capitalized)):
        return False  # a word written in capitals, not an acronym
    # "AB" or "QR" in a text that uses A, B, Q, R as variables is a product or a segment, not an acronym.
    letters = [c for c in w.rstrip("s") if c.isalpha()]
    return not (len(letters) <= 3 and all(c in a.variables for c in letters))
