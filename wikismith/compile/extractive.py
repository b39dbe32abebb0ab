"""The offline compiler: a Draft from a converted document with no model, deterministically.

Key sentences make the key points, key phrases become concepts, names, acronyms and identifiers become entities;
each gets this document's best sentences about it as its section.
"""

from __future__ import annotations

from wikismith.compile import extract
from wikismith.compile.acronyms import expansions, modifiers
from wikismith.compile.lexicon import titleish
from wikismith.compile.phrases import Phrase, used_phrases, usual_section_keys
from wikismith.compile.terms import called_terms, emphasized_terms, heading_terms, synonyms, title_terms
from wikismith.compile.draft import Contribution, Draft, OtherName, SourceInfo
from wikismith.compile.entities import Entity
from wikismith.compile.hygiene import clip, escape_markers, one_line, title_line

KEY_POINTS = 5
CONCEPTS = 30  # candidates; only the strongest make new pages, the rest join pages that already exist
ENTITIES = 20
STRONG_RANK = 8  # the top phrases of a document get pages of their own
STRONG_COUNT = 3  # ... when they occur at least this often
CLOSE_SCORE = 0.4  # past those, a phrase scoring this share of the best one's score is as strong (a tie, not a tail)
LEADING_RANK = 2  # a document's very first phrases are what it is about, even a short one that says them twice
LEADING_COUNT = 2
DESCRIPTION_CHARS = 160
# A document that uses an existing page's name twice, or once for a name of two words or more, is among that page's
# sources. At most this many such phrases are kept, the most used first, then the most specific of those said once
# (on the labels: 60 kept of those used twice only gave concept recall 0.530; today 100 give 0.580 and 150 give
# 0.587, as a long chapter uses over 100 phrases twice before the names it says once; 300 give 0.590 for about 5%
# more time on the seven typing PEPs, each of which then joins more pages).
MENTIONS = 150
COMMON_NOUN_RATIO = 10  # a phrase this many times as frequent as the same name is a topic, not a name


_HEAD_NOUNS = ("pattern", "type", "trait")  # "interior mutability pattern" is "interior mutability"
# Relational nouns: a definition, a name, a value, a version… is always the definition, name… of something.
_RELATIONAL = frozenset({"definition", "name", "value", "version", "part", "kind", "form", "result", "example",
                         "behavior", "behaviour", "detail"})


def _variant_of(key: str, keys: set[str]) -> str | None:
    """The other key of the document this phrase is a near-duplicate of: "X pattern", "X type" or "X trait" beside
    X, "type hinting" beside "type hint"."""
    words = key.split()
    if len(words) >= 2 and words[-1] in _HEAD_NOUNS and " ".join(words[:-1]) in keys:
        return " ".join(words[:-1])
    if words[-1].endswith("ing") and len(words[-1]) > 5:
        base = " ".join([*words[:-1], words[-1][:-3]])
        if base != key and base in keys:
            return base
    return None


def _aspect_of(key: str, keys: set[str]) -> bool:
    """"Struct definition", "type parameter name", "license identifier value" beside "struct", "type parameter",
    "license identifier": a relational noun after one of the document's topics or names names an aspect of it,
    which belongs on that topic's page, not a thing with a page of its own."""
    words = key.split()
    return len(words) >= 2 and words[-1] in _RELATIONAL and " ".join(words[:-1]) in keys


