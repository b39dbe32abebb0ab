"""Deterministic answers to wikismith's prompt kinds, derived from the prompt itself, for the fake OpenAI server.

They are shaped like a real model's: a summary of the document, a plan that reuses an existing page when one is
offered, sections that mention their subject and carry one link to a page that does not exist (which wikismith must
turn into plain text), node summaries and overviews.
"""

from __future__ import annotations

import re

_TITLE = re.compile(r'<document title="((?:[^"\\]|\\.)*)">')
_SENTENCE = re.compile(r"[A-Z][^.!?\n]{20,200}[.!?]")


def respond(request: dict):
    system = request["messages"][0]["content"]
    user = request["messages"][-1]["content"]
    kind = system.split("\n", 1)[0].removeprefix("wikismith-task: ").strip()
    if kind == "agent":
        return _agent(request)
    return ANSWERS[kind](user)


def _sentences(text: str, n: int) -> list[str]:
    found = [m.group(0).strip() for m in _SENTENCE.finditer(text)]
    return found[:n] or ["This part has little prose."]


def _summary(user: str) -> dict:
    m = _TITLE.search(user)
    title = m.group(1).replace('\\"', '"') if m else "Untitled"
    found = _sentences(user, 6)
    return {"title": title, "description": found[0][:150], "summary": " ".join(found[:3]),
            "key_points": found[:4]}


def _plan(user: str) -> dict:
    phrases = re.search(r"Phrases that stand out in it: (.*)", user)
    names = [p.strip() for p in (phrases.group(1).split(",") if phrases else []) if p.strip()]
    existing = re.findall(r"^- ((?:concepts|entities)/[^:]+): (.*)$", user, re.MULTILINE)
    concepts = [{"name": n, "existing": None} for n in names[:4]]
    entities = [{"name": n, "existing": None} for n in names[4:6]]
    if existing:  # reuse the best existing page, as a careful model would
        target, title = existing[0]
        (concepts if target.startswith("concepts/") else entities).insert(0, {"name": title, "existing": target})
    return {"concepts": concepts, "entities": entities}


def _sections(user: str) -> dict:
    names = re.findall(r"^- (.+)$", user.rsplit("Write this document's section for each of:", 1)[-1], re.MULTILINE)
    body = _sentences(user, 2)
    return {"sections": {name: f"{name} matters here. {body[0]} See also [[concepts/no-such-page]]."
                         for name in names}}


def _node(user: str) -> dict:
    return {"summary": " ".join(_sentences(user, 2))}


def _overview(user: str) -> dict:
    m = re.search(r"^Page: (.*)$", user, re.MULTILINE)
    fresh = _sentences(user.split("New material from documents just added:", 1)[-1], 1)
    return {"overview": f"{m.group(1) if m else 'This page'} gathers what the sources say. {fresh[0]}"}


def _lint(user: str) -> dict:
    m = re.search(r"^Page: (.*)$", user, re.MULTILINE)
    return {"findings": [{"kind": "gap", "detail": f"{m.group(1) if m else 'This page'} says nothing of its history."}]}


def _answer(user: str) -> str:
    """A grounded answer citing the first passage it was given."""
    link = re.search(r"Passage 1 - (\[\[[^\]]+\]\])", user)
    body = user.split("\n", 3)[-1]
    return f"{_sentences(body, 1)[0]} {link.group(1) if link else ''}".strip()


ANSWERS = {"summary": _summary, "plan": _plan, "sections": _sections, "node": _node, "overview": _overview,
           "lint": _lint, "answer": _answer}


def _agent(request: dict):
    """Search first; then read the first page the search found; then answer citing it."""
    messages = request["messages"]
    tool_results = [m["content"] for m in messages if m.get("role") == "tool"]
    question = next(m["content"] for m in messages if m.get("role") == "user")
    if not tool_results:
        return ("tools", [{"name": "search", "arguments": {"query": question}}])
    found = re.search(r"\[\[([^\]]+)\]\]", tool_results[0])
    if len(tool_results) == 1 and found:
        return ("tools", [{"name": "read_page", "arguments": {"page": found.group(1)}}])
    return f"{_sentences(tool_results[-1], 1)[0]} [[{found.group(1)}]]" if found else "NOT FOUND"
