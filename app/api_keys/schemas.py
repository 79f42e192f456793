from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.models.api_key import Role


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = (
        Field(description="Who or what uses the key, e.g. `Bac Son festival booth app`.")
    )
    role: Role = Field(description="admin, owner or partner.")
    owner_id: uuid.UUID | None = Field(
        default=None, description="The owner an `owner` key is bound to; only for that role."
    )

    @model_validator(mode="after")
    def _owner_matches_role(self) -> ApiKeyCreate:
        if (self.role is Role.owner) != (self.owner_id is not None):
            raise ValueError("owner_id is required for role owner and not allowed otherwise")
        return self


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    role: Role
    owner_id: uuid.UUID | None
    prefix: str = Field(description="The key's public prefix (`ocop_<prefix>_...`).")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret key. Shown this once only; store it safely.")
