from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Connection, Index, String, Text, event
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from app.core.orm import Base, TimestampedMixin
from app.core.text import FOLD_GROWTH, fold
from app.core.types import str_enum


class OwnerKind(StrEnum):
    company = "company"
    cooperative = "cooperative"
    household = "household"
    community = "community"


class OwnerStatus(StrEnum):
    active = "active"
    inactive = "inactive"


class Owner(TimestampedMixin, Base):
    """An OCOP subject: the company, cooperative, household or community behind products."""

    __tablename__ = "owners"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OwnerKind] = mapped_column(str_enum(OwnerKind, "owner_kind"))
    commune: Mapped[str] = mapped_column(String(100))
    # Where the row is, as app.geography resolves it on write: `commune` is the commune's
    # official name without its kind ("Hữu Lũng"), `commune_name` with it ("Xã Hữu Lũng"),
    # `province` the province's official name. The codes and `commune_name` are None only on
    # rows written before codes existed whose free text names no commune, or several.
    commune_code: Mapped[str | None] = mapped_column(String(5))
    commune_name: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str] = mapped_column(String(100))
    province_code: Mapped[str | None] = mapped_column(String(2))
    representative: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[OwnerStatus] = mapped_column(
        str_enum(OwnerStatus, "owner_status"),
        default=OwnerStatus.active,
    )
    # Folded copies (app.core.text.fold), kept by the mapper events below, for diacritic-
    # insensitive filters, search and sorting.
    sort_name: Mapped[str] = mapped_column(String(200 * FOLD_GROWTH))  # fold(name)
    search_text: Mapped[str] = mapped_column(Text)
    commune_key: Mapped[str] = mapped_column(String(100 * FOLD_GROWTH))
    province_key: Mapped[str] = mapped_column(String(100 * FOLD_GROWTH))

    __table_args__ = (
        Index("ix_owners_sort_name_id", "sort_name", "id"),
        Index("ix_owners_commune_key", "commune_key"),
        Index("ix_owners_commune_code", "commune_code"),
        Index("ix_owners_province_code", "province_code"),
        Index("ix_owners_province_key", "province_key"),
        # PostgreSQL only (see migrations/env.py): trigram index for `LIKE '%term%'` search.
        Index(
            "ix_owners_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            info={"postgresql_only": True},
        ),
    )

    def searchable(self) -> str:
        """What a search matches of the owner (its products' search text ends with it)."""
        return fold(" ".join(filter(None, [self.name, self.representative])))

    def derive_keys(self) -> None:
        self.sort_name = fold(self.name)
        self.search_text = self.searchable()
        self.commune_key = fold(self.commune)
        self.province_key = fold(self.province)


@event.listens_for(Owner, "before_insert")
@event.listens_for(Owner, "before_update")
def _derive_keys(_mapper: Mapper[Owner], _connection: Connection, target: Owner) -> None:
    target.derive_keys()
