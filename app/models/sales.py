from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.orm import Base
from app.core.types import str_enum
from app.models.product import Unit


class EventSales(Base):
    """What an event's orders sold of one product on one local day (the province's zone), as
    their lines were written: kept in the transaction that places an order and taken back in
    the one that cancels it, so that an event's sales report reads these sums, not every line.

    The key also holds what a line keeps as it was when ordered (owner, unit, name), so that
    the report groups and names exactly as over the lines. A cancelled order's sums are
    subtracted, not deleted: rows whose `lines` are 0 count nothing.
    """

    __tablename__ = "event_sales"

    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id", ondelete="RESTRICT"), primary_key=True
    )
    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("owners.id", ondelete="RESTRICT"), primary_key=True
    )
    unit: Mapped[Unit] = mapped_column(str_enum(Unit, "event_sales_unit"), primary_key=True)
    product_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    # Counted lines: one per order holding the product (one line per product per order).
    lines: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[Decimal]
    revenue_vnd: Mapped[int] = mapped_column(BigInteger)
    # Orders whose first line is this row's: summed over any rows, each order counts once.
    orders: Mapped[int] = mapped_column(Integer)
    # Orders whose first line of this owner is this row's: each order once per owner.
    owner_orders: Mapped[int] = mapped_column(Integer)
