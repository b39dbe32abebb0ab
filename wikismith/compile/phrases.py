"""Key phrases of a document: the candidates for concept pages.

A candidate is a run of up to four non-stopwords (C-value scoring: a phrase that mostly occurs inside a longer one
scores low), or a single word that is very frequent and used as a noun. Occurrences in the title, the headings and
the first tenth of the text weigh more.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from wikismith.compile.analysis import TOKEN, Unit, analyse
from wikismith.compile.commonness import zipf
from wikismith.compile.lexicon import GENERIC, STOP, USUAL_SECTIONS, normalize, stem, titleish


@dataclass(frozen=True)
class Phrase:
    key: str
    display: str
    score: float
    count: int


_LY_NOUNS = {"family", "assembly", "anomaly", "supply", "reply", "apply", "multiply", "monopoly", "italy", "july",
             "butterfly", "rally", "ally", "belly", "jelly", "poly", "fly", "only"}
_ED_OK = {"need", "speed", "seed", "feed", "embed", "bed", "red", "shed", "breed", "bleed", "deed", "weed"}
# Words after which a word is a verb or an adjective rather than a noun ("to check", "is valid").
_VERB_CUES = {"to", "can", "could", "should", "must", "will", "would", "may", "might", "cannot", "not", "we",
              "they", "you", "i", "does", "do", "did", "shall", "also", "it", "he", "she", "is", "are", "be",
              "been", "being", "was", "were", "become", "becomes", "seem", "seems", "remain", "remains", "which",
              "that", "who"}
_DETERMINERS = {"the", "a", "an", "this", "these", "those", "each", "every", "any", "no", "its", "their", "our",
                "your", "some", "all", "such", "both", "of", "at", "in", "on", "with", "for", "from", "by", "into",
                "about", "between", "der", "die", "das", "den", "dem", "des", "ein", "eine", "einer", "einen"}
_CONTRACTION = re.compile(r"['’](?:ll|re|ve|d|m|t)\Z|n['’]t\Z")
SINGLE_EVERYDAY = 4.3  # Zipf: a single word this common ("program", "error", "element") is no topic on its own
# Words that follow a verb rather than a noun: "iterators produce the", "Rust knows that it".
_OBJECT_CUES = {"the", "a", "an", "it", "them", "us", "you", "your", "our", "their", "its", "his", "her", "him", "me",
                "this", "these", "those", "each", "every", "some", "any", "no", "whether"}
# Endings of adjectives that seldom end a noun ("-al", "-ent", "-ant" do: "literal", "argument", "variant").
_ADJECTIVE_ENDINGS = ("ic", "able", "ible", "ous", "ful", "less", "ive")
# A phrase mostly said after "at" or "on" ("at compile time", "on the front page", "at the top level") names when
# or where something happens, not a thing to read about.
_PLACE = {"at", "on"}
_ARTICLES = {"the", "a", "an"}
# Suffixes that make abstract nouns. Such a noun is often a mass noun, never in the plural nor after an article
# ("take ownership", "supports polymorphism"), and it names an idea even when fairly common in general English.
_ABSTRACT_ENDINGS = ("ship", "ism", "ness", "ity")
ABSTRACT_EVERYDAY = 5.0  # Zipf: an abstract noun this common ("business", "community") is no topic on its own
_UNIT_WEIGHT = {"title": 5.0, "heading": 2.5, "sentence": 1.0}


@lru_cache(maxsize=65536)
def _parts(low: str) -> list[str]:
    """The normalised words of one token: "type-hints" -> ["type", "hint"]."""
    low = low.removesuffix("'s").removesuffix("’s").rstrip("'’")
    return [stem(p) for p in re.split(r"[-_'’]", low) if p]


@lru_cache(maxsize=65536)
def _phrase_stop(low: str) -> bool:
    if len(low) < 2 or low in STOP or "_" in low:  # `__exit__`, snake_case: identifiers, never part of a topic
        return True
    if _CONTRACTION.search(low) or low.replace("’", "'").removesuffix("'s") in STOP:  # "we'll", "don't", "let's"
        return True
    parts = [p for p in re.split(r"[-_]", low) if p]
    if not parts or all(p in STOP for p in parts):
        return True
    return len(low) > 4 and low.endswith("ly") and low not in _LY_NOUNS


def _weight(unit: Unit, n_units: int) -> float:
    early = unit.index < max(20, n_units // 10)
    return _UNIT_WEIGHT.get(unit.kind, 1.0) + (0.5 if early and unit.kind == "sentence" else 0.0)


@dataclass
class _Stats:
    weight: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    count: Counter[str] = field(default_factory=Counter)
    first: dict[str, int] = field(default_factory=dict)
    surfaces: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    lower: Counter[str] = field(default_factory=Counter)  # occurrences written in lower case
    heads: Counter[str] = field(default_factory=Counter)  # single word ending its run, not after a verb cue
    after_det: Counter[str] = field(default_factory=Counter)  # single word alone right after a determiner
    plural: Counter[str] = field(default_factory=Counter)  # single word seen in the plural: a noun
    verb_led: Counter[str] = field(default_factory=Counter)  # phrase right after "to", "can", "we"…: a verb phrase
    takes_object: Counter[str] = field(default_factory=Counter)  # phrase right before "the", "it"…: ends in a verb
    placed: Counter[str] = field(default_factory=Counter)  # phrase right after "at", "on" ("at the"): when, where
    words: int = 0

    def add_run(self, run: list[tuple[re.Match, list[str], str]], text: str, index: int, weight: float,
                before_code: bool, follower: str, placed: bool = False) -> None:
        n = len(run)
        weights, count, first, surfaces, lower = self.weight, self.count, self.first, self.surfaces, self.lower
        object_follows = follower in _OBJECT_CUES
        for i in range(n):
            size = 0
            parts: list[str] = []  # the normalised words of run[i..j]
            start = run[i][0].start()
            prev = run[i][2]
            verb_cue = prev in _VERB_CUES
            for j in range(i, min(n, i + 4)):
                words = run[j][1]
                size += len(words)
                if size > 4:
                    break
                parts.extend(words)
                last = words[-1]
                if last.endswith("ed") and last not in _ED_OK:  # "annotations defined": a verb, not a noun
                    continue
                key = " ".join(parts)
                surface = text[start : run[j][0].end()]
                weights[key] += weight
                count[key] += 1
                if key not in first:
                    first[key] = index
                surfaces[key][surface] += 1
                lower[key] += surface.islower()
                if i < j and verb_cue:
                    self.verb_led[key] += 1
                if i == 0 and i < j and placed:
                    self.placed[key] += 1
                if i == j == 0 and not verb_cue and surface.lower().rstrip("'’") != key:
                    self.plural[key] += 1
                if j == n - 1 and object_follows:
                    self.takes_object[key] += 1
                if i == j == n - 1 and not verb_cue and not before_code:
                    self.heads[key] += 1
                    self.after_det[key] += n == 1 and prev in _DETERMINERS

    def action_or_place(self, key: str) -> bool:
        """A phrase mostly said before an object or after "to", "can", "we"… (a verb phrase: "Command Creates",
        "to check types"), or after "at" / "on" ("at compile time", "on the top level": a time or a place)."""
        n = self.count[key]
        return self.takes_object[key] * 3 >= n or self.verb_led[key] * 2 >= n or self.placed[key] * 2 >= n

    def nouny(self, key: str) -> bool:
        """Heuristic part-of-speech test: a noun heads phrases and follows determiners, or takes a plural."""
        n = self.count[key]
        return ((self.heads[key] >= 0.25 * n and self.after_det[key] >= max(2, 0.1 * n))
                or self.plural[key] >= max(2, 0.1 * n))


def key_phrases(text: str, limit: int = 15) -> list[Phrase]:
    """The document's key phrases, best first: multi-word noun-ish phrases, and very frequent single words."""
    return _rank(_collect(text), limit, analyse(text).german)


