"""What every HTTP client of wikismith shares when a call fails: how long to wait, and keeping keys out of messages.

The model client (llm/client.py) and the PageIndex Cloud client (ingest/pageindex.py) retry 429, 5xx and timeouts
with these rules: the server's `Retry-After` (seconds, or an HTTP date; `retry-after-ms` in milliseconds) when it
sends one, capped; else exponential backoff with jitter.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping


def retry_after(headers: Mapping[str, str] | None, cap: float) -> float | None:
    """Seconds the server asked us to wait, at most `cap`; None when it did not say (or said nothing readable)."""
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            value = next((v for k, v in headers.items() if k.lower() == name), None)
        if value is None:
            continue
        value = str(value).strip()
        try:
            seconds = float(value) * scale
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                continue
            if when is None:
                continue
            seconds = when.timestamp() - time.time()
        if seconds == seconds:  # not NaN
            return max(0.0, min(seconds, cap))
    return None


def backoff(failures: int, base: float, cap: float, *, jitter: bool = True) -> float:
    """The wait before the next attempt after `failures` failed ones (0: the first retry): doubling from `base`, at
    most `cap`; with jitter (±25 %) so that many clients do not retry in step."""
    delay = min(cap, base * (2 ** min(failures, 30)))
    return min(cap, delay * random.uniform(0.75, 1.25)) if jitter else delay


def scrub(text: str, *secrets: str | None) -> str:
    """`text` with every secret (an API key) replaced by [redacted]."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text
