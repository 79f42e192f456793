"""products certificates and events

Revision ID: 5d75010b5b4a
Revises: 3d9e5387245d
Create Date: 2026-11-29 22:20:47.350935+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.core.types

revision: str = "5d75010b5b4a"
down_revision: str | None = "3d9e5387245d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "festival",
                "trade_fair",
                "exhibition",
                "product_week",
                "other",
                name="event_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("starts_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("venue", sa.String(length=300), nullable=True),
        sa.Column("commune", sa.String(length=100), nullable=False),
        sa.Column("province", sa.String(length=100), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "translations",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("cancelled_at", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sort_name", sa.String(length=200), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("commune_key", sa.String(length=100), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_events_ends_after_start")),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name=op.f("ck_events_latitude_range")),
        sa.CheckConstraint(
            "longitude BETWEEN -180 AND 180", name=op.f("ck_events_longitude_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_commune_key", ["commune_key"], unique=False)
        batch_op.create_index("ix_events_ends_at", ["ends_at"], unique=False)
        batch_op.create_index("ix_events_starts_at_id", ["starts_at", "id"], unique=False)

    op.create_table(
        "event_external_refs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("system", sa.String(length=50), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_external_refs_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_external_refs")),
        sa.UniqueConstraint(
            "system", "external_id", name=op.f("uq_event_external_refs_system_external_id")
        ),
    )
    with op.batch_alter_table("event_external_refs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_external_refs_event_id"), ["event_id"], unique=False
        )

    op.create_table(
        "products",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "translations",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "group",
            sa.Enum(
                "food",
                "beverage",
                "herbal",
                "handicraft",
                "flora_fauna",
                "tourism",
                name="product_group",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("subgroup", sa.String(length=100), nullable=True),
        sa.Column(
            "unit",
            sa.Enum(
                "kg",
                "g",
                "l",
                "box",
                "bag",
                "bottle",
                "jar",
                "piece",
                "ticket",
                "visit",
                name="product_unit",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("unit_step", app.core.types.Quantity(), nullable=False),
        sa.Column("price_vnd", sa.BigInteger(), nullable=False),
        sa.Column("stock", app.core.types.Quantity(), nullable=True),
        sa.Column("commune", sa.String(length=100), nullable=False),
        sa.Column("province", sa.String(length=100), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "archived",
                name="product_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("sort_name", sa.String(length=200), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("commune_key", sa.String(length=100), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name=op.f("ck_products_latitude_range")),
        sa.CheckConstraint(
            "longitude BETWEEN -180 AND 180", name=op.f("ck_products_longitude_range")
        ),
        sa.CheckConstraint("price_vnd >= 0", name=op.f("ck_products_price_not_negative")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_products_stock_not_negative")),
        sa.CheckConstraint("unit_step > 0", name=op.f("ck_products_unit_step_positive")),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["owners.id"],
            name=op.f("fk_products_owner_id_owners"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index("ix_products_commune_key", ["commune_key"], unique=False)
        batch_op.create_index("ix_products_group", ["group"], unique=False)
        batch_op.create_index("ix_products_owner_id", ["owner_id"], unique=False)
        batch_op.create_index("ix_products_price_vnd_id", ["price_vnd", "id"], unique=False)
        batch_op.create_index("ix_products_sort_name_id", ["sort_name", "id"], unique=False)
        batch_op.create_index(
            "ix_products_status_created_at_id", ["status", "created_at", "id"], unique=False
        )

    op.create_table(
        "certificates",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("stars", sa.SmallInteger(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("decision_no", sa.String(length=100), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column(
            "level",
            sa.Enum(
                "provincial",
                "central",
                name="certificate_level",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score BETWEEN 0 AND 100", name=op.f("ck_certificates_score_range")),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name=op.f("ck_certificates_stars_range")),
        sa.CheckConstraint(
            "valid_until >= issued_on", name=op.f("ck_certificates_valid_after_issue")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_certificates_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_certificates_product_id_issued_on", ["product_id", "issued_on"], unique=False
        )
        batch_op.create_index("ix_certificates_valid_until", ["valid_until"], unique=False)

    op.create_table(
        "event_products",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("booth", sa.String(length=50), nullable=True),
        sa.Column("event_price_vnd", sa.BigInteger(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "event_price_vnd >= 0", name=op.f("ck_event_products_event_price_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_products_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_event_products_product_id_products"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_products")),
        sa.UniqueConstraint(
            "event_id", "product_id", name=op.f("uq_event_products_event_id_product_id")
        ),
    )
    with op.batch_alter_table("event_products", schema=None) as batch_op:
        batch_op.create_index("ix_event_products_product_id", ["product_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event_products", schema=None) as batch_op:
        batch_op.drop_index("ix_event_products_product_id")

    op.drop_table("event_products")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index("ix_certificates_valid_until")
        batch_op.drop_index("ix_certificates_product_id_issued_on")

    op.drop_table("certificates")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_status_created_at_id")
        batch_op.drop_index("ix_products_sort_name_id")
        batch_op.drop_index("ix_products_price_vnd_id")
        batch_op.drop_index("ix_products_owner_id")
        batch_op.drop_index("ix_products_group")
        batch_op.drop_index("ix_products_commune_key")

    op.drop_table("products")
    with op.batch_alter_table("event_external_refs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_external_refs_event_id"))

    op.drop_table("event_external_refs")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_starts_at_id")
        batch_op.drop_index("ix_events_ends_at")
        batch_op.drop_index("ix_events_commune_key")

    op.drop_table("events")
