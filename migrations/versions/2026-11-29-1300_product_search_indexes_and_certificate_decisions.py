"""product search indexes, one certificate per decision, optional score

Trigram GIN indexes on the folded search text of products and owners, PostgreSQL only (SQLite
has no pg_trgm; its searches scan, which is fine at its scale), a unique decision number per
product's certificates, and a nullable score (the department's spreadsheets carry none).

Revision ID: 8c1f2e7a9b30
Revises: cbad4559fee5
Create Date: 2026-11-29 22:45:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c1f2e7a9b30"
down_revision: str | None = "cbad4559fee5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGRAM_INDEXES = (
    ("ix_products_search_text_trgm", "products"),
    ("ix_owners_search_text_trgm", "owners"),
)


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.alter_column("score", existing_type=sa.SmallInteger(), nullable=True)
        batch_op.create_unique_constraint(
            "uq_certificates_product_id_decision_no", ["product_id", "decision_no"]
        )
    if _is_postgresql():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table in TRIGRAM_INDEXES:
            op.create_index(
                name,
                table,
                ["search_text"],
                postgresql_using="gin",
                postgresql_ops={"search_text": "gin_trgm_ops"},
            )


def downgrade() -> None:
    if _is_postgresql():
        for name, table in TRIGRAM_INDEXES:
            op.drop_index(name, table_name=table)
        # The extension stays: other objects may use it, and it is harmless.
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_constraint("uq_certificates_product_id_decision_no", type_="unique")
        batch_op.alter_column("score", existing_type=sa.SmallInteger(), nullable=False)
