"""`Idempotency-Key` for unsafe requests, safe across any number of API processes.

The key is scoped to the API key that sent it. Everything happens in the request's own
transaction, so the stored answer exists exactly when the work does:

1. Claim: insert an `in_progress` record for the key (`INSERT ... ON CONFLICT DO NOTHING`).
   A concurrent duplicate (in any process) inserting the same key waits for this transaction
   to end, as the unique constraint makes it; it then finds the stored answer (replayed), or,
   if this request failed, no record, and claims the key itself.
2. Work: the request's work, in the same transaction.
3. Complete: store the answer on the record, still in that transaction, which then commits.

A request that fails in any way (a domain error, a bug, a lost connection, a statement
timeout) rolls back, its claim with its work: a retry with the same key starts afresh. Nothing
needs releasing, and no process's death can leave a claim behind.

The same key with the same request later gets the stored answer again, with
`Idempotent-Replayed: true`; with a different request, 422.

A record still `in_progress` once committed is one a request that claimed apart from its work
left (the service's previous versions did, and a process may have died meanwhile): it expires
after `idempotency_lock_s`, and a retry takes it over then (409 `idempotency_in_progress`
before). A takeover gives the claim a new token, and an answer is stored only under the claim's
current token, in the transaction that did the work: at most one piece of work commits.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.core.errors import BadRequest, Conflict, Unprocessable
from app.idempotency.repository import IdempotencyRepository
from app.models.idempotency import IdempotencyRecord, IdempotencyStatus

REPLAYED_HEADER = "Idempotent-Replayed"
_STORED_HEADERS = ("location", "etag", "content-type")


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


@dataclass(frozen=True)
class Claim:
    record_id: uuid.UUID
    token: uuid.UUID


def fingerprint(method: str, path: str, payload: Any) -> str:
    """A digest of what the request asks for, blind to JSON key order and spacing."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    headers = dict(record.response_headers or {})
    headers[REPLAYED_HEADER] = "true"
    media_type = headers.pop("content-type", "application/json")
    return Response(
        content=record.response_body or "",
        status_code=record.response_status or 200,
        headers=headers,
        media_type=media_type,
    )


async def claim(
    session: AsyncSession,
    *,
    api_key_id: uuid.UUID,
    key: str,
    request_hash: str,
    now: datetime,
    lock: timedelta,
) -> Claim | Response:
    """Claim `key` for this request in its transaction, or answer from what is stored."""
    records = IdempotencyRepository(session)
    token = uuid.uuid4()
    record_id = uuid.uuid4()
    inserted = await records.insert_if_absent(
        id=record_id,
        api_key_id=api_key_id,
        key=key,
        request_hash=request_hash,
        status=IdempotencyStatus.in_progress,
        claim_token=token,
        locked_until=now + lock,
        created_at=now,
    )
    if inserted:
        return Claim(record_id=record_id, token=token)

    record = await records.find(api_key_id, key)
    if record is None:  # purged between our insert and this read: the caller may retry
        raise IdempotencyInProgress(
            "The first request with this Idempotency-Key just ended; retry."
        )
    if record.request_hash != request_hash:
        raise Unprocessable(
            "This Idempotency-Key was used for a different request; use a new key.",
            code="idempotency_key_reused",
        )
    if record.status is IdempotencyStatus.completed:
        return _replay(record)
    # Left in progress (see the module docstring): taken over once its lock has run out.
    if not await records.take_over(record.id, token, now=now, until=now + lock):
        raise IdempotencyInProgress(
            "A request with this Idempotency-Key is still being processed; retry shortly."
        )
    return Claim(record_id=record.id, token=token)


async def complete(session: AsyncSession, claim_: Claim, response: Response, now: datetime) -> None:
    """Store the answer, in the transaction that did the work."""
    headers = {k: v for k, v in response.headers.items() if k in _STORED_HEADERS}
    stored = await IdempotencyRepository(session).store_answer(
        claim_.record_id,
        claim_.token,
        status=response.status_code,
        headers=headers,
        body=bytes(response.body).decode(),
        now=now,
    )
    if not stored:
        raise IdempotencyInProgress(
            "This request's claim on its Idempotency-Key expired and was taken over; retry."
        )


async def run_idempotent(
    session: AsyncSession,
    *,
    api_key_id: uuid.UUID,
    key: str | None,
    request_hash: str,
    now: datetime,
    lock: timedelta,
    work: Callable[[], Awaitable[Response]],
) -> Response:
    """Do `work` at most once per (API key, Idempotency-Key); see the module docstring."""
    if key is None:
        raise BadRequest(
            "This request needs an Idempotency-Key header.", code="idempotency_key_required"
        )
    outcome = await claim(
        session, api_key_id=api_key_id, key=key, request_hash=request_hash, now=now, lock=lock
    )
    if isinstance(outcome, Response):
        return outcome
    response = await work()
    await complete(session, outcome, response, now)
    return response


async def purge(session: AsyncSession, *, older_than: datetime) -> int:
    """Delete stored answers (and abandoned claims) created before `older_than`."""
    return await IdempotencyRepository(session).purge(older_than)
