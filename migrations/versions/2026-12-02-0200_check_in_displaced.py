"""check-ins name the check-in they displaced

An offline scan earlier than a ticket's accepted check-in takes its place; `displaced_id` names
the check-in it displaced (then a duplicate), so that an upload's answer, replayed too, can
report it. Nullable: no check-in recorded so far displaced one that is known.

Revision ID: 4e8a2c6f1d93
Revises: 3d8a5f1e7c20
Create Date: 2026-12-02 02:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4e8a2c6f1d93"
down_revision: str | None = "3d8a5f1e7c20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("displaced_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_check_ins_displaced_id_check_ins"),
            "check_ins",
            ["displaced_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_check_ins_displaced_id_check_ins"), type_="foreignkey"
        )
        batch_op.drop_column("displaced_id")
