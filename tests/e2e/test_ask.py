"""search, query (offline, with a model, agent) and --save, end to end through the CLI (issue 11)."""

from __future__ import annotations

import json
import shutil

import pytest

from fakes import wiki_responder
from fakes.openai_server import FakeOpenAI
from wikicheck import CORPUS, add, cli, listing, structural_problems

KEY = "sk-test-ASK-7777"
BOOK = CORPUS / "book"
CHAPTERS = ("ch04-01-what-is-ownership.md", "ch04-02-references-and-borrowing.md", "ch08-01-vectors.md",
            "ch09-02-recoverable-errors-with-result.md", "ch15-01-box.md")


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """A KB of five Rust-book chapters, two PEPs and a Chinese note (module-wide: tests only read it)."""
    root = tmp_path_factory.mktemp("ask")
    kb, docs = root / "kb", root / "docs"
    docs.mkdir()
    for name in CHAPTERS:
        shutil.copyfile(BOOK / name, docs / name)
    for name in ("pep-0484.rst", "pep-0604.rst"):
        shutil.copyfile(CORPUS / "peps" / name, docs / name)
    shutil.copyfile(CORPUS / "hostile" / "prompt-injection.md", docs / "prompt-injection.md")
    (docs / "notes-zh.md").write_text("# 笔记\n\n所有权是 Rust 管理内存的规则。借用检查器在编译时检查引用。\n",
                                      encoding="utf-8")
    assert cli("init", kb)[0] == 0
    code, _, err = cli("add", docs, kb=kb, timeout=300)
    assert code == 0, err
    return kb


def run_json(*args, kb, env=None):
    code, out, err = cli(*args, "--json", kb=kb, env=env)
    return code, (json.loads(out) if out.strip() else None), err


# -- search -----------------------------------------------------------------------------------------------------------

def test_search_finds_passages_by_stemmed_words_with_heading_snippet_and_score(book):
    code, report, err = run_json("search", "borrowing rules", kb=book)
    assert code == 0, err
    hits = report["hits"]
    assert hits and report["index"] == "words"
    assert any("ch04-02-references-and-borrowing" in h["page"] for h in hits[:3]), [h["page"] for h in hits]
    for h in hits:
        assert set(h) == {"page", "kind", "title", "heading", "first_page", "last_page", "score", "snippet"}
        assert "**" in h["snippet"], "the matches are marked in the snippet"
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert len({h["page"] for h in hits}) == len(hits), "one passage per page"


def test_search_kind_and_limit_and_nothing_found(book):
    code, report, _ = run_json("search", "ownership", "--kind", "source", "--limit", "2", kb=book)
    assert code == 0 and len(report["hits"]) <= 2 and {h["kind"] for h in report["hits"]} == {"source"}
    code, report, _ = run_json("search", "xylophone quasar", kb=book)
    assert code == 1 and report["hits"] == []
    code, out, _ = cli("search", "xylophone quasar", kb=book)
    assert code == 1 and "nothing matched" in out


def test_search_finds_chinese_text_and_substrings_through_trigrams(book):
    code, report, err = run_json("search", "借用检查器", kb=book)
    assert code == 0, err
    assert report["index"] == "trigram" and report["hits"][0]["page"] == "wiki/sources/notes-zh.md"
    code, report, _ = run_json("search", "monomorphiz", kb=book)  # a fragment of a word: no stem matches it
    assert code in (0, 1) and report["index"] == "trigram"


# -- query offline ----------------------------------------------------------------------------------------------------

def test_an_offline_query_quotes_and_cites_the_passage_that_answers(book):
    code, report, err = run_json("query", "What are the rules of ownership in Rust?", kb=book)
    assert code == 0, err
    assert report["found"] is True and report["mode"] == "offline" and report["usage"] is None
    assert "owner" in report["answer"].lower()
    assert "[[sources/ch04-01-what-is-ownership" in report["answer"]
    pages = {s["page"] for s in report["sources"]}
    assert "wiki/sources/ch04-01-what-is-ownership.md" in pages
    assert len(report["answer"]) < 2000, "trimmed to be read in one screen"
    code, out, _ = cli("query", "What are the rules of ownership in Rust?", kb=book)
    assert code == 0 and "Sources:" in out and "[[sources/ch04-01-what-is-ownership" in out


def test_an_offline_query_says_so_when_nothing_answers(book):
    code, report, _ = run_json("query", "How do I bake sourdough bread with a levain?", kb=book)
    assert code == 1 and report["found"] is False and report["sources"] == []
    assert "nothing that answers" in report["answer"]


