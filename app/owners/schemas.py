from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.pagination import PageQuery
from app.core.schemas import (
    DEFAULT_PROVINCE,
    Email,
    InputModel,
    LongText,
    Name,
    Omittable,
    Phone,
    Place,
    PlaceQuery,
    SearchText,
    ShortText,
    Timestamp,
    Url,
)
from app.geography.schemas import (
    CommuneCode,
    CommuneName,
    CommuneShortName,
    ProvinceCode,
    ProvinceName,
)
from app.models.owner import OwnerKind, OwnerStatus


class OwnerRef(BaseModel):
    """An owner in brief, inside another resource (a product, an event entry)."""

    id: uuid.UUID = Field(description="The owner's id.")
    name: str = Field(description="The owner's name.")


class OwnerFields(InputModel):
    representative: Name | None = Field(
        default=None, description="The person who represents the owner (director, head)."
    )
    phone: Phone | None = Field(default=None, description="Contact phone number.")
    email: Email | None = Field(default=None, description="Contact e-mail address.")
    address: ShortText | None = Field(default=None, description="Postal address.")
    website: Url | None = Field(default=None, description="Web site (http or https).")
    description: LongText | None = Field(default=None, description="Free text about the owner.")


class OwnerCreate(OwnerFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Hợp tác xã Nông nghiệp Bắc Sơn",
                    "kind": "cooperative",
                    "commune": "Bắc Sơn",
                    "province": "Lạng Sơn",
                    "representative": "Hoàng Văn Lâm",
                    "phone": "+84 205 3837 123",
                    "email": "htx.bacson@example.vn",
                    "address": "Thôn Đồng Tiến, xã Bắc Sơn, tỉnh Lạng Sơn",
                    "website": "https://quytbacson.example.vn",
                    "description": "Trồng và tiêu thụ quýt vàng Bắc Sơn theo tiêu chuẩn VietGAP.",
                }
            ]
        }
    )

    name: Name = Field(description="Name in Vietnamese, e.g. `Công ty TNHH MTV Ngọc Quế`.")
    kind: OwnerKind = Field(description="company, cooperative, household or community.")
    commune: Place = Field(
        description="Commune (xã/phường): its code (`06385`) or its name, accents and "
        "`xã`/`phường` optional (`Hữu Lũng`), looked up in `province`; stored as its official "
        "name."
    )
    province: Place = Field(
        default=DEFAULT_PROVINCE,
        description="Province: its code (`20`) or its name (`Lạng Sơn`); stored as its "
        "official name.",
    )


class OwnerUpdate(OwnerFields):
    """Fields to change; absent fields stay as they are, null clears an optional field."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"phone": "+84 912 345 678", "representative": "Lương Thị Mai"}]
        }
    )

    # Required fields may be left out but not cleared: null is outside their schema.
    name: Omittable[Name] = Field(default=None, description="New name.")
    kind: Omittable[OwnerKind] = Field(default=None, description="New kind.")
    commune: Omittable[Place] = Field(default=None, description="New commune.")
    province: Omittable[Place] = Field(default=None, description="New province.")

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
    commune: CommuneShortName
    commune_code: CommuneCode
    commune_name: CommuneName
    province: ProvinceName
    province_code: ProvinceCode
    representative: str | None
    phone: str | None
    email: str | None
    address: str | None
    website: str | None
    description: str | None
    status: OwnerStatus = Field(description="active, or inactive once deactivated by an admin.")
    created_at: Timestamp
    updated_at: Timestamp


class OwnerQuery(PageQuery):
    """`GET /v1/owners`: the filters (all combine), with the page."""

    kind: OwnerKind | None = Field(default=None, description="Only owners of this kind.")
    commune: PlaceQuery | None = Field(
        default=None,
        description="Only owners of this commune: its code (`06385`) or its name, accents and "
        "`xã`/`phường` optional, looked up in `province` (default `Lạng Sơn`).",
    )
    province: PlaceQuery | None = Field(
        default=None,
        description="Only owners of this province: its code (`20`) or its name, accents optional.",
    )
    q: SearchText | None = Field(
        default=None, description="Words in the name or representative; accents optional."
    )
    status: OwnerStatus = Field(
        default=OwnerStatus.active, description="active (the default) or inactive."
    )
