"""Keyset pagination with opaque cursors.

A list is ordered by a tuple of sort keys ending in a unique one (the id). The cursor carries the
last row's key values; the next page asks for rows strictly after them, so a deep page costs the
same as the first and rows inserted meanwhile are neither skipped nor repeated.

A cursor is base64url of `{"s": ordering name, "v": [one JSON value per key]}`. It is opaque to
clients but not secret, so anyone can hand-make one: decoding checks every value strictly
against its key's type (`CODECS`) before it goes near a query, and refuses anything else with
400 `invalid_cursor`.

A list that takes `updated_since` (`ChangesQuery`) is then a change feed: ordered by
(`updated_at`, `id`) (`oldest_change_first`), starting at that moment, and its pages always
carry a cursor, the last one too, which alone continues the feed and, polled later, serves the
changes made since (`app.core.changes` says why it is exact while others write).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Integer, Select, and_, bindparam, literal, or_, tuple_
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from app.core import jsontext
from app.core.errors import BadRequest
from app.core.schemas import TimestampIn
from app.core.text import FOLD_GROWTH

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_TEXT = 200 * FOLD_GROWTH
"""The longest text a cursor may carry: a sort key is a folded name (of at most 200
characters, which folding can triple)."""
MAX_CURSOR_LENGTH = 4 * (4 * MAX_CURSOR_TEXT + 200) // 3
"""The longest cursor the API issues: base64 of a JSON document holding at most one text key
(up to 4 bytes a character in UTF-8) and a few values of fixed size (under 200 bytes)."""


class PageQuery(BaseModel):
    """Where a list page starts and how long it is: the query parameters of every list.

    A list's filters subclass it, so filters and paging travel as one typed object from the
    query string (`Annotated[XQuery, query_model(XQuery)]`) to the repository."""

    cursor: str | None = Field(
        default=None,
        max_length=MAX_CURSOR_LENGTH,
        pattern=r"^[A-Za-z0-9_-]*$",
        description="Opaque cursor from the previous page's `next_cursor`.",
    )
    limit: int = Field(
        default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Page size, 1..{MAX_LIMIT}."
    )


class ChangesQuery(PageQuery):
    """The page of a list that can also be read as a change feed: from `updated_since`, then
    from the cursors it hands out (which alone continue it).

    A feed is every change the caller may see, in the order they happened: it takes no filter
    nor sort (a row that left a filtered feed would stay in a mirror of it, stale, forever),
    only those of `feed_parameters`, which cannot change a row's membership (422 otherwise)."""

    updated_since: TimestampIn | None = Field(
        default=None,
        description="Read the list as a change feed: every row changed at or after this moment "
        "(archived and cancelled ones too), oldest change first, by (`updated_at`, `id`). "
        "`next_cursor` is then always given: `cursor` alone continues the feed, to the last "
        "page and, polled later, past it. A change shows once it has settled (15 s by "
        "default). Takes no filter nor sort.",
    )

    feed_parameters: ClassVar[frozenset[str]] = frozenset()
    """The fields besides paging that may come with a feed."""

    @property
    def feed(self) -> bool:
        """Whether this reads the change feed: `updated_since`, or a cursor of a feed."""
        return self.updated_since is not None or (
            self.cursor is not None and cursor_ordering(self.cursor) == CHANGES
        )

    @model_validator(mode="after")
    def _feed_alone(self) -> Self:
        if not self.feed:
            return self
        fields = type(self).model_fields
        others = self.model_fields_set - {"updated_since", "cursor", "limit"}
        refused = sorted(fields[name].alias or name for name in others - self.feed_parameters)
        if refused:
            raise ValueError(
                "a change feed (updated_since, then its cursors) serves every change in the "
                "order it happened; it does not combine with " + ", ".join(refused)
            )
        return self


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T] = Field(description="This page's items.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page, except in a "
        "change feed (`updated_since`), where it is always given: poll with it for later "
        "changes."
    )

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        """`ProductPage` for `Page[ProductRead]`: the schema's name in the OpenAPI document,
        and so the class a generated client makes of it."""
        (item,) = params
        name: str = item.__name__
        return name.removesuffix("Read") + "Page"


INT64 = (-(2**63), 2**63 - 1)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_DECIMAL = re.compile(r"^-?[0-9]{1,30}(\.[0-9]{1,30})?\Z")


class CursorValueError(ValueError):
    """A cursor's value that is not one of its key's type."""


@dataclass(frozen=True)
class Codec:
    """How one sort key's type travels in a cursor: to a JSON value, and strictly back."""

    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise CursorValueError("not a string")
    if len(value) > MAX_CURSOR_TEXT or "\x00" in value:
        raise CursorValueError("too long, or holds a NUL character")
    try:
        value.encode("utf-8")  # lone surrogates ("\ud800" in the JSON) cannot be sent
    except UnicodeEncodeError as exc:
        raise CursorValueError("not Unicode text") from exc
    return value


