"""Chat: questions in a row, each answered like `query`, remembered in a session kept in SQLite (`--resume`).

What a model is sent of the conversation stays within a budget of tokens however long the session grows: the
newest exchanges that fit. Every answer reads a fresh snapshot of the KB.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wikismith.ask import query as q

HISTORY_BUDGET_CHARS = 12_000  # about 3,000 tokens of earlier exchanges, newest first


@dataclass
class SessionsReport:
    sessions: list[dict]

    def as_dict(self) -> dict:
        return {"sessions": self.sessions}


@dataclass
class Chat:
    store: object
    session: int
    client: object | None  # None: offline
    language: str = "en"
    last: q.QueryReport | None = None
    turns: list[dict] = field(default_factory=list)  # this session's messages: role, content

    @classmethod
    def start(cls, store, client, *, resume: int | None = None, language: str = "en") -> "Chat":
        if resume is not None:
            with store.snapshot() as view:
                known = {s["id"] for s in view.chat_sessions()}
                if resume not in known:
                    raise LookupError(f"no chat session {resume}; `wikismith chat --list` shows them")
                turns = [{"role": m["role"], "content": m["content"]} for m in view.chat_messages(resume)]
            return cls(store, resume, client, language, turns=turns)
        return cls(store, store.chat_new("chat"), client, language)

    def history(self) -> list[dict]:
        """The newest exchanges that fit the budget, oldest first."""
        kept, size = [], 0
        for turn in reversed(self.turns):
            size += len(turn["content"])
            if size > HISTORY_BUDGET_CHARS:
                break
            kept.append(turn)
        return list(reversed(kept))

    def ask(self, question: str, on_delta=None) -> q.QueryReport:
        report = self.answer(question, on_delta)
        self.remember(question, report)
        return report

    def answer(self, question: str, on_delta=None) -> q.QueryReport:
        """The answer, not yet part of the session (a front end may drop it: Ctrl-C)."""
        if self.client is None:
            return q.offline(self.store, question)
        return q.with_model(self.store, self.client, question, language=self.language, on_delta=on_delta,
                            history=self.history())

    def remember(self, question: str, report: q.QueryReport) -> None:
        self.store.chat_append(self.session, "user", question)
        self.store.chat_append(self.session, "assistant", report.answer, [s.as_dict() for s in report.sources])
        self.turns += [{"role": "user", "content": question}, {"role": "assistant", "content": report.answer}]
        self.last = report
        return report

    def clear(self) -> None:
        """Forget the conversation so far for what the model is sent (the session keeps it)."""
        self.turns = []
