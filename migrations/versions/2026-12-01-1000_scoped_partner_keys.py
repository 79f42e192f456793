"""partner keys scoped to events

`api_key_event_grants`: an admin grants a partner key rights on named events (festivals,
fairs): link their external ids, read their sales, hear their `event.updated`. One row per
(key, event), with when and by which admin key (null from `ocop keys grant`). A key or event
deleted takes its grants with it; the granting key deleted leaves the grant, unattributed.

`outbox_events.event_id`: the event a webhook message is about, so that the fan-out can send
it to the partner keys granted that event. No backfill: no key holds a grant before this
revision, so no message written before it has such a listener.

Revision ID: 5b3d8f1a2c47
Revises: 5b2d8e4f7a61
Create Date: 2026-12-01 10:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.types

revision: str = "5b3d8f1a2c47"
down_revision: str | None = "5b2d8e4f7a61"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_key_event_grants",
        sa.Column("api_key_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("granted_by_key_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_api_key_event_grants_api_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_api_key_event_grants_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_key_id"],
            ["api_keys.id"],
            name=op.f("fk_api_key_event_grants_granted_by_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("api_key_id", "event_id", name=op.f("pk_api_key_event_grants")),
    )
    with op.batch_alter_table("api_key_event_grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_key_event_grants_event_id"), ["event_id"], unique=False
        )

    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_events_event_id_events"),
            "events",
            ["event_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbox_events_event_id_events"), type_="foreignkey")
        batch_op.drop_column("event_id")

    with op.batch_alter_table("api_key_event_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_event_grants_event_id"))

    op.drop_table("api_key_event_grants")