def used_phrases(text: str, limit: int) -> list[str]:
    """What the document can join pages about, at most `limit` phrases of up to four non-stopwords: first those it
    uses at least twice, most used first (no test for nouns or rank, generic words and usual section names aside);
    then the noun phrases of two or more words it uses once, and the single words it says once in the plural, the
    most specific first (a two-word name such as "smart pointer" said once, or "enums" in "structs and enums", is
    still a reference to that thing; a single word said once in the singular may be a verb or an adjective)."""
    stats = _collect(text)
    skip = usual_section_keys()
    count = stats.count
    often = sorted((key for key, n in count.items() if n >= 2 and key not in GENERIC and key not in skip),
                   key=lambda key: (-count[key], key))[:limit]
    if len(often) >= limit:
        return often
    once = [key for key, n in count.items() if n == 1 and (" " in key or (stats.plural[key] and key not in GENERIC))
            and key not in skip
            and not stats.action_or_place(key)]
    once.sort(key=lambda key: (_rarest(key.split()), key))
    return often + once[: limit - len(often)]


def never_a_noun(text: str, key: str) -> bool:
    """A single word the document never writes in the plural nor alone after a determiner ("explicit",
    "replace"): an adjective or a verb, by the same statistics as the key phrases."""
    stats = _collect(text)
    return stats.plural[key] + stats.after_det[key] == 0


