"""Model names -> provider settings, keys from the environment, and .env files."""

import pytest

from wikismith.errors import UsageError
from wikismith.envfile import load_dotenv
from wikismith.llm.providers import LLMConfigError, LLMSettings, resolve

KEY = "sk-test-SECRET123"

TABLE = [
    ("openai/gpt-4o-mini", "openai", "gpt-4o-mini", "https://api.openai.com/v1", "OPENAI_API_KEY"),
    ("gpt-4o-mini", "openai", "gpt-4o-mini", "https://api.openai.com/v1", "OPENAI_API_KEY"),
    ("anthropic/claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5", "https://api.anthropic.com/v1/",
     "ANTHROPIC_API_KEY"),
    ("gemini/gemini-2.5-flash", "gemini", "gemini-2.5-flash",
     "https://generativelanguage.googleapis.com/v1beta/openai/", "GEMINI_API_KEY"),
    ("ollama/llama3.1:8b", "ollama", "llama3.1:8b", "http://localhost:11434/v1", None),
    ("openrouter/anthropic/claude-3.5-sonnet", "openrouter", "anthropic/claude-3.5-sonnet",
     "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    ("deepseek/deepseek-chat", "deepseek", "deepseek-chat", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
    ("groq/llama-3.3-70b-versatile", "groq", "llama-3.3-70b-versatile", "https://api.groq.com/openai/v1",
     "GROQ_API_KEY"),
    ("together/meta-llama/Llama-3-8b", "together", "meta-llama/Llama-3-8b", "https://api.together.xyz/v1",
     "TOGETHER_API_KEY"),
    ("lmstudio/qwen2.5-7b", "lmstudio", "qwen2.5-7b", "http://localhost:1234/v1", None),
]


@pytest.mark.parametrize("name,provider,model,url,var", TABLE)
def test_resolution_table(name, provider, model, url, var):
    env = {var: KEY} if var else {}
    s = resolve(name, {}, env)
    assert (s.provider, s.model, s.base_url, s.api_key) == (provider, model, url, KEY if var else None)
    assert (s.timeout, s.max_retries, s.concurrency, s.max_tokens) == (60.0, 4, 4, 2048)


@pytest.mark.parametrize("name,provider,model,url,var", [t for t in TABLE if t[4]])
def test_missing_key_names_the_variable_and_no_value(name, provider, model, url, var):
    other = {"SOME_OTHER_API_KEY": KEY}
    with pytest.raises(LLMConfigError) as info:
        resolve(name, {}, other)
    message = str(info.value)
    assert var in message and "WIKISMITH_API_KEY" in message and KEY not in message
    assert isinstance(info.value, UsageError) and info.value.exit_code == 2


def test_shared_key_works_for_any_provider_and_wins():
    for name in ("gpt-4o", "anthropic/claude", "gemini/g", "ollama/m", "groq/m"):
        assert resolve(name, {}, {"WIKISMITH_API_KEY": "shared", "OPENAI_API_KEY": "own"}).api_key == "shared"
    assert resolve("gpt-4o", {}, {"WIKISMITH_API_KEY": "  ", "OPENAI_API_KEY": "own"}).api_key == "own"


def test_api_key_env_names_the_variable():
    s = resolve("deepseek/deepseek-chat", {"api_key_env": "MY_DS_KEY"}, {"MY_DS_KEY": KEY, "WIKISMITH_API_KEY": "x"})
    assert s.api_key == KEY
    with pytest.raises(LLMConfigError, match="MY_DS_KEY"):
        resolve("ollama/llama3", {"api_key_env": "MY_DS_KEY"}, {"DEEPSEEK_API_KEY": KEY})


def test_base_urls():
    env = {"OPENAI_API_KEY": KEY, "GROQ_API_KEY": KEY, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    assert resolve("openai/gpt-4o", {}, env).base_url == "http://127.0.0.1:9/v1"
    assert resolve("gpt-4o", {}, env).base_url == "http://127.0.0.1:9/v1"
    assert resolve("groq/m", {}, env).base_url == "https://api.groq.com/openai/v1"  # openai models only
    assert resolve("groq/m", {"base_url": "http://h:1/v1"}, env).base_url == "http://h:1/v1"
    assert resolve("gpt-4o", {"base_url": "http://h:2/v1"}, env).base_url == "http://h:2/v1"
    with pytest.raises(LLMConfigError, match="base_url"):
        resolve("gpt-4o", {"base_url": "localhost:8000"}, env)


def test_custom_base_url_makes_the_key_optional():
    s = resolve("openai/local-model", {"base_url": "http://127.0.0.1:8000/v1"}, {})
    assert s.api_key is None and s.provider == "openai"


def test_unknown_provider_lists_the_known_ones():
    with pytest.raises(LLMConfigError) as info:
        resolve("mistral/mistral-large", {}, {"WIKISMITH_API_KEY": KEY})
    message = str(info.value)
    assert "mistral" in message and "openai/" in message and "ollama/" in message
    assert "pip install wikismith[litellm]" in message
    for bad in ("", "openai/", "offline"):
        with pytest.raises(LLMConfigError):
            resolve(bad, {}, {"WIKISMITH_API_KEY": KEY})


def test_config_numbers():
    config = {"timeout": "12.5", "max_retries": 0, "concurrency": "8", "max_tokens": 4096}
    s = resolve("ollama/m", config, {})
    assert (s.timeout, s.max_retries, s.concurrency, s.max_tokens) == (12.5, 0, 8, 4096)
    for key, value in [("timeout", 0), ("timeout", "soon"), ("max_retries", -1), ("concurrency", 0),
                       ("max_tokens", 2.5), ("max_tokens", True), ("timeout", "nan")]:
        with pytest.raises(LLMConfigError, match=key):
            resolve("ollama/m", {key: value}, {})


def test_json_mode_defaults_and_override():
    assert resolve("ollama/m", {}, {}).json_mode is True
    assert resolve("lmstudio/m", {}, {}).json_mode is False
    assert resolve("anthropic/c", {}, {"ANTHROPIC_API_KEY": KEY}).json_mode is False
    assert resolve("ollama/m", {"json_mode": "false"}, {}).json_mode is False
    assert resolve("lmstudio/m", {"json_mode": True}, {}).json_mode is True
    with pytest.raises(LLMConfigError, match="json_mode"):
        resolve("ollama/m", {"json_mode": "maybe"}, {})


def test_settings_repr_hides_the_key():
    s = resolve("gpt-4o-mini", {}, {"OPENAI_API_KEY": KEY})
    assert KEY not in repr(s) and KEY not in str(s) and "gpt-4o-mini" in repr(s)
    assert KEY not in repr(LLMSettings("m", "openai", "http://x/v1", KEY))


def test_load_dotenv(tmp_path):
    path = tmp_path / ".env"
    path.write_text(
        "# a comment\n"
        "\n"
        "OPENAI_API_KEY=sk-plain\n"
        "export GROQ_API_KEY = 'single # not a comment'\n"
        'DOUBLE="a \\"quoted\\" value\\nsecond line"\n'
        "INLINE=value # trailing comment\n"
        "HASH=abc#def\n"
        "EMPTY=\n"
        "MULTI=\"line one\n"
        "line two\"\n"
        "not a valid line\n"
        "SPACED   =   padded   \n",
        encoding="utf-8",
    )
    env = load_dotenv(path)
    assert env == {
        "OPENAI_API_KEY": "sk-plain",
        "GROQ_API_KEY": "single # not a comment",
        "DOUBLE": 'a "quoted" value\nsecond line',
        "INLINE": "value",
        "HASH": "abc#def",
        "EMPTY": "",
        "MULTI": "line one\nline two",
        "SPACED": "padded",
    }
    assert load_dotenv(tmp_path / "missing.env") == {}
    assert load_dotenv(tmp_path) == {}  # a directory: nothing to read


def test_dotenv_is_not_exported(tmp_path, monkeypatch):
    import os

    monkeypatch.delenv("WIKISMITH_DOTENV_PROBE", raising=False)
    (tmp_path / ".env").write_text("WIKISMITH_DOTENV_PROBE=1\n")
    assert load_dotenv(tmp_path / ".env") == {"WIKISMITH_DOTENV_PROBE": "1"}
    assert "WIKISMITH_DOTENV_PROBE" not in os.environ
