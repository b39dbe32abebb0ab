"""Answers from the KB without a model: the passages that best answer a question, cited, trimmed to one screen.

Candidates come from the full-text index (BM25, a generous pool); each is then judged by how much of the
question it covers (its words through the same English stemmer) and by its BM25 score. When the best passage covers
too little of the question, the honest answer is that the KB does not say: `found` is false.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from wikismith.ask.search import match_expression, terms

POOL = 60  # passages the index hands over for judging
PASSAGES = 3  # passages an offline answer quotes
EXCERPT_CHARS = 420  # what one quoted passage shows at most
MIN_COVERAGE = 0.5  # the share of the question's words the best passage must hold for an answer to count
SURE_COVERAGE = 0.75  # ... or this share, when the question uses a word the KB never does
SOURCE_BONUS = 0.2  # a document's own text (its source page) before what other pages quote of it
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[`])")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def stems(words) -> set[str]:
    return set(_stemmer().stemWords([w.lower() for w in words]))


_TOKEN = re.compile(r"[^\W_]+")


def text_stems(text: str) -> set[str]:
    return stems(_TOKEN.findall(text))


@dataclass
class Source:
    page: str
    title: str
    heading: str
    first_page: int | None
    last_page: int | None

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def cite(self) -> str:
        target = self.page[len("wiki/"):-len(".md")]
        label = " ".join(self.title.replace("|", "/").replace("[", "(").replace("]", ")").split())
        where = ""
        if self.first_page is not None:
            where = f", p. {self.first_page}" + (f"-{self.last_page}" if self.last_page not in (None,
                                                                                              self.first_page) else "")
        return f"[[{target}|{label}]]{where}"


@dataclass
class Candidate:
    hit: dict
    coverage: float
    matched: int
    score: float = 0.0


@dataclass
class Retrieval:
    question: str
    candidates: list[Candidate] = field(default_factory=list)
    needed: int = 0  # how many question words a passage must hold
    unknown: list[str] = field(default_factory=list)  # question words the KB never uses

    @property
    def found(self) -> bool:
        if not self.candidates:
            return False
        best = max(c.coverage for c in self.candidates[:PASSAGES * 2])
        return best >= (SURE_COVERAGE if self.unknown else MIN_COVERAGE) and \
            max(c.matched for c in self.candidates[:PASSAGES * 2]) >= self.needed


def retrieve(view, question: str, *, pool: int = POOL, kinds: tuple[str, ...] = ()) -> Retrieval:
    """The passages of the KB ranked for answering `question`.

    Coverage weighs each question word by how rare it is in the KB (inverse document frequency over passages):
    a passage holding "the", "type" and "error" but not "serde" covers little of "how does serde report a type
    error", and a word the KB never uses at all counts against every passage."""
    words = terms(question)
    result = Retrieval(question)
    if not words:
        return result
    result.needed = min(2, len(words))
    hits = view.search(match_expression(words), kinds=kinds, limit=pool)
    total, counts = view.word_stats(words)
    result.unknown = [w for w in words if counts[w] == 0]
    weight = {w: math.log(1 + (total - counts[w] + 0.5) / (counts[w] + 0.5)) for w in words}
    ids = [h["id"] for h in hits]
    holding = {w: view.passages_holding(w, ids) for w in words}
    top = max((h["score"] for h in hits), default=1.0) or 1.0
    whole = sum(weight.values()) or 1.0
    for h in hits:
        have = [w for w in words if h["id"] in holding[w]]
        c = Candidate(h, sum(weight[w] for w in have) / whole, len(have))
        c.score = 1.5 * c.coverage + h["score"] / top + (SOURCE_BONUS if h["kind"] == "source" else 0.0)
        result.candidates.append(c)
    result.candidates.sort(key=lambda c: (-c.score, c.hit["page"]))
    return result


PER_PAGE = 3


def pick(retrieval: Retrieval, n: int = PASSAGES) -> list[Candidate]:
    """The best `n` passages, at most PER_PAGE from one page. A passage whose text another one mostly holds (a
    concept page quoting a sentence of a source) gives way to the larger one, which has the context."""
    chosen: list[Candidate] = []
    per_page: dict[str, int] = {}
    for c in retrieval.candidates:
        if per_page.get(c.hit["page"], 0) >= PER_PAGE or not c.hit["text"].strip():
            continue
        if any(_within(c.hit["text"], o.hit["text"]) for o in chosen):
            continue
        for o in [o for o in chosen if _within(o.hit["text"], c.hit["text"])]:
            chosen.remove(o)
            per_page[o.hit["page"]] -= 1
        chosen.append(c)
        per_page[c.hit["page"]] = per_page.get(c.hit["page"], 0) + 1
        if len(chosen) >= n:
            break
    return chosen


def _within(a: str, b: str) -> bool:
    """Whether most of the words of `a` are in `b`."""
    sa, sb = set(a.split()), set(b.split())
    return bool(sa) and len(sa & sb) > 0.8 * len(sa)


def excerpt(text: str, wanted: set[str], limit: int = EXCERPT_CHARS) -> str:
    """The run of sentences of `text` holding most of the wanted words, within `limit` characters."""
    sentences = [s for s in _SENTENCE.split(" ".join(text.split())) if s]
    if not sentences:
        return ""
    best, best_score = (0, 1), -1.0
    for i in range(len(sentences)):
        size, j = 0, i
        got: set[str] = set()
        while j < len(sentences) and size + len(sentences[j]) <= limit:
            size += len(sentences[j]) + 1
            got |= wanted & text_stems(sentences[j])
            j += 1
        score = len(got) - 0.001 * i
        if j > i and score > best_score:
            best, best_score = (i, j), score
    i, j = best
    if j <= i:  # a single sentence longer than the limit
        return sentences[i][: limit - 1].rsplit(" ", 1)[0] + "…"
    shown = " ".join(sentences[i:j])
    return ("… " if i else "") + shown + (" …" if j < len(sentences) else "")


def source_of(c: Candidate) -> Source:
    h = c.hit
    return Source(h["page"], h["title"], h["heading"], h["first_page"], h["last_page"])


def offline_answer(retrieval: Retrieval) -> tuple[str, list[Source]]:
    """Markdown quoting the best passages, each cited, or a plain statement that the KB does not say."""
    if not retrieval.found:
        return ("The knowledge base has nothing that answers this. (The closest passages held too few of the "
                "question's words to count as an answer.)"), []
    wanted = stems(terms(retrieval.question))
    parts, sources = [], []
    for c in pick(retrieval):
        if c.coverage < MIN_COVERAGE / 2:
            break
        src = source_of(c)
        quote = excerpt(c.hit["text"], wanted) or c.hit["text"][:EXCERPT_CHARS]
        heading = f" — {src.heading}" if src.heading and src.heading != src.title else ""
        parts.append(f"> {quote}\n>\n> {src.cite()}{heading}")
        sources.append(src)
    return "\n\n".join(parts), sources
