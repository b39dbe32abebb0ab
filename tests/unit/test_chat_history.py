"""What a chat sends a model of the conversation stays within its budget, however long the session."""

from wikismith.ask.chat import HISTORY_BUDGET_CHARS, Chat


def test_the_history_sent_keeps_the_newest_exchanges_within_the_budget():
    chat = Chat(store=None, session=1, client=None)
    for i in range(500):
        chat.turns += [{"role": "user", "content": f"question {i} " + "x" * 200},
                       {"role": "assistant", "content": f"answer {i} " + "y" * 400}]
    sent = chat.history()
    assert sum(len(t["content"]) for t in sent) <= HISTORY_BUDGET_CHARS
    assert sent[-1]["content"].startswith("answer 499") and len(sent) > 10
    assert [t["role"] for t in sent[-2:]] == ["user", "assistant"], "oldest first, newest last"
    chat.clear()
    assert chat.history() == []
