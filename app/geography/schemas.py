"""Provinces and communes as the API shows them, and the filters of their lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.core.pagination import PageQuery
from app.core.schemas import SearchText
from app.models.geography import CommuneKind, ProvinceKind


class ProvinceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="The province's official two-digit code: `20` is Lạng Sơn.")
    name: str = Field(description="The official Vietnamese name: `Lạng Sơn`, `Thành phố Hà Nội`.")
    kind: ProvinceKind = Field(description="`tỉnh` (province) or `thành phố trung ương` (city).")
    codename: str = Field(description="The name in ASCII, as an identifier: `lang_son`.")


class CommuneRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="The commune's official five-digit code: `06385`.")
    name: str = Field(description="The official Vietnamese name, kind included: `Xã Hữu Lũng`.")
    kind: CommuneKind = Field(
        description="`xã` (commune), `phường` (ward) or `đặc khu` (special zone)."
    )
    codename: str = Field(description="The name in ASCII, as an identifier: `xa_huu_lung`.")
    province_code: str = Field(description="The code of the province the commune belongs to.")


_UNRESOLVED = (
    " Null only on a row written before codes existed whose commune names no commune, or "
    "several (`ocop geography report` lists them)."
)
CommuneShortName = Annotated[
    str,
    Field(
        description="The commune's official name without its kind (`Hữu Lũng`), as the API "
        "stored it from the code or name it was given; on a row written before codes existed "
        "whose commune names none, the text as it was written."
    ),
]
CommuneCode = Annotated[
    str | None,
    Field(description="The commune's official five-digit code: `06385`." + _UNRESOLVED),
]
CommuneName = Annotated[
    str | None,
    Field(
        description="The commune's official Vietnamese name, kind included: `Xã Hữu Lũng` "
        "(the official list has no English names)." + _UNRESOLVED
    ),
]
ProvinceName = Annotated[str, Field(description="The province's official name: `Lạng Sơn`.")]
ProvinceCode = Annotated[
    str | None,
    Field(description="The province's official two-digit code: `20`." + _UNRESOLVED),
]


@dataclass(frozen=True)
class PlaceFilter:
    """A list's `commune` and `province` filters as the codes they name (None: no filter)."""

    commune_code: str | None = None
    province_code: str | None = None


class CommuneCandidate(BaseModel):
    """A commune a name could mean, in a 422 answer to an unknown or ambiguous name."""

    code: str
    name: str
    province_code: str
    province_name: str


class ProvinceQuery(PageQuery):
    """`GET /v1/geography/provinces`: by code, with the page."""

    q: SearchText | None = Field(default=None, description="Words in the name; accents optional.")


class CommuneQuery(PageQuery):
    """`GET /v1/geography/provinces/{code}/communes`: by code, with the page."""

    q: SearchText | None = Field(default=None, description="Words in the name; accents optional.")
    kind: CommuneKind | None = Field(default=None, description="Only communes of this kind.")
