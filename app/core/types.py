"""Column types that behave the same on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from sqlalchemy import JSON, BigInteger, DateTime, Enum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps, stored in UTC on every backend.

    SQLite has no time zone type: values go in as naive UTC (so they sort and compare as text)
    and come back tagged UTC. Naive datetimes are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is UTC:  # asyncpg's are UTC already
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Quantity(TypeDecorator[Decimal]):
    """An exact quantity with up to 3 decimals, stored as an integer count of thousandths.

    Integers are exact on every backend (SQLite has no true decimal type) and sum exactly in SQL.
    """

    impl = BigInteger
    cache_ok = True
    SCALE = 1000

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * self.SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than 3 decimals")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else _from_thousandths(int(value))


@lru_cache(maxsize=4096)
def _from_thousandths(value: int) -> Decimal:
    """A stored count of thousandths as its quantity (Decimals are immutable: the same few
    values, unit steps and round stocks, are made once)."""
    return (Decimal(value) / Quantity.SCALE).quantize(Decimal("0.001")).normalize()


def str_enum(enum_class: type[StrEnum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a named CHECK constraint (no PostgreSQL ENUM type,
    so adding a value is a plain constraint change)."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [member.value for member in members],
    )


def json_document() -> JSON:
    """JSON, stored as JSONB on PostgreSQL."""
    return JSON().with_variant(JSONB(), "postgresql")
