"""places by commune code: owners, products and events name their commune by its code

The API now refuses a commune that names no commune, or several, and stores where a row is as
the reference tables say: `commune_code`, `commune_name` (the official name, "Xã Hữu Lũng")
and `province_code`, beside `commune` and `province`. Filters and reports by commune use the
code, so these are indexed.

Backfill: every row whose free-text `commune` names one commune in its `province` (anywhere
when the province is not one) gets that commune's code, official name and province code, and
its `commune` and `province` become the official names (the commune's without its kind:
"Hữu Lũng"), as the API now stores them. A name is resolved as
`app.geography.service.resolve_commune` does (a code, "06385", or a name, accents, case and the
kind "xã", "phường", "đặc khu" optional), spelled out here so that this revision stays what it
is whatever the application's code becomes. Rows whose text names no commune, or several, keep
every column as it was, with NULL codes: `ocop geography report` lists them with their ids.
`updated_at` stays: the row names the same place as before.

Revision ID: 3d8a5f1e7c20
Revises: 9b2e6d4c1a07
Create Date: 2026-12-02 01:00:00.000000+00:00
"""

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "3d8a5f1e7c20"
down_revision: str | None = "9b2e6d4c1a07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLACED = ("owners", "products", "events")
COMMUNE_KINDS = ("xã", "phường", "đặc khu")
_SPACES = re.compile(r"\s+")
_CODE = re.compile(r"^[0-9]{1,5}\Z")


def fold(text: str) -> str:
    """Lower-case, without diacritics (đ -> d), whitespace collapsed: app.core.text.fold."""
    decomposed = unicodedata.normalize("NFD", text.translate(str.maketrans("đĐ", "dD")))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare.casefold()).strip()


def spelled(name: str, cut: int) -> str:
    """`name` in lower case, whitespace collapsed, without its first `cut` characters."""
    return " ".join(unicodedata.normalize("NFC", name).split()).casefold()[cut:].strip()


def short_name(name: str, kind: str) -> str:
    """The official name without its kind: "Xã Hữu Lũng" -> "Hữu Lũng"."""
    if name.casefold().startswith(kind + " "):
        return name[len(kind) + 1 :].strip()
    return name


class Reference:
    """The provinces and communes the previous revision loaded, and the resolution rule."""

    def __init__(self, connection: sa.Connection) -> None:
        self.provinces = {
            row.code: row
            for row in connection.execute(sa.text("SELECT code, name, name_key FROM provinces"))
        }
        self.communes = {
            row.code: row
            for row in connection.execute(
                sa.text("SELECT code, name, kind, province_code, short_key FROM communes")
            )
        }

    def province(self, text: str) -> str | None:
        text = text.strip()
        if _CODE.match(text):
            code = text.zfill(2)
            return code if code in self.provinces else None
        key = fold(text)
        for prefix in ("tinh ", "thanh pho "):
            key = key.removeprefix(prefix)
        found = [
            code
            for code, row in self.provinces.items()
            if row.name_key in (key, "thanh pho " + key)
        ]
        return found[0] if len(found) == 1 else None

    def commune(self, text: str, province_code: str | None) -> sa.Row[Any] | None:
        text = text.strip()
        if _CODE.match(text):
            row = self.communes.get(text.zfill(5))
            if row is not None and province_code in (None, row.province_code):
                return row
            return None
        key, kind = fold(text), None
        for candidate in COMMUNE_KINDS:
            if key.startswith(fold(candidate) + " "):
                key, kind = key.removeprefix(fold(candidate) + " "), candidate
                break
        matches = [
            row
            for row in self.communes.values()
            if row.short_key == key
            and (province_code is None or row.province_code == province_code)
            and (kind is None or row.kind == kind)
        ]
        if len(matches) == 1:
            return matches[0]
        typed = spelled(text, 0 if kind is None else len(kind) + 1)
        exact = [m for m in matches if spelled(m.name, len(m.kind) + 1) == typed]
        return exact[0] if len(exact) == 1 else None


def upgrade() -> None:
    for table in PLACED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("commune_name", sa.String(length=100), nullable=True))
            batch.add_column(sa.Column("province_code", sa.String(length=2), nullable=True))
            batch.create_index(f"ix_{table}_commune_code", ["commune_code"])
            if table == "owners":
                batch.create_index("ix_owners_province_code", ["province_code"])

    connection = op.get_bind()
    reference = Reference(connection)
    for table in PLACED:
        rows = connection.execute(
            sa.text(f"SELECT id, commune, province, commune_code FROM {table}")
        ).all()
        for row in rows:
            found: sa.Row[Any] | None
            if row.commune_code is not None and row.commune_code in reference.communes:
                found = reference.communes[row.commune_code]
            else:
                found = reference.commune(row.commune, reference.province(row.province))
            if found is None:
                continue
            short = short_name(found.name, found.kind)
            province = reference.provinces[found.province_code].name
            values = {
                "commune": short,
                "commune_key": fold(short),
                "commune_code": found.code,
                "commune_name": found.name,
                "province": province,
                "province_code": found.province_code,
            }
            if table == "owners":
                values["province_key"] = fold(province)
            assignments = ", ".join(f"{column} = :{column}" for column in values)
            connection.execute(
                sa.text(f"UPDATE {table} SET {assignments} WHERE id = :id"),
                {**values, "id": row.id},
            )


def downgrade() -> None:
    for table in PLACED:
        with op.batch_alter_table(table) as batch:
            if table == "owners":
                batch.drop_index("ix_owners_province_code")
            batch.drop_index(f"ix_{table}_commune_code")
            batch.drop_column("province_code")
            batch.drop_column("commune_name")
