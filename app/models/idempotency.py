"""A client's `Idempotency-Key` and the answer it was given."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base, utcnow
from app.core.types import json_document, str_enum


class IdempotencyStatus(StrEnum):
    in_progress = "in_progress"
    completed = "completed"


class IdempotencyRecord(Base):
    """A client's `Idempotency-Key`, scoped to the API key that sent it, and the answer given.

    Claimed (in_progress) and completed in the transaction of the work, so the stored answer
    exists exactly when the work does, and a concurrent duplicate waits on the unique key for it
    (`app.idempotency.service`).
    """

    __tablename__ = "idempotency_records"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    api_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[IdempotencyStatus] = mapped_column(
        str_enum(IdempotencyStatus, "idempotency_status")
    )
    # Who holds the claim: a takeover after `locked_until` sets a new token, and completing with
    # a stale token fails, so a slow first attempt can never complete alongside its retry.
    claim_token: Mapped[uuid.UUID]
    locked_until: Mapped[datetime]
    response_status: Mapped[int | None] = mapped_column(SmallInteger)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(json_document())
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("api_key_id", "key"),
        Index("ix_idempotency_records_created_at", "created_at"),
    )
