"""provinces and communes: Vietnam's administrative geography since 1 July 2025

Since the 2025 reform Vietnam has 34 provinces and 3,321 communes (xã), wards (phường) and
special zones (đặc khu); the district level is gone. Owners, products, events and experiences
name their commune as free text today, so one commune is spelled several ways and nothing
says whether it exists. These two reference tables hold the official list with the General
Statistics Office's codes (a province's two digits, a commune's five), for the API to list and
to resolve names against.

Backfill: the rows are loaded here, from the `vietnam-provinces` package (a dependency of the
project, which tracks the official list), never typed by hand: every database that reaches
this revision holds them, whatever migrated it (`ocop migrate`, the test suite, a container).
The folded keys are `app.core.text.fold` of the names, spelled out here so that this revision
stays what it is whatever the application's code becomes (tests/geography checks they agree).
A later change of the official list is a later revision.

Owners, products and events gain a nullable `commune_code`: the code of the commune their
free-text `commune` names, which the application resolves as it writes a row (the free text
stays, as written). Rows written before keep NULL until next written; `ocop geography report`
lists the rows whose commune does not resolve.

Revision ID: 9b2e6d4c1a07
Revises: 6f1c3a8e2b94
Create Date: 2026-12-01 20:00:00.000000+00:00
"""

import json
import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from vietnam_provinces import NESTED_DIVISIONS_JSON_PATH

revision: str = "9b2e6d4c1a07"
down_revision: str | None = "6f1c3a8e2b94"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SPACES = re.compile(r"\s+")
COMMUNE_KINDS = ("xã", "phường", "đặc khu")
PLACED = ("owners", "products", "events")


def fold(text: str) -> str:
    """Lower-case, without diacritics (đ -> d), whitespace collapsed: app.core.text.fold."""
    decomposed = unicodedata.normalize("NFD", text.translate(str.maketrans("đĐ", "dD")))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare.casefold()).strip()


def short_key(name: str, kind: str) -> str:
    """The folded name without its kind: "Xã Hữu Lũng" -> "huu lung"."""
    folded, prefix = fold(name), fold(kind) + " "
    return folded.removeprefix(prefix)


def upgrade() -> None:
    provinces = op.create_table(
        "provinces",
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "tỉnh",
                "thành phố trung ương",
                name="province_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("codename", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_provinces")),
    )
    op.create_index("ix_provinces_name_key", "provinces", ["name_key"])
    communes = op.create_table(
        "communes",
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                *COMMUNE_KINDS,
                name="commune_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("codename", sa.String(length=100), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("name_key", sa.String(length=300), nullable=False),
        sa.Column("short_key", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
            name=op.f("fk_communes_province_code_provinces"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_communes")),
    )
    op.create_index("ix_communes_province_code_code", "communes", ["province_code", "code"])
    op.create_index("ix_communes_short_key", "communes", ["short_key"])

    divisions = json.loads(NESTED_DIVISIONS_JSON_PATH.read_text(encoding="utf-8"))
    op.bulk_insert(
        provinces,
        [
            {
                "code": f"{p['code']:02d}",
                "name": unicodedata.normalize("NFC", p["name"]),
                "kind": p["division_type"],
                "codename": p["codename"],
                "name_key": fold(p["name"]),
            }
            for p in divisions
        ],
    )
    op.bulk_insert(
        communes,
        [
            {
                "code": f"{w['code']:05d}",
                "name": unicodedata.normalize("NFC", w["name"]),
                "kind": w["division_type"],
                "codename": w["codename"],
                "province_code": f"{p['code']:02d}",
                "name_key": fold(w["name"]),
                "short_key": short_key(w["name"], w["division_type"]),
            }
            for p in divisions
            for w in p["wards"]
        ],
    )

    for table in PLACED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("commune_code", sa.String(length=5), nullable=True))


def downgrade() -> None:
    for table in PLACED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("commune_code")
    op.drop_index("ix_communes_short_key", table_name="communes")
    op.drop_index("ix_communes_province_code_code", table_name="communes")
    op.drop_table("communes")
    op.drop_index("ix_provinces_name_key", table_name="provinces")
    op.drop_table("provinces")
