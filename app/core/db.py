"""Engine, sessions and the request's transaction.

One transaction per request, owned by the route: every route is a `TransactionRoute`, whose
handler gives the request its session on first use (`SessionDep`, or `session_of(request)` on a
hot path, which spares the dependency's solving), lets the route's service only flush, and
commits once the endpoint has returned and before the response is sent, so a 201 means the row
is on disk; on any error it rolls back instead. (A dependency with `yield` could do the same,
at about a twentieth of a catalogue page's CPU for FastAPI's machinery around it.)

Every wait on the database is bounded (README, "Configuration"): connecting
(`OCOP_DATABASE_CONNECT_TIMEOUT_S`), waiting for a free connection
(`OCOP_DATABASE_POOL_TIMEOUT_S`), a statement on the server (`OCOP_DATABASE_STATEMENT_TIMEOUT_MS`,
PostgreSQL's `statement_timeout`) and any answer at all from the server (the statement timeout
plus a second: asyncpg's `command_timeout`). A connection that fails on the network, or that
the client stopped waiting for, is dropped at once (never handed to the next request) and the
error reaches the handlers as a SQLAlchemy `DBAPIError` with `connection_invalidated`, which
`app.core.errors.database_fault` answers 503. A transaction that writes rows with `updated_at`
must also commit within `OCOP_FEED_COMMIT_DEADLINE_S` of its first such write (503 beyond), so
that the change feeds are exact (`app.core.changes`).

No pre-ping: it would cost three round trips per checkout (BEGIN, `;`, ROLLBACK) on every
request, to spare one request per process a 503 after the database restarts. Without it, the
first statement on a dead pooled connection fails at once (a reset or a closed socket), and
SQLAlchemy then invalidates every connection that process opened before, so the next request
connects afresh; a connection that hangs instead meets the command timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

from anyio import CancelScope
from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core import jsontext, sqlite
from app.core.changes import COMMIT_DEADLINE, TrackedSession
from app.core.config import Settings
from app.core.errors import (
    DatabaseUnavailable,
    SchemaNotCurrent,
    ServiceUnavailable,
    database_fault,
)
from app.core.sqlite import WRITE_TRANSACTION

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READY_TIMEOUT_S = 1.5
"""How long `/readyz` waits for the database: it answers within 2 s whatever happens."""


def create_engine(settings: Settings) -> AsyncEngine:
    """The process's engine: aiosqlite for the embedded default, asyncpg for PostgreSQL."""
    url = make_url(settings.database_url)
    # Read by every session at commit (app.core.changes.TrackedSession).
    execution_options = {COMMIT_DEADLINE: settings.feed_commit_deadline_s}
    if url.get_backend_name() == "sqlite":
        options: dict[str, Any] = {}
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            options["pool_timeout"] = settings.database_pool_timeout_s
        engine = create_async_engine(
            url,
            echo=settings.database_echo,
            execution_options=execution_options,
            json_deserializer=jsontext.loads,
            json_serializer=jsontext.dumps_column,
            **options,
        )
        sqlite.configure(engine, settings)
        return engine
    engine = create_async_engine(
        url,
        echo=settings.database_echo,
        execution_options=execution_options,
        json_deserializer=jsontext.loads,
        json_serializer=jsontext.dumps_column,
        # No overflow: a connection opened for a burst and closed after it would be opened
        # again by the next one, and under steady load beyond the pool every request would
        # pay a connection (and PostgreSQL a backend) of its own.
        pool_size=settings.database_pool_size,
        max_overflow=0,
        pool_timeout=settings.database_pool_timeout_s,
        connect_args={
            "timeout": settings.database_connect_timeout_s,
            "command_timeout": settings.database_command_timeout_s,
            "server_settings": {
                "statement_timeout": str(settings.database_statement_timeout_ms),
                # A client that went silent mid-transaction (a partition, a killed process)
                # would otherwise hold its row and advisory locks until TCP keepalive notices,
                # hours later by default.
                "idle_in_transaction_session_timeout": str(
                    settings.database_idle_in_transaction_timeout_ms
                ),
                # Statements are prepared (asyncpg keeps them per connection); after five runs
                # PostgreSQL may switch one to a generic plan, made without the values. For a
                # catalogue search that plan reads every product matching a common word
                # (seconds at a million products) where the plan for the values walks the
                # newest few (a millisecond). Planning each run costs far less than that.
                "plan_cache_mode": "force_custom_plan",
            },
        },
    )
    _report_lost_connections(engine)
    return engine


def _report_lost_connections(engine: AsyncEngine) -> None:
    """Make every network failure a `DBAPIError` that invalidates its connection.

    asyncpg raises the network's own errors (`OSError`, `TimeoutError` after
    `command_timeout`) as they are; SQLAlchemy would pass them on unwrapped and, worse, return
    the connection to the pool, where the next request would wait on it again.
    """

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except dialect.loaded_dbapi.Error:
            raise
        except Exception as exc:  # refused, timed out, or refused by the server (starting up)
            raise dialect.loaded_dbapi.OperationalError(f"cannot connect: {exc!r}") from exc

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> BaseException | None:
        error = context.original_exception
        if context.sqlalchemy_exception is not None or not isinstance(error, OSError):
            return None  # a driver error: SQLAlchemy knows which of these are disconnects
        # OSError: a reset, a refusal, or (TimeoutError) no answer within command_timeout.
        context.is_disconnect = True
        _abort_driver_connection(context)
        return sa_exc.OperationalError(
            context.statement, context.parameters, error, connection_invalidated=True
        )


