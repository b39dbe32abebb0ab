"""Terms a document introduces: the phrases it sets in italics or bold where it defines them.

Technical writing marks a new term where it explains it ("Rust has two _compound types_", "*parameterized
generic*"); emphasis for stress falls on little words ("_not_", "_must_") and is left out, as are file names,
paths and titles, headings set in bold and acronyms (names, not terms). A term of several words, or a word the
document uses again, is one of its topics, whatever its rank among the key phrases.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from wikismith.compile.analysis import analyse
from wikismith.compile.commonness import zipf
from wikismith.compile.lexicon import STOP, USUAL_SECTIONS, normalize, titleish
from wikismith.compile.phrases import _DETERMINERS as _DETERMINERS_OR_PREPOSITIONS
from wikismith.compile.phrases import _ED_OK, _LY_NOUNS, _OBJECT_CUES, _VERB_CUES, never_a_noun
from wikismith.compile.textutil import MAX_CHARS
from wikismith.markdown import fence_closes, fence_opening

_EMPHASIS = (re.compile(r"(?<![\w*\\])(\*{1,2})(?=[^\s*])([^*\n]+?)(?<=[^\s*\\])\1(?![\w*])"),
             re.compile(r"(?<![\w\\])(_{1,2})(?=[^\s_])([^_\n]+?)(?<=\S)\1(?!\w)"))
_CODE_SPAN = re.compile(r"``.+?``|`[^`\n]*`")
_NOT_A_TERM = re.compile(r"[^\w\s\-’']|\d|_")
_CONNECTORS = {"and", "of"}
_INFINITIVE = re.compile(r"\b[Tt]o (\w+)")
_NOUN_END = ("ism", "tion", "sion", "ing", "ness", "ity", "ment", "ance", "ence", "ure", "ogy")  # mass nouns
_ADJECTIVE_END = ("ed", "al", "ic", "ent", "ant", "ive", "ous", "ful", "less", "able", "ible", "ar", "ly")
# Emphasis on a phrase of several words is how a text introduces a term ("_automatic referencing and
# dereferencing_"), even one it never repeats; a single emphasised word is as often stress, so it must recur,
# unless the sentence names it ("This is called _destructuring_").
PHRASE_USES = 1
WORD_USES = 2
_NAMING = re.compile(r"\b(?:called|known as|termed)(?:\s+(?:an?|the))?\s*\Z", re.IGNORECASE)
EVERYDAY_TERM = 5.0  # Zipf: a single emphasised word this common ("kind", "data", "move") is stress, not a term


@dataclass(frozen=True)
class Term:
    key: str
    display: str
    count: int  # occurrences in the document's prose


def _prose(text: str) -> str:
    """The document's lines outside code blocks and indented literal blocks, paragraphs joined into lines."""
    out: list[str] = []
    fence = ""
    for line in text[:MAX_CHARS].splitlines():
        if fence:
            if fence_closes(line, fence):
                fence = ""
            continue
        opened = fence_opening(line)
        if opened:
            fence = opened
            continue
        if line.startswith(("    ", "\t")):
            out.append("")
            continue
        out.append(line.strip())
    return " ".join(out).replace("  ", "\n")


def _is_term(surface: str) -> bool:
    if _NOT_A_TERM.search(surface):
        return False
    words = surface.split()
    if not 1 <= len(words) <= 5:
        return False
    low = [w.lower() for w in words]
    if low[0] in STOP or low[-1] in STOP or any(w in STOP and w not in _CONNECTORS for w in low):
        return False
    if len(words) > 1 and all(w[:1].isupper() for w in words):
        return False  # Title Case: a title or a name, not a term
    if len(words) > 1 and (_adverb(low[0]) or _participle(low[-1])):
        return False  # "completely optional", "asynchronously produced": a description, not a noun phrase
    if len(words) == 1:
        word = low[0].replace("’", "'")
        plural = word.endswith("s") and not word.endswith(("ss", "us", "is"))
        if len(word) < 4 or "'" in word or (not plural and word.endswith(_ADJECTIVE_END)):
            return False
        if zipf(normalize(word)) >= EVERYDAY_TERM:
            return False
    return True


