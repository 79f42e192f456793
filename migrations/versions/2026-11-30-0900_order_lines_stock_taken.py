"""order lines record the stock they took

`order_lines.stock_taken`: how much of the product's stock the line took when the order was
placed (its quantity, or 0 where the stock was not tracked), so a cancel gives back exactly
that, however the product's stock changed since.

The lines already there were written without it, and what they took cannot be known for sure
(whether the stock was tracked at the time was not kept). The backfill is the conservative
reading of what the service did before:
- lines of fulfilled and cancelled orders: 0. Nothing will ever be given back for them (a
  cancel is only allowed from pending or confirmed, and a cancelled order's stock was given
  back already), so no stock can come of them;
- lines of pending and confirmed orders: their quantity where the product's stock is tracked
  now, else 0. A cancel then gives back at most what the code before this revision would have
  given back, never more: for every line either exactly what it took, or (where the stock was
  switched from untracked to tracked after the order, which cannot be told apart) the same as
  before. No line records more than its quantity (CHECK stock_taken_range).

Revision ID: 4e9a7c2d1f05
Revises: 8c1f2e7a9b30
Create Date: 2026-11-30 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.types

revision: str = "4e9a7c2d1f05"
down_revision: str | None = "8c1f2e7a9b30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Quantities are stored as integer thousandths (app.core.types.Quantity).
BACKFILL = """
UPDATE order_lines SET stock_taken = quantity
WHERE order_id IN (SELECT id FROM orders WHERE status IN ('pending', 'confirmed'))
  AND product_id IN (SELECT id FROM products WHERE stock IS NOT NULL)
"""


def upgrade() -> None:
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stock_taken", app.core.types.Quantity(), nullable=False, server_default="0")
        )
    op.execute(BACKFILL)
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.alter_column(
            "stock_taken", existing_type=app.core.types.Quantity(), server_default=None
        )
        batch_op.create_check_constraint(
            op.f("ck_order_lines_stock_taken_range"), "stock_taken >= 0 AND stock_taken <= quantity"
        )


def downgrade() -> None:
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_order_lines_stock_taken_range"), type_="check")
        batch_op.drop_column("stock_taken")
