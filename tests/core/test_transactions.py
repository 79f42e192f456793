"""The request's transaction (`app.core.db.TransactionRoute`): committed before the response is
sent, rolled back on an error or a cancellation, and only ever on a route that owns one."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Message

from app.core.db import SessionDep, TransactionRoute, session_of
from app.core.errors import Conflict
from app.main import create_app
from app.models import Owner, OwnerKind

pytestmark = pytest.mark.anyio

OWNER_NAME = "Hợp tác xã Giao dịch"


async def owners_named(app: FastAPI, name: str = OWNER_NAME) -> int:
    """Owners of that name, as another connection sees them (what is committed)."""
    async with app.state.sessionmaker() as other:
        found = await other.scalar(select(func.count()).where(Owner.name == name))
        return int(found or 0)


async def add_owner(session: AsyncSession) -> None:
    where = {"commune": "Bắc Sơn", "province": "Lạng Sơn"}
    session.add(Owner(name=OWNER_NAME, kind=OwnerKind.cooperative, **where))
    await session.flush()


def request_scope(method: str, path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }


async def call(app: FastAPI, method: str, path: str, on_start: Any = None) -> int:
    """`app` called directly, `on_start` awaited when the response starts: the moment a client
    would read the status."""
    status: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
            if on_start is not None:
                await on_start()

    await app(request_scope(method, path), receive, send)
    return status[0]


async def committed_when_the_response_starts(app: FastAPI, endpoint: Any) -> int:
    """`endpoint` served as `POST /v1/test-create` (201): the owners another connection sees
    at the moment its response starts."""
    app.add_api_route("/v1/test-create", endpoint, methods=["POST"], status_code=201)
    seen: list[int] = []

    async def look() -> None:
        seen.append(await owners_named(app))

    assert await call(app, "POST", "/v1/test-create", look) == 201
    return seen[0]


async def test_the_transaction_is_committed_before_the_response_starts(app: FastAPI) -> None:
    async def create(session: SessionDep) -> None:
        await add_owner(session)

    assert await committed_when_the_response_starts(app, create) == 1


async def test_a_hot_path_reading_the_session_from_the_request_commits_too(
    app: FastAPI,
) -> None:
    async def create(request: Request) -> None:
        await add_owner(session_of(request))

    assert await committed_when_the_response_starts(app, create) == 1


async def sessions_seen(request: Request, session: SessionDep) -> list[AsyncSession]:
    """A dependency's view of the request's session, both ways."""
    return [session, session_of(request)]


SessionsSeen = Annotated[list[AsyncSession], Depends(sessions_seen)]


async def test_one_session_per_request_whoever_asks(app: FastAPI) -> None:
    sessions: list[AsyncSession] = []

    async def endpoint(request: Request, session: SessionDep, seen: SessionsSeen) -> None:
        sessions.extend([*seen, session, session_of(request)])

    app.add_api_route("/v1/test-sessions", endpoint)
    assert await call(app, "GET", "/v1/test-sessions") == 200
    assert await call(app, "GET", "/v1/test-sessions") == 200

    first, second = sessions[:4], sessions[4:]
    assert all(s is first[0] for s in first)
    assert all(s is second[0] for s in second)
    assert first[0] is not second[0]


async def test_an_error_after_a_write_rolls_it_back(app: FastAPI) -> None:
    async def create_then_refuse(session: SessionDep) -> None:
        await add_owner(session)
        raise Conflict("Refused after writing.", code="refused")

    app.add_api_route("/v1/test-refuse", create_then_refuse, methods=["POST"])

    assert await call(app, "POST", "/v1/test-refuse") == 409
    assert await owners_named(app) == 0
    assert app.state.engine.pool.checkedout() == 0


async def test_a_cancelled_request_rolls_back_and_gives_its_connection_back(
    app: FastAPI,
) -> None:
    """Cancelled by its cancel scope (as a server on anyio cancels a request whose client went
    away), which cancels every later wait in it too: the rollback must be shielded."""
    written = anyio.Event()

    async def create_then_hang(session: SessionDep) -> None:
        await add_owner(session)
        written.set()
        await anyio.sleep_forever()

    app.add_api_route("/v1/test-hang", create_then_hang, methods=["POST"])
    async with anyio.create_task_group() as requests:
        requests.start_soon(call, app, "POST", "/v1/test-hang")
        with anyio.fail_after(5):
            await written.wait()
        assert app.state.engine.pool.checkedout() == 1
        requests.cancel_scope.cancel()

    assert app.state.engine.pool.checkedout() == 0
    assert await owners_named(app) == 0


def test_a_session_outside_a_transaction_route_is_refused_loudly() -> None:
    request = Request(request_scope("GET", "/v1/elsewhere"))

    with pytest.raises(RuntimeError, match="TransactionRoute"):
        session_of(request)


def test_every_route_of_the_app_owns_its_transaction() -> None:
    """A router without `route_class=TransactionRoute` would hand out sessions nobody commits
    (`session_of` refuses them at run time; this says so before). Only the documentation's
    pages, which the app's constructor adds, never touch the database."""
    app = create_app()
    routers = [app.router]
    routes: list[APIRoute] = []
    while routers:
        for route in routers.pop().routes:
            included = getattr(route, "original_router", None)
            if included is not None:
                routers.append(included)
            elif isinstance(route, APIRoute):
                routes.append(route)

    plain = {r.path for r in routes if not isinstance(r, TransactionRoute)}
    assert len(routes) > 80
    assert plain == {"/docs", "/docs/oauth2-redirect", "/redoc"}
