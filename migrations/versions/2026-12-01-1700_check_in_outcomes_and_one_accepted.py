"""check-in outcomes named as the gate reports them; one accepted check-in per ticket

`check_ins.outcome` takes the reason codes the check-in endpoints answer with: `accepted`,
`duplicate` (a later check-in of a ticket already checked in, or one an earlier offline
check-in replaced), `not_this_site`, `booking_cancelled`, `wrong_day`. Rows written with the
first names are renamed (`wrong_date` -> `wrong_day`, `wrong_site` -> `not_this_site`,
`not_valid` -> `booking_cancelled`, `superseded` -> `duplicate`); no code wrote them yet.

A ticket has at most one `accepted` check-in, the one its `checked_in_*` columns repeat: a
partial unique index says so, so that no race between gates can leave two.

Revision ID: 0d976d6438ea
Revises: 7c3e9a1d5b20
Create Date: 2026-12-01 17:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0d976d6438ea"
down_revision: str | None = "7c3e9a1d5b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ck_check_ins_check_in_outcome"
BEFORE = ("accepted", "duplicate", "superseded", "wrong_date", "wrong_site", "not_valid")
AFTER = ("accepted", "duplicate", "not_this_site", "booking_cancelled", "wrong_day")
RENAMED = {
    "superseded": "duplicate",
    "wrong_date": "wrong_day",
    "wrong_site": "not_this_site",
    "not_valid": "booking_cancelled",
}
ACCEPTED_ONLY = "outcome = 'accepted'"


def _allowed(values: Sequence[str]) -> str:
    return "outcome IN ({})".format(", ".join(f"'{value}'" for value in values))


def _rename(renames: dict[str, str]) -> None:
    for old, new in renames.items():
        op.execute(
            sa.text("UPDATE check_ins SET outcome = :new WHERE outcome = :old").bindparams(
                old=old, new=new
            )
        )


def upgrade() -> None:
    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CONSTRAINT), type_="check")
    _rename(RENAMED)
    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f(CONSTRAINT), _allowed(AFTER))
        batch_op.create_index(
            "ix_check_ins_ticket_id_accepted",
            ["ticket_id"],
            unique=True,
            postgresql_where=sa.text(ACCEPTED_ONLY),
            sqlite_where=sa.text(ACCEPTED_ONLY),
        )


def downgrade() -> None:
    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_check_ins_ticket_id_accepted",
            postgresql_where=sa.text(ACCEPTED_ONLY),
            sqlite_where=sa.text(ACCEPTED_ONLY),
        )
        batch_op.drop_constraint(op.f(CONSTRAINT), type_="check")
    # Back to the first names; `duplicate` stays (it was one of them).
    _rename({new: old for old, new in RENAMED.items() if old != "superseded"})
    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f(CONSTRAINT), _allowed(BEFORE))