def _abort_driver_connection(context: ExceptionContext) -> None:
    """Close the socket now: a graceful close would first wait (up to 2 s, in SQLAlchemy's
    asyncpg dialect) for a server that has just stopped answering."""
    connection = context.connection
    if connection is None or connection.invalidated:
        return
    driver = connection.connection.driver_connection
    terminate = getattr(driver, "terminate", None)
    if callable(terminate):
        terminate()


def create_sessionmaker(
    engine: AsyncEngine, *, writer: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Sessions on `engine`; a writer's transactions begin as writers (BEGIN IMMEDIATE on
    SQLite) whenever they start, including after a commit."""
    bind = engine.execution_options(**{WRITE_TRANSACTION: True}) if writer else engine
    return async_sessionmaker(
        bind, expire_on_commit=False, autoflush=False, sync_session_class=TrackedSession
    )


async def begin_write(session: AsyncSession) -> None:
    """Open the session's transaction as a writer (BEGIN IMMEDIATE on SQLite)."""
    await session.connection(execution_options={WRITE_TRANSACTION: True})


_SESSION = "ocop.session"
"""Scope key: the request's session once it is asked for (None until then), set by the route."""


def session_of(request: Request) -> AsyncSession:
    """The request's session, begun on first use: what `SessionDep` gives, without a
    dependency of its own (every catalogue page and order asks for it)."""
    scope = request.scope
    try:
        session: AsyncSession | None = scope[_SESSION]
    except KeyError:
        raise RuntimeError(
            f"{scope.get('path')!r} asks for a session outside a TransactionRoute, which would "
            "never commit it: give its router route_class=TransactionRoute"
        ) from None
    if session is None:
        state = request.app.state
        sessionmaker: async_sessionmaker[AsyncSession] = (
            state.sessionmaker if request.method in SAFE_METHODS else state.writer_sessionmaker
        )
        session = scope[_SESSION] = sessionmaker()
    return session


async def get_session(request: Request) -> AsyncSession:
    # async: FastAPI runs a sync dependency in its thread pool, a hop on every request.
    return session_of(request)


SessionDep = Annotated[AsyncSession, Depends(get_session)]
"""The request's session (see `TransactionRoute`)."""


class TransactionRoute(APIRoute):
    """A route whose request has one transaction: committed after the endpoint returns and
    before its response is sent, rolled back if the endpoint (or a dependency) raises or is
    cancelled. The session exists only once something asks for it (`session_of`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def in_transaction(request: Request) -> Response:
            scope = request.scope
            scope[_SESSION] = None
            try:
                response = await handler(request)
                session = scope[_SESSION]
                if session is not None and session.in_transaction():
                    await session.commit()
                return response
            finally:
                session = scope.pop(_SESSION)
                # A session that never began a transaction holds no connection: nothing to end.
                if session is not None and session.in_transaction():
                    # Shielded: a cancelled request still gives its connection back.
                    with CancelScope(shield=True):
                        await session.close()

        return in_transaction


# Readiness checks given up on, kept until they end (a task nobody references may be collected).
_abandoned_checks: set[asyncio.Task[ServiceUnavailable | None]] = set()


def _forget(task: asyncio.Task[ServiceUnavailable | None]) -> None:
    _abandoned_checks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.debug("abandoned readiness check failed", exc_info=task.exception())


async def check_ready(
    engine: AsyncEngine, head: str | None, *, timeout_s: float = READY_TIMEOUT_S
) -> ServiceUnavailable | None:
    """None when the database answers within `timeout_s` and its schema is the migrations'
    `head`; otherwise the 503 to answer. Never waits longer than `timeout_s`, whatever the
    database does (the check is left to end on its own)."""
    check = asyncio.create_task(_check_schema(engine, head))
    done, _ = await asyncio.wait({check}, timeout=timeout_s)
    if not done:
        check.cancel()
        _abandoned_checks.add(check)
        check.add_done_callback(_forget)
        return DatabaseUnavailable(f"The database did not answer within {timeout_s:g} s.")
    return check.result()


async def _check_schema(engine: AsyncEngine, head: str | None) -> ServiceUnavailable | None:
    try:
        async with engine.connect() as connection:
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
            found = set(result.scalars())
    except sa_exc.SQLAlchemyError as exc:
        fault = database_fault(exc)
        if fault is None:
            raise
        logger.warning("readiness check failed: %r", getattr(exc, "orig", None) or exc)
        return fault
    if head is None:
        return SchemaNotCurrent(
            "This release's migrations were not found, so the schema cannot be checked."
        )
    if found != {head}:
        logger.warning("database schema at %s; this release needs %s", sorted(found), head)
        return SchemaNotCurrent(
            "The database schema is not at this release's migration head; run `ocop migrate`."
        )
    return None
