from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.orm import Base, TimestampedMixin, utcnow
from app.core.types import json_document, str_enum
from app.models.product import Unit


class OrderStatus(StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    fulfilled = "fulfilled"
    cancelled = "cancelled"


class OrderChannel(StrEnum):
    event = "event"
    online = "online"
    partner = "partner"


class Order(TimestampedMixin, Base):
    """An order placed by a tourist through an app, a booth or a partner shop."""

    __tablename__ = "orders"

    number: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[OrderStatus] = mapped_column(
        str_enum(OrderStatus, "order_status"), default=OrderStatus.pending
    )
    channel: Mapped[OrderChannel] = mapped_column(str_enum(OrderChannel, "order_channel"))
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("events.id", ondelete="RESTRICT"))
    placed_by_key_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_keys.id", ondelete="RESTRICT")
    )
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_phone: Mapped[str] = mapped_column(String(30))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    customer_country: Mapped[str | None] = mapped_column(String(2))
    note: Mapped[str | None] = mapped_column(Text)
    # The placing partner's own id for the order: one order per (key, reference).
    reference: Mapped[str | None] = mapped_column(String(200))
    # The partner's own string pairs (`metadata` is the declarative base's own attribute).
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", json_document(), default=dict)
    total_vnd: Mapped[int] = mapped_column(BigInteger)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", lazy="raise", order_by="OrderLine.position"
    )
    history: Mapped[list[OrderStatusChange]] = relationship(
        lazy="raise", order_by="(OrderStatusChange.at, OrderStatusChange.id)"
    )

    __table_args__ = (
        CheckConstraint("total_vnd >= 0", name="total_not_negative"),
        Index("ix_orders_created_at_id", "created_at", "id"),
        Index("ix_orders_event_id_status", "event_id", "status"),
        Index("ix_orders_placed_by_key_id_created_at", "placed_by_key_id", "created_at"),
        # Reference first: it serves `?reference=` for admins (every key) as for partners.
        UniqueConstraint("reference", "placed_by_key_id"),
        # The change feed: everyone's (admins, owners) and a partner's own.
        Index("ix_orders_updated_at_id", "updated_at", "id"),
        Index("ix_orders_placed_by_key_id_updated_at_id", "placed_by_key_id", "updated_at", "id"),
    )


class OrderLine(Base):
    """One product of an order, with the name, unit and price as they were when ordered."""

    __tablename__ = "order_lines"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    # The owner at the time of the order: what it sold stays its sale.
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("owners.id", ondelete="RESTRICT"))
    product_name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[Unit] = mapped_column(str_enum(Unit, "order_line_unit"))
    quantity: Mapped[Decimal]
    # How much of the product's stock this line took when the order was placed: its quantity
    # if the stock was tracked then, else 0. A cancel gives back exactly this, whatever the
    # product's stock has become since (tracked, recounted or untracked).
    stock_taken: Mapped[Decimal]
    unit_price_vnd: Mapped[int] = mapped_column(BigInteger)
    line_total_vnd: Mapped[int] = mapped_column(BigInteger)

    order: Mapped[Order] = relationship(back_populates="lines", lazy="raise")

    __table_args__ = (
        UniqueConstraint("order_id", "product_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("stock_taken >= 0 AND stock_taken <= quantity", name="stock_taken_range"),
        CheckConstraint("unit_price_vnd >= 0", name="unit_price_not_negative"),
        CheckConstraint("line_total_vnd >= 0", name="line_total_not_negative"),
        Index("ix_order_lines_product_id", "product_id"),
        Index("ix_order_lines_owner_id_order_id", "owner_id", "order_id"),
    )


class OrderStatusChange(Base):
    """Every change of an order's status, with its time and the key that made it."""

    __tablename__ = "order_status_changes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[OrderStatus | None] = mapped_column(
        str_enum(OrderStatus, "order_change_from")
    )
    to_status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus, "order_change_to"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
