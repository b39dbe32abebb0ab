"""`query`: an answer to a question, offline (the best passages, quoted and cited), with a model (one call given
the best passages), or by an agent that searches and reads with tools. Citations are checked before the answer is
shown: a `[[link]]` to a page that does not exist is made plain text, and the sources listed are only pages that
were retrieved or read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wikismith.ask import prompts
from wikismith.ask.answer import Source, offline_answer, pick, retrieve, source_of
from wikismith.ask.tools import SPECS, Tools
from wikismith.markdown import rewrite_wikilinks

MAX_TURNS = 8
MAX_AGENT_TOKENS = 60_000  # what an agent may send a model in all, per question


@dataclass
class QueryReport:
    question: str
    answer: str = ""
    found: bool = False
    sources: list[Source] = field(default_factory=list)
    mode: str = "offline"  # offline, model or agent
    usage: dict | None = None
    turns: int | None = None  # agent turns used
    saved: str | None = None  # the exploration page written, with --save

    def as_dict(self) -> dict:
        return {"question": self.question, "answer": self.answer, "found": self.found,
                "sources": [s.as_dict() for s in self.sources], "mode": self.mode, "usage": self.usage,
                "turns": self.turns, "saved": self.saved}


def offline(store, question: str) -> QueryReport:
    with store.snapshot() as view:
        retrieval = retrieve(view, question)
        answer, sources = offline_answer(retrieval)
    return QueryReport(question, answer, retrieval.found, sources, "offline")


def with_model(store, client, question: str, *, language: str = "en", on_delta=None,
               history: list[dict] | None = None) -> QueryReport:
    """Retrieve, then one model call given the best passages (bounded), streamed to on_delta when given."""
    before = client.usage.snapshot()
    with store.snapshot() as view:
        retrieval = retrieve(view, question)
        chosen = pick(retrieval, prompts.PASSAGES)
    report = QueryReport(question, mode="model")
    if not chosen:
        report.answer = "The knowledge base has nothing that answers this."
        report.usage = _usage(client, before)
        return report
    block = prompts.passages_block([(c.hit["page"][len("wiki/"):-len(".md")], c.hit["heading"], c.hit["text"])
                                    for c in chosen])
    messages = [{"role": "system", "content": prompts.ANSWER.format(language=language)}, *(history or []),
                {"role": "user", "content": f"Question: {question}\n\n{block}"}]
    if on_delta is not None:
        text = client.stream_text("answer", messages, on_delta)
    else:
        text = client.complete_message("answer", messages)["content"] or ""
    retrieved = {c.hit["page"]: source_of(c) for c in chosen}
    with store.snapshot() as view:
        report.answer, report.sources, report.found = checked(view, text, retrieved)
    report.usage = _usage(client, before)
    return report


def agent(store, client, question: str, *, max_turns: int = MAX_TURNS, language: str = "en") -> QueryReport:
    """A bounded tool loop: the model searches and reads, each turn against a fresh snapshot."""
    before = client.usage.snapshot()
    tools = Tools()
    messages = [{"role": "system", "content": prompts.AGENT.format(language=language)},
                {"role": "user", "content": question}]
    report = QueryReport(question, mode="agent")
    text = ""
    for turn in range(1, max_turns + 1):
        report.turns = turn
        out_of_budget = client.usage.snapshot().tokens_in - before.tokens_in > MAX_AGENT_TOKENS
        last = turn == max_turns or out_of_budget
        if last:
            messages.append({"role": "user", "content": prompts.LAST_TURN})
        reply = client.complete_message("agent", messages, tools=None if last else SPECS)
        if not reply["tool_calls"] or last:
            text = reply["content"] or ""
            break
        messages.append({"role": "assistant", "content": reply["content"], "tool_calls": [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in reply["tool_calls"]]})
        with store.snapshot() as view:  # one committed state per turn; none held while the model thinks
            for call in reply["tool_calls"]:
                result = tools.run(view, call["name"], call["arguments"])
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": result})
    with store.snapshot() as view:
        titles = {path: title for path, title, _ in view.page_titles(set(tools.read))}
        read = {path: Source(path, titles[path], "", None, None) for path in tools.read if path in titles}
        report.answer, report.sources, report.found = checked(view, text, read)
    report.usage = _usage(client, before)
    return report


_LINK = re.compile(r"\[\[([^\[\]|\n]+)")


def checked(view, text: str, retrieved: dict[str, Source]) -> tuple[str, list[Source], bool]:
    """The answer with links to pages that do not exist made plain text; the sources it cites among those
    retrieved or read (all of those when it cites none); whether it answers at all."""
    text = text.strip()
    if not text or text.upper().startswith(prompts.NOT_FOUND):
        return "The knowledge base does not say.", [], False
    pages = set(view.kinds_of({f"wiki/{m.group(1).split('#')[0].strip()}.md" for m in _LINK.finditer(text)}))

    def fix(page: str, label: str | None, original: str) -> str:
        if f"wiki/{page}.md" in pages:
            return original
        return label.strip() if label and label.strip() else original[2:-2].split("|", 1)[0].strip()

    text = rewrite_wikilinks(text, fix)
    cited = [f"wiki/{m.group(1).split('#')[0].strip()}.md" for m in _LINK.finditer(text)]
    sources = [retrieved[p] for p in dict.fromkeys(cited) if p in retrieved] or list(retrieved.values())
    return text, sources, True


def _usage(client, before) -> dict:
    now = client.usage.snapshot()
    return {"calls": now.calls - before.calls, "tokens_in": now.tokens_in - before.tokens_in,
            "tokens_out": now.tokens_out - before.tokens_out}
