"""The LLM client against a real HTTP fake of the OpenAI API on 127.0.0.1: retries, timeouts, parsing, secrecy."""

import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.fakes.openai_server import FakeOpenAI, count_tokens
from wikismith.llm import LLMClient, LLMError, LLMSettings, Usage, parse_json_lenient

KEY = "sk-test-SECRET123"


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


def client_for(fake, **overrides):
    settings = dict(model="gpt-test", provider="openai", base_url=fake.base_url, api_key=KEY, timeout=5.0,
                    max_retries=3, concurrency=4, max_tokens=256, json_mode=True)
    settings.update(overrides)
    return LLMClient(LLMSettings(**settings), backoff_base=0.01)


def as_dict(data):
    if not isinstance(data, dict):
        raise ValueError("not an object")
    return data


def needs_title(data):
    if not isinstance(data, dict) or not isinstance(data.get("title"), str):
        raise ValueError("title must be a string")
    return data["title"]


def test_success_counts_tokens_and_sends_the_kind(fake):
    fake.script("summary", {"title": "Photosynthesis", "points": ["light", "sugar"]})
    doc = Usage()
    with client_for(fake) as client:
        assert client.complete_json("summary", "Write a summary as JSON.", "Some text.", needs_title,
                                    usage=doc) == "Photosynthesis"
    body = fake.requests[0]
    system = body["messages"][0]
    assert system["role"] == "system" and system["content"].split("\n")[0] == "wikismith-task: summary"
    assert body["messages"][1] == {"role": "user", "content": "Some text."}
    assert body["response_format"] == {"type": "json_object"} and body["max_tokens"] == 256
    assert body["model"] == "gpt-test"
    assert fake.request_headers[0]["authorization"] == f"Bearer {KEY}"
    assert fake.tokens_in > 0 and fake.tokens_out > 0
    for tally in (client.usage, doc):
        assert (tally.calls, tally.tokens_in, tally.tokens_out, tally.cost) == (1, fake.tokens_in,
                                                                                fake.tokens_out, None)


def test_no_json_mode_and_the_word_json(fake):
    fake.script("t", {"title": "x"})
    client_for(fake, json_mode=False).complete_json("t", "Be brief.", "text", needs_title)
    client_for(fake).complete_json("t", "Be brief.", "text", needs_title)
    first, second = fake.requests
    assert "response_format" not in first and "json" not in first["messages"][0]["content"].lower()
    assert "json" in second["messages"][0]["content"].lower()  # OpenAI's JSON mode requires the word


def test_429_honours_retry_after_then_succeeds(fake):
    fake.script("t", [("status", 429, {"Retry-After": "1"}), {"title": "ok"}])
    start = time.monotonic()
    assert client_for(fake).complete_json("t", "json", "u", needs_title) == "ok"
    assert time.monotonic() - start >= 0.95
    assert fake.calls_by_kind["t"] == 2


def test_429_without_retry_after_backs_off_exponentially(fake):
    fake.script("t", [("status", 429), ("status", 429), ("status", 503), {"title": "ok"}])
    delays = []
    client = LLMClient(client_for(fake).settings, backoff_base=0.01, sleep=delays.append)
    assert client.complete_json("t", "json", "u", needs_title) == "ok"
    assert len(delays) == 3 and all(0 < d < 0.1 for d in delays)
    assert delays[0] < delays[1] < delays[2]


def test_500_forever_fails_after_max_retries_plus_one(fake):
    fake.script("t", ("status", 500))
    with pytest.raises(LLMError) as info:
        client_for(fake, max_retries=2).complete_json("t", "json", "u", needs_title)
    assert fake.calls_by_kind["t"] == 3
    assert info.value.status == 500 and info.value.kind == "t"
    assert "'t'" in str(info.value) and "3 attempt" in str(info.value) and "HTTP 500" in str(info.value)
    assert "\n" not in str(info.value)


def test_hanging_server_times_out_is_retried_and_fails_cleanly(fake):
    fake.script("t", ("hang", 30))
    start = time.monotonic()
    with pytest.raises(LLMError, match="no answer within 0.5 s"):
        client_for(fake, timeout=0.5, max_retries=1).complete_json("t", "json", "u", needs_title)
    assert 0.9 < time.monotonic() - start < 5
    assert fake.calls_by_kind["t"] == 2


def test_malformed_then_good(fake):
    fake.script("t", [("malformed", "Sure! Here is the summary you wanted."), "```json\n{'title': 'fixed',}\n```"])
    client = client_for(fake)
    assert client.complete_json("t", "json", "u", needs_title) == "fixed"
    assert fake.calls_by_kind["t"] == 2 and client.usage.calls == 2


def test_truncated_then_good(fake):
    fake.script("t", [("truncate", '{"title": "cut sh'), {"title": "whole"}])
    assert client_for(fake).complete_json("t", "json", "u", needs_title) == "whole"
    assert fake.calls_by_kind["t"] == 2


def test_truncated_forever_names_the_reason(fake):
    fake.script("t", ("truncate", '{"title": "cut sh'))
    with pytest.raises(LLMError, match="truncated"):
        client_for(fake, max_retries=1).complete_json("t", "json", "u", needs_title)


def test_invalid_shape_is_retried_then_fails(fake):
    fake.script("plan", {"name": "no title here"})
    with pytest.raises(LLMError) as info:
        client_for(fake, max_retries=2).complete_json("plan", "json", "u", needs_title)
    assert fake.calls_by_kind["plan"] == 3
    assert "'plan'" in str(info.value) and "title must be a string" in str(info.value)


