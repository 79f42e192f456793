"""Keyset pagination with opaque cursors.

A list is ordered by a tuple of sort keys ending in a unique one (the id). The cursor carries the
last row's key values; the next page asks for rows strictly after them, so a deep page costs the
same as the first and rows inserted meanwhile are neither skipped nor repeated.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import ColumnElement

from app.core.errors import BadRequest

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class PageQuery(BaseModel):
    """Where a list page starts and how long it is: the query parameters of every list.

    A list's filters subclass it, so filters and paging travel as one typed object from the
    query string (`Annotated[XQuery, Query()]`) to the repository."""

    cursor: str | None = Field(
        default=None,
        max_length=1000,
        pattern=r"^[A-Za-z0-9_-]*$",
        description="Opaque cursor from the previous page's `next_cursor`.",
    )
    limit: int = Field(
        default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Page size, 1..{MAX_LIMIT}."
    )


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T] = Field(description="This page's items.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


Parser = Callable[[Any], Any]

_PARSERS: dict[type, Parser] = {
    str: str,
    int: int,
    float: float,
    uuid.UUID: uuid.UUID,
    datetime: datetime.fromisoformat,
    date: date.fromisoformat,
    Decimal: Decimal,
}


def _encode_value(value: Any) -> Any:
    if isinstance(value, date):  # and datetime, a subclass
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    return value


@dataclass(frozen=True)
class SortKey:
    expr: ColumnElement[Any] | QueryableAttribute[Any]
    type: type
    descending: bool = False

    def ordered(self) -> ColumnElement[Any]:
        return self.expr.desc() if self.descending else self.expr.asc()

    def after(self, value: Any) -> ColumnElement[bool]:
        clause: ColumnElement[bool] = self.expr < value if self.descending else self.expr > value
        return clause


@dataclass(frozen=True)
class Ordering:
    """A named sort order; its keys must never be NULL and the last must be unique."""

    name: str
    keys: tuple[SortKey, ...]

    def apply(self, stmt: Select[Any], cursor: str | None, limit: int) -> Select[Any]:
        """Order, filter past the cursor, and fetch one extra row to know if a page follows.

        The sort expressions are added as trailing columns so the cursor can be built from them.
        """
        stmt = stmt.add_columns(*(key.expr for key in self.keys))
        if cursor is not None:
            values = self._decode(cursor)
            # (a, b, c) > (x, y, z) spelled out, so each key may have its own direction.
            clauses = []
            for i, key in enumerate(self.keys):
                equal = [self.keys[j].expr == values[j] for j in range(i)]
                clauses.append(and_(*equal, key.after(values[i])))
            stmt = stmt.where(or_(*clauses))
        return stmt.order_by(*(key.ordered() for key in self.keys)).limit(limit + 1)

    def page(self, rows: Sequence[Any], limit: int) -> tuple[list[Any], str | None]:
        """Split fetched rows into the page's entities and the cursor for the next page."""
        width = len(self.keys)
        visible = rows[:limit]
        items = [row[0] if len(row) == width + 1 else tuple(row[:-width]) for row in visible]
        next_cursor = None
        if len(rows) > limit:
            next_cursor = self._encode(list(visible[-1][-width:]))
        return items, next_cursor

    def _encode(self, values: list[Any]) -> str:
        raw = json.dumps({"s": self.name, "v": [_encode_value(v) for v in values]})
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _decode(self, cursor: str) -> list[Any]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            data = json.loads(raw)
            if data["s"] != self.name or len(data["v"]) != len(self.keys):
                raise ValueError("cursor from another list")
            return [
                _PARSERS[key.type](value) for key, value in zip(self.keys, data["v"], strict=True)
            ]
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
            raise BadRequest(
                "The cursor is not valid for this list; start again without it.",
                code="invalid_cursor",
            ) from exc


def newest_first(
    created_at: QueryableAttribute[datetime], id_: QueryableAttribute[uuid.UUID]
) -> Ordering:
    """Newest first: by `created_at`, then `id`, both descending (cursors named "newest")."""
    return Ordering(
        "newest",
        (SortKey(created_at, datetime, descending=True), SortKey(id_, uuid.UUID, descending=True)),
    )
