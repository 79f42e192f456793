"""tourism experiences and bookings

A tourism product can now be booked: its booking settings (`experiences`, 1:1 with the
product), its opening calendar (`experience_schedules`: rules over a date range and weekdays
with start times or opening hours and a capacity; `experience_closures`: closed dates), its
ticket types, and the slots (`experience_slots`: one per local date, or per date and start
time, created on first demand) whose `taken` people the database keeps within `capacity`.
Bookings (`bookings`, `booking_units`) hold places until they expire or are confirmed; a
confirmed booking issues `tickets`, one per person; `check_ins` records every check-in
attempt. New tables only: nothing to backfill.

Revision ID: 7c3e9a1d5b20
Revises: 302ac1d7165c
Create Date: 2026-12-01 15:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.types

revision: str = "7c3e9a1d5b20"
down_revision: str | None = "302ac1d7165c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "experiences",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column(
            "booking_mode",
            sa.Enum(
                "date",
                "start_time",
                name="booking_mode",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("cutoff_minutes", sa.Integer(), nullable=False),
        sa.Column("hold_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "cutoff_minutes BETWEEN 0 AND 10080", name=op.f("ck_experiences_cutoff_range")
        ),
        sa.CheckConstraint(
            "duration_minutes BETWEEN 1 AND 10080", name=op.f("ck_experiences_duration_range")
        ),
        sa.CheckConstraint(
            "hold_minutes BETWEEN 1 AND 120", name=op.f("ck_experiences_hold_range")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_experiences_event_id_events"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_experiences_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_experiences")),
    )
    with op.batch_alter_table("experiences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_experiences_event_id"), ["event_id"], unique=False)

    op.create_table(
        "experience_closures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["experiences.product_id"],
            name=op.f("fk_experience_closures_product_id_experiences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experience_closures")),
        sa.UniqueConstraint(
            "product_id", "date", name=op.f("uq_experience_closures_product_id_date")
        ),
    )
    op.create_table(
        "experience_schedules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("weekdays", sa.SmallInteger(), nullable=False),
        sa.Column(
            "start_times",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("opening_from", sa.Time(), nullable=True),
        sa.Column("opening_to", sa.Time(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "capacity BETWEEN 1 AND 10000", name=op.f("ck_experience_schedules_capacity_range")
        ),
        sa.CheckConstraint(
            "opening_to > opening_from", name=op.f("ck_experience_schedules_opening_range")
        ),
        sa.CheckConstraint(
            "valid_to >= valid_from", name=op.f("ck_experience_schedules_valid_range")
        ),
        sa.CheckConstraint(
            "weekdays BETWEEN 1 AND 127", name=op.f("ck_experience_schedules_weekdays_range")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["experiences.product_id"],
            name=op.f("fk_experience_schedules_product_id_experiences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experience_schedules")),
    )
    with op.batch_alter_table("experience_schedules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_experience_schedules_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "experience_slots",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "taken >= 0 AND taken <= capacity",
            name=op.f("ck_experience_slots_taken_within_capacity"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["experiences.product_id"],
            name=op.f("fk_experience_slots_product_id_experiences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experience_slots")),
    )
    with op.batch_alter_table("experience_slots", schema=None) as batch_op:
        batch_op.create_index(
            "uq_experience_slots_product_id_date",
            ["product_id", "date"],
            unique=True,
            postgresql_where=sa.text("start_time IS NULL"),
            sqlite_where=sa.text("start_time IS NULL"),
        )
        batch_op.create_index(
            "uq_experience_slots_product_id_date_start_time",
            ["product_id", "date", "start_time"],
            unique=True,
            postgresql_where=sa.text("start_time IS NOT NULL"),
            sqlite_where=sa.text("start_time IS NOT NULL"),
        )

    op.create_table(
        "experience_ticket_types",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "translations",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("price_vnd", sa.BigInteger(), nullable=False),
        sa.Column("places", sa.SmallInteger(), nullable=False),
        sa.Column("min_per_booking", sa.SmallInteger(), nullable=False),
        sa.Column("max_per_booking", sa.SmallInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "min_per_booking >= 0 AND max_per_booking >= 1 AND max_per_booking >= min_per_booking",
            name=op.f("ck_experience_ticket_types_per_booking_range"),
        ),
        sa.CheckConstraint(
            "places BETWEEN 0 AND 50", name=op.f("ck_experience_ticket_types_places_range")
        ),
        sa.CheckConstraint(
            "price_vnd >= 0", name=op.f("ck_experience_ticket_types_price_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["experiences.product_id"],
            name=op.f("fk_experience_ticket_types_product_id_experiences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experience_ticket_types")),
        sa.UniqueConstraint(
            "product_id", "code", name=op.f("uq_experience_ticket_types_product_id_code")
        ),
    )
    op.create_table(
        "bookings",
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("slot_id", sa.Uuid(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "on_hold",
                "confirmed",
                "expired",
                "cancelled",
                name="booking_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("total_vnd", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=300), nullable=True),
        sa.Column("api_key_id", sa.Uuid(), nullable=False),
        sa.Column("reseller_reference", sa.String(length=100), nullable=True),
        sa.Column("client_uuid", sa.Uuid(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_phone", sa.String(length=30), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("contact_country", sa.String(length=2), nullable=True),
        sa.Column("contact_locale", sa.String(length=35), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("people >= 1", name=op.f("ck_bookings_people_positive")),
        sa.CheckConstraint("total_vnd >= 0", name=op.f("ck_bookings_total_not_negative")),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_bookings_api_key_id_api_keys"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_bookings_product_id_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["experience_slots.id"],
            name=op.f("fk_bookings_slot_id_experience_slots"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint(
            "api_key_id", "client_uuid", name=op.f("uq_bookings_api_key_id_client_uuid")
        ),
        sa.UniqueConstraint("reference", name=op.f("uq_bookings_reference")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bookings_api_key_id_created_at", ["api_key_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_bookings_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_bookings_product_id_date_status", ["product_id", "date", "status"], unique=False
        )
        batch_op.create_index("ix_bookings_slot_id_status", ["slot_id", "status"], unique=False)
        batch_op.create_index(
            "ix_bookings_status_expires_at", ["status", "expires_at"], unique=False
        )

    op.create_table(
        "booking_units",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("ticket_type_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("places", sa.SmallInteger(), nullable=False),
        sa.Column("quantity", sa.SmallInteger(), nullable=False),
        sa.Column("unit_price_vnd", sa.BigInteger(), nullable=False),
        sa.Column("total_vnd", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("places >= 0", name=op.f("ck_booking_units_places_not_negative")),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_booking_units_quantity_positive")),
        sa.CheckConstraint("total_vnd >= 0", name=op.f("ck_booking_units_total_not_negative")),
        sa.CheckConstraint(
            "unit_price_vnd >= 0", name=op.f("ck_booking_units_unit_price_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_units_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["experience_ticket_types.id"],
            name=op.f("fk_booking_units_ticket_type_id_experience_ticket_types"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_units")),
        sa.UniqueConstraint(
            "booking_id", "ticket_type_id", name=op.f("uq_booking_units_booking_id_ticket_type_id")
        ),
    )
    with op.batch_alter_table("booking_units", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_booking_units_ticket_type_id"), ["ticket_type_id"], unique=False
        )

    op.create_table(
        "tickets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("booking_unit_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("qr_payload", sa.String(length=200), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checked_in_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_in_gate", sa.String(length=100), nullable=True),
        sa.Column("checked_in_by_key_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_tickets_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["booking_unit_id"],
            ["booking_units.id"],
            name=op.f("fk_tickets_booking_unit_id_booking_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["checked_in_by_key_id"],
            ["api_keys.id"],
            name=op.f("fk_tickets_checked_in_by_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("code", name=op.f("uq_tickets_code")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tickets_booking_id"), ["booking_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_tickets_booking_unit_id"), ["booking_unit_id"], unique=False
        )

    op.create_table(
        "check_ins",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("gate", sa.String(length=100), nullable=True),
        sa.Column("api_key_id", sa.Uuid(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "accepted",
                "duplicate",
                "superseded",
                "wrong_date",
                "wrong_site",
                "not_valid",
                name="check_in_outcome",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_check_ins_api_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_check_ins_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_ins")),
    )
    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.create_index("ix_check_ins_ticket_id_at", ["ticket_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("check_ins", schema=None) as batch_op:
        batch_op.drop_index("ix_check_ins_ticket_id_at")

    op.drop_table("check_ins")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_booking_unit_id"))
        batch_op.drop_index(batch_op.f("ix_tickets_booking_id"))

    op.drop_table("tickets")
    with op.batch_alter_table("booking_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_units_ticket_type_id"))

    op.drop_table("booking_units")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_bookings_status_expires_at")
        batch_op.drop_index("ix_bookings_slot_id_status")
        batch_op.drop_index("ix_bookings_product_id_date_status")
        batch_op.drop_index("ix_bookings_created_at_id")
        batch_op.drop_index("ix_bookings_api_key_id_created_at")

    op.drop_table("bookings")
    op.drop_table("experience_ticket_types")
    with op.batch_alter_table("experience_slots", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_experience_slots_product_id_date_start_time",
            postgresql_where=sa.text("start_time IS NOT NULL"),
            sqlite_where=sa.text("start_time IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_experience_slots_product_id_date",
            postgresql_where=sa.text("start_time IS NULL"),
            sqlite_where=sa.text("start_time IS NULL"),
        )

    op.drop_table("experience_slots")
    with op.batch_alter_table("experience_schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_experience_schedules_product_id"))

    op.drop_table("experience_schedules")
    op.drop_table("experience_closures")
    with op.batch_alter_table("experiences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_experiences_event_id"))

    op.drop_table("experiences")
