"""`Cache-Control` on every answer that a cache could keep, decided in one place.

- A read (`GET`, `HEAD`) without a key is the public catalogue, the same for everyone:
  `public, max-age=N, stale-while-revalidate=N` (`OCOP_PUBLIC_CACHE_MAX_AGE_S`, 30 s by default;
  0 gives `public, no-cache`). Stock moves with every order, so the window is short; a figure a
  minute old at most is harmless in a listing, since an order is checked against the stock of
  the moment (409 `insufficient_stock`). Single resources carry an `ETag`, so a cache
  revalidates them with a 304 that costs no body.
- A read with a key (`Authorization`) is that key's: `private, no-cache`: a browser may keep
  it, but asks again (`If-None-Match`) before each use.
- Both say `Vary: Authorization`, so a shared cache never hands the public answer to a keyed
  request nor the other way round (`Accept-Language` and `Accept-Encoding` are added where the
  answer depends on them, by the routes and the compression).
- A route that handles secrets or the service's own state (API keys, webhooks, health,
  metrics) declares `NoStore`: `no-store`, whatever the method.
- An error is about that request only: `no-store`.

An answer that already carries `Cache-Control` keeps it.
"""

from __future__ import annotations

from fastapi import Depends, Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_NO_STORE_STATE = "no_store"
READS = frozenset({"GET", "HEAD"})


async def _no_store(request: Request) -> None:
    setattr(request.state, _NO_STORE_STATE, True)


NoStore = Depends(_no_store)
"""A router (or route) dependency: its answers are never stored by any cache."""


def public_policy(max_age_s: int) -> str:
    """The `Cache-Control` of a public read."""
    if max_age_s == 0:
        return "public, no-cache"
    return f"public, max-age={max_age_s}, stale-while-revalidate={max_age_s}"


class CacheControlMiddleware:
    """Sets `Cache-Control` (and `Vary: Authorization` on reads) as the module says."""

    def __init__(self, app: ASGIApp, public_max_age_s: int) -> None:
        self.app = app
        self.public = public_policy(public_max_age_s)

    def _policy(self, scope: Scope, status: int, keyed: bool) -> str | None:
        if (scope.get("state") or {}).get(_NO_STORE_STATE):
            return "no-store"
        if scope["method"] not in READS:
            return None  # answers to writes are not reused without explicit freshness
        if status >= 400:
            return "no-store"
        return "private, no-cache" if keyed else self.public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        keyed = "authorization" in Headers(scope=scope)

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                policy = self._policy(scope, message["status"], keyed)
                if policy is not None and "cache-control" not in headers:
                    headers["Cache-Control"] = policy
                if scope["method"] in READS and message["status"] < 400:
                    headers.add_vary_header("Authorization")
            await send(message)

        await self.app(scope, receive, send_with_policy)
