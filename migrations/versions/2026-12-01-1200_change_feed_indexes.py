"""change feed indexes on (updated_at, id)

Products, events and orders can be read as change feeds (`updated_since`): every row changed
since a moment, in (`updated_at`, `id`) order, resumed from a cursor after the last row
served. These indexes make each page a range scan, on both databases; a partner's feed of the
orders it placed has its own, led by `placed_by_key_id`.

No backfill: `updated_at` already holds when each row was last written. The service now also
moves it where only rows a representation includes change (an event's external refs, a
product's certificates or its owner's name); earlier changes of that kind keep the stamp they
had, which no mirror can have missed: the feeds start with this revision, and a mirror starts
with a full read.

Revision ID: 9d28b20a159d
Revises: 7b3e1d9c4a21
Create Date: 2026-12-01 12:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9d28b20a159d"
down_revision: str | None = "7b3e1d9c4a21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_products_updated_at_id", "products", ["updated_at", "id"]),
    ("ix_events_updated_at_id", "events", ["updated_at", "id"]),
    ("ix_orders_updated_at_id", "orders", ["updated_at", "id"]),
    (
        "ix_orders_placed_by_key_id_updated_at_id",
        "orders",
        ["placed_by_key_id", "updated_at", "id"],
    ),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
