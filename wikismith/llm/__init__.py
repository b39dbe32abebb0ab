"""LLM access: provider resolution (`providers`), tolerant JSON (`jsonfix`), the retrying client (`client`).

Importing this package does not import `openai`; the client imports it on its first call.
"""

from wikismith.llm.client import LLMClient, LLMError, Usage
from wikismith.llm.jsonfix import parse_json_lenient
from wikismith.llm.providers import PROVIDERS, LLMConfigError, LLMSettings, key_variables, resolve

__all__ = ["PROVIDERS", "LLMClient", "LLMConfigError", "LLMError", "LLMSettings", "Usage", "key_variables",
           "client_for", "parse_json_lenient", "resolve"]


def client_for(config: dict, env: dict[str, str]):
    """The client for the model a KB's settings name (LiteLLM's for `litellm/...`, else the OpenAI-compatible one).
    Raises LLMConfigError when the settings or the key do not allow a call."""
    settings = resolve(str(config["model"]), config, env)
    if settings.provider == "litellm":
        from wikismith.llm.litellm_backend import LiteLLMClient

        return LiteLLMClient(settings)
    return LLMClient(settings)
