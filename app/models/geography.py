"""Vietnam's administrative geography since 1 July 2025: 34 provinces and their communes.

Reference data, not the API's own: the migration that creates these tables loads them from the
`vietnam-provinces` package (the General Statistics Office's codes), and nothing writes them
after. The district level is gone since the reform: a commune belongs to its province."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base
from app.core.text import FOLD_GROWTH
from app.core.types import str_enum

REFERENCE = {"reference": True}
"""`Table.info` of reference tables: loaded by a migration, never emptied by the test suite."""


class ProvinceKind(StrEnum):
    province = "tỉnh"
    city = "thành phố trung ương"


class CommuneKind(StrEnum):
    commune = "xã"
    ward = "phường"
    special_zone = "đặc khu"


class Province(Base):
    __tablename__ = "provinces"
    __table_args__ = (
        Index("ix_provinces_name_key", "name_key"),
        {"info": REFERENCE},
    )

    code: Mapped[str] = mapped_column(String(2), primary_key=True)  # "20": Lạng Sơn
    name: Mapped[str] = mapped_column(String(100))  # "Lạng Sơn", "Thành phố Hà Nội"
    kind: Mapped[ProvinceKind] = mapped_column(str_enum(ProvinceKind, "province_kind"))
    codename: Mapped[str] = mapped_column(String(100))  # "lang_son"
    name_key: Mapped[str] = mapped_column(String(100 * FOLD_GROWTH))  # fold(name)


class Commune(Base):
    """A commune (xã), ward (phường) or special zone (đặc khu)."""

    __tablename__ = "communes"
    __table_args__ = (
        Index("ix_communes_province_code_code", "province_code", "code"),
        Index("ix_communes_short_key", "short_key"),
        {"info": REFERENCE},
    )

    code: Mapped[str] = mapped_column(String(5), primary_key=True)  # "06001"
    name: Mapped[str] = mapped_column(String(100))  # "Xã Hữu Lũng"
    kind: Mapped[CommuneKind] = mapped_column(str_enum(CommuneKind, "commune_kind"))
    codename: Mapped[str] = mapped_column(String(100))  # "xa_huu_lung"
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"))
    name_key: Mapped[str] = mapped_column(String(100 * FOLD_GROWTH))  # fold(name)
    # fold(name) without its kind: "huu lung", what a name given without "xã" folds to.
    short_key: Mapped[str] = mapped_column(String(100 * FOLD_GROWTH))
