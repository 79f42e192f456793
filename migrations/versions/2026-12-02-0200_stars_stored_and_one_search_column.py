"""stars stored on products, and one search column holding the owner's name

A product's stars were computed per row by a correlated sub-select on certificates, as a
column, a filter and a sort key: `sort=stars` on a million products took seconds. Products now
keep the answer of that rule (`app.products.stars.current_stars`) in `stars`, with the days
[`stars_from`, `stars_until`] during which it holds (no certificate of the product starts or
ends within them); certificate writes keep them, and rows whose window has passed are recomputed
before a read sorts or filters by them. The window bounds are indexed (finding lapsed rows is a
range scan) and, on PostgreSQL, `sort=stars` has an index in its order.

A search term matched a product's own text or, in a second sub-select, its owner's. Products'
`search_text` now ends with their owner's (name and representative, kept when the owner
changes), so a term is one LIKE on one column with its trigram index (pg_trgm exists since
2026-11-29-1300).

Backfill, in SQL spelled out here so that this revision stays what it is: stars as of the
database's current date (rows lapse and are recomputed like any other), the owners' text
appended to their products'.

Revision ID: 4c8e1f2a9d37
Revises: 4e8a2c6f1d93
Create Date: 2026-12-02 02:00:00.000000+00:00
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "4c8e1f2a9d37"
down_revision: str | None = "4e8a2c6f1d93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EARLIEST, LATEST = "0001-01-01", "9999-12-31"


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _shift(column: str, days: int) -> str:
    if _is_postgresql():
        return f"({column} {days:+d})"
    return f"date({column}, '{days:+d} day')"


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("stars", sa.SmallInteger(), nullable=True))
        batch.add_column(
            sa.Column("stars_from", sa.Date(), nullable=False, server_default=EARLIEST)
        )
        batch.add_column(sa.Column("stars_until", sa.Date(), nullable=False, server_default=LATEST))
    op.execute(
        sa.text(
            f"""
            UPDATE products SET
              stars = (
                SELECT CASE WHEN c.stars >= 3 THEN c.stars END FROM certificates c
                WHERE c.product_id = products.id AND c.issued_on <= :today
                  AND c.valid_until >= :today
                ORDER BY c.issued_on DESC, c.created_at DESC LIMIT 1),
              stars_from = COALESCE((
                SELECT max(CASE WHEN c.issued_on > :today THEN NULL
                                WHEN c.valid_until >= :today THEN c.issued_on
                                ELSE {_shift("c.valid_until", 1)} END)
                FROM certificates c WHERE c.product_id = products.id), '{EARLIEST}'),
              stars_until = COALESCE((
                SELECT min(CASE WHEN c.issued_on > :today THEN {_shift("c.issued_on", -1)}
                                WHEN c.valid_until >= :today THEN c.valid_until
                                ELSE NULL END)
                FROM certificates c WHERE c.product_id = products.id), '{LATEST}')
            WHERE EXISTS (SELECT 1 FROM certificates c WHERE c.product_id = products.id)
            """
        ).bindparams(sa.bindparam("today", date.today(), type_=sa.Date()))
    )
    op.create_index("ix_products_stars_from", "products", ["stars_from"])
    op.create_index("ix_products_stars_until", "products", ["stars_until"])
    if _is_postgresql():
        op.execute(
            "CREATE INDEX ix_products_star_rank_sort_name_id "
            "ON products (coalesce(stars, 0) DESC, sort_name, id)"
        )
    op.execute(
        "UPDATE products SET search_text = search_text || ' ' || "
        "(SELECT owners.search_text FROM owners WHERE owners.id = products.owner_id)"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE products SET search_text = substr(search_text, 1, length(search_text) - 1 - "
        "(SELECT length(owners.search_text) FROM owners WHERE owners.id = products.owner_id))"
    )
    if _is_postgresql():
        op.drop_index("ix_products_star_rank_sort_name_id", table_name="products")
    op.drop_index("ix_products_stars_until", table_name="products")
    op.drop_index("ix_products_stars_from", table_name="products")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("stars_until")
        batch.drop_column("stars_from")
        batch.drop_column("stars")
