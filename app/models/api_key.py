from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base, utcnow
from app.core.types import str_enum


class Role(StrEnum):
    admin = "admin"
    owner = "owner"
    partner = "partner"


class ApiKey(Base):
    """An API key. Only a hash of its secret is kept; the prefix finds it."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(str_enum(Role, "api_key_role"))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("owners.id", ondelete="RESTRICT"), index=True
    )
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("(role = 'owner') = (owner_id IS NOT NULL)", name="owner_role_has_owner"),
    )


class EventGrant(Base):
    """An admin's grant to a partner key on one event (festival, fair): the key may link the
    event's external ids, read its sales and hear its changes. Only partner keys hold grants
    (the service sees to it: a key's role never changes)."""

    __tablename__ = "api_key_event_grants"

    api_key_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # The admin key that granted it; null when granted with `ocop keys grant`.
    granted_by_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
