"""The rules every request meets before a route runs (a plain ASGI middleware, so they hold for every path:
the API, the UI, the docs and the OpenAPI schema alike).

- Host: against DNS rebinding, the Host header must name the address the server is bound to (with its port), or a
  name configured with --allow-host; reads included.
- Token: when one is set (required off loopback), every request carries it (`Authorization: Bearer T`, the
  `X-Wikismith-Token` header, or the cookie the UI gets from `/?token=T`), compared in constant time.
- Writes (any method but GET, HEAD, OPTIONS): refused in --read-only mode; otherwise the Origin must be the
  server's own, so a page elsewhere cannot post to it (CSRF). A script that sends no Origin is let through only with
  the token in a header, which no other site can make a browser send.
- A request body is capped (the largest file `add` accepts, plus room for the form around it).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from dataclasses import dataclass, field

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
COOKIE = "wikismith_token"
FORM_SLACK = 64 * 1024  # the multipart framing around a file


@dataclass
class Rules:
    host: str
    port: int
    token: str | None = None
    read_only: bool = False
    allowed_names: tuple[str, ...] = ()
    max_body: int = 200 * 1024 * 1024 + FORM_SLACK
    hosts: set[str] = field(default_factory=set)

    def __post_init__(self):
        names = {self.host, *self.allowed_names}
        if is_loopback(self.host):
            names |= {"localhost", "127.0.0.1", "[::1]", "::1"}
        out = set()
        for name in names:
            shown = f"[{name}]" if ":" in name and not name.startswith("[") else name
            out.add(f"{shown}:{self.port}".lower())
            if self.port == 80:
                out.add(shown.lower())
        self.hosts = out

    def origins(self) -> set[str]:
        return {f"http://{h}" for h in self.hosts}

    def token_ok(self, given: str | None) -> bool:
        if self.token is None:
            return True
        return given is not None and hmac.compare_digest(given.encode("utf-8"), self.token.encode("utf-8"))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BodyTooLarge(Exception):
    pass


class Guard:
    """ASGI middleware applying Rules to every HTTP request."""

    def __init__(self, app, rules: Rules):
        self.app = app
        self.rules = rules

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self.check(scope, headers)
        if refusal is not None:
            return await _send_json(send, *refusal)
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.rules.max_body:
            return await _send_json(send, 413, "too_large", f"the request body is over the limit of "
                                    f"{self.rules.max_body - FORM_SLACK:,} bytes (max_file_mb)")
        return await self.app(scope, _capped(receive, self.rules.max_body), send)

    def check(self, scope, headers: dict[str, str]):
        rules = self.rules
        host = headers.get("host", "").lower()
        if host not in rules.hosts:
            return 421, "bad_host", (f"the Host header {host!r} does not name this server; it answers only to "
                                     f"{', '.join(sorted(rules.hosts))} (against DNS rebinding; --allow-host NAME "
                                     "adds a name)")
        given = _token(headers)
        if rules.token is not None and not rules.token_ok(given):
            query_token = _query_token(scope)
            if not (scope["path"] == "/" and rules.token_ok(query_token)):
                return 401, "unauthorized", "this server needs its token (Authorization: Bearer TOKEN, or open " \
                                            "/?token=TOKEN once in the browser)"
        method = scope["method"].upper()
        if method in SAFE_METHODS:
            return None
        if rules.read_only:
            return 403, "read_only", "this server was started with --read-only; it changes nothing"
        origin = headers.get("origin")
        if origin is None:
            header_token = _header_token(headers)
            if rules.token is not None and rules.token_ok(header_token):
                return None
            return 403, "bad_origin", ("a change needs the Origin header of this server (a browser sends it), or the "
                                       "token in a header")
        if origin.lower() not in rules.origins():
            return 403, "bad_origin", f"changes are accepted only from this server's own pages, not from {origin!r}"
        return None


def _header_token(headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return headers.get("x-wikismith-token")


def _token(headers: dict[str, str]) -> str | None:
    found = _header_token(headers)
    if found is not None:
        return found
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


def _query_token(scope) -> str | None:
    from urllib.parse import parse_qs

    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[0] if values else None


def _capped(receive, limit: int):
    seen = 0

    async def wrapped():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(f"the request body is over the limit of {limit - FORM_SLACK:,} bytes (max_file_mb)")
        return message

    return wrapped


async def _send_json(send, status: int, code: str, message: str) -> None:
    body = json.dumps({"code": code, "message": message}).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
