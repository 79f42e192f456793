from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.core.schemas import NFC, NOT_BLANK, InputModel, Timestamp, trim
from app.models.api_key import Role

KeyName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK),
    AfterValidator(trim),
    NFC,
]


class _KeyCreate(InputModel):
    name: KeyName = Field(description="Who or what uses the key, e.g. `Bac Son booth app`.")


class AdminKeyCreate(_KeyCreate):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Sở Công Thương Lạng Sơn", "role": "admin"}]}
    )

    role: Literal[Role.admin] = Field(description="admin: the provincial department.")


class PartnerKeyCreate(_KeyCreate):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Ticketbox - Mùa vàng Bắc Sơn", "role": "partner"}]
        }
    )

    role: Literal[Role.partner] = Field(description="partner: an integration that places orders.")


class OwnerKeyCreate(_KeyCreate):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Quầy trà Ngọc Quế",
                    "role": "owner",
                    "owner_id": "3b0e6f2c-8d4a-4c1e-9f57-2a6d8e1b4c90",
                }
            ]
        }
    )

    role: Literal[Role.owner] = Field(description="owner: bound to one owner.")
    owner_id: uuid.UUID = Field(description="The owner this key acts for.")


ApiKeyCreate = Annotated[
    AdminKeyCreate | OwnerKeyCreate | PartnerKeyCreate, Field(discriminator="role")
]


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    role: Role
    owner_id: uuid.UUID | None
    prefix: str = Field(description="The key's public prefix (`ocop_<prefix>_...`).")
    created_at: Timestamp
    last_used_at: Timestamp | None
    revoked_at: Timestamp | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret key. Shown this once only; store it safely.")


class EventGrantRead(BaseModel):
    """A partner key's grant on an event: the key may link the event's external ids
    (`PATCH /v1/events/{id}` with `external_refs` only), read its sales report and hear its
    `event.updated` webhooks."""

    model_config = ConfigDict(from_attributes=True)

    api_key_id: uuid.UUID = Field(description="The partner key.")
    event_id: uuid.UUID = Field(description="The event (festival, fair) it was granted.")
    granted_by_key_id: uuid.UUID | None = Field(
        description="The admin key that granted it; null when granted with `ocop keys grant`."
    )
    created_at: Timestamp = Field(description="When it was granted.")
