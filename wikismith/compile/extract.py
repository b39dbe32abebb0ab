"""Extractive, offline, deterministic reading of a document: sentences, key sentences, phrases, entities.

Everything here is pure Python and reads only the text it is given. Ties are broken by position in the text,
then alphabetically, so the same text always gives the same answer.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

from wikismith.compile.analysis import MAX_SENTENCES, Unit, analyse
from wikismith.compile.entities import Entity, entities
from wikismith.compile.lexicon import STOP, key_words
from wikismith.compile.phrases import Phrase, key_phrases

__all__ = ["Entity", "Phrase", "best_sentences_for", "describe", "entities", "key_phrases", "key_sentences",
           "split_sentences"]

_LEAD_SECTIONS = {"abstract", "summary", "introduction", "overview", "motivation", "zusammenfassung",
                  "einleitung", "einführung", "tl;dr", "description"}
_WEAK_START = re.compile(r"(?:and|but|or|so|also|however|this|that|these|those|it|they|he|she|here|there|"
                         r"such|thus|hence|see|for example|e\.g\.)\b", re.IGNORECASE)
_DEFINING_VERBS = {"is", "are", "refer", "mean", "describe", "provide", "allow", "represent", "denote", "ist",
                   "sind", "heißt", "bezeichnet"}
_SELF_REFERENCE = re.compile(r"(?:this|the present|our) (?:pep|document|paper|article|proposal|report|thesis|"
                             r"chapter|book|guide|tutorial|note|specification|rfc|post|library|package|tool|"
                             r"project|module|program|lecture|script)\b|(?:dieses|diese|dieser) \w+ ",
                             re.IGNORECASE)
MAX_DESCRIPTION = 160


def split_sentences(text: str) -> list[str]:
    """The prose sentences of a Markdown or reStructuredText document, markup removed, code spans kept."""
    return [u.text for u in analyse(text).sentences]


def _content(unit: Unit) -> set[str]:
    return {w for w in unit.norm.split() if w not in STOP and len(w) > 1 and not w.isdigit()}


def _eligible(unit: Unit) -> bool:
    if unit.skip:
        return False
    n = unit.text.count(" ") + 1
    return 6 <= n <= 45 and not unit.text.endswith("?") and "://" not in unit.text


def _weak(sentence: str) -> bool:
    """Starts like a sentence that leans on the one before it ("However, …", "It …")."""
    return bool(_WEAK_START.match(sentence)) and not _SELF_REFERENCE.match(sentence)


def _scores(units: tuple[Unit, ...]) -> dict[int, float]:
    """Centroid similarity of each eligible sentence, times a position prior and a style factor."""
    contents = [_content(u) for u in units]
    df: Counter[str] = Counter()
    tf: Counter[str] = Counter()
    for u, c in zip(units, contents):
        df.update(c)
        tf.update(w for w in u.norm.split() if w in c)
    n = len(units) or 1
    idf = {w: math.log(1 + n / d) for w, d in df.items()}
    scale = max(10.0, n * 0.05)
    scores = {}
    for k, (u, c) in enumerate(zip(units, contents)):
        if not _eligible(u) or not c:
            continue
        sim = sum(idf[w] * idf[w] * tf[w] for w in c) / math.sqrt(sum(idf[w] ** 2 for w in c))
        prior = 1.0 + 0.8 * math.exp(-k / scale)
        if u.section in _LEAD_SECTIONS:
            prior *= 1.3
        code = sum(len(x) for x in re.findall(r"`[^`]*`", u.text))
        style = 1.0
        if u.text.endswith(":") or code * 3 > len(u.text):
            style *= 0.5
        if _weak(u.text) or not u.text[:1].isupper():
            style *= 0.8
        scores[u.index] = sim * prior * style
    return scores


def key_sentences(text: str, n: int = 5) -> list[str]:
    """The `n` most central sentences of the document, in document order."""
    units = analyse(text).sentences[:MAX_SENTENCES]
    scores = _scores(units)
    by_index = {u.index: u for u in units}
    chosen: list[Unit] = []
    for idx in sorted(scores, key=lambda i: (-scores[i], i)):
        if len(chosen) >= n:
            break
        c = _content(by_index[idx])
        if any(len(c & _content(o)) > 0.6 * min(len(c), len(_content(o))) for o in chosen):
            continue
        chosen.append(by_index[idx])
    return [u.text for u in sorted(chosen, key=lambda u: u.index)]


@lru_cache(maxsize=4)
def _sentences_with(text: str) -> dict[str, list[Unit]]:
    """The document's sentences by each word they contain, in order: a phrase is looked for only in the sentences
    holding its first word (a document asks this for its ~250 topics, names and mentions)."""
    index: dict[str, list[Unit]] = {}
    for u in analyse(text).sentences:
        for word in dict.fromkeys(u.norm.split()):
            index.setdefault(word, []).append(u)
    return index


def best_sentences_for(text: str, phrase_key: str, n: int = 3) -> list[str]:
    """Up to `n` sentences that best describe the phrase (they contain it; early and definitional ones first),
    in document order. A phrase no sentence says but a heading names ("## `Rc<T>`, the
    Reference-Counted Smart Pointer") is described by the opening sentences of that heading's section."""
    words = key_words(phrase_key)
    if not words:
        return []
    needle = " " + " ".join(words) + " "
    found = [u for u in _sentences_with(text).get(words[0], ()) if needle in u.norm and not u.skip]
    if not found:
        return _section_opening(text, needle, n)
    total = len(found)

    def score(pos: int, u: Unit) -> float:
        words = u.text.count(" ") + 1
        s = 1.0 + 1.0 * (1 - pos / total) + 0.5 * math.exp(-u.index / 50)
        after = u.norm[u.norm.find(needle) + len(needle) :].split(" ", 1)[0]
        if after in _DEFINING_VERBS:
            s += 1.5
        if u.norm.startswith(needle) or u.norm.startswith(" the" + needle) or u.norm.startswith(" a" + needle):
            s += 0.5
        if not 6 <= words <= 45:
            s *= 0.4
        if u.text.endswith(":"):
            s *= 0.6
        return s

    ranked = sorted(enumerate(found), key=lambda pu: (-score(*pu), pu[1].index))
    picked: list[Unit] = []
    for _, u in ranked:
        if len(picked) >= n:
            break
        if all(u.text != p.text for p in picked):
            picked.append(u)
    return [u.text for u in sorted(picked, key=lambda u: u.index)]


def _section_opening(text: str, needle: str, n: int) -> list[str]:
    """The first `n` sentences under the first heading that names the phrase."""
    units = analyse(text).units
    for h in units:
        if h.kind != "heading" or h.skip or needle not in h.norm:
            continue
        opening = []
        for u in units[h.index + 1 :]:
            if u.kind in ("heading", "title") or len(opening) >= n:
                break
            if u.kind == "sentence" and not u.skip:
                opening.append(u.text)
        if opening:
            return opening
    return []


def describe(text: str, title: str) -> str:
    """One line (at most 160 characters) saying what the document is about."""
    a = analyse(text)
    units = a.sentences[:MAX_SENTENCES]
    scores = _scores(units)
    title_norm = " " + " ".join(key_words(title or "")) + " "
    ordered = [i for i in sorted(scores) if a.units[i].norm != title_norm]
    candidates = [i for i in ordered if not _weak(a.units[i].text)][:8] or ordered[:8]
    if not candidates:
        fallback = next((u.text for u in a.sentences if not u.skip), "") or (title or "")
        return _shorten(fallback)
    wanted = {w for w in title_norm.split() if w not in STOP}

    def fit(i: int) -> float:
        overlap = len(wanted & _content(a.units[i])) / len(wanted) if wanted else 0.0
        self_reference = 2.5 if _SELF_REFERENCE.match(a.units[i].text) else 1.0
        return scores[i] * (1.0 + 1.0 / (1 + candidates.index(i))) * (1.0 + overlap) * self_reference

    best = max(candidates, key=lambda i: (fit(i), -i))
    return _shorten(a.units[best].text)


def _shorten(s: str) -> str:
    s = " ".join(s.split())
    if len(s) <= MAX_DESCRIPTION:
        return s
    cut = s[: MAX_DESCRIPTION - 1]
    if " " in cut[MAX_DESCRIPTION // 2 :]:
        cut = cut[: cut.rfind(" ")]
    if cut.count("`") % 2:
        cut = cut[: cut.rfind("`")].rstrip()
    return cut.rstrip(" ,;:-") + "…"