@lru_cache(maxsize=4)
def _collect(text: str) -> _Stats:
    a = analyse(text)
    stats = _Stats()
    for unit in a.units:
        if unit.kind == "author" or unit.skip:
            continue
        weight = _weight(unit, len(a.units))
        run: list[tuple[re.Match, list[str], str]] = []  # (token, its normalised words, the word before it)
        prev = before_prev = ""
        placed = False  # the run opens after "at" / "on" ("at compile time", "on the command line")
        for m in [*TOKEN.finditer(unit.text), None]:
            word = m.group("word") if m else None
            if word:
                stats.words += 1
                low = word.lower()
                if not _phrase_stop(low):
                    if not run:
                        placed = prev in _PLACE or (prev in _ARTICLES and before_prev in _PLACE)
                    run.append((m, _parts(low), prev))
                    before_prev, prev = prev, low
                    continue
            if run:
                stats.add_run(run, unit.text, unit.index, weight, m is not None and m.group("code") is not None,
                              word.lower() if word else "", placed)
            run = []
            before_prev, prev = prev, (word.lower() if word else "")
    return stats


def _rank(stats: _Stats, limit: int, german: bool) -> list[Phrase]:
    nested_sum: dict[str, float] = defaultdict(float)
    nested_n: Counter[str] = Counter()
    for key, weight in stats.weight.items():
        words = key.split()
        for size in range(1, len(words)):
            for i in range(len(words) - size + 1):
                sub = " ".join(words[i : i + size])
                if sub in stats.weight:
                    nested_sum[sub] += weight
                    nested_n[sub] += 1
    single_min = max(4, stats.words / 1500)
    scored = []
    for key, f in stats.weight.items():
        words, n = key.split(), stats.count[key]
        cvalue = f - (nested_sum[key] / nested_n[key] if nested_n[key] else 0.0)
        if stats.takes_object[key] * 3 >= n:
            continue  # mostly followed by an object: a verb phrase ("Command Creates"), not a thing
        if len(words) == 1:
            if not german and key.endswith(_ADJECTIVE_ENDINGS) and not stats.plural[key]:
                continue  # "idiomatic", "mutable": never in the plural, an adjective, not a thing
            abstract = not german and key.endswith(_ABSTRACT_ENDINGS) and len(key) > 6
            everyday = ABSTRACT_EVERYDAY if abstract else SINGLE_EVERYDAY
            if n < single_min or key in GENERIC or len(key) < 4 or (not german and zipf(key) >= everyday):
                continue
            if german:  # German writes nouns, and only nouns, with a capital letter
                if stats.lower[key] * 2 > n:
                    continue
            elif stats.lower[key] * 2 < n or not (stats.nouny(key) or abstract):
                continue
            score = cvalue * 0.5
        else:
            if (n < 2 and f < 5) or stats.action_or_place(key):
                continue
            score = cvalue * (1.0 + 0.25 * (len(words) - 1))
            if words[0].endswith("ing") and len(words[0]) > 5 and words[0] != "typing":
                score *= 0.5  # "accessing function annotations": more often an action than a thing
        if not german:
            score *= _specificity(words)
        if score > 0:
            scored.append((-round(score, 6), stats.first[key], key))
    scored.sort()
    chosen: list[Phrase] = []
    for neg, _, key in scored:
        if len(chosen) >= limit:
            break
        if any(_contains(c.key, key) and stats.count[key] <= 1.5 * c.count for c in chosen):
            continue
        surface = min(stats.surfaces[key].items(), key=lambda kv: (kv[0].isupper(), -kv[1], kv[0]))[0]
        display = titleish(surface.lower() if surface.isupper() else surface)
        chosen.append(Phrase(key, " ".join(display.split()), -neg, stats.count[key]))
    return chosen


@lru_cache(maxsize=1)
def usual_section_keys() -> frozenset[str]:
    """The keys of the usual section names ("reference implementation"): never a topic, whatever their rank."""
    return frozenset(normalize(s) for s in USUAL_SECTIONS)


RARITY_WEIGHT = 1.0


def _specificity(words: list[str]) -> float:
    """How far the phrase's rarest word is from everyday language: "mutability" (Zipf 1.9) lifts "interior
    mutability"; "final project", all everyday words, stays low."""
    return (max(1.0, 7.0 - _rarest(words)) / 3.0) ** RARITY_WEIGHT


def _rarest(words: list[str]) -> float:
    """The Zipf frequency of the phrase's rarest word in general English."""
    return min(zipf(w) for w in words)


def _contains(longer: str, shorter: str) -> bool:
    return len(longer) > len(shorter) and f" {shorter} " in f" {longer} "
