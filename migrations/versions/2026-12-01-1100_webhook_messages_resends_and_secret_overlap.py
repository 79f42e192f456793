"""webhook messages, resends, attempt outcomes and the rotated secret's overlap

- `outbox_events` becomes `outbox_messages` and `webhook_deliveries.event_id` becomes
  `message_id`: in this API an event is a festival or a fair (`event_id`), and the webhook side
  no longer borrows the word. On PostgreSQL the table, its constraints and its index are
  renamed in place; SQLite cannot rename constraints, so the rows are copied into a new table.
- `webhook_deliveries.resend_of_id`: a resend of a finished delivery is a new delivery of the
  same message, so the attempts of the first stay as they were. The fan-out's one delivery per
  (endpoint, message) is now a unique index on first deliveries only.
- `webhook_attempts.outcome`: what the worker made of each attempt (delivered, retry, failed,
  disabled), which `/metrics` counts from the database. Backfill: a 2xx attempt was
  `delivered`; the last attempt of a failed delivery `failed` (whether it was the endpoint's
  disabling cannot be told apart any more); any other `retry`.
- `webhook_endpoints.previous_secret` and `previous_secret_expires_at`: after a rotation the
  replaced secret signs beside the new one until then. Nothing to backfill: no rotation so far
  kept its old secret.

The downgrade deletes the resend deliveries (and their attempts): before this revision a
message had one delivery per endpoint.

Revision ID: 7b3e1d9c4a21
Revises: 5b3d8f1a2c47
Create Date: 2026-12-01 11:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.types

revision: str = "7b3e1d9c4a21"
down_revision: str | None = "5b3d8f1a2c47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOMES = "outcome IN ('delivered', 'retry', 'failed', 'disabled')"
BACKFILL_OUTCOMES = (
    "UPDATE webhook_attempts SET outcome = 'delivered' "
    "WHERE status_code >= 200 AND status_code < 300",
    """
    UPDATE webhook_attempts SET outcome = 'failed'
    WHERE outcome = 'retry'
      AND delivery_id IN (SELECT id FROM webhook_deliveries WHERE status = 'failed')
      AND attempted_at = (
        SELECT max(later.attempted_at) FROM webhook_attempts AS later
        WHERE later.delivery_id = webhook_attempts.delivery_id
      )
    """,
)
OUTBOX_COLUMNS = "id, type, payload, owner_ids, partner_key_id, event_id, created_at, dispatched_at"
FIRST_DELIVERIES = sa.text("resend_of_id IS NULL")


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _move_outbox(old: str, new: str) -> None:
    """Give the outbox table the name `new`, with constraints and index named after it."""
    if _is_postgres():
        op.rename_table(old, new)
        op.execute(f"ALTER TABLE {new} RENAME CONSTRAINT pk_{old} TO pk_{new}")
        for foreign_key in ("partner_key_id_api_keys", "event_id_events"):
            op.execute(
                f"ALTER TABLE {new} RENAME CONSTRAINT fk_{old}_{foreign_key} "
                f"TO fk_{new}_{foreign_key}"
            )
        op.execute(
            f"ALTER INDEX ix_{old}_dispatched_at_created_at RENAME TO ix_{new}_dispatched_at_created_at"
        )
        return
    # SQLite: a new table and a copy; the old one is dropped once nothing refers to it.
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.create_table(
        new,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("payload", json, nullable=False),
        sa.Column("owner_ids", json, nullable=False),
        sa.Column("partner_key_id", sa.Uuid(), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_key_id"],
            ["api_keys.id"],
            name=f"fk_{new}_partner_key_id_api_keys",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=f"fk_{new}_event_id_events", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=f"pk_{new}"),
    )
    op.execute(f"INSERT INTO {new} ({OUTBOX_COLUMNS}) SELECT {OUTBOX_COLUMNS} FROM {old}")
    op.create_index(
        f"ix_{new}_dispatched_at_created_at", new, ["dispatched_at", "created_at"], unique=False
    )


def _drop_old_outbox(old: str) -> None:
    if not _is_postgres():
        op.drop_index(f"ix_{old}_dispatched_at_created_at", table_name=old)
        op.drop_table(old)


def upgrade() -> None:
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("outcome", sa.String(length=20), nullable=False, server_default="retry")
        )
    for statement in BACKFILL_OUTCOMES:
        op.execute(statement)
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.alter_column("outcome", existing_type=sa.String(length=20), server_default=None)
        batch_op.create_check_constraint(
            op.f("ck_webhook_attempts_webhook_attempt_outcome"), OUTCOMES
        )

    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_secret", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column(
                "previous_secret_expires_at",
                app.core.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_webhook_endpoints_previous_secret_has_expiry"),
            "(previous_secret IS NULL) = (previous_secret_expires_at IS NULL)",
        )

    _move_outbox("outbox_events", "outbox_messages")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_webhook_deliveries_endpoint_id_event_id", type_="unique")
        batch_op.drop_constraint("fk_webhook_deliveries_event_id_outbox_events", type_="foreignkey")
        batch_op.alter_column(
            "event_id",
            new_column_name="message_id",
            existing_type=sa.Uuid(),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("resend_of_id", sa.Uuid(), nullable=True))
    # A second batch: on SQLite one would lose a foreign key on the column it renames.
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_foreign_key(
            op.f("fk_webhook_deliveries_message_id_outbox_messages"),
            "outbox_messages",
            ["message_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            op.f("fk_webhook_deliveries_resend_of_id_webhook_deliveries"),
            "webhook_deliveries",
            ["resend_of_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.create_index(
        "uq_webhook_deliveries_endpoint_id_message_id",
        "webhook_deliveries",
        ["endpoint_id", "message_id"],
        unique=True,
        sqlite_where=FIRST_DELIVERIES,
        postgresql_where=FIRST_DELIVERIES,
    )
    _drop_old_outbox("outbox_events")


def downgrade() -> None:
    # A message had one delivery per endpoint: the resends go, with their attempts.
    resends = "SELECT id FROM webhook_deliveries WHERE resend_of_id IS NOT NULL"
    op.execute(f"DELETE FROM webhook_attempts WHERE delivery_id IN ({resends})")
    op.execute("DELETE FROM webhook_deliveries WHERE resend_of_id IS NOT NULL")

    _move_outbox("outbox_messages", "outbox_events")
    op.drop_index("uq_webhook_deliveries_endpoint_id_message_id", table_name="webhook_deliveries")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_webhook_deliveries_resend_of_id_webhook_deliveries"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            op.f("fk_webhook_deliveries_message_id_outbox_messages"), type_="foreignkey"
        )
        batch_op.drop_column("resend_of_id")
        batch_op.alter_column(
            "message_id",
            new_column_name="event_id",
            existing_type=sa.Uuid(),
            existing_nullable=False,
        )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_webhook_deliveries_event_id_outbox_events",
            "outbox_events",
            ["event_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(
            "uq_webhook_deliveries_endpoint_id_event_id", ["endpoint_id", "event_id"]
        )
    _drop_old_outbox("outbox_messages")

    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_webhook_endpoints_previous_secret_has_expiry"), type_="check"
        )
        batch_op.drop_column("previous_secret_expires_at")
        batch_op.drop_column("previous_secret")

    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_webhook_attempts_webhook_attempt_outcome"), type_="check")
        batch_op.drop_column("outcome")
