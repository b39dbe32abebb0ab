"""Server-side request forgery guard: which network addresses a fetch may reach.

A fetch resolves a host name once (`resolve`), checks every address it got (`check_address`), and then connects
to one of those checked addresses itself, so that no second lookup can swap in another address.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Callable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

# What inet_aton accepts besides dotted decimal: "127.1", "0x7f.0.0.1", "0177.0.0.1", "2130706433".
_LOOSE_IPV4 = re.compile(r"[0-9a-fA-FxX.]+")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

_FLAGS = (
    ("is_unspecified", "unspecified"),
    ("is_loopback", "loopback"),
    ("is_link_local", "link-local"),
    ("is_multicast", "multicast"),
    ("is_private", "private"),
    ("is_reserved", "reserved"),
)


class BlockedAddress(ValueError):
    """An address a fetch must not connect to; the message says why."""


def parse_ip(text: str) -> Address | None:
    """`text` as an IP address (brackets and an IPv6 zone are dropped; loose IPv4 forms accepted), else None."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if text and _LOOSE_IPV4.fullmatch(text) and not text.endswith("."):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr.teredo is not None:
        return addr.teredo[1]
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


def address_problem(ip: str | Address) -> str | None:
    """Why `ip` is not a public address (e.g. "loopback address 127.0.0.1"), or None when it is public."""
    addr = ip if isinstance(ip, (ipaddress.IPv4Address, ipaddress.IPv6Address)) else parse_ip(str(ip))
    if addr is None:
        return f"not an IP address: {ip!r}"
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(addr)
        if embedded is not None:
            problem = address_problem(embedded)
            if problem is not None:
                return f"{problem} (inside {addr})"
    for flag, label in _FLAGS:
        if getattr(addr, flag):
            return f"{label} address {addr}"
    if not addr.is_global:
        return f"non-public address {addr}"
    return None


def is_public(ip: str | Address) -> bool:
    return address_problem(ip) is None


def check_address(ip: str | Address, allow_private: bool = False) -> None:
    """Raise BlockedAddress unless `ip` is public or `allow_private` is set."""
    if allow_private:
        if parse_ip(str(ip)) is None:
            raise BlockedAddress(f"not an IP address: {ip!r}")
        return
    problem = address_problem(ip)
    if problem is not None:
        raise BlockedAddress(problem)


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (via getaddrinfo), in the order given, without duplicates."""
    seen: list[str] = []
    for _family, _type, _proto, _name, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        ip = str(sockaddr[0]).split("%", 1)[0]
        if ip not in seen:
            seen.append(ip)
    return seen


def resolve(host: str, port: int, resolver: Resolver | None = None) -> list[str]:
    """The addresses to try for `host`: an IP literal (in any form inet_aton takes) as itself, else a lookup."""
    literal = parse_ip(host)
    if literal is not None:
        return [str(literal)]
    return list((resolver or system_resolver)(host, port))
