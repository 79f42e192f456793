"""Idempotency records: claim, take over, store the answer, release, purge."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update

from app.core import direct, upsert
from app.core.repository import Repository
from app.models.idempotency import IdempotencyRecord, IdempotencyStatus

_in_progress = IdempotencyRecord.status == IdempotencyStatus.in_progress
_records: Any = IdempotencyRecord.__table__
_CLAIMED = (
    "id",
    "api_key_id",
    "key",
    "request_hash",
    "status",
    "claim_token",
    "locked_until",
    "created_at",
)
# A key already claimed is no error, but no row.
_CLAIM = direct.Prepared(
    upsert.insert(_records)
    .values(direct.bound_columns(_records, *_CLAIMED))
    .on_conflict_do_nothing(index_elements=["api_key_id", "key"])
    .returning(_records.c.id)
)
_ANSWER = direct.Prepared(
    update(_records)
    .where(
        _records.c.id == bindparam("record_id"),
        _records.c.claim_token == bindparam("token"),
        _in_progress,
    )
    .values(
        status=IdempotencyStatus.completed,
        response_status=bindparam("response_status"),
        response_headers=bindparam("response_headers"),
        response_body=bindparam("response_body"),
        completed_at=bindparam("completed_at"),
    )
    .returning(_records.c.id)
)


class IdempotencyRepository(Repository[IdempotencyRecord]):
    model = IdempotencyRecord
    noun = "idempotency record"

    async def insert_if_absent(self, **values: Any) -> bool:
        """Insert the record unless (api key, key) is taken; whether it was inserted."""
        return bool(await direct.rows(self.session, _CLAIM, **values))

    async def find(self, api_key_id: uuid.UUID, key: str) -> IdempotencyRecord | None:
        return await self.session.scalar(
            select(IdempotencyRecord)
            .where(IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key)
            .execution_options(populate_existing=True)
        )

    async def take_over(
        self, record_id: uuid.UUID, token: uuid.UUID, *, now: datetime, until: datetime
    ) -> bool:
        """Give an in-progress claim whose lock ran out to `token`; whether it was."""
        result = await self.session.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.id == record_id,
                _in_progress,
                IdempotencyRecord.locked_until <= now,
            )
            .values(claim_token=token, locked_until=until)
            .returning(IdempotencyRecord.id)
        )
        return result.first() is not None

    async def store_answer(
        self,
        record_id: uuid.UUID,
        token: uuid.UUID,
        *,
        status: int,
        headers: dict[str, str],
        body: str,
        now: datetime,
    ) -> bool:
        """Complete the claim held by `token` with the answer; False if it is not held."""
        stored = await direct.rows(
            self.session,
            _ANSWER,
            record_id=record_id,
            token=token,
            response_status=status,
            response_headers=headers,
            response_body=body,
            completed_at=now,
        )
        return bool(stored)

    async def purge(self, older_than: datetime) -> int:
        result = await self.session.execute(
            delete(IdempotencyRecord)
            .where(IdempotencyRecord.created_at < older_than)
            .where(
                or_(
                    IdempotencyRecord.status == IdempotencyStatus.completed,
                    IdempotencyRecord.locked_until < older_than,
                )
            )
            .returning(IdempotencyRecord.id)
        )
        return len(result.all())
