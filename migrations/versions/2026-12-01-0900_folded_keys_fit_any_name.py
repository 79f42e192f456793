"""folded keys fit any name

`sort_name`, `commune_key` and `province_key` hold `fold()` of a name of at most 200 (or
100) characters, and case folding can triple a character ("ﬄ" -> "ffl", "ß" -> "ss"), so a
valid name of 200 such characters overflowed its key on PostgreSQL (a 500). The keys are
widened to three times their source (app.core.text.FOLD_GROWTH). Rows are unchanged; the
downgrade only narrows back where every key still fits (it fails, changing nothing, if not).

Revision ID: 5b2d8e4f7a61
Revises: 4e9a7c2d1f05
Create Date: 2026-12-01 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b2d8e4f7a61"
down_revision: str | None = "4e9a7c2d1f05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (column, source length) of every folded key
KEYS = {
    "owners": (("sort_name", 200), ("commune_key", 100), ("province_key", 100)),
    "products": (("sort_name", 200), ("commune_key", 100)),
    "events": (("sort_name", 200), ("commune_key", 100)),
}
GROWTH = 3  # app.core.text.FOLD_GROWTH when this revision was written


def _resize(grow: bool) -> None:
    for table, columns in KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, length in columns:
                old, new = (length, length * GROWTH) if grow else (length * GROWTH, length)
                batch_op.alter_column(
                    column,
                    existing_type=sa.String(old),
                    type_=sa.String(new),
                    existing_nullable=False,
                )


def upgrade() -> None:
    _resize(grow=True)


def downgrade() -> None:
    _resize(grow=False)