def _spelled_out(text: str, names: list, phrases: list) -> tuple[list, list, set[str], dict[str, Entity]]:
    """Acronyms that are nearly always the first word of one of the document's key phrases ("IP address") are no
    entities. Acronyms that abbreviate a lower-case phrase of the document ("OOP", "ABC") are that phrase's concept
    page:
    the acronym's occurrences count for the phrase, and a phrase the document defines ("… (URI)") is one of its
    topics (the keys returned), with the acronym as its other name (phrase key -> the acronym)."""
    compounds = modifiers(text, [e.display for e in names if e.kind == "acronym"], {p.key for p in phrases})
    names = [e for e in names if not (e.kind == "acronym" and e.display in compounds)]
    found = expansions(text, [e.display for e in names if e.kind == "acronym"])
    if not found:
        return names, phrases, set(), {}
    phrases = list(phrases)
    by_key = {p.key: i for i, p in enumerate(phrases)}
    kept, defined, short = [], set(), {}
    for e in names:
        x = found.get(e.display) if e.kind == "acronym" else None
        if x is None:
            kept.append(e)
            continue
        if x.defined:
            defined.add(x.key)
            short.setdefault(x.key, e)
        if x.key in by_key:
            i = by_key[x.key]
            p = phrases[i]
            phrases[i] = Phrase(p.key, p.display, p.score, p.count + e.count)
        else:
            by_key[x.key] = len(phrases)
            phrases.append(Phrase(x.key, " ".join(titleish(x.display).split()), 0.0, x.count + e.count))
    return kept, phrases, defined, short


def _introduced(text: str, phrases: list, names: list) -> tuple[list, list, set[str], set[str]]:
    """The terms the document introduces (emphasised where it defines them) are among its topics; an acronym it
    introduces so ("*TOML*") is among its names. Returns the phrases, the names and the keys of both kinds."""
    terms = emphasized_terms(text) + heading_terms(text) + title_terms(text) + called_terms(text)
    if not terms:
        return phrases, names, set(), set()
    topics = [t for t in terms if not t.display.isupper()]
    acronyms = [t for t in terms if t.display.isupper()]
    have = {p.key for p in phrases}
    named = {e.key for e in names}
    phrases = [*phrases, *(Phrase(t.key, t.display, 0.0, t.count) for t in topics if t.key not in have)]
    names = [*names, *(Entity(t.key, t.display, "acronym", t.count) for t in acronyms if t.key not in named)]
    return phrases, names, {t.key for t in topics}, {t.key for t in acronyms}


def _other_names(text: str, phrases: list, named: set[str], defined: set[str]) -> tuple[list, dict[str, str]]:
    """A phrase the document gives as another name for one of its topics or names ("type hints, a.k.a. type
    annotations") is that topic's page: its occurrences count there, it has no page of its own. Returns the
    phrases and the other names found (other name's key -> the term's)."""
    pairs = synonyms(text)
    if not pairs:
        return phrases, {}
    keys = {p.key for p in phrases} | named
    target: dict[str, str] = {}
    for other, before in pairs.items():
        words = before.split()
        term = next((" ".join(words[i:]) for i in range(len(words)) if " ".join(words[i:]) in keys), None)
        if term and other in keys and other not in named and term != other:
            target[other] = term
    if not target:
        return phrases, {}
    extra = {t: sum(p.count for p in phrases if target.get(p.key) == t) for t in set(target.values())}
    defined |= {t for o, t in target.items() if o in defined}
    # The other name keeps its place in the ranking (it is skipped, not removed): no phrase moves up for it.
    return [Phrase(p.key, p.display, p.score, p.count + extra[p.key]) if p.key in extra else p for p in phrases], \
        target


