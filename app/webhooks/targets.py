"""Which webhook URLs may be called: https to public addresses only (no SSRF).

Checked when an endpoint is registered or changed, and again before every send, since what a
name resolves to can change. `OCOP_WEBHOOKS_ALLOW_PRIVATE` (development and tests only) allows
plain http and any address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2000


class UnsafeTarget(ValueError):
    """The URL may not be called; the message says why."""


def parse(url: str, *, allow_private: bool) -> tuple[str, int]:
    """(host, port) of a well-formed URL with an allowed scheme."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"not a valid URL: {exc}") from None
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeTarget("the URL must use https")
    if not parts.hostname:
        raise UnsafeTarget("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("the URL may not carry credentials")
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise UnsafeTarget("the URL contains spaces or control characters")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or address.teredo
        if isinstance(embedded, tuple):
            embedded = embedded[1]
        if embedded is not None and not is_public(embedded):
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_reserved
        or address.is_unspecified
    )


async def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return [literal]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(f"the host {host!r} does not resolve: {exc}") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def check(url: str, *, allow_private: bool) -> None:
    """Raise UnsafeTarget unless `url` may be called now."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeTarget("the URL is too long")
    host, port = parse(url, allow_private=allow_private)
    if allow_private:
        return
    addresses = await resolve(host, port)
    refused = sorted({str(a) for a in addresses if not is_public(a)})
    if not addresses or refused:
        raise UnsafeTarget(
            f"the host {host!r} resolves to non-public addresses ({', '.join(refused)})"
        )