def _adverb(word: str) -> bool:
    return len(word) > 4 and word.endswith("ly") and word not in _LY_NOUNS


def _participle(word: str) -> bool:
    return word.endswith("ed") and word not in _ED_OK


def _run_in_heading(prose: str, m: re.Match) -> bool:
    """Emphasis that is a paragraph of its own ("**Definitions**:") is a heading set in bold, not a term."""
    start = prose.rfind("\n", 0, m.start()) + 1
    end = prose.find("\n", m.end())
    return prose[start : end if end >= 0 else len(prose)].strip().rstrip(":.") == m.group()


_LIST_MARK = re.compile(r"(?:\A|\s)(?:[-*+]|\d+[.)])\s\Z")


def _list_label(prose: str, m: re.Match) -> bool:
    """One word set in bold or italics where a list item opens, before a colon ("- **Errors**: If the function
    returns…"), is the item's label, as a bold paragraph is a heading: not a term the document introduces."""
    return " " not in m.group(2) and prose.startswith(":", m.end()) and bool(
        _LIST_MARK.search(prose[max(0, m.start() - 6) : m.start()]))


_DETERMINER = {"a", "an", "the", "some", "any", "no", "each", "every", "this", "that", "these", "those", "its",
               "their", "our", "your", "his", "her", "my"}
# Little words that follow a term rather than a modifier ("a _vector_ is", "_Yanking_ a version"); the stop list is
# no test here, as it holds nouns too ("some _unknown_ number").
_FUNCTION_WORDS = _VERB_CUES | _OBJECT_CUES | _DETERMINERS_OR_PREPOSITIONS | {
    "and", "or", "but", "as", "than", "if", "when", "so", "then", "because", "while", "unless"}
_NEXT_WORD = re.compile(r" ([a-z][\w’'-]*)")


def _modifier(text: str, prose: str, hits: list[re.Match]) -> bool:
    """One emphasised word between a determiner and a noun ("an *explicit* subclass", "some _unknown_ number"),
    every time it is emphasised, stresses a modifier: it is no term. A term stands before a verb ("a _vector_
    allows", "the _crate_ needs"), a little word or a stop ("_Yanking_ a version", "_Null_ is")."""
    for m in hits:
        before = prose[max(0, m.start() - 12) : m.start()].split()
        after = _NEXT_WORD.match(prose, m.end())
        if not (before and before[-1].lower() in _DETERMINER and after):
            return False
        word = after.group(1)
        if word in _FUNCTION_WORDS or (word.endswith("s") and not word.endswith(("ss", "us", "is"))):
            return False
        if word in STOP and word not in analyse(text).after_article:
            return False  # never after an article in the document: a verb ("need"), not a noun ("a number")
    return True


