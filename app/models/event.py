from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Connection,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from app.core.orm import Base, TimestampedMixin
from app.core.text import FOLD_GROWTH, fold
from app.core.types import json_document, str_enum
from app.models.product import Product


class EventKind(StrEnum):
    festival = "festival"
    trade_fair = "trade_fair"
    exhibition = "exhibition"
    product_week = "product_week"
    other = "other"


class EventStatus(StrEnum):
    """Derived from the clock (scheduled, ongoing, ended) unless cancelled; never stored."""

    scheduled = "scheduled"
    ongoing = "ongoing"
    ended = "ended"
    cancelled = "cancelled"


class Event(TimestampedMixin, Base):
    """A festival, trade fair, exhibition or product week where OCOP products are sold."""

    __tablename__ = "events"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind, "event_kind"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    venue: Mapped[str | None] = mapped_column(String(300))
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
    description: Mapped[str | None] = mapped_column(Text)
    translations: Mapped[dict[str, Any]] = mapped_column(json_document(), default=dict)
    cancelled_at: Mapped[datetime | None]
    sort_name: Mapped[str] = mapped_column(String(200 * FOLD_GROWTH))  # fold(name)
    search_text: Mapped[str] = mapped_column(Text)
    commune_key: Mapped[str] = mapped_column(String(100 * FOLD_GROWTH))

    external_refs: Mapped[list[EventExternalRef]] = relationship(
        back_populates="event",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="(EventExternalRef.system, EventExternalRef.external_id)",
    )

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        Index("ix_events_starts_at_id", "starts_at", "id"),
        Index("ix_events_updated_at_id", "updated_at", "id"),  # the change feed
        Index("ix_events_ends_at", "ends_at"),
        Index("ix_events_commune_key", "commune_key"),
        Index("ix_events_commune_code", "commune_code"),
    )

    def status_at(self, now: datetime) -> EventStatus:
        """The status at `now`: cancelled if cancelled, else by the clock."""
        if self.cancelled_at is not None:
            return EventStatus.cancelled
        if now < self.starts_at:
            return EventStatus.scheduled
        if now < self.ends_at:
            return EventStatus.ongoing
        return EventStatus.ended

    def derive_keys(self) -> None:
        names = [self.name]
        for translation in (self.translations or {}).values():
            if isinstance(translation, dict) and isinstance(translation.get("name"), str):
                names.append(translation["name"])
        self.sort_name = fold(self.name)
        self.search_text = fold(" ".join([*names, self.venue or ""]))
        self.commune_key = fold(self.commune)


@event.listens_for(Event, "before_insert")
@event.listens_for(Event, "before_update")
def _derive_event_keys(_mapper: Mapper[Event], _connection: Connection, target: Event) -> None:
    target.derive_keys()


class EventExternalRef(Base):
    """The id of an event in a ticketing system; a (system, id) pair names one event only."""

    __tablename__ = "event_external_refs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    system: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str] = mapped_column(String(200))

    event: Mapped[Event] = relationship(back_populates="external_refs", lazy="raise")

    __table_args__ = (UniqueConstraint("system", "external_id"),)


class EventProduct(TimestampedMixin, Base):
    """A product shown and sold at an event: its booth and, optionally, a festival price."""

    __tablename__ = "event_products"

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    booth: Mapped[str | None] = mapped_column(String(50))
    event_price_vnd: Mapped[int | None] = mapped_column(BigInteger)
    product_created_at: Mapped[datetime] = mapped_column()
    """The product's `created_at` (which never changes), written with the entry: the event's
    newest-first catalogue page walks its entries in this order and stops at a page."""

    product: Mapped[Product] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("event_id", "product_id"),
        CheckConstraint("event_price_vnd >= 0", name="event_price_not_negative"),
        Index("ix_event_products_product_id", "product_id"),
        Index(
            "ix_event_products_event_id_product_created_at_product_id",
            "event_id",
            "product_created_at",
            "product_id",
        ),
    )


@event.listens_for(EventProduct, "before_insert")
def _copy_product_created_at(
    _mapper: Mapper[EventProduct], connection: Connection, target: EventProduct
) -> None:
    if target.product_created_at is not None:
        return
    product = target.__dict__.get("product")  # given to the constructor, or not loaded
    if product is not None and product.created_at is not None:
        target.product_created_at = product.created_at
        return
    # None for a product that does not exist: the database refuses the row.
    target.product_created_at = connection.scalar(
        select(Product.created_at).where(Product.id == target.product_id)
    )
