from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.models.owner import OwnerKind, OwnerStatus

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ().-]{6,30}$")]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300, pattern=r"^https?://\S+$")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
LongText = Annotated[str, StringConstraints(max_length=5000)]

DEFAULT_PROVINCE = "Lạng Sơn"


class OwnerFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    representative: Name | None = Field(
        default=None, description="The person who represents the owner (director, head).")
    phone: Phone | None = Field(default=None, description="Contact phone number.")
    email: Email | None = Field(default=None, description="Contact e-mail address.")
    address: ShortText | None = Field(default=None, description="Postal address.")
    website: Url | None = Field(default=None, description="Web site (http or https).")
    description: LongText | None = Field(default=None, description="Free text about the owner.")


class OwnerCreate(OwnerFields):
    name: Name = Field(description="Name in Vietnamese, e.g. `Công ty TNHH MTV Ngọc Quế`.")
    kind: OwnerKind = Field(description="company, cooperative, household or community.")
    commune: Place = Field(description="Commune (xã/phường), e.g. `Hữu Lũng`.")
    province: Place = Field(default=DEFAULT_PROVINCE, description="Province, e.g. `Lạng Sơn`.")


class OwnerUpdate(OwnerFields):
    """Fields to change; absent fields stay as they are, null clears an optional field."""

    name: Name | None = Field(default=None, description="New name.")
    kind: OwnerKind | None = Field(default=None, description="New kind.")
    commune: Place | None = Field(default=None, description="New commune.")
    province: Place | None = Field(default=None, description="New province.")

    @model_validator(mode="after")
    def _required_stay_set(self) -> OwnerUpdate:
        for field in ("name", "kind", "commune", "province"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class OwnerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: OwnerKind
    commune: str
    province: str
    representative: str | None
    phone: str | None
    email: str | None
    address: str | None
    website: str | None
    description: str | None
    status: OwnerStatus = Field(description="active, or inactive once deactivated by an admin.")
    created_at: datetime
    updated_at: datetime
