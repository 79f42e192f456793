"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api_keys.router import router as api_keys_router
from app.bookings.router import gate_router, tickets_router
from app.bookings.router import router as bookings_router
from app.certificates.router import router as certificates_router
from app.core.clock import Clock, SystemClock
from app.core.config import Settings, get_settings
from app.core.db import create_engine, create_sessionmaker
from app.core.errors import install_handlers
from app.core.middleware import BodyLimitMiddleware, RequestContextMiddleware
from app.core.migrations import head_revision
from app.core.openapi import install_openapi
from app.events.router import router as events_router
from app.experiences.router import router as experiences_router
from app.experiences.router import settings_router as experience_settings_router
from app.health.router import router as health_router
from app.imports.router import BODY_LIMITS as IMPORT_BODY_LIMITS
from app.imports.router import router as imports_router
from app.orders.router import router as orders_router
from app.owners.router import router as owners_router
from app.products.router import router as products_router
from app.ratelimit.middleware import RateLimitMiddleware, create_limiter
from app.reports.router import router as reports_router
from app.taxonomy.router import router as taxonomy_router
from app.webhooks.router import router as webhooks_router

DESCRIPTION = """\
The JSON API behind the sale of Lang Son province's OCOP products ("One Commune One Product")
to tourists: owners, products and their OCOP certificates, events, orders and sales reports.

Authenticate with `Authorization: Bearer <api key>`. The public catalogue needs no key.
Every error is an RFC 9457 `application/problem+json` document with a machine-readable `code`.

Limits: request bodies up to 1 MiB (`OCOP_MAX_BODY_BYTES`), CSV imports up to 5 MiB (413
beyond, with or without `Content-Length`); pages of 1..100 items; string lengths as each
schema's `maxLength` says.
Requests are rate-limited per API key by role, and per client address without a key (429 with
`Retry-After`); every limited answer carries the `RateLimit-Policy` and `RateLimit` headers of
draft-ietf-httpapi-ratelimit-headers. Send `X-Request-ID` (1..200 printable ASCII characters)
to correlate logs; it is echoed, or generated when absent.

Webhooks are signed as the Standard Webhooks specification says (`webhook-id`,
`webhook-timestamp`, `webhook-signature`); see `/v1/webhooks`.
"""


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    limiter = create_limiter(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.writer_sessionmaker = create_sessionmaker(engine, writer=True)
        app.state.schema_head = head_revision()  # what /readyz expects of the database
        try:
            yield
        finally:
            await limiter.close()
            await engine.dispose()

    app = FastAPI(
        title="ocop-api",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    install_handlers(app)
    # Outermost last: the request id and access log see every answer, 413 and 429 included.
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, route_limits=IMPORT_BODY_LIMITS
    )
    app.add_middleware(RateLimitMiddleware, settings=settings, limiter=limiter)
    app.add_middleware(RequestContextMiddleware)
    for router in (
        health_router,
        owners_router,
        imports_router,
        products_router,
        certificates_router,
        taxonomy_router,
        events_router,
        orders_router,
        experience_settings_router,
        experiences_router,
        bookings_router,
        tickets_router,
        gate_router,
        reports_router,
        webhooks_router,
        api_keys_router,
    ):
        app.include_router(router)
    install_openapi(app)
    return app
