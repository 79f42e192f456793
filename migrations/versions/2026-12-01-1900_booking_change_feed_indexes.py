"""booking change feed indexes on (updated_at, id)

Bookings can be read as a change feed (`GET /v1/bookings?updated_since=`), as products, events
and orders are: every booking changed since a moment, in every status, in (`updated_at`, `id`)
order, resumed from a cursor after the last one served. These indexes make each page a range
scan, on both databases; a partner's feed of the bookings it made has its own, led by
`api_key_id`.

No backfill: `updated_at` already holds when each booking was last written (the request's
clock, the system's outside tests). The service now stamps it as the row is written, and also
moves it when a ticket's check-in changes (the booking's representation shows its tickets);
earlier check-ins keep the stamp their booking had, which no mirror can have missed: the
bookings' feed starts with this revision, and a mirror starts with a full read.

Revision ID: 6f1c3a8e2b94
Revises: 0d976d6438ea
Create Date: 2026-12-01 19:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "6f1c3a8e2b94"
down_revision: str | None = "0d976d6438ea"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_bookings_updated_at_id", "bookings", ["updated_at", "id"]),
    ("ix_bookings_api_key_id_updated_at_id", "bookings", ["api_key_id", "updated_at", "id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