def compile_document(doc, source: SourceInfo) -> Draft:
    text = doc.markdown
    title = doc.title.strip() or source.name
    contributions = []
    names = extract.entities(text, limit=ENTITIES)
    phrases = extract.key_phrases(text, limit=CONCEPTS)
    names, phrases, defined, short = _spelled_out(text, names, phrases)
    phrases, names, introduced, introduced_names = _introduced(text, phrases, names)
    defined |= introduced
    # One page per thing. A word the document uses far more as a common noun than as a name ("protocols" beside
    # `Protocol`) is a topic, and the name is that topic's page; otherwise a phrase that is also one of the
    # document's names (a person, "mypy") is that name's page.
    counts = {p.key: p.count for p in phrases}
    names = [e for e in names if e.kind == "person" or counts.get(e.key, 0) < COMMON_NOUN_RATIO * e.count]
    named = {e.key for e in names}
    phrases, declared = _other_names(text, phrases, named, defined)
    keys = named | {p.key for p in phrases}
    topics = [p for p in phrases if p.key not in named and _variant_of(p.key, keys) is None]
    # An aspect keeps its place in the ranking (skipped, not removed), as other names do.
    other_names = set(declared) | {p.key for p in topics if _aspect_of(p.key, keys)}
    close = CLOSE_SCORE * max((p.score for p in topics), default=0.0)
    for kind, items in (("concept", topics), ("entity", names)):
        for rank, item in enumerate(items):
            if kind == "concept" and (item.key in other_names or item.key in usual_section_keys()):
                continue  # skipped in place, not removed: no phrase moves up into the strong ranks for it
            best = extract.best_sentences_for(text, item.key, n=3)
            if not best and getattr(item, "kind", "") == "person":
                best = [f"An author of {one_line(title)}."]
            if not best:
                continue
            section = "\n".join(f"- {one_line(sentence)}" for sentence in best)
            noun = "concept" if kind == "concept" else "entity"
            contributions.append(Contribution(
                kind=kind, key=item.key, title=title_line(item.display), section=section,
                description=clip(one_line(best[0]), DESCRIPTION_CHARS) or f"a {noun} from {one_line(title)}",
                strong=((rank < STRONG_RANK or (kind == "concept" and item.score >= close > 0))
                        and item.count >= STRONG_COUNT) or getattr(item, "kind", "") == "person"
                or (kind == "concept" and rank < LEADING_RANK and item.count >= LEADING_COUNT)
                or (kind == "concept" and item.key in defined) or (kind == "entity" and item.key in introduced_names),
            ))
    # The other names it declares for its concepts: kept by the KB, so that the other name's page is the term's
    # whichever documents write it (see wiki/merge.py).
    shown = {p.key: p.display for p in phrases}
    concepts = {c.key for c in contributions if c.kind == "concept"}
    other = [OtherName("concept", o, title_line(shown[o]), t) for o, t in sorted(declared.items())
             if t in concepts and o in shown]
    # An acronym the document defines ("object-oriented programming (OOP)") is another name of the phrase's page:
    # a later document that writes only "OOP" joins that page.
    other += [OtherName("concept", e.key, e.display, t) for t, e in sorted(short.items())
              if t in concepts and e.key not in concepts and e.key not in declared]
    tree = doc.tree.to_dict() if getattr(doc, "tree", None) else None
    taken = {c.key for c in contributions} | set(declared) | {o.key for o in other}
    return Draft(
        source=source,
        title=title_line(title),
        description=one_line(extract.describe(text, title)),
        key_points=[one_line(s) for s in extract.key_sentences(text, n=KEY_POINTS)],
        body="",
        source_markdown=escape_markers(text),
        outline=[(e.level, one_line(e.title), e.page) for e in doc.outline],
        tree=tree,
        contributions=contributions,
        warnings=list(doc.warnings),
        page_count=getattr(doc, "page_count", None),
        other_names=other,
        mentions=_mentions(text, title, taken),
    )


def _mentions(text: str, title: str, taken: set[str]) -> list[Contribution]:
    """The phrases the document uses (see `used_phrases`) and does not hold as concepts or names: each joins the
    concept page of that name if one exists, with this document's best sentences about it."""
    out = []
    for key in used_phrases(text, MENTIONS + len(taken)):
        if len(out) >= MENTIONS:
            break
        if key in taken:
            continue
        best = extract.best_sentences_for(text, key, n=2)
        if best:
            out.append(Contribution(
                kind="concept", key=key, title="", section="\n".join(f"- {one_line(s)}" for s in best),
                description=clip(one_line(best[0]), DESCRIPTION_CHARS) or f"a concept from {one_line(title)}",
                strong=False))
    return out