def test_client_errors_are_not_retried(fake):
    fake.script("nf", ("status", 404, {}, {"error": {"message": "The model does not exist"}}))
    fake.script("bad", ("status", 400, {}, {"error": {"message": "max_tokens is too large: 999999"}}))
    client = client_for(fake)
    with pytest.raises(LLMError, match="model 'gpt-test' not found"):
        client.complete_json("nf", "json", "u", needs_title)
    with pytest.raises(LLMError, match="max_tokens is too large: 999999"):
        client.complete_json("bad", "json", "u", needs_title)
    assert fake.calls_by_kind == {"nf": 1, "bad": 1}


def test_the_key_never_shows(fake):
    echo = {"error": {"message": "Incorrect API key provided: $API_KEY. Check $API_KEY."}}
    fake.script("auth", ("status", 401, {}, echo))
    fake.script("bad", ("status", 400, {}, echo))
    fake.script("down", ("status", 500, {}, echo))
    fake.script("shape", {"title": 1})
    client = client_for(fake, max_retries=1)

    def leaky(data):
        raise ValueError(f"bad answer for key {KEY}")

    errors = []
    for kind, validate in (("auth", needs_title), ("bad", needs_title), ("down", needs_title), ("shape", leaky)):
        with pytest.raises(LLMError) as info:
            client.complete_json(kind, "json", "u", validate)
        errors.append(info.value)
    assert "the API key was refused by openai" in str(errors[0])
    assert "Incorrect API key provided: [redacted]" in str(errors[1])
    for error in errors:
        assert error.__cause__ is None and error.__context__ is None
        for text in (str(error), repr(error), error.reason, repr(error.args)):
            assert KEY not in text and "SECRET" not in text
    assert KEY not in repr(client) and KEY not in repr(client.settings)


def test_no_key_sent_and_the_server_wants_one(fake):
    fake.script("t", ("status", 401))
    with pytest.raises(LLMError, match="set WIKISMITH_API_KEY or OPENAI_API_KEY"):
        client_for(fake, api_key=None).complete_json("t", "json", "u", needs_title)
    assert fake.request_headers[0]["authorization"] == "Bearer not-needed"


def test_connection_refused_is_retried_then_fails():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = LLMSettings("m", "ollama", f"http://127.0.0.1:{port}/v1", None, timeout=2, max_retries=2)
    with pytest.raises(LLMError, match="could not connect") as info:
        LLMClient(settings, backoff_base=0.01).complete_json("t", "json", "u", needs_title)
    assert "3 attempt" in str(info.value)


def test_concurrency_cap(fake):
    lock, state = threading.Lock(), {"now": 0, "peak": 0}

    def slow(body):
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return {"title": "t"}

    fake.default = slow
    client = client_for(fake, concurrency=2)
    threads = [threading.Thread(target=client.complete_json, args=(f"k{i}", "json", "u", needs_title))
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state["peak"] == 2 and client.usage.calls == 8
    assert fake.tokens_in == client.usage.tokens_in


def test_cost_is_summed_when_reported(fake):
    fake.script("t", [("cost", {"title": "a"}, 0.25), {"title": "b"}, ("cost", {"title": "c"}, 0.5)])
    client = client_for(fake)
    for _ in range(3):
        client.complete_json("t", "json", "u", needs_title)
    assert client.usage.cost == pytest.approx(0.75) and client.usage.calls == 3


def test_fake_counts_tokens_and_stops_during_a_hang():
    fake = FakeOpenAI().start()
    fake.script("h", ("hang", 60))
    client = client_for(fake, timeout=30, max_retries=0)
    caller = threading.Thread(target=lambda: pytest.raises(LLMError, client.complete_json, "h", "j", "u", as_dict))
    caller.start()
    while not fake.calls_by_kind.get("h"):
        time.sleep(0.01)
    start = time.monotonic()
    fake.stop()
    assert time.monotonic() - start < 2
    caller.join(5)
    assert not caller.is_alive()
    assert not [t for t in threading.enumerate() if t.name.startswith("fake-openai") or "process_request" in t.name]
    assert count_tokens("abcd") == 1 and count_tokens("abcde") == 2


def test_fake_lists_models_and_rejects_unscripted(fake):
    import json
    import urllib.request

    with urllib.request.urlopen(fake.base_url + "/models", timeout=5) as response:
        assert json.load(response)["data"][0]["id"] == "gpt-4o-mini"
    with pytest.raises(LLMError, match="nothing scripted"):
        client_for(fake).complete_json("unknown", "json", "u", as_dict)


def test_parse_json_lenient():
    assert parse_json_lenient('{"a": 1}') == {"a": 1}
    assert parse_json_lenient("Here you go:\n```json\n{\"a\": [1, 2,],}\n```\nDone.") == {"a": [1, 2]}
    assert parse_json_lenient("{'a': True, b: None, 'c': False, d: 'it\\'s'}") == {
        "a": True, "b": None, "c": False, "d": "it's"}
    assert parse_json_lenient('<think>{maybe}</think>\n{"k": "v"} // end') == {"k": "v"}
    for bad, reason in [("", "empty"), ("no json", "no JSON"), ('{"a": [1', "not closed"), ("{:}", "not valid")]:
        with pytest.raises(ValueError, match=reason):
            parse_json_lenient(bad)


def test_importing_the_package_does_not_import_openai():
    code = "import sys, wikismith.llm, wikismith.llm.client; print('openai' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
