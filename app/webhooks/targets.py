"""Which webhook URLs may be called: https to public addresses only (no SSRF).

Checked when an endpoint is registered or changed, and again before every send, since what a
name resolves to can change. A send then connects to an address of that very lookup
(`pinned_request`), never to a second one: a name that answers with a public address to the
check and with 127.0.0.1 a moment later (DNS rebinding) cannot steer the request inside.
`OCOP_WEBHOOKS_ALLOW_PRIVATE` (development and tests only) allows plain http and any address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

MAX_URL_LENGTH = 2000

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


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


def is_public(address: Address) -> bool:
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


async def resolve(host: str, port: int) -> list[Address]:
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


def _parse_checked(url: str, *, allow_private: bool) -> tuple[str, int]:
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeTarget("the URL is too long")
    return parse(url, allow_private=allow_private)


async def addresses(url: str, *, allow_private: bool) -> list[Address]:
    """The addresses `url` may be called at now, in the resolver's order of preference; raise
    UnsafeTarget if any address the name resolves to is not public."""
    host, port = _parse_checked(url, allow_private=allow_private)
    resolved = list(dict.fromkeys(await resolve(host, port)))
    if allow_private:
        return resolved
    refused = sorted({str(a) for a in resolved if not is_public(a)})
    if not resolved or refused:
        raise UnsafeTarget(
            f"the host {host!r} resolves to non-public addresses ({', '.join(refused)})"
        )
    return resolved


async def check(url: str, *, allow_private: bool) -> None:
    """Raise UnsafeTarget unless `url` may be called now."""
    if allow_private:
        _parse_checked(url, allow_private=True)
    else:
        await addresses(url, allow_private=False)


def pinned_request(url: str, address: Address) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """(URL, headers, extensions) that reach `url` at `address` without resolving its name
    again: the host in the URL is the address, `Host` keeps the name (with a non-default
    port), and TLS sends the name as SNI and verifies the certificate against it."""
    original = httpx.URL(url)
    headers = {"host": original.netloc.decode("ascii")}
    name = original.raw_host.decode("ascii")
    try:
        ipaddress.ip_address(name)
    except ValueError:
        extensions = {"sni_hostname": name} if original.scheme == "https" else {}
    else:
        extensions = {}
    return original.copy_with(host=str(address)), headers, extensions
