"""event sales sums per (event, local day, product), kept as orders are placed and cancelled

An event's sales report summed every line of every counted order on each request: 10 ms with a
few thousand orders, 2.8 s with 800,000. `event_sales` holds those sums per event, local day
(the province's zone, `OCOP_TIMEZONE`), product and what a line keeps as it was ordered (owner,
unit, product name): counted lines, quantity (thousandths, as order lines hold it), revenue,
and two counts that make each order count once in a sum over rows (on its first line) and once
per owner (on that owner's first line). The transaction that places an event order adds its
lines; the one that cancels it takes them back; the report reads these rows, as many as the
event's products times its days, however many orders it had.

Backfill: the sums of the orders already there that the report counts (every order of an
event that is not cancelled), computed here in SQL from their lines, the local day by the
same rule the application uses (PostgreSQL with the zone's rules; SQLite with its current UTC
offset, exact for Asia/Ho_Chi_Minh, which has no daylight saving time).

Revision ID: 3c8f5e1a7d20
Revises: 4c8e1f2a9d37
Create Date: 2026-12-02 03:00:00.000000+00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import app.core.types
from app.core.config import get_settings

revision: str = "3c8f5e1a7d20"
down_revision: str | None = "4c8e1f2a9d37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNITS = ("kg", "g", "l", "box", "bag", "bottle", "jar", "piece", "ticket", "visit")


def _local_day(dialect: str, column: str) -> str:
    """The local date of a UTC timestamp column in the province's zone, as SQL."""
    zone = get_settings().timezone
    if dialect == "postgresql":
        return f"CAST(timezone('{zone}', {column}) AS DATE)"
    offset = ZoneInfo(zone).utcoffset(datetime.now(UTC))
    minutes = int(offset.total_seconds() // 60) if offset else 0
    return f"date({column}, '{minutes:+d} minutes')"


def upgrade() -> None:
    op.create_table(
        "event_sales",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column(
            "unit",
            sa.Enum(
                *UNITS,
                name="event_sales_unit",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("quantity", app.core.types.Quantity(), nullable=False),
        sa.Column("revenue_vnd", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("owner_orders", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_sales_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["owners.id"],
            name=op.f("fk_event_sales_owner_id_owners"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_event_sales_product_id_products"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "event_id",
            "day",
            "product_id",
            "owner_id",
            "unit",
            "product_name",
            name=op.f("pk_event_sales"),
        ),
    )
    day = _local_day(op.get_bind().dialect.name, "o.created_at")
    first = "SELECT min(f.position) FROM order_lines f WHERE f.order_id = l.order_id"
    op.execute(
        f"""
        INSERT INTO event_sales (event_id, day, product_id, owner_id, unit, product_name,
                                 lines, quantity, revenue_vnd, orders, owner_orders)
        SELECT o.event_id, {day}, l.product_id, l.owner_id, l.unit, l.product_name,
               count(*), sum(l.quantity), sum(l.line_total_vnd),
               sum(CASE WHEN l.position = ({first}) THEN 1 ELSE 0 END),
               sum(CASE WHEN l.position = ({first} AND f.owner_id = l.owner_id) THEN 1 ELSE 0 END)
        FROM order_lines l JOIN orders o ON o.id = l.order_id
        WHERE o.event_id IS NOT NULL AND o.status <> 'cancelled'
        GROUP BY o.event_id, {day}, l.product_id, l.owner_id, l.unit, l.product_name
        """
    )


def downgrade() -> None:
    op.drop_table("event_sales")
