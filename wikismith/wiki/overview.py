"""What a concept or entity page says of itself above its sections: the overview (how many sources discuss the
thing, and the line that says what it is) and the description in its front matter. Both are derived from the
sections the page holds, in document-id order, so they never depend on the order of adds nor quote a document
that is gone."""

from __future__ import annotations

import functools
import re

from wikismith.markdown import has_other_breaks
from wikismith.wiki.sections import MENTIONED

MAX_OVERVIEW_CHARS = 400


def first_line(body: str) -> str:
    """The first line of prose of the page's first section from a document about the thing (else of its first
    section, one that only mentions it): bounded work, a page shows a bounded number of sections."""
    fallback = ""
    start = body.find("<!-- source:")
    while start >= 0:
        end = body.find("<!-- /source:", start)
        lines = body[start:end if end >= 0 else len(body)].splitlines()[1:]
        mention = next((line for line in lines if line.strip()), "").startswith(MENTIONED)
        line = next((line.lstrip("-> ").strip() for line in lines if line.strip() and not line.startswith("#")), "")
        if line and not mention:
            return line
        fallback = fallback or line
        start = body.find("<!-- source:", end) if end >= 0 else -1
    return fallback


def defining_line(title: str, body: str) -> str:
    """The first line of the page's sections that says what the thing is ("A trait object is …", "Type hints
    refer to …"), in section order (by document id), so the choice does not depend on the order of adds."""
    name = " ".join(title.replace("`", "").split()).lower()
    if not has_other_breaks(body):
        # One regular-expression pass over the page finds the line (or that there is none) without a Python step
        # per line: a page that gathers a section from each of thousands of documents made this loop the largest
        # cost of an add. The line it finds is checked as below; anything unusual takes the loop.
        low = "\n" + body.replace("`", "").replace("**", "").lower()
        found = _definition_pattern(name).search(low)  # "\n"-anchored: see markdown._NL_HASH_LINE
        if found is None:
            return ""
        line = body.split("\n")[low.count("\n", 1, found.start() + 1)]
        if line.startswith("- ") and defines(line[2:].replace("`", "").replace("**", "").lower(), name):
            return line[2:].strip()
    return defining_line_slow(name, body)


@functools.lru_cache(maxsize=4096)
def _definition_pattern(name: str) -> re.Pattern:
    """defines() over every line at once: a line `- ` + article + name + plural + defining verb, matched on the
    "\n" before it (the text searched starts with one)."""
    verbs = "|".join(re.escape(v) for v in _DEFINING_VERBS)
    return re.compile(f"\\n- (?:the |an |a )?{re.escape(name)}(?: |s |es )(?:{verbs})")


def defining_line_slow(name: str, body: str) -> str:
    for line in body.splitlines():
        if line.startswith("- ") and defines(line[2:].replace("`", "").replace("**", "").lower(), name):
            return line[2:].strip()
    return ""


_ARTICLES = ("the ", "an ", "a ", "")
_PLURALS = (" ", "s ", "es ")
_DEFINING_VERBS = ("is ", "are ", "refer to ", "refers to ", "mean ", "means ", "denote ", "denotes ", "describe ",
                   "describes ")


def defines(text: str, name: str) -> bool:
    """Whether `text` starts like the regex `(?:the |an? )?NAME(?:s|es)? (?:is|are|refers? to|means?|denotes?|
    describes?) ` (NAME literal): plain string tests, since compiling one regex per page title cost more than
    the rest of the page's merge."""
    for article in _ARTICLES:
        if not text.startswith(article) or not text.startswith(name, len(article)):
            continue
        at = len(article) + len(name)
        for plural in _PLURALS:
            if text.startswith(plural, at) and text.startswith(_DEFINING_VERBS, at + len(plural)):
                return True
    return False


def derived_description(body: str, title: str = "") -> str:
    """Always from the sections the page holds now, so it never quotes a document that is gone."""
    return description_of(title and defining_line(title, body) or first_line(body))


def description_of(first: str) -> str:
    line = " ".join(first.replace("**", "").split())
    return line if len(line) <= 160 else line[:159].rsplit(" ", 1)[0] + "…"


def quiet_overview(title: str, text: str) -> bool:
    """Whether an overview's text holds no line defining_line could pick and nothing first_line looks for."""
    return "<!-- " not in text and not defining_line(title, text)


def derived_overview(title: str, body: str, count: int, shown: int) -> str:
    return overview_of(title, defining_line(title, body) or first_line(body), count, shown)


def overview_of(title: str, first: str, count: int, shown: int) -> str:
    if count > shown:  # no count past the limit: a page that every later document rewrote would grow the adds
        text = crowded(title, shown)
    else:
        text = f"**{title}** is discussed in {count} {'source' if count == 1 else 'sources'}."
    if first:
        text += f" {first}"
    return text[:MAX_OVERVIEW_CHARS].rstrip()


def crowded(title: str, shown: int) -> str:
    return f"**{title}** is discussed in more than {shown} sources; the sections of the first {shown} by document id " \
           "are below, and the summary of every document about it links here."
