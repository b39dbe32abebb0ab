"""One JSON-answering chat-completions call, with retries, a concurrency cap and token accounting.

`openai` is imported on first use, never at module import. The openai library's own retries are off: this module
retries, with one budget per call of `settings.max_retries + 1` attempts shared by transport failures (429, 5xx,
408/409, timeouts, connection errors: exponential backoff with jitter, or the server's Retry-After) and unusable
answers (malformed, truncated, or refused by `validate`: retried at once). Other 4xx are not retried.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from wikismith import retry
from wikismith.errors import WikismithError
from wikismith.llm.jsonfix import parse_json_lenient
from wikismith.llm.providers import PROVIDERS, LLMSettings, key_variables

T = TypeVar("T")
TASK_PREFIX = "wikismith-task: "


class LLMError(WikismithError):
    """An LLM call failed for good. The message is one line and never holds the API key."""

    def __init__(self, message: str, *, kind: str = "", reason: str = "", status: int | None = None):
        super().__init__(" ".join(message.split()))
        self.kind = kind
        self.reason = reason
        self.status = status


@dataclass
class Usage:
    """What calls cost: completions received, tokens in/out, and money when the provider reports it (else None)."""

    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()  # not a field: asdict()/== ignore it

    def add(self, calls: int = 0, tokens_in: int = 0, tokens_out: int = 0, cost: float | None = None) -> None:
        with self._lock:
            self.calls += calls
            self.tokens_in += tokens_in
            self.tokens_out += tokens_out
            if cost is not None:
                self.cost = (self.cost or 0.0) + cost

    def merge(self, other: Usage) -> None:
        snap = other.snapshot()
        self.add(snap.calls, snap.tokens_in, snap.tokens_out, snap.cost)

    def snapshot(self) -> Usage:
        with self._lock:
            return Usage(self.calls, self.tokens_in, self.tokens_out, self.cost)


class _Retry(Exception):
    """An attempt failed in a way worth another try; `delay` is how long to wait first (None: backoff)."""

    def __init__(self, reason: str, delay: float | None = None, *, status: int | None = None):
        super().__init__(reason)
        self.reason, self.delay, self.status = reason, delay, status


class LLMClient:
    """Calls one model. Thread-safe: at most `settings.concurrency` requests are in flight at once."""

    def __init__(self, settings: LLMSettings, *, usage: Usage | None = None, backoff_base: float = 0.5,
                 backoff_max: float = 20.0, retry_after_max: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.usage = usage if usage is not None else Usage()
        self.backoff_base, self.backoff_max, self.retry_after_max = backoff_base, backoff_max, retry_after_max
        self._sleep = sleep
        self._slots = threading.BoundedSemaphore(settings.concurrency)
        self._lock = threading.Lock()
        self._client = None
        self._openai = None
        self.gate = None  # a budget shared with other processes (llm/gate.py), when set

    def __repr__(self) -> str:
        s = self.settings
        return f"LLMClient(provider={s.provider!r}, model={s.model!r}, base_url={s.base_url!r})"

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _connect(self):
        with self._lock:
            if self._client is None:
                import openai  # lazy: keeps `wikismith --help` fast

                self._openai = openai
                self._client = openai.OpenAI(base_url=self.settings.base_url,
                                             api_key=self.settings.api_key or "not-needed",
                                             timeout=self.settings.timeout, max_retries=0)
            return self._client

    # -- the call ------------------------------------------------------------------------------------------------

    def complete_json(self, kind: str, system: str, user: str, validate: Callable[[object], T], *,
                      usage: Usage | None = None) -> T:
        """`validate(parsed JSON answer)` for one task; LLMError when no attempt gives a valid answer.

        The system message sent starts with the line `wikismith-task: <kind>`. Tokens go to `self.usage` and
        also to `usage` when given (e.g. one document's tally).
        """
        if not kind or kind != kind.strip() or "\n" in kind:
            raise ValueError(f"bad task kind {kind!r}")
        return self._call(kind, self._request(kind, system, user),
                          lambda choice: self._accept(_content(choice), validate), usage)

    def complete_message(self, kind: str, messages: list[dict], *, tools: list[dict] | None = None,
                         usage: Usage | None = None) -> dict:
        """One turn of a conversation (the first message: the system one): the model's message as
        {"content": str | None, "tool_calls": [{"id", "name", "arguments" (the JSON text)}]}. Same retries."""
        request = self._messages_request(kind, messages)
        if tools:
            request["tools"] = tools

        def read(choice) -> dict:
            message = choice.message
            calls = [{"id": c.id, "name": c.function.name, "arguments": c.function.arguments or "{}"}
                     for c in (getattr(message, "tool_calls", None) or [])]
            if not calls and not (message.content or "").strip():
                raise _Retry("empty answer", 0)
            return {"content": message.content, "tool_calls": calls}

        return self._call(kind, request, read, usage)

    def stream_text(self, kind: str, messages: list[dict], on_delta: Callable[[str], None], *,
                    usage: Usage | None = None) -> str:
        """A plain-text answer, each piece handed to `on_delta` as it arrives; the whole text returned. A failure
        before the first piece is retried like any call; one after it ends the answer with an LLMError."""
        request = {**self._messages_request(kind, messages), "stream": True,
                   "stream_options": {"include_usage": True}}
        attempts = self.settings.max_retries + 1
        last: _Retry | None = None
        for attempt in range(attempts):
            if last is not None and last.delay != 0:
                self._sleep(last.delay if last.delay is not None else self._backoff(attempt - 1))
            pieces: list[str] = []
            try:
                for piece in self._stream(kind, request, usage):
                    pieces.append(piece)
                    on_delta(piece)
                if not "".join(pieces).strip():
                    raise _Retry("empty answer", 0)
                return "".join(pieces)
            except _Retry as retry:
                if pieces:
                    raise self._error(kind, f"the answer broke off: {retry.reason}", retry.status) from None
                last = retry
        assert last is not None
        raise self._error(kind, f"failed after {attempts} attempt(s): {last.reason}", last.status)

    def _stream(self, kind: str, request: dict, usage: Usage | None):
        client = self._connect()
        openai = self._openai
        failure: Exception | None = None
        with self._slots:
            try:
                chunks = client.chat.completions.create(**request)
                for chunk in chunks:
                    if getattr(chunk, "usage", None):
                        self._account(chunk, {}, usage)
                    for choice in getattr(chunk, "choices", None) or []:
                        text = getattr(choice.delta, "content", None) if choice.delta is not None else None
                        if text:
                            yield text
                        if choice.finish_reason == "length":
                            failure = _Retry(f"answer truncated at max_tokens={self.settings.max_tokens}", 0)
            except (openai.OpenAIError, ValueError) as exc:
                failure = self._transport_failure(kind, exc)
        if failure is not None:
            raise failure

    def _messages_request(self, kind: str, messages: list[dict]) -> dict:
        s = self.settings
        first = dict(messages[0])
        first["content"] = f"{TASK_PREFIX}{kind}\n{first['content']}"
        request: dict = {"model": s.model, "messages": [first, *messages[1:]]}
        official = s.provider == "openai" and s.base_url.rstrip("/") == PROVIDERS["openai"].base_url
        request["max_completion_tokens" if official else "max_tokens"] = s.max_tokens
        return request

    def _call(self, kind: str, request: dict, read: Callable, usage: Usage | None):
        """One request with the retry budget: read(choice) makes the result or raises _Retry."""
        attempts = self.settings.max_retries + 1
        failures = 0  # transport failures so far, for the backoff
        last: _Retry | None = None
        for attempt in range(attempts):
            if last is not None and last.delay != 0:
                self._sleep(last.delay if last.delay is not None else self._backoff(failures - 1))
            try:
                return read(self._attempt(kind, request, usage))
            except _Retry as retry:
                last = retry
                if retry.delay != 0:
                    failures += 1
                if retry.status == 429 and self.gate is not None:  # the provider's limit is everyone's
                    self.gate.pause(retry.delay if retry.delay is not None else self._backoff(failures - 1))
        assert last is not None
        raise self._error(kind, f"failed after {attempts} attempt(s): {last.reason}", last.status)

    def _request(self, kind: str, system: str, user: str) -> dict:
        s = self.settings
        if system.startswith(TASK_PREFIX):
            system = system.split("\n", 1)[1] if "\n" in system else ""
        if s.json_mode and "json" not in (system + user).lower():
            system += "\nAnswer with a JSON object."  # OpenAI's JSON mode wants the word in the prompt
        request: dict = {"model": s.model,
                         "messages": [{"role": "system", "content": f"{TASK_PREFIX}{kind}\n{system}"},
                                      {"role": "user", "content": user}]}
        # OpenAI's newer models refuse max_tokens; most other servers only know max_tokens.
        official = s.provider == "openai" and s.base_url.rstrip("/") == PROVIDERS["openai"].base_url
        request["max_completion_tokens" if official else "max_tokens"] = s.max_tokens
        if s.json_mode:
            request["response_format"] = {"type": "json_object"}
        return request

    def _attempt(self, kind: str, request: dict, usage: Usage | None):
        """The answer's first choice; _Retry for a failure worth retrying; LLMError for one that is not."""
        client = self._connect()
        openai = self._openai
        failure: Exception | None = None  # raised outside the handlers, so no openai exception is chained
        gate = self.gate
        try:
            with self._slots, (gate.slot() if gate is not None else contextlib.nullcontext()):
                if gate is not None:  # once the slot is ours: a pause may have begun while this call queued for it
                    gate.wait()
                raw = client.chat.completions.with_raw_response.create(**request)
                completion = raw.parse()
                headers = raw.headers
        except (openai.OpenAIError, ValueError) as exc:
            failure = self._transport_failure(kind, exc)
        if failure is not None:
            raise failure

        self._account(completion, headers, usage)
        choices = getattr(completion, "choices", None)
        if not choices:
            raise _Retry("the response has no answer", 0)
        choice = choices[0]
        if choice.finish_reason == "length":
            raise _Retry(f"answer truncated at max_tokens={self.settings.max_tokens}", 0)
        if choice.message is None:
            raise _Retry("empty answer", 0)
        return choice

    def _transport_failure(self, kind: str, exc: Exception) -> Exception:
        """What a failed request means: a _Retry (with its wait), or an LLMError that no retry would mend."""
        openai = self._openai
        if isinstance(exc, openai.APITimeoutError):  # before APIConnectionError: it is one
            return _Retry(f"no answer within {self.settings.timeout:g} s")
        if isinstance(exc, openai.APIConnectionError):
            return _Retry(f"could not connect to {self.settings.base_url}")
        if isinstance(exc, openai.APIStatusError):
            return self._status_failure(kind, exc)
        return _Retry(f"unreadable response ({type(exc).__name__})", 0)

    def _accept(self, content: str, validate: Callable[[object], T]) -> T:
        try:
            data = parse_json_lenient(content)
        except ValueError as exc:
            failure = _Retry(f"malformed JSON: {exc}", 0)
        else:
            try:
                return validate(data)
            except (ValueError, TypeError, KeyError) as exc:
                failure = _Retry(f"invalid answer: {self._scrub(str(exc))[:200] or type(exc).__name__}", 0)
        raise failure

    def _status_failure(self, kind: str, exc) -> Exception:
        s, status = self.settings, exc.status_code
        server = self._server_message(exc.body)
        if status == 429 or status >= 500 or status in (408, 409):
            detail = f": {server}" if server else ""
            return _Retry(f"HTTP {status} from {s.provider}{detail}", self._retry_after(exc.response.headers),
                          status=status)
        if status in (401, 403):
            if s.api_key is None:
                wanted = " or ".join(key_variables(s.provider))
                reason = f"{s.base_url} asked for an API key (HTTP {status}); set {wanted}"
            else:
                reason = f"the API key was refused by {s.provider} (HTTP {status})"
        elif status == 404:
            reason = f"model {s.model!r} not found at {s.base_url} (HTTP 404)"
        else:
            reason = f"{s.provider} rejected the request (HTTP {status}): {server or 'no message'}"
        return self._error(kind, reason, status)

    def _error(self, kind: str, reason: str, status: int | None) -> LLMError:
        s = self.settings
        reason = self._scrub(reason)
        return LLMError(f"LLM task {kind!r} with {s.provider}/{s.model}: {reason}", kind=kind, reason=reason,
                        status=status)

    def _scrub(self, text: str) -> str:
        return retry.scrub(text, self.settings.api_key)

    def _server_message(self, body: object) -> str:
        if isinstance(body, dict):
            error = body.get("error", body)
            body = error.get("message", error) if isinstance(error, dict) else error
        text = " ".join(str(body).split()) if body not in (None, "", {}) else ""
        text = self._scrub(text)
        return text[:300] + ("…" if len(text) > 300 else "")

    # -- timing and accounting -----------------------------------------------------------------------------------

    def _backoff(self, failures: int) -> float:
        return retry.backoff(failures, self.backoff_base, self.backoff_max)

    def _retry_after(self, headers) -> float | None:
        return retry.retry_after(headers, self.retry_after_max)

    def _account(self, completion, headers, usage: Usage | None) -> None:
        u = getattr(completion, "usage", None)
        tokens_in = int(getattr(u, "prompt_tokens", 0) or 0)
        tokens_out = int(getattr(u, "completion_tokens", 0) or 0)
        cost = _cost(u, headers)
        for tally in (self.usage, usage):
            if tally is not None:
                tally.add(1, tokens_in, tokens_out, cost)


def _content(choice) -> str:
    content = choice.message.content
    if not content:
        refusal = getattr(choice.message, "refusal", None)
        raise _Retry("the model refused" if refusal else "empty answer", 0)
    return content


def _cost(usage, headers) -> float | None:
    """Money for one call when the provider says (OpenRouter's usage.cost, an x-…-cost header); else None."""
    candidates = [getattr(usage, name, None) for name in ("cost", "total_cost")]
    candidates += [v for k, v in headers.items() if k.lower().startswith("x-") and k.lower().endswith("cost")]
    for value in candidates:
        try:
            cost = float(value)
        except (TypeError, ValueError):
            continue
        if cost >= 0 and cost != float("inf"):
            return cost
    return None