def test_query_save_writes_an_exploration_that_lint_remove_and_undo_handle(tmp_kb, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copyfile(BOOK / CHAPTERS[0], docs / CHAPTERS[0])
    assert add(tmp_kb, docs)[0] == 0
    question = "What are the rules of ownership?"
    code, report, err = run_json("query", question, "--save", kb=tmp_kb)
    assert code == 0 and report["saved"] == "wiki/explorations/what-are-the-rules-of-ownership.md", err
    page = (tmp_kb / report["saved"]).read_text()
    assert "type: exploration" in page and question in page and "[[sources/ch04-01-what-is-ownership" in page
    assert "[[explorations/what-are-the-rules-of-ownership|" in (tmp_kb / "wiki/index.md").read_text()
    code, again, _ = run_json("query", question, "--save", kb=tmp_kb)
    assert again["saved"] == "wiki/explorations/what-are-the-rules-of-ownership-2.md", "nothing is overwritten"
    code, named, _ = run_json("query", question, "--save", "my notes", kb=tmp_kb)
    assert named["saved"] == "wiki/explorations/my-notes.md"
    assert "**save**" in (tmp_kb / "wiki/log.md").read_text()
    assert structural_problems(tmp_kb, listing(tmp_kb)["documents"]) == []
    code, lint, _ = run_json("lint", "--no-llm", kb=tmp_kb)
    assert not [f for f in lint["findings"] if f["page"].startswith("wiki/explorations/") and f["kind"] != "orphan"]
    assert cli("remove", "-y", "my-notes", kb=tmp_kb)[0] == 0
    assert not (tmp_kb / "wiki/explorations/my-notes.md").exists()
    assert cli("undo", "-y", kb=tmp_kb)[0] == 0
    assert (tmp_kb / "wiki/explorations/my-notes.md").exists()
    # Removing the document the answer cites leaves no broken link in the exploration.
    assert cli("remove", "-y", "ch04-01-what-is-ownership", kb=tmp_kb)[0] == 0
    assert "[[sources/ch04-01" not in (tmp_kb / report["saved"]).read_text()
    assert structural_problems(tmp_kb, listing(tmp_kb)["documents"]) == []


# -- with a model -----------------------------------------------------------------------------------------------------

@pytest.fixture
def fake():
    with FakeOpenAI(default=wiki_responder.respond) as server:
        yield server


def model_kb(book, tmp_path, fake):
    """A copy of the book KB set to use the fake model (the compile is done: only questions reach the model)."""
    kb = tmp_path / "kb"
    shutil.copytree(book, kb)
    for key, value in (("model", "openai/gpt-4o-mini"), ("base_url", fake.base_url), ("max_retries", "0"),
                       ("timeout", "5")):
        assert cli("config", "set", key, value, kb=kb)[0] == 0
    return kb


def test_retrieve_then_answer_is_one_call_whose_citations_are_checked(book, tmp_path, fake):
    kb = model_kb(book, tmp_path, fake)
    fake.script("answer", "Each value has one owner [[sources/ch04-01-what-is-ownership]], and values are "
                          "dropped at the end of their scope [[concepts/no-such-page]].")
    code, report, err = run_json("query", "What are the rules of ownership?", kb=kb, env={"OPENAI_API_KEY": KEY})
    assert code == 0, err
    assert report["mode"] == "model" and report["found"] is True and report["usage"]["calls"] == 1
    assert "[[sources/ch04-01-what-is-ownership]]" in report["answer"]
    assert "[[concepts/no-such-page" not in report["answer"] and "concepts/no-such-page" in report["answer"]
    assert [s["page"] for s in report["sources"]] == ["wiki/sources/ch04-01-what-is-ownership.md"]
    (request,) = fake.requests
    user = request["messages"][-1]["content"]
    assert "Passage 1" in user and len(user) < 12_000, "bounded input: the best passages only"
    fake.script("answer", "NOT FOUND")
    code, report, _ = run_json("query", "What is the airspeed of a swallow?", kb=kb, env={"OPENAI_API_KEY": KEY})
    assert code == 1 and report["found"] is False


def test_the_agent_loop_reads_only_inside_the_kb_and_stops_at_max_turns(book, tmp_path, fake):
    kb = model_kb(book, tmp_path, fake)
    fake.script("agent", [
        ("tools", [{"name": "search", "arguments": {"query": "ownership rules"}},
                   {"name": "read_page", "arguments": {"page": "sources/prompt-injection"}}]),
        # ... and the model, obeying the injected instructions it just read, tries to get out and to write:
        ("tools", [{"name": "read_page", "arguments": {"page": "/etc/passwd"}},
                   {"name": "read_page", "arguments": {"page": "../.env"}},
                   {"name": "read_page", "arguments": {"page": "sources/../../.env"}},
                   {"name": "write_page", "arguments": {"page": "concepts/x", "text": "pwned"}},
                   {"name": "read_page", "arguments": {"page": "sources/ch04-01-what-is-ownership"}}]),
        "Ownership has three rules [[sources/ch04-01-what-is-ownership]]; see also [[concepts/made-up]].",
    ])
    before = {p: p.read_bytes() for p in (kb / "wiki").rglob("*.md")}
    (kb / ".env").write_text(f"OPENAI_API_KEY={KEY}\n")
    code, report, err = run_json("query", "What are the rules of ownership?", "--agent", kb=kb)
    assert code == 0, err
    assert report["mode"] == "agent" and report["turns"] == 3 and report["usage"]["calls"] == 3
    tool_results = [m["content"] for r in fake.requests for m in r["messages"] if m.get("role") == "tool"]
    assert sum(r.startswith("refused:") for r in tool_results) == 3
    assert any("no tool 'write_page'" in r for r in tool_results)
    assert not any("root:" in r for r in tool_results)
    for body in fake.requests:
        assert KEY not in json.dumps(body), "the API key never travels in a request body"
    assert any("IGNORE" in r.upper() for r in tool_results), "the agent did read the injection"
    assert "[[concepts/made-up" not in report["answer"]
    assert [s["page"] for s in report["sources"]] == ["wiki/sources/ch04-01-what-is-ownership.md"]
    assert {p: p.read_bytes() for p in (kb / "wiki").rglob("*.md")} == before, "the tools cannot write"

    fake.requests.clear()
    fake.script("agent", ("tools", [{"name": "list_pages", "arguments": {"kind": "concept"}}]))
    code, report, _ = run_json("query", "Loop forever", "--agent", "--max-turns", "3", kb=kb)
    assert report["turns"] == 3 and len(fake.requests) == 3, "bounded by --max-turns"
    assert "tools" not in fake.requests[-1], "the last turn offers no tool: the model must answer"
