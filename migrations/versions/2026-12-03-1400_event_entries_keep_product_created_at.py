"""event entries keep their product's `created_at`, indexed for an event's newest page

An event's catalogue page (`GET /v1/products?event_id=...`, newest first, the default) read
every product entered in the event, by primary key, before it knew which 21 came first: about
1,800 lookups at the largest festival, dearer in a million-row table than in a small one. An
entry now keeps its product's `created_at` (which never changes), and an index of the event's
entries in that order lets the page walk the event's newest entries and stop at 21.

Backfill from the products, in SQL that both databases run.

Revision ID: 7a1d4e9b2c63
Revises: 5d2b7e9c4a18
Create Date: 2026-12-03 14:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.types

revision: str = "7a1d4e9b2c63"
down_revision: str | None = "5d2b7e9c4a18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event_products") as batch:
        batch.add_column(
            sa.Column(
                "product_created_at", app.core.types.UTCDateTime(timezone=True), nullable=True
            )
        )
    op.execute(
        "UPDATE event_products SET product_created_at = "
        "(SELECT products.created_at FROM products WHERE products.id = event_products.product_id)"
    )
    with op.batch_alter_table("event_products") as batch:
        batch.alter_column(
            "product_created_at",
            existing_type=app.core.types.UTCDateTime(timezone=True),
            nullable=False,
        )
    op.create_index(
        "ix_event_products_event_id_product_created_at_product_id",
        "event_products",
        ["event_id", "product_created_at", "product_id"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_event_products_event_id_product_created_at_product_id", table_name="event_products"
    )
    with op.batch_alter_table("event_products") as batch:
        batch.drop_column("product_created_at")
