"""LLM access: provider resolution (`providers`), tolerant JSON (`jsonfix`), the retrying client (`client`).

Importing this package does not import `openai`; the client imports it on its first call.
"""

from wikismith.llm.client import LLMClient, LLMError, Usage
from wikismith.llm.jsonfix import parse_json_lenient
from wikismith.llm.providers import PROVIDERS, LLMConfigError, LLMSettings, key_variables, load_dotenv, resolve

__all__ = ["PROVIDERS", "LLMClient", "LLMConfigError", "LLMError", "LLMSettings", "Usage", "key_variables",
           "load_dotenv", "parse_json_lenient", "resolve"]
