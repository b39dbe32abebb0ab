"""One pass over a document that every extractive function shares: its units (title, headings, sentences).

The result is cached per text, so asking a document for key sentences, phrases and entities parses it once.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from wikismith.compile.lexicon import ABBREVIATIONS, key_words, normalize
from wikismith.compile.textutil import blocks

MAX_SENTENCES = 2000  # key sentences are chosen among the first this many sentences
MAX_SENTENCE_CHARS = 1000  # longer "sentences" (lists, garbage, one huge line) are cut into pieces
_EN_MARKERS = frozenset("the and of to is that with for this are".split())
_ARTICLES = frozenset("the a an der die das den dem des ein eine einer eines einem einen".split())
_DE_MARKERS = frozenset("der die das und ist nicht mit von zu ein eine sei für sind".split())

_CODE_SPAN = re.compile(r"`[^`]*`")
_BOUNDARY = re.compile(r"([.!?…]+)[\"'”’)\]]*\s+")
_INITIALS = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]?\Z")  # "U.S", "e.g", "J.R"
TOKEN = re.compile(
    r"(?P<code>`[^`]*`)|(?P<word>_*[^\W\d_][\w'’]*(?:-[^\W_][\w'’]*)*)|(?P<num>\d[\w.,]*)|(?P<other>[^\s\w])"
)
_SKIP_SECTIONS = {"references", "footnotes", "copyright", "acknowledgements", "acknowledgments", "links",
                  "bibliography", "literatur", "literaturverzeichnis", "change log", "changelog", "version history"}


@dataclass(frozen=True)
class Unit:
    text: str
    index: int  # position among all units
    kind: str  # "title", "heading", "sentence" or "author"
    section: str  # the heading above it, lower case
    norm: str  # its normalised words, space-padded: " type hint "
    skip: bool  # in a references/copyright section: not prose worth quoting


@dataclass(frozen=True)
class Analysis:
    units: tuple[Unit, ...]
    sentences: tuple[Unit, ...]
    lower_words: frozenset[str]  # every word seen written in lower case
    german: bool
    variables: frozenset[str]  # single capital letters used as words (X, Y): mathematical variables
    capitalized: frozenset[str]  # every word seen written Capitalized, in lower case
    after_article: frozenset[str]  # every word seen right after an article ("the", "der", "eine"…), lower case


def split(text: str) -> list[str]:
    """The sentences of one block of cleaned text (code spans are never split)."""
    masked = _CODE_SPAN.sub(lambda m: "`" + "x" * (len(m.group()) - 2) + "`", text)
    out, start = [], 0
    for m in _BOUNDARY.finditer(masked):
        end = m.end()
        if end >= len(masked) or masked[end].islower() or masked[end] in ",;:":
            continue
        if m.group(1) == ".":
            space = masked.rfind(" ", start, m.start())
            word = masked[space + 1 if space >= 0 else start : m.start()].lstrip("([\"'“‘")
            # "e.g.", "J. R. R.", "Martin v. Löwis": an abbreviation or an initial ends no sentence
            if word.lower() in ABBREVIATIONS or _INITIALS.match(word) or (len(word) == 1 and word.isalpha()):
                continue
        sentence = text[start:end].strip()
        if sentence:
            out.append(sentence)
        start = end
    rest = text[start:].strip()
    if rest:
        out.append(rest)
    return [piece for s in out for piece in _chop(s) if any(c.isalpha() for c in piece)]


def _chop(s: str) -> list[str]:
    pieces = []
    while len(s) > MAX_SENTENCE_CHARS:
        cut = s.rfind(" ", MAX_SENTENCE_CHARS // 2, MAX_SENTENCE_CHARS)
        cut = cut if cut > 0 else MAX_SENTENCE_CHARS
        pieces.append(s[:cut].strip())
        s = s[cut:].strip()
    return [*pieces, s] if s else pieces


@lru_cache(maxsize=8)  # a compiler asks one document many questions, then moves on; keep memory bounded
def analyse(text: str) -> Analysis:
    """Split `text` into units and gather the word statistics the extractive functions share."""
    units: list[Unit] = []
    section = ""
    lower: set[str] = set()
    letters: Counter[str] = Counter()
    capitalized: set[str] = set()
    after_article: set[str] = set()
    en = de = 0
    n_sentences = 0

    def add(kind: str, s: str) -> None:
        nonlocal en, de
        words = key_words(s.replace("`", ""))
        units.append(Unit(s, len(units), kind, section, " " + " ".join(words) + " ", section in _SKIP_SECTIONS))
        prev = ""
        for m in TOKEN.finditer(_CODE_SPAN.sub(" ", s)):
            w = m.group("word")
            if w and prev in _ARTICLES:
                after_article.add(w.lower())
            prev = w.lower() if w else ""
            if w and len(w) == 1 and w.isupper():
                letters[w] += 1
            elif w and w[0].isupper() and w[1:2].islower():
                capitalized.add(w.lower())
            elif w and w[0].islower():
                lower.add(w.lower())
                en += w in _EN_MARKERS
                de += w in _DE_MARKERS

    for block in blocks(text):
        if block.kind == "author":
            units.append(Unit(block.text, len(units), "author", section, f" {normalize(block.text)} ", True))
        elif block.kind in ("title", "heading"):
            if block.kind == "heading":
                section = " ".join(block.text.lower().replace("`", "").split()).strip(" :.")
            add(block.kind, block.text)
        elif n_sentences < MAX_SENTENCES * 3:
            for s in split(block.text):
                add("sentence", s)
                n_sentences += 1
    sentences = tuple(u for u in units if u.kind == "sentence")
    german = de > en
    articles = "" if german else "AI"  # in English, "A" and "I" are words, not variables
    variables = frozenset(c for c, k in letters.items() if k >= 2 and c not in articles)
    return Analysis(tuple(units), sentences, frozenset(lower), german, variables, frozenset(capitalized),
                    frozenset(after_article))
