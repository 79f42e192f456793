"""The application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel
from starlette.middleware.gzip import GZipMiddleware

from app.api_keys.router import router as api_keys_router
from app.bookings.router import gate_router, tickets_router
from app.bookings.router import router as bookings_router
from app.bookings.schemas import BookingRead
from app.certificates.router import router as certificates_router
from app.core.caching import CacheControlMiddleware
from app.core.clock import Clock, SystemClock
from app.core.config import Settings, get_settings
from app.core.cors import ProblemCORSMiddleware
from app.core.db import TransactionRoute, create_engine, create_sessionmaker
from app.core.errors import install_error_dialect, install_handlers
from app.core.middleware import BodyLimitMiddleware, HeadMiddleware, RequestContextMiddleware
from app.core.migrations import head_revision
from app.core.openapi import DOCS_ASSETS_PATH, install_openapi, operation_id
from app.core.query import refuse_undeclared_query
from app.events.router import router as events_router
from app.events.schemas import EventRead
from app.experiences.router import router as experiences_router
from app.experiences.router import settings_router as experience_settings_router
from app.geography.router import router as geography_router
from app.health.router import router as health_router
from app.imports.router import BODY_LIMITS as IMPORT_BODY_LIMITS
from app.imports.router import router as imports_router
from app.octo import errors as octo_errors
from app.octo.router import router as octo_router
from app.orders.router import router as orders_router
from app.orders.schemas import OrderRead
from app.owners.router import router as owners_router
from app.products.router import router as products_router
from app.products.schemas import ProductRead
from app.ratelimit.middleware import RateLimitMiddleware, create_limiter
from app.reports.router import router as reports_router
from app.taxonomy.router import router as taxonomy_router
from app.webhooks.docs import document_webhooks
from app.webhooks.outbox import PING
from app.webhooks.router import router as webhooks_router
from app.webhooks.schemas import PingData, StockLowData

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

Resellers that speak OCTO (the Open Connectivity for Tours, Activities and Attractions core
specification) book the tourism experiences under `/octo` with a partner key: those routes
follow OCTO's own definition and error bodies, not this document's.

Webhooks are signed as the Standard Webhooks specification says (`webhook-id`,
`webhook-timestamp`, `webhook-signature`); see `/v1/webhooks`.

HTTP: every `GET` also answers `HEAD` (same status and headers, no body); `OPTIONS` answers 204
with `Allow`, or the CORS preflight for the origins `OCOP_CORS_ORIGINS` names. A query
parameter an operation does not list, or a single-valued one given twice, is refused (422
naming it). Answers of 1 KiB or more are gzip-compressed for clients that accept it. Reads
without a key are public and may be cached briefly (`Cache-Control: public, max-age=30,
stale-while-revalidate=30` by default), reads with a key are private (`private, no-cache`),
keys and webhooks are never stored (`no-store`); single resources carry an `ETag` to
revalidate with `If-None-Match` (304). Reports are JSON or CSV as `Accept` asks, q-values
honoured (406 when neither is acceptable).
"""
GZIP_MINIMUM_BYTES = 1024
# zlib's default level: close to level 9's size on JSON at a fraction of its time.
GZIP_LEVEL = 6

# What the `data` of each webhook event type is (the OpenAPI document's `webhooks`).
WEBHOOK_PAYLOADS: dict[str, type[BaseModel]] = {
    "order.created": OrderRead,
    "order.confirmed": OrderRead,
    "order.fulfilled": OrderRead,
    "order.cancelled": OrderRead,
    "product.updated": ProductRead,
    "stock.low": StockLowData,
    "event.updated": EventRead,
    "booking.created": BookingRead,
    "booking.confirmed": BookingRead,
    "booking.cancelled": BookingRead,
    "booking.expired": BookingRead,
    PING: PingData,
}


GC_GENERATION0_THRESHOLD = 20_000
"""Allocations between two young-generation collections in a served process (Python's default
is 700): a request allocates thousands of short-lived objects that reference counting frees."""


def create_served_app() -> FastAPI:
    """The app as `ocop serve` runs it in each process: once started, the objects it keeps
    for its whole life (routes, schemas, the models' metadata) are moved out of the garbage
    collector's sight (`gc.freeze`) and young collections made rarer, which `make bench` shows
    as about a sixth more catalogue pages per CPU-second and a lower p99."""
    return create_app(tune_gc=True)


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, tune_gc: bool = False
) -> FastAPI:
    settings = settings or get_settings()
    limiter = create_limiter(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.writer_sessionmaker = create_sessionmaker(engine, writer=True)
        app.state.schema_head = head_revision()  # what /readyz expects of the database
        if tune_gc:
            gc.collect()
            gc.freeze()
            gc.set_threshold(GC_GENERATION0_THRESHOLD, *gc.get_threshold()[1:])
        try:
            yield
        finally:
            await limiter.close()
            await engine.dispose()

    # /docs and /redoc with Swagger UI's and ReDoc's files from the fastapi-offline package,
    # served under DOCS_ASSETS_PATH: the pages work without reaching any other host.
    app = FastAPIOffline(
        title="ocop-api",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        static_url=DOCS_ASSETS_PATH,
        dependencies=[Depends(refuse_undeclared_query)],
    )
    # Routes declared on the app itself (the suite's) have a transaction too.
    app.router.route_class = TransactionRoute
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    install_handlers(app)
    install_error_dialect(app, octo_router.prefix, octo_errors.render)
    # Outermost last: the request id and access log see every answer, 413 and 429 included;
    # CORS headers are on those too, and a preflight spends no quota. HEAD runs the GET
    # outside the compression, so that it gets the GET's very headers.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=GZIP_LEVEL)
    app.add_middleware(HeadMiddleware)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, route_limits=IMPORT_BODY_LIMITS
    )
    app.add_middleware(RateLimitMiddleware, settings=settings, limiter=limiter)
    app.add_middleware(CacheControlMiddleware, public_max_age_s=settings.public_cache_max_age_s)
    if settings.cors_origins:
        app.add_middleware(ProblemCORSMiddleware, origins=settings.cors_origins)
    app.add_middleware(RequestContextMiddleware)
    for router in (
        health_router,
        owners_router,
        imports_router,
        products_router,
        certificates_router,
        taxonomy_router,
        geography_router,
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
        octo_router,
    ):
        app.include_router(router)
    document_webhooks(app.webhooks, WEBHOOK_PAYLOADS)
    install_openapi(app)
    return app
