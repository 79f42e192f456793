"""The `Idempotency-Key` request header, as routers declare it, and `IdempotentDep`, which runs
a create at most once per key."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.core.clock import clock_of
from app.core.config import settings_of
from app.core.db import session_of
from app.core.schemas import canonical
from app.idempotency.service import fingerprint, run_idempotent

_DESCRIPTION = (
    "A unique key per intended operation (a UUID is ideal); retries reuse it. Without it the "
    "request is refused (400 `idempotency_key_required`)."
)
_MIN_LENGTH, _MAX_LENGTH, _PATTERN = 1, 255, r"^[\x21-\x7e]+$"

# Optional to FastAPI, so that a request without it reaches `run_idempotent` and is answered
# 400 idempotency_key_required rather than a generic 422; the document states it as the
# operation needs it: required (IDEMPOTENCY_KEY_OPENAPI).
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=_MIN_LENGTH,
        max_length=_MAX_LENGTH,
        pattern=_PATTERN,
        include_in_schema=False,
    ),
]

IDEMPOTENCY_KEY_OPENAPI: dict[str, Any] = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": True,
            "description": _DESCRIPTION,
            "schema": {
                "type": "string",
                "minLength": _MIN_LENGTH,
                "maxLength": _MAX_LENGTH,
                "pattern": _PATTERN,
            },
        }
    ]
}
"""`openapi_extra` for an operation that takes IdempotencyKeyHeader."""


@dataclass(frozen=True)
class Idempotent:
    """What running a create at most once per `Idempotency-Key` takes of a request, gathered
    once: a route only says what the work is (`run`)."""

    session: AsyncSession
    key: str | None
    now: datetime
    lock: timedelta

    async def run(
        self,
        *,
        api_key_id: uuid.UUID,
        method: str,
        path: str,
        body: BaseModel,
        work: Callable[[], Awaitable[Response]],
    ) -> Response:
        """`work` at most once for this key; the same body again replays its answer."""
        return await run_idempotent(
            self.session,
            api_key_id=api_key_id,
            key=self.key,
            request_hash=fingerprint(method, path, canonical(body)),
            now=self.now,
            lock=self.lock,
            work=work,
        )


async def idempotent(request: Request, idempotency_key: IdempotencyKeyHeader = None) -> Idempotent:
    # The session, clock and settings read from the request, not dependencies of their own:
    # one create solves fewer dependencies.
    lock = timedelta(seconds=settings_of(request).idempotency_lock_s)
    return Idempotent(session_of(request), idempotency_key, clock_of(request).now(), lock)


IdempotentDep = Annotated[Idempotent, Depends(idempotent)]
"""A create run at most once per `Idempotency-Key` (declare `IDEMPOTENCY_KEY_OPENAPI` on the
operation); `now` is the request's moment."""
