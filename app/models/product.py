from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Connection,
    Date,
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column, object_session, relationship
from sqlalchemy.orm.util import identity_key

from app.core.orm import Base, TimestampedMixin
from app.core.text import FOLD_GROWTH, fold
from app.core.types import json_document, str_enum
from app.models.owner import Owner


class ProductGroup(StrEnum):
    """The six OCOP product groups of Decision 148/QĐ-TTg (2023)."""

    food = "food"
    beverage = "beverage"
    herbal = "herbal"
    handicraft = "handicraft"
    flora_fauna = "flora_fauna"
    tourism = "tourism"


class Unit(StrEnum):
    kg = "kg"
    g = "g"
    l = "l"  # noqa: E741 (litre)
    box = "box"
    bag = "bag"
    bottle = "bottle"
    jar = "jar"
    piece = "piece"
    ticket = "ticket"
    visit = "visit"

    @property
    def kilograms(self) -> Decimal | None:
        """How many kilograms one unit weighs, for weight units; else None."""
        return {"kg": Decimal(1), "g": Decimal("0.001")}.get(self.value)


class ProductStatus(StrEnum):
    active = "active"
    archived = "archived"


class CertificateLevel(StrEnum):
    provincial = "provincial"
    central = "central"


class Product(TimestampedMixin, Base):
    """An OCOP product (or tourism service) of one owner."""

    __tablename__ = "products"

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("owners.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # {"en": {"name": "...", "description": "..."}, "zh": {...}}
    translations: Mapped[dict[str, Any]] = mapped_column(json_document(), default=dict)
    group: Mapped[ProductGroup] = mapped_column(str_enum(ProductGroup, "product_group"))
    subgroup: Mapped[str | None] = mapped_column(String(100))
    unit: Mapped[Unit] = mapped_column(str_enum(Unit, "product_unit"))
    unit_step: Mapped[Decimal]
    price_vnd: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[Decimal | None]  # None: not tracked (a tourism site, say)
    commune: Mapped[str] = mapped_column(String(100))
    # Where the row is, as app.geography resolves it on write: `commune` is the commune's
    # official name without its kind ("Hữu Lũng"), `commune_name` with it ("Xã Hữu Lũng"),
    # `province` the province's official name. The codes and `commune_name` are None only on
    # rows written before codes existed whose free text names no commune, or several.
    commune_code: Mapped[str | None] = mapped_column(String(5))
    commune_name: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str] = mapped_column(String(100))
    province_code: Mapped[str | None] = mapped_column(String(2))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    status: Mapped[ProductStatus] = mapped_column(
        str_enum(ProductStatus, "product_status"), default=ProductStatus.active
    )
    # [{"url": "https://...", "alt": {"vi": "...", "en": "..."}}], in display order (at most a
    # few, always read with the product: a column rather than a table).
    images: Mapped[list[dict[str, Any]]] = mapped_column(json_document(), default=list)
    # Folded copies (app.core.text.fold), kept by the mapper events below.
    sort_name: Mapped[str] = mapped_column(String(200 * FOLD_GROWTH))  # fold(name)
    search_text: Mapped[str] = mapped_column(Text)
    commune_key: Mapped[str] = mapped_column(String(100 * FOLD_GROWTH))
    # The product's stars by `app.products.stars.current_stars`, stored, and the days
    # [stars_from, stars_until] during which that answer holds; kept by certificate writes and
    # refreshed as days pass (app.products.stars).
    # Deferred: reads select them as SQL (`shown_stars`), never load them into the entity.
    stars: Mapped[int | None] = mapped_column(SmallInteger, deferred=True)
    stars_from: Mapped[date] = mapped_column(Date, default=date(1, 1, 1), deferred=True)
    stars_until: Mapped[date] = mapped_column(Date, default=date(9999, 12, 31), deferred=True)

    owner: Mapped[Owner] = relationship(lazy="raise")
    certificates: Mapped[list[Certificate]] = relationship(
        back_populates="product", lazy="raise", order_by="Certificate.issued_on"
    )
    external_refs: Mapped[list[ProductExternalRef]] = relationship(
        back_populates="product",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="(ProductExternalRef.system, ProductExternalRef.external_id)",
    )

    __table_args__ = (
        CheckConstraint("price_vnd >= 0", name="price_not_negative"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("unit_step > 0", name="unit_step_positive"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        Index("ix_products_owner_id", "owner_id"),
        Index("ix_products_status_created_at_id", "status", "created_at", "id"),
        Index("ix_products_updated_at_id", "updated_at", "id"),  # the change feed
        Index("ix_products_sort_name_id", "sort_name", "id"),
        Index("ix_products_price_vnd_id", "price_vnd", "id"),
        Index("ix_products_commune_key", "commune_key"),
        Index("ix_products_commune_code", "commune_code"),
        Index("ix_products_group", "group"),
        # The certified catalogue newest first (`certified=true`, `min_stars`): a walk of the
        # whole catalogue would pass every newer uncertified product first, new products being
        # the ones least often certified yet.
        Index(
            "ix_products_certified_created_at_id",
            "created_at",
            "id",
            postgresql_where=text("status = 'active' AND stars IS NOT NULL"),
            sqlite_where=text("status = 'active' AND stars IS NOT NULL"),
        ),
        # `min_stars=4` and 5 newest first: the rows they read and no other, where the
        # planner cannot tell which of the two walks above passes fewer rows.
        Index(
            "ix_products_four_stars_created_at_id",
            "created_at",
            "id",
            postgresql_where=text("status = 'active' AND stars >= 4"),
            sqlite_where=text("status = 'active' AND stars >= 4"),
        ),
        # Rows whose stored stars lapse (app.products.stars.lapsed): few, found by range scans.
        Index("ix_products_stars_from", "stars_from"),
        Index("ix_products_stars_until", "stars_until"),
        # PostgreSQL only (see migrations/env.py): `sort=stars` read in index order.
        Index(
            "ix_products_star_rank_sort_name_id",
            func.coalesce(text("stars"), 0).desc(),
            "sort_name",
            "id",
            info={"postgresql_only": True},
        ),
        # PostgreSQL only (see migrations/env.py): trigram index for `LIKE '%term%'` search.
        Index(
            "ix_products_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            info={"postgresql_only": True},
        ),
    )

    def derive_keys(self, owner_text: str | None) -> None:
        """The folded copies; `search_text` too when given the owner's (`Owner.search_text`):
        the product's names, then its owner's name and representative, so that one match on
        one column finds a product by either."""
        self.sort_name = fold(self.name)
        self.commune_key = fold(self.commune)
        if owner_text is None:
            return
        names = [self.name]
        for translation in (self.translations or {}).values():
            if isinstance(translation, dict) and isinstance(translation.get("name"), str):
                names.append(translation["name"])
        self.search_text = f"{fold(' '.join(names))} {owner_text}"


_SEARCHED = ("name", "translations", "owner_id")
"""What a product's `search_text` is made of (with its owner's, which the owner keeps)."""


def _owner_text(connection: Connection, target: Product) -> str:
    """The owner's search text, from the session's copy when it holds one (as it does when the
    owner was just checked or written), else from the database."""
    session = object_session(target)
    key = identity_key(Owner, target.owner_id)
    owner = session.identity_map.get(key) if session is not None else None
    if isinstance(owner, Owner) and "name" in owner.__dict__ and "representative" in owner.__dict__:
        return owner.searchable()
    text_ = connection.scalar(select(Owner.search_text).where(Owner.id == target.owner_id))
    return text_ or ""


@event.listens_for(Product, "before_insert")
def _derive_new_product_keys(
    _mapper: Mapper[Product], connection: Connection, target: Product
) -> None:
    target.derive_keys(_owner_text(connection, target))


@event.listens_for(Product, "before_update")
def _derive_product_keys(_mapper: Mapper[Product], connection: Connection, target: Product) -> None:
    state = inspect(target)
    searched = any(state.attrs[name].history.has_changes() for name in _SEARCHED)
    target.derive_keys(_owner_text(connection, target) if searched else None)


class ProductExternalRef(Base):
    """The id of a product in another system (a shop's SKU); a (system, id) pair names one
    product only."""

    __tablename__ = "product_external_refs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    system: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str] = mapped_column(String(200))

    product: Mapped[Product] = relationship(back_populates="external_refs", lazy="raise")

    __table_args__ = (UniqueConstraint("system", "external_id"),)


class Certificate(TimestampedMixin, Base):
    """One OCOP evaluation of a product: its stars, score and validity."""

    __tablename__ = "certificates"

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    stars: Mapped[int] = mapped_column(SmallInteger)
    score: Mapped[int | None] = mapped_column(SmallInteger)  # None: not in the source (an import)
    decision_no: Mapped[str] = mapped_column(String(100))
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    level: Mapped[CertificateLevel | None] = mapped_column(
        str_enum(CertificateLevel, "certificate_level")
    )

    product: Mapped[Product] = relationship(back_populates="certificates", lazy="raise")

    __table_args__ = (
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
        CheckConstraint("valid_until >= issued_on", name="valid_after_issue"),
        Index("ix_certificates_product_id_issued_on", "product_id", "issued_on"),
        Index("ix_certificates_valid_until", "valid_until"),
        # One certificate per product per decision: re-importing a decision adds nothing.
        UniqueConstraint("product_id", "decision_no"),
    )
