"""Which server, model and key an LLM model name means: `provider/model` names as LiteLLM users know them.

Every provider here is reached through its OpenAI-compatible chat-completions endpoint. Nothing in this module
imports the `openai` package, and no function here ever puts a key value into a message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from wikismith.errors import UsageError

SHARED_KEY_VAR = "WIKISMITH_API_KEY"


class LLMConfigError(UsageError):
    """The model configuration cannot be used as it is (unknown provider, missing key, bad value)."""


@dataclass(frozen=True)
class Provider:
    name: str
    base_url: str
    key_var: str | None  # None: the server needs no key
    json_mode: bool  # whether it accepts response_format={"type": "json_object"}


PROVIDERS: dict[str, Provider] = {
    p.name: p
    for p in (
        Provider("openai", "https://api.openai.com/v1", "OPENAI_API_KEY", True),
        Provider("anthropic", "https://api.anthropic.com/v1/", "ANTHROPIC_API_KEY", False),
        Provider("gemini", "https://generativelanguage.googleapis.com/v1beta/openai/", "GEMINI_API_KEY", True),
        Provider("ollama", "http://localhost:11434/v1", None, True),
        Provider("openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", True),
        Provider("deepseek", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", True),
        Provider("groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY", True),
        Provider("together", "https://api.together.xyz/v1", "TOGETHER_API_KEY", True),
        Provider("lmstudio", "http://localhost:1234/v1", None, False),
        # litellm/<LiteLLM model name>: any provider LiteLLM knows (optional extra wikismith[litellm]); LiteLLM
        # finds its own URL and key variables unless base_url / api_key_env say otherwise.
        Provider("litellm", "", None, True),
    )
}


@dataclass(frozen=True)
class LLMSettings:
    model: str  # the provider's own model name, prefix removed
    provider: str
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    max_retries: int = 4
    concurrency: int = 4
    max_tokens: int = 2048
    json_mode: bool = True


def key_variables(provider: str) -> list[str]:
    """The variables that can hold a key for `provider`, in the order they are looked up."""
    spec = PROVIDERS.get(provider)
    own = [spec.key_var] if spec is not None and spec.key_var else []
    return [SHARED_KEY_VAR, *own]


def split_model(model: str) -> tuple[str, str]:
    """`provider/name` -> (provider, name); a bare name is an OpenAI model."""
    model = model.strip()
    if not model:
        raise LLMConfigError("no model name given")
    if "/" not in model:
        return "openai", model
    prefix, _, name = model.partition("/")
    prefix = prefix.lower()
    if prefix not in PROVIDERS:
        known = ", ".join(f"{p}/" for p in PROVIDERS)
        raise LLMConfigError(
            f"unknown model provider {prefix!r} in {model!r}; known providers: {known} "
            "(or a bare OpenAI model name); for any other, `pip install wikismith[litellm]` and name the model "
            "litellm/<provider>/<model>, e.g. litellm/bedrock/anthropic.claude-3-haiku-20240307-v1:0"
        )
    if not name.strip():
        raise LLMConfigError(f"no model name after {prefix}/ in {model!r}")
    return prefix, name.strip()


def resolve(model: str, config: Mapping[str, object], env: Mapping[str, str]) -> LLMSettings:
    """The settings for `model` given the KB's config and an environment (os.environ merged with the KB's .env).

    Base URL: config `base_url` > `OPENAI_BASE_URL` (openai models only) > the provider's own.
    Key: the variable named by config `api_key_env` (which must then be set) > WIKISMITH_API_KEY > the provider's
    variable. A key is required by the hosted providers at their default URL; with a custom base URL, or for
    ollama/lmstudio, it is optional (the server answers 401 if it wants one).
    """
    if model.strip().lower() == "offline":
        raise LLMConfigError('"offline" is not an LLM model; it selects the extractive compiler')
    provider, name = split_model(model)
    spec = PROVIDERS[provider]

    base_url = _text(config, "base_url") or (env.get("OPENAI_BASE_URL", "").strip() if provider == "openai" else "")
    custom_url = bool(base_url)
    base_url = base_url or spec.base_url
    if (custom_url or provider != "litellm") and (
            urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).netloc):
        raise LLMConfigError(f"base_url must be an http(s) URL, got {base_url!r}")

    api_key: str | None
    key_env = _text(config, "api_key_env")
    if key_env:
        api_key = env.get(key_env, "").strip() or None
        if api_key is None:
            raise LLMConfigError(f"no API key for {provider}: set the environment variable {key_env} (named by "
                                 "api_key_env in the config), in the environment or the KB's .env file")
    else:
        candidates = key_variables(provider)
        api_key = next((env[v].strip() for v in candidates if env.get(v, "").strip()), None)
        if api_key is None and spec.key_var and not custom_url:
            raise LLMConfigError(f"no API key for {provider}: set {spec.key_var} (or {SHARED_KEY_VAR}), "
                                 "in the environment or the KB's .env file")

    return LLMSettings(
        model=name,
        provider=provider,
        base_url=base_url,
        api_key=api_key,
        timeout=_number(config, "timeout", 60.0, float, minimum=0.001),
        max_retries=_number(config, "max_retries", 4, int, minimum=0),
        concurrency=_number(config, "concurrency", 4, int, minimum=1),
        max_tokens=_number(config, "max_tokens", 2048, int, minimum=1),
        json_mode=_flag(config, "json_mode", spec.json_mode),
    )


def _text(config: Mapping[str, object], key: str) -> str:
    value = config.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise LLMConfigError(f"config {key} must be a string")
    return value.strip()


def _number(config: Mapping[str, object], key: str, default, kind, *, minimum):
    value = config.get(key)
    if value is None or value == "":
        return default
    try:
        if isinstance(value, bool) or (kind is int and isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = kind(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise LLMConfigError(f"config {key} must be a {'number' if kind is float else 'whole number'}, "
                             f"got {value!r}") from None
    if not math.isfinite(number) or number < minimum:
        raise LLMConfigError(f"config {key} must be at least {minimum}, got {value!r}")
    return number


def _flag(config: Mapping[str, object], key: str, default: bool) -> bool:
    value = config.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise LLMConfigError(f"config {key} must be true or false, got {value!r}")
