"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api_keys.router import router as api_keys_router
from app.certificates.router import router as certificates_router
from app.core.clock import Clock, SystemClock
from app.core.config import Settings, get_settings
from app.core.db import create_engine, create_sessionmaker
from app.core.errors import install_handlers
from app.core.openapi import install_openapi
from app.health.router import router as health_router
from app.owners.router import router as owners_router
from app.products.router import router as products_router
from app.taxonomy.router import router as taxonomy_router

DESCRIPTION = """\
The JSON API behind the sale of Lang Son province's OCOP products ("One Commune One Product")
to tourists: owners, products and their OCOP certificates, events, orders and sales reports.

Authenticate with `Authorization: Bearer <api key>`. The public catalogue needs no key.
Every error is an RFC 9457 `application/problem+json` document with a machine-readable `code`.
"""


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        try:
            yield
        finally:
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
    for router in (
        health_router,
        owners_router,
        products_router,
        certificates_router,
        taxonomy_router,
        api_keys_router,
    ):
        app.include_router(router)
    install_openapi(app)
    return app
