"""`Idempotency-Key` for unsafe requests, safe across any number of API processes.

The key is scoped to the API key that sent it. Step by step:

1. Claim: insert an `in_progress` record and commit it at once, so a concurrent duplicate (in any
   process) finds it and answers 409 instead of doing the work twice.
2. Work: the request's own transaction does the work and, in that same transaction, stores the
   answer on the record. The stored answer therefore exists exactly when the work does.
3. Replay: the same key with the same request later gets the stored answer again, with
   `Idempotent-Replayed: true`; with a different request, 422.

Safety never rests on timing: an answer is stored only under the claim's current token, in the
transaction that did the work, so whatever happens to a claim, at most one piece of work commits.
The rest is about giving a key back as soon as it is safe, so that a retry succeeds:

- A request that fails in any way (a domain error, a bug, a statement timeout) releases its
  claim at once, in a transaction of its own, best effort and within `RELEASE_TIMEOUT_S`.
  Except when the database itself is unreachable: the release would fail the same way, and
  only delay the 503.
- The working transaction holds a PostgreSQL advisory lock named after the key
  (`app.core.locking.take_turns`) until it ends. The server drops it when that transaction
  ends in any way, the client's connection reset or lost included (the
  `idle_in_transaction_session_timeout` of `app.core.db` ends a session whose client went
  silent). So a retry that finds the key still in progress asks whether the lock is free
  (`is_free`): free means nobody works under the claim any more (a process or a database
  connection died mid-way), and the retry takes it over at once. Held means the first request
  is alive: 409. A claim younger than `HOLDER_GRACE` is left alone, as its request may not
  have reached its work yet.
- Otherwise (SQLite, which has no such locks; a lock held by a session the server has not yet
  ended) the claim expires after `idempotency_lock_s`, and a retry takes it over then.

A takeover gives the claim a new token; the former holder, if it was alive after all, then
fails to store its answer and its transaction, work included, rolls back instead of doubling.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.core import locking
from app.core.errors import BadRequest, Conflict, DatabaseUnavailable, Unprocessable, database_fault
from app.idempotency.repository import IdempotencyRepository
from app.models.idempotency import IdempotencyRecord, IdempotencyStatus

logger = logging.getLogger(__name__)

REPLAYED_HEADER = "Idempotent-Replayed"
RELEASE_TIMEOUT_S = 2.0
HOLDER_GRACE = timedelta(seconds=2)
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


def _holder_lock(api_key_id: uuid.UUID, key: str) -> str:
    """The advisory lock the working transaction of (API key, key) holds."""
    return f"idempotency:{api_key_id}:{key}"


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
    """Claim `key` for this request (committed at once), or answer from what is stored."""
    records = IdempotencyRepository(session)
    token = uuid.uuid4()
    record_id = uuid.uuid4()
    inserted = await records.insert_if_absent(
        {
            "id": record_id,
            "api_key_id": api_key_id,
            "key": key,
            "request_hash": request_hash,
            "status": IdempotencyStatus.in_progress,
            "claim_token": token,
            "locked_until": now + lock,
            "created_at": now,
        },
    )
    await session.commit()
    if inserted:
        return Claim(record_id=record_id, token=token)

    record = await records.find(api_key_id, key)
    if record is None:  # released between our insert and this read: the caller may retry
        await session.commit()
        raise IdempotencyInProgress(
            "The first request with this Idempotency-Key just ended; retry."
        )
    if record.request_hash != request_hash:
        await session.commit()
        raise Unprocessable(
            "This Idempotency-Key was used for a different request; use a new key.",
            code="idempotency_key_reused",
        )
    if record.status is IdempotencyStatus.completed:
        await session.commit()
        return _replay(record)
    # Still in progress: take it over if the holder's lock has run out, or if nobody works
    # under it any more (see the module docstring).
    took_over = await records.take_over(record.id, token, now=now, until=now + lock)
    if (
        not took_over
        and now - record.created_at >= HOLDER_GRACE
        and await locking.is_free(session, _holder_lock(api_key_id, key))
    ):
        # As of the claim's own expiry: a takeover meanwhile moved it, and then wins.
        took_over = await records.take_over(
            record.id, token, now=record.locked_until, until=now + lock
        )
    await session.commit()
    if not took_over:
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


async def release(session: AsyncSession, claim_: Claim) -> None:
    """Give the key back after a failed attempt (in a transaction of its own)."""
    await session.rollback()
    await IdempotencyRepository(session).delete_claim(claim_.record_id, claim_.token)
    await session.commit()


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
    try:
        await locking.take_turns(session, _holder_lock(api_key_id, key))
        response = await work()
        await complete(session, outcome, response, now)
    except Exception as exc:
        if not isinstance(database_fault(exc), DatabaseUnavailable):
            await _release_quietly(session, outcome)
        raise
    return response


async def _release_quietly(session: AsyncSession, claim_: Claim) -> None:
    """`release`, best effort: if it fails, the claim waits for a retry to take it over."""
    try:
        async with asyncio.timeout(RELEASE_TIMEOUT_S):
            await release(session, claim_)
    except Exception:
        logger.warning("could not release an Idempotency-Key claim", exc_info=True)


async def purge(session: AsyncSession, *, older_than: datetime) -> int:
    """Delete stored answers (and abandoned claims) created before `older_than`."""
    return await IdempotencyRepository(session).purge(older_than)