@lru_cache(maxsize=8)
def emphasized_terms(text: str) -> tuple[Term, ...]:
    """The terms the document emphasises (single words: and uses again, or names there), in order of first
    emphasis."""
    prose = _CODE_SPAN.sub(" ", _prose(text))
    surfaces: dict[str, Counter[str]] = {}
    hits: dict[str, list[re.Match]] = {}
    for pattern in _EMPHASIS:
        for m in pattern.finditer(prose):
            surface = " ".join(m.group(2).split())
            if _is_term(surface) and not _run_in_heading(prose, m) and not _list_label(prose, m):
                key = normalize(surface)
                if key:
                    surfaces.setdefault(key, Counter())[surface] += 1
                    hits.setdefault(key, []).append(m)
    if not surfaces:
        return ()
    a = analyse(text)
    units = a.units
    infinitives = {m.group(1).lower() for u in units for m in _INFINITIVE.finditer(u.text)}
    out = []
    for key, forms in surfaces.items():
        if " " not in key:
            word = next(iter(forms)).lower()
            adjective_or_verb = never_a_noun(text, key) and not word.endswith(_NOUN_END)
            stress = _modifier(text, prose, hits[key])
            if word not in a.lower_words or word in infinitives or adjective_or_verb or stress:
                continue  # never written in lower case: a name ("Rust", "TOML"); after "to": a verb ("choose")
        needle = f" {key} "
        count = sum(u.norm.count(needle) for u in units if not u.skip)
        named = any(_NAMING.search(prose, max(0, m.start() - 20), m.start()) for m in hits[key])
        if count >= (PHRASE_USES if " " in key or named else WORD_USES):
            surface = min(forms.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            out.append(Term(key, " ".join(titleish(surface.lower() if surface[1:].islower() else surface).split()),
                            count))
    return tuple(out)


_AKA = r"(?:a\.k\.a\.?|aka|also known as|also called|otherwise known as)"
_NAME_AFTER = r"\s+(?:an?\s+|the\s+)?([^\W\d][\w\-’' ]*?)\s*(?=[.,;:)]|\s+or\s|$)"  # "a parameterized type"
_AFTER_AKA = re.compile(r"(?:^|[,(]\s*)" + _AKA + _NAME_AFTER, re.IGNORECASE)
_OR_NAME = re.compile(r"\s+or" + _NAME_AFTER)
_GLOSS = re.compile(r"\A([^\W\d][\w\-’' ]*?)\s*(?:\([^)]*\)\s*)?(?:--|—|–|:)\s")


def synonyms(text: str) -> dict[str, str]:
    """Phrases the document gives as another name for a term ("type hints, a.k.a. type annotations"; a glossary
    entry "parameterized generic -- … Also known as a parameterized type."): the other name's key -> the term's."""
    out: dict[str, str] = {}
    units = analyse(text).units
    for k, unit in enumerate(units):
        if unit.skip or unit.kind != "sentence":
            continue
        for m in _AFTER_AKA.finditer(unit.text):
            start = m.start()
            if start == 0:  # "Also known as …": the term is the one the sentence before defines
                gloss = _GLOSS.match(units[k - 1].text) if k else None
                term = gloss.group(1) if gloss else ""
            else:  # "X, a.k.a. Y": X is the words before, as many as make up the term
                term = unit.text[:start]
            names = [m.group(1), *_OR_NAME.findall(unit.text[m.end() :])]
            for name in names:
                if 1 <= len(name.split()) <= 4 and term:
                    out[normalize(name)] = " ".join(normalize(term).split()[-6:])
    return {k: v for k, v in out.items() if k and v and k != v}


_CALLED = re.compile(r"\b(?:is|are) (?:called|known as|referred to as|termed) (?:an? |the )?([^\W\d][\w\-’' ]*?)"
                     r"(?=\s*[.,;:)]|\s+(?:if|when|because|that|which|and)\b)")


def called_terms(text: str) -> tuple[Term, ...]:
    """Phrases of several words a sentence defines by naming them ("A protocol … is called a data protocol",
    "This is known as the newtype pattern"): terms the document introduces without emphasis."""
    sentences = [u for u in analyse(text).units if u.kind == "sentence" and not u.skip]
    out: dict[str, Term] = {}
    for unit in sentences:
        for m in _CALLED.finditer(unit.text):
            surface = m.group(1)
            key = normalize(surface)
            if 2 <= len(surface.split()) <= 4 and _is_term(surface) and key not in out:
                count = sum(u.norm.count(f" {key} ") for u in sentences)
                out[key] = Term(key, " ".join(titleish(surface).split()), count)
    return tuple(out.values())


HEADING_USES = 3  # a heading's phrase must recur this often in the text to be a topic


def heading_terms(text: str) -> tuple[Term, ...]:
    """Headings that are the name of a thing ("Type aliases", "Generic protocols", "Hash Maps") and recur in the
    text: the document has a section about each, so each is one of its topics. Headings that are sentences or
    actions ("Creating a New Vector") and the usual section names ("Motivation") are not."""
    a = analyse(text)
    sentences = [u for u in a.units if u.kind == "sentence" and not u.skip]
    out, seen = [], set()
    for unit in a.units:
        if unit.kind != "heading" or unit.skip:
            continue
        surface = " ".join(re.sub(r"[`*_]", "", unit.text).split()).strip(" :.")
        words = surface.split()
        if not words or not _is_term(surface) or len(words) > 4 or words[0].lower().endswith("ing") and len(words) > 1:
            continue
        if unit.section in USUAL_SECTIONS:
            continue
        key = normalize(surface)
        if len(words) == 1 and key == surface.lower():
            continue  # a singular word ("Syntax", "Semantics", "Introspection") names an aspect; a kind is plural
        if key in seen:
            continue
        seen.add(key)
        count = sum(u.norm.count(f" {key} ") for u in sentences)
        if count >= HEADING_USES:
            out.append(Term(key, " ".join(titleish(surface).split()), count))
    return tuple(out)


TITLE_USES = 2  # a noun phrase of the title must recur this often in the text to be a topic
_TITLE_JOINTS = re.compile(r"([,:;()|]|\s(?:and|or|with|to|into|of|for|as|in|on|over|from|between|using|"
                           r"instead|that|which|vs\.?|versus)\s)", re.IGNORECASE)
_ASPECT_JOINTS = {"of", "for"}  # "Characteristics of X", "Syntax for X": an aspect of the topic that follows
_LEADING = {"a", "an", "the", "our", "your", "its", "their", "this", "these", "some", "new"}


def title_terms(text: str) -> tuple[Term, ...]:
    """The noun phrases of the document's title ("Patterns and Matching", "Extending Cargo with Custom
    Commands"), the title being its first line when that is a title or a heading: a title names what the document
    is about. A leading action ("Writing", "Building a") is not part of the phrase, nor is a title that is an
    exclamation or a question ("Hello, Cargo!"); a phrase is a topic when the text uses it again."""
    a = analyse(text)
    first = next((u for u in a.units if u.kind != "author"), None)
    if first is None or first.kind not in ("title", "heading"):
        return ()
    sentences = [u for u in a.units if u.kind == "sentence" and not u.skip]
    out: dict[str, Term] = {}
    pieces = _noun_phrases(first.text)
    heads = {normalize(p).split()[-1] for p in pieces if len(p.split()) > 1}
    for surface in pieces:
        key = normalize(surface)
        if key in heads:
            continue  # "Redirecting Errors to Standard Error": the title names the kind, "standard error"
        count = sum(u.norm.count(f" {key} ") for u in sentences)
        if key not in out and count >= TITLE_USES:
            out[key] = Term(key, " ".join(titleish(surface).split()), count)
    return tuple(out.values())


def _noun_phrases(line: str) -> list[str]:
    """The pieces of a title that name things: split at "and", "with", "to", commas…, less a leading action or
    determiner, and less a piece that is an aspect of the next ("Characteristics of")."""
    title = " ".join(re.sub(r"[*_]", "", line).split())  # a piece with code in it is no phrase
    if title.endswith(("!", "?")):
        return []
    parts = _TITLE_JOINTS.split(f" {title} ")
    out = []
    for i in range(0, len(parts), 2):
        after = parts[i + 1].strip().lower() if i + 1 < len(parts) else ""
        if after in _ASPECT_JOINTS:
            continue
        words = parts[i].split()
        while len(words) > 1 and _leading(words[0].lower()):
            words = words[1:]  # "Writing Automated Tests", "Allow writing union types", "a Crate"
        surface = " ".join(words)
        if words and len(words) <= 4 and _is_title_term(surface):
            out.append(surface)
    return out


def _leading(word: str) -> bool:
    """A word that comes before the phrase a piece of a title names: an action or a determiner."""
    return word in _LEADING or word in STOP or (word.endswith("ing") and len(word) > 5)


def _is_title_term(surface: str) -> bool:
    """`_is_term` for a piece of a title, which is written in Title Case."""
    words = surface.split()
    if len(words) == 1:
        return _is_term(surface) or _is_term(surface.lower())
    return _is_term(" ".join([words[0].lower(), *words[1:]]))
