"""what shops need: product external refs and images, order reference and metadata

- `product_external_refs`: the ids of a product in other systems (a shop's SKU), as events
  have them: a (system, external_id) pair names one product only, by a unique constraint.
- `products.images`: the product's images (https URL and alt text by language), in order; a
  JSON list, since they are few and always read with the product. Existing products: none.
- `orders.reference`: the placing partner's own id for the order, unique per API key (NULLs,
  orders without one, never clash); the constraint leads with the reference so that it also
  serves an admin's look-up across keys. Existing orders: none.
- `orders.metadata`: the partner's own small map of strings. Existing orders: `{}`.

Revision ID: 302ac1d7165c
Revises: 9d28b20a159d
Create Date: 2026-12-01 13:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "302ac1d7165c"
down_revision: str | None = "9d28b20a159d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "product_external_refs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("system", sa.String(length=50), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_external_refs_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_external_refs")),
        sa.UniqueConstraint(
            "system", "external_id", name=op.f("uq_product_external_refs_system_external_id")
        ),
    )
    with op.batch_alter_table("product_external_refs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_external_refs_product_id"), ["product_id"], unique=False
        )

    # The server defaults fill the rows already there, then go: the models set the values.
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("images", JSON_DOCUMENT, nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.alter_column("images", existing_type=JSON_DOCUMENT, server_default=None)

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("metadata", JSON_DOCUMENT, nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_orders_reference_placed_by_key_id"), ["reference", "placed_by_key_id"]
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column("metadata", existing_type=JSON_DOCUMENT, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_orders_reference_placed_by_key_id"), type_="unique")
        batch_op.drop_column("metadata")
        batch_op.drop_column("reference")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("images")
    with op.batch_alter_table("product_external_refs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_external_refs_product_id"))
    op.drop_table("product_external_refs")
