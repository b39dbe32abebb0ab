"""What an MCP client may add, and which HTTP requests reach the server at all.

A prompt-injected assistant must not be able to add `~/.ssh/id_rsa` and read it back: `add` takes a URL (fetched
through the same SSRF guard as `wikismith add`: no loopback or private address) or a path that resolves, symbolic
links followed, inside a folder named by `--allow-root`. With no `--allow-root`, no path is accepted.

Over streamable HTTP, every request's Host header must name the address the server is bound to (against DNS
rebinding), and an Origin, when a browser sends one, must be the server's own.
"""

from __future__ import annotations

import os
import re

_URL = re.compile(r"^https?://", re.IGNORECASE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class Refused(Exception):
    pass


def is_url(source: str) -> bool:
    return bool(_URL.match(source.strip()))


def allowed_path(source: str, roots: list[str]) -> str:
    """The real path of `source` when it lies inside one of `roots`; Refused otherwise."""
    text = source.strip()
    if _SCHEME.match(text) and not is_url(text):
        raise Refused(f"{text[:200]!r}: only http(s) URLs and paths under an allowed root can be added")
    if not roots:
        raise Refused(f"{text[:200]!r}: adding files is off (start the server with --allow-root DIR to allow the "
                      "files under DIR); URLs can be added")
    if not os.path.isabs(os.path.expanduser(text)):
        raise Refused(f"{text[:200]!r}: give an absolute path, under one of the allowed roots: {', '.join(roots)}")
    real = os.path.realpath(os.path.expanduser(text))
    for root in roots:
        base = os.path.realpath(root)
        if real == base or real.startswith(base.rstrip(os.sep) + os.sep):
            return real
    raise Refused(f"{text[:200]!r} is outside the allowed roots ({', '.join(roots)}); nothing was added")


def http_security(host: str, port: int, names: tuple[str, ...] = ()):
    """The SDK's DNS-rebinding protection set to this server's own address: Host must be it, Origin (if any) too."""
    from mcp.server.transport_security import TransportSecuritySettings

    hosts = {host, *names}
    if host in ("127.0.0.1", "localhost", "::1"):
        hosts |= {"127.0.0.1", "localhost"}
    shown = sorted(f"[{h}]" if ":" in h else h for h in hosts)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{h}:{port}" for h in shown],
        allowed_origins=[f"http://{h}:{port}" for h in shown],
    )
