"""`search`: the full-text index (SQLite FTS5, BM25) over pages cut into passages. No model call, ever.

Words are matched through an English stemmer ("errors" finds "error"), any of them (BM25 ranks passages holding
more of them, and in the title, aliases and description, higher). Text in a script without spaces (Chinese,
Japanese) and a query that finds nothing by words go to the trigram index, which finds any substring of three
characters or more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

KINDS = ("concept", "entity", "summary", "source", "exploration", "report")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_NO_SPACES = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# Words that carry no topic in a question or a search (the stemmer's stop list is not used: FTS5 has none).
STOP = frozenset("""a an and are as at be been but by can could did do does doing for from had has have how i if in
into is it its me my no not of on or our should so than that the their them then there these they this those to was
we were what when where which while who whom why will with would you your about after before between does each
other some such very just also any many much more most only own same too here out up down over under again further
once why how all both few nor off per via vs get gets got make makes made use used using""".split())


@dataclass
class Hit:
    page: str
    kind: str
    title: str
    heading: str
    first_page: int | None
    last_page: int | None
    score: float
    snippet: str
    text: str = field(repr=False, default="")
    id: int = field(repr=False, default=0)

    def as_dict(self) -> dict:
        return {"page": self.page, "kind": self.kind, "title": self.title, "heading": self.heading,
                "first_page": self.first_page, "last_page": self.last_page, "score": self.score,
                "snippet": self.snippet}


@dataclass
class SearchReport:
    query: str
    hits: list[Hit]
    index: str  # "words" or "trigram": which index answered

    def as_dict(self) -> dict:
        return {"query": self.query, "index": self.index, "hits": [h.as_dict() for h in self.hits]}


def terms(text: str) -> list[str]:
    """The words of a query that carry meaning, lower case, in order, each once."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if word not in STOP and (len(word) > 1 or word.isdigit()):
            seen.setdefault(word, None)
    return list(seen)


def match_expression(words: list[str]) -> str:
    """An FTS5 query matching any of `words` (each quoted, so no word is read as an operator)."""
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words)


def search(view, text: str, *, kinds: tuple[str, ...] = (), limit: int = 10, per_page: int = 1,
           pool: int | None = None) -> SearchReport:
    """The best passages for `text`: at most `per_page` from one page, `limit` in all."""
    words = terms(text)
    hits: list[dict] = []
    index, match = "words", ""
    if words and not _NO_SPACES.search(text):
        match = match_expression(words)
        hits = view.search(match, kinds=kinds, limit=pool or limit * 4)
    if not hits:
        pieces = [p for p in re.split(r"\s+", text.strip()) if len(p) >= 3]
        if pieces:
            index, match = "trigram", " OR ".join('"' + p.replace('"', '""') + '"' for p in pieces)
            hits = view.search(match, kinds=kinds, limit=pool or limit * 4, trigram=True)
    kept: list[dict] = []
    per: dict[str, int] = {}
    for h in hits:
        if per.get(h["page"], 0) >= per_page:
            continue
        per[h["page"]] = per.get(h["page"], 0) + 1
        kept.append(h)
        if len(kept) >= limit:
            break
    snippets = view.snippets(match, [h["id"] for h in kept], trigram=index == "trigram")
    return SearchReport(text, [Hit(**h, snippet=snippets[h["id"]]) for h in kept], index)
