"""The optional LiteLLM route (`litellm/<provider>/<model>`, extra `wikismith[litellm]`).

Same contract as LLMClient — retries, backoff, tolerant JSON, validation, usage — with LiteLLM making the call.
LiteLLM is imported on the first call only, with its remote cost-map fetch turned off (no network at import).
Its exceptions derive from the `openai` ones, so LLMClient's handling of timeouts, 429 and 5xx applies unchanged.
"""

from __future__ import annotations

import os

from wikismith.llm.client import LLMClient, LLMError


class LiteLLMClient(LLMClient):
    def _connect(self):
        with self._lock:
            if self._client is None:
                os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
                try:
                    import litellm
                except ImportError:
                    raise LLMError("model litellm/... needs LiteLLM: pip install 'wikismith[litellm]'") from None
                import openai

                litellm.telemetry = False
                self._openai = openai
                self._client = _Completions(litellm, self.settings)
            return self._client


class _Completions:
    """Just enough of the openai client's shape for LLMClient: client.chat.completions.with_raw_response.create."""

    def __init__(self, litellm, settings):
        self.chat = self
        self.completions = self
        self.with_raw_response = self
        self._litellm = litellm
        self._settings = settings

    def create(self, **request):
        s = self._settings
        extra = {"api_base": s.base_url} if s.base_url else {}
        if s.api_key:
            extra["api_key"] = s.api_key
        request.pop("max_completion_tokens", None)
        request["max_tokens"] = s.max_tokens
        response = self._litellm.completion(**request, timeout=s.timeout, num_retries=0, **extra)
        return _Raw(response)

    def close(self) -> None:
        pass


class _Raw:
    def __init__(self, response):
        self._response = response
        self.headers = {}

    def parse(self):
        return self._response