def _int(value: Any) -> int:
    if type(value) is not int or not INT64[0] <= value <= INT64[1]:
        raise CursorValueError("not a 64-bit integer")
    return value


def _float(value: Any) -> float:
    if type(value) not in (int, float):
        raise CursorValueError("not a number")
    try:
        number = float(value)
    except OverflowError as exc:
        raise CursorValueError("not a finite number") from exc
    if not math.isfinite(number):
        raise CursorValueError("not a finite number")
    return number


def _decimal(value: Any) -> Decimal:
    if not isinstance(value, str) or not _DECIMAL.match(value):
        raise CursorValueError("not a plain decimal")
    return Decimal(value)


def _encode_decimal(value: Decimal) -> str:
    return format(value, "f")


def _uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str) or not _UUID.match(value):
        raise CursorValueError("not a UUID in canonical form")
    return uuid.UUID(value)


def _encode_datetime(value: datetime) -> str:
    if value.utcoffset() is None:
        raise TypeError("a cursor's datetime must carry its offset")
    return value.isoformat()


def _datetime(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise CursorValueError("not a timestamp")
    moment = datetime.fromisoformat(value)
    if moment.utcoffset() is None:
        raise CursorValueError("a timestamp without an offset")
    try:
        return moment.astimezone(UTC)  # out of range once in UTC: year 1 at +05:00, say
    except OverflowError as exc:
        raise CursorValueError("a timestamp out of range") from exc


def _date(value: Any) -> date:
    if not isinstance(value, str) or len(value) > 10:
        raise CursorValueError("not a date")
    return date.fromisoformat(value)


CODECS: dict[type, Codec] = {
    str: Codec(str, _text),
    int: Codec(int, _int),
    float: Codec(float, _float),
    Decimal: Codec(_encode_decimal, _decimal),
    uuid.UUID: Codec(str, _uuid),
    datetime: Codec(_encode_datetime, _datetime),
    date: Codec(date.isoformat, _date),
}
"""The sort key types a cursor can carry."""


@dataclass(frozen=True)
class SortKey:
    """One column of an ordering; `type` (a key of `CODECS`) is what its values are, and the
    only thing a cursor may hold for it."""

    expr: ColumnElement[Any] | QueryableAttribute[Any]
    type: type
    descending: bool = False

    def __post_init__(self) -> None:
        if self.type not in CODECS:
            raise TypeError(f"no cursor codec for sort keys of type {self.type.__name__}")

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
            stmt = stmt.where(self._past(self.decode(cursor)))
        return stmt.order_by(*(key.ordered() for key in self.keys)).limit(limit + 1)

    def prepared(self, stmt: Select[Any], *, after_cursor: bool) -> Select[Any]:
        """As `apply`, with the cursor's values and the row count as bind parameters
        (`after_0`.., `limit`): one statement for every page, built once
        (`app.core.direct.Prepared`); `bound` gives the values to run it with."""
        stmt = stmt.add_columns(*(key.expr for key in self.keys))
        if after_cursor:
            stmt = stmt.where(
                self._past(
                    [
                        bindparam(f"after_{i}", type_=key.expr.type)
                        for i, key in enumerate(self.keys)
                    ]
                )
            )
        return stmt.order_by(*(key.ordered() for key in self.keys)).limit(
            bindparam("limit", type_=Integer())
        )

    def prepared_late(
        self, chosen: Select[Any], read: Select[Any], *, after_cursor: bool
    ) -> Select[Any]:
        """As `prepared`, in two steps (a late row lookup): the page is chosen by `chosen`,
        which selects the rows' id alone and filters them, past the cursor, ordered, one row
        past the page; then `read` reads those rows only, joined to the page by that id, in
        the page's order, with the sort keys as trailing columns. Whatever `read` joins or
        computes per row (an owner's name, a correlated subquery) is then done for the page's
        rows, not for every row a filter gathers before the sort."""
        identity = chosen.selected_columns[0]
        # Named apart from the sort keys, the last of which is often that very id.
        chosen = chosen.with_only_columns(identity.label("chosen_id"))
        page = self.prepared(chosen, after_cursor=after_cursor).subquery("page")
        page_id, *keys = page.c
        return (
            read.join(page, page_id == identity)
            .add_columns(*keys)
            .order_by(
                *(
                    column.desc() if key.descending else column.asc()
                    for column, key in zip(keys, self.keys, strict=True)
                )
            )
        )

    def bound(self, cursor: str | None, limit: int) -> dict[str, Any]:
        """The bind values of `prepared` for the page of `limit` rows after `cursor`."""
        values: dict[str, Any] = {"limit": limit + 1}
        if cursor is not None:
            values.update((f"after_{i}", v) for i, v in enumerate(self.decode(cursor)))
        return values

    def _past(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """The rows after the cursor's, as a condition an index on the keys can seek to.

        Keys of one direction compare as a row value, `(a, b) < (x, y)`, which PostgreSQL and
        SQLite both turn into an index range; spelled out as `a < x OR (a = x AND b < y)` the
        same condition is a filter over every row before it (a page deep in a million-row list
        went from about 1 ms to over a second). Mixed directions must be spelled out; the added
        bound on the first key still lets the index skip what lies before the cursor.
        """
        first = self.keys[0]
        if len(self.keys) > 1 and len({key.descending for key in self.keys}) == 1:
            row = tuple_(*(key.expr for key in self.keys))
            bound = tuple_(
                *(
                    value if isinstance(value, BindParameter) else literal(value, key.expr.type)
                    for key, value in zip(self.keys, values, strict=True)
                )
            )
            return row < bound if first.descending else row > bound
        clauses = []
        for i, key in enumerate(self.keys):
            equal = [self.keys[j].expr == values[j] for j in range(i)]
            clauses.append(and_(*equal, key.after(values[i])))
        past = or_(*clauses)
        if len(self.keys) == 1:
            return past
        reach = first.expr <= values[0] if first.descending else first.expr >= values[0]
        return and_(reach, past)

    def page(
        self, rows: Sequence[Any], limit: int, *, resume_from: str | None = None
    ) -> tuple[list[Any], str | None]:
        """Split fetched rows into the page's entities and the cursor for the next page.

        A change feed passes `resume_from`, the position its page started at: its last page
        then carries a cursor too, the last row's or, with no row, that position."""
        width = len(self.keys)
        visible = rows[:limit]
        items = [row[0] if len(row) == width + 1 else tuple(row[:-width]) for row in visible]
        next_cursor = resume_from
        if visible and (len(rows) > limit or resume_from is not None):
            next_cursor = self.encode(visible[-1][-width:])
        return items, next_cursor

    def encode(self, values: Sequence[Any]) -> str:
        """The cursor that resumes after a row with these key values."""
        payload = {
            "s": self.name,
            "v": [CODECS[key.type].encode(v) for key, v in zip(self.keys, values, strict=True)],
        }
        # Compact, and UTF-8 rather than \u escapes, to keep cursors short.
        return base64.urlsafe_b64encode(jsontext.dumps(payload)).decode().rstrip("=")

    def decode(self, cursor: str) -> list[Any]:
        """The key values a cursor of this ordering carries, each checked strictly against its
        key's type; anything else is 400 `invalid_cursor`, never a query."""
        try:
            data = _payload(cursor)
            values = data["v"]
            if data["s"] != self.name or not isinstance(values, list):
                raise CursorValueError("a cursor of another list")
            if len(values) != len(self.keys):
                raise CursorValueError("a cursor of another list")
            return [
                CODECS[key.type].decode(value) for key, value in zip(self.keys, values, strict=True)
            ]
        except (ValueError, binascii.Error, RecursionError) as exc:
            # ValueError covers JSON, Unicode and ISO format errors, and CursorValueError.
            raise BadRequest(
                "The cursor is not valid for this list; start again without it.",
                code="invalid_cursor",
            ) from exc


def _payload(cursor: str) -> dict[str, Any]:
    """A cursor's JSON object, `{"s": ..., "v": ...}`, unchecked beyond that shape."""
    raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
    data = json.loads(raw)
    if not isinstance(data, dict) or data.keys() != {"s", "v"}:
        raise CursorValueError("not a cursor")
    return data


def cursor_ordering(cursor: str) -> str | None:
    """The name of the ordering a cursor claims to be of, if it is shaped like one (its values
    are checked only when it is used, by `Ordering.decode`)."""
    try:
        name = _payload(cursor)["s"]
    except (ValueError, binascii.Error, RecursionError):
        return None
    return name if isinstance(name, str) else None


def newest_first(
    created_at: QueryableAttribute[datetime], id_: QueryableAttribute[uuid.UUID]
) -> Ordering:
    """Newest first: by `created_at`, then `id`, both descending (cursors named "newest")."""
    return Ordering(
        "newest",
        (SortKey(created_at, datetime, descending=True), SortKey(id_, uuid.UUID, descending=True)),
    )


CHANGES = "changes"
"""The name of the change feeds' ordering, and of their cursors."""
NIL_ID = uuid.UUID(int=0)
"""Below every row's id (ids are random UUIDs): where a feed starts within its first moment."""


def oldest_change_first(
    updated_at: QueryableAttribute[datetime], id_: QueryableAttribute[uuid.UUID]
) -> Ordering:
    """Oldest change first: by `updated_at`, then `id`, both ascending (cursors named
    `CHANGES`): the order of every change feed."""
    return Ordering(CHANGES, (SortKey(updated_at, datetime), SortKey(id_, uuid.UUID)))
