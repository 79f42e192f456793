"""Building blocks for request and response schemas.

Patterns are written so that Python's `re` (`regex_engine="python-re"`) and the ECMA-262 regexes
of JSON Schema agree on them, so what the OpenAPI document allows is exactly what we accept:
no `\\s` (the engines disagree on which characters are spaces) and no `$` (Python's also matches
before a final newline). Leading and trailing spaces are trimmed after validation.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError, to_jsonable_python

from app.core.text import MAX_SEARCH_TERMS, nfc

SPACE = " \t\n\r\f\v"
END = r"(?![\s\S])"  # end of input, in both engines
# No NUL characters anywhere (PostgreSQL text cannot hold them) ...
NO_NUL = rf"^[^\x00]*{END}"
# ... and, for names, at least one character that is not a space.
NOT_BLANK = rf"^[^\x00]*[^\x00 \t\n\r\f\v][^\x00]*{END}"
# Query parameters are checked by pydantic's default (Rust) engine, whose `$` is end of input.
QUERY_TEXT = r"^[^\x00]*$"

# A search's words are separated by exactly the characters Python's `\s` matches (what
# `app.core.text.fold` splits on), spelled out because the engines' `\s` differ. Folding never
# turns another character into one of these, so a search has at most as many terms as words.
_SEARCH_SPACE = r"\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_S, _W = f"[{_SEARCH_SPACE}]", f"[^\\x00{_SEARCH_SPACE}]"
SEARCH_TEXT_MAX_LENGTH = 200
SEARCH_TEXT = rf"^{_S}*(?:{_W}+{_S}+){{0,{MAX_SEARCH_TERMS - 1}}}(?:{_W}+{_S}*)?$"
"""No NUL and at most `MAX_SEARCH_TERMS` words. Unambiguous, so that no engine backtracks."""
_SEARCH_TEXT = re.compile(SEARCH_TEXT.removesuffix("$") + r"\Z")


def _search_text(value: str) -> str:
    if _SEARCH_TEXT.match(value) is None:
        if "\x00" in value:
            raise PydanticCustomError("nul_character", "must not contain NUL characters")
        raise PydanticCustomError(
            "too_many_words", "at most {max_words} words", {"max_words": MAX_SEARCH_TERMS}
        )
    return value


DEFAULT_PROVINCE = "Lạng Sơn"
"""The province this service serves: the default `province` of owners, products and events."""
_TOKEN = r"[^@\x00 \t\n\r\f\v]+"


def trim(value: str) -> str:
    return value.strip(SPACE)


def _present(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("null_not_allowed", "may be left out, but not null")
    return value


T = TypeVar("T")
Omittable = Annotated[T | SkipJsonSchema[None], BeforeValidator(_present)]
"""A field a body may leave out (it then reads None) but not send as null: a PATCH's "leave it
as it is". The document shows `T` alone, so null is refused as the document says; a field
that null clears is written `T | None` instead."""


class InputModel(BaseModel):
    """Base of every request body: unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid", regex_engine="python-re")


NFC = BeforeValidator(nfc)
"""Normalises a text to Unicode NFC before anything else checks it (lengths count NFC
characters). Put it last in the `Annotated`, so it runs first. Every text type a request may
store or search with carries it: `Bắc Sơn` typed in NFD (letters and combining marks) is
stored, matched and compared as the NFC `Bắc Sơn`."""

Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=NOT_BLANK),
    AfterValidator(trim),
    NFC,
]
Place = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK),
    AfterValidator(trim),
    NFC,
]
ShortText = Annotated[
    str, StringConstraints(max_length=300, pattern=NO_NUL), AfterValidator(trim), NFC
]
LongText = Annotated[str, StringConstraints(max_length=5000, pattern=NO_NUL), NFC]
Phone = Annotated[
    str,
    StringConstraints(max_length=30, pattern=rf"^\+?[0-9 ().-]{{6,30}}{END}"),
    AfterValidator(trim),
]
Email = Annotated[
    str, StringConstraints(max_length=254, pattern=rf"^{_TOKEN}@{_TOKEN}\.{_TOKEN}{END}"), NFC
]
Url = Annotated[
    str,
    StringConstraints(max_length=300, pattern=rf"^https?://[^\x00 \t\n\r\f\v]+{END}"),
    NFC,
]
# An https URL on a named host: DNS labels and a top-level domain of letters (or punycode),
# the default port, no user or password (nothing may come between `https://` and the host),
# then a path, query and fragment of RFC 3986's characters (and %-escapes) only: no spaces,
# quotes, angle brackets or backslashes, so it can be placed in HTML and headers as it is.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TLD = r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
_URL_CHAR = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@/?#\[\]-]|%[0-9A-Fa-f]{2})"
MAX_URL_LENGTH = 2000
HTTPS_URL = rf"^https://(?:{_LABEL}\.)+{_TLD}(?:[/?#]{_URL_CHAR}*)?{END}"
HttpsUrl = Annotated[str, StringConstraints(max_length=MAX_URL_LENGTH, pattern=HTTPS_URL)]
"""A public https URL (an image, say): https only, a host name (no IP address, no port, no
credentials), RFC 3986 characters, at most 2000 characters."""

SearchText = Annotated[
    str,
    StringConstraints(max_length=SEARCH_TEXT_MAX_LENGTH),
    AfterValidator(_search_text),
    NFC,
    WithJsonSchema({"type": "string", "maxLength": SEARCH_TEXT_MAX_LENGTH, "pattern": SEARCH_TEXT}),
]
"""A search query (`q`): at most 200 characters, no NUL, and at most `MAX_SEARCH_TERMS` words
(422 `validation_error` naming the field beyond). The schema's pattern states the same rule, so
what the OpenAPI document allows is exactly what is accepted. Normalised to NFC."""

PlaceQuery = Annotated[str, StringConstraints(max_length=100, pattern=QUERY_TEXT), NFC]
"""A commune or province to filter on (query parameter), in NFC."""


def quantity_json(value: Decimal) -> int | float:
    """A quantity as the JSON number `QuantityOut` writes, not pydantic's default string. At
    most 3 decimals and 15 significant digits, so the float's shortest repr is the decimal
    itself (0.3 stays 0.3)."""
    return int(value) if value == value.to_integral_value() else float(value)


QuantityOut = Annotated[
    Decimal,
    PlainSerializer(quantity_json, return_type=int | float, when_used="json"),
    # One schema whichever way it is read: a model that is sent (a response, a webhook's
    # body) has then one schema in the OpenAPI document, not an input and an output variant.
    WithJsonSchema({"type": "number"}),
]
"""An exact quantity in a response, written as a JSON number."""


def number_only(value: object) -> object:
    """The one check that a request body's number is a JSON number: not a boolean (JSON
    `true` is not 1, `false` is no price of 0) nor a string (`"12"`). Every numeric input type
    below runs it before its own validation."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("must be a JSON number")
    return value


NumberOnly = BeforeValidator(number_only)
"""Marks a number in a request body as a JSON number only (`number_only`). Put it last in the
`Annotated`, after the bounds: `Annotated[int, Field(ge=0), NumberOnly]`. (Bounds given outside
it would still hold, but pydantic would state them in the JSON Schema as `ge`/`le`, which no
client understands, instead of `minimum`/`maximum`.) Query parameters, which are text, keep
plain `int`."""

MAX_PRICE_VND = 10**12
PriceVnd = Annotated[int, Field(ge=0, le=MAX_PRICE_VND), NumberOnly]
"""A price in a request body: whole VND, a JSON integer (`12` or `12.0`), never `true`, `false`
or `"12"`."""
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False), NumberOnly]
"""A WGS 84 latitude in a request body, a JSON number."""
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False), NumberOnly]
"""A WGS 84 longitude in a request body, a JSON number."""


# Quantities have at most 15 digits, 3 of them decimals. The schema states the bounds as well as
# the grid: a JSON Schema number without `maximum` admits 1e300, which is a multiple of 0.001 but
# no quantity, and a fuzzer that reads the schema would rightly expect it to be accepted.
QUANTITY_MAX = Decimal("999999999999.999")
_QUANTITY_SCHEMA: dict[str, Any] = {"type": "number", "multipleOf": 0.001}

QuantityIn = Annotated[
    Decimal,
    BeforeValidator(number_only),
    Field(max_digits=15, decimal_places=3, ge=-QUANTITY_MAX, le=QUANTITY_MAX),
    WithJsonSchema(
        {**_QUANTITY_SCHEMA, "minimum": -float(QUANTITY_MAX), "maximum": float(QUANTITY_MAX)}
    ),
]
"""An exact quantity in a request: a JSON number with at most 3 decimals (parsed from the JSON
text itself, so 0.1 is exactly 0.1)."""

NonNegativeQuantityIn = Annotated[
    Decimal,
    BeforeValidator(number_only),
    Field(max_digits=15, decimal_places=3, ge=0, le=QUANTITY_MAX),
    WithJsonSchema({**_QUANTITY_SCHEMA, "minimum": 0, "maximum": float(QUANTITY_MAX)}),
]
"""A quantity that may be zero but not negative (a stock level)."""

PositiveQuantityIn = Annotated[
    Decimal,
    BeforeValidator(number_only),
    Field(max_digits=15, decimal_places=3, gt=0, le=QUANTITY_MAX),
    WithJsonSchema({**_QUANTITY_SCHEMA, "exclusiveMinimum": 0, "maximum": float(QUANTITY_MAX)}),
]
"""A quantity greater than zero (a unit step, an ordered amount)."""


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return to_jsonable_python(value)


def canonical(model: BaseModel) -> Any:
    """A validated request as JSON data in which equal requests are equal, to compare them (an
    `Idempotency-Key`'s fingerprint): exact quantities in their normal form, so `1`, `1.0`,
    `1.000` and `1e0` are all `"1"` while `1` and `2` still differ; texts as validated (trimmed,
    NFC)."""
    return _canonical(model.model_dump())


def quantity_schema(
    *, gt: Decimal | None = None, ge: Decimal | None = None, le: Decimal | None = None
) -> WithJsonSchema:
    """The JSON Schema of an exact quantity with these bounds (state them in `Field` too)."""
    schema: dict[str, Any] = {"type": "number", "multipleOf": 0.001}
    if gt is not None:
        schema["exclusiveMinimum"] = float(gt)
    if ge is not None:
        schema["minimum"] = float(ge)
    if le is not None:
        schema["maximum"] = float(le)
    return WithJsonSchema(schema)


# ---------------------------------------------------------------------------------------------
# Dates and times: 1970-01-01 to 2199-12-31, everywhere a client gives one. Beyond, they are
# certainly mistakes, and turning a local day into UTC in some zone (or a day after the last)
# overflows Python's datetime, in year 1 as in year 9999. Within, every zone's bounds of every
# day are computable. The schema says so too: a pattern holds the year to 1970..2199.

EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(2199, 12, 31)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""The first instant of `EARLIEST_DAY` in UTC."""
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""The instant `LATEST_DAY` ends in UTC."""
DAY_RANGE = f"from {EARLIEST_DAY} to {LATEST_DAY}"

_YEAR = r"(19[7-9][0-9]|2[01][0-9]{2})"
_DAY = rf"{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_CLOCK = r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
_OFFSET = r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
_TIMESTAMP = rf"{_DAY}[Tt]{_CLOCK}{_OFFSET}"
_LOCAL_TIMESTAMP = rf"{_DAY}[Tt]{_CLOCK}{_OFFSET}?"
# Each text is checked against its pattern (whole) before it is parsed, so what is accepted is
# what the schema states (in JSON Schema `$` is the end of input; Python's `fullmatch` is used).
DAY_SCHEMA: dict[str, Any] = {"type": "string", "format": "date", "pattern": rf"^{_DAY}$"}
"""A day, as the OpenAPI document states it."""
TIMESTAMP_SCHEMA: dict[str, Any] = {
    "type": "string",
    "format": "date-time",
    "pattern": rf"^{_TIMESTAMP}$",
}
"""An RFC 3339 timestamp with its offset, as the OpenAPI document states it."""
LOCAL_TIMESTAMP_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": rf"^{_DAY}[Tt]{_CLOCK}$",
}
"""A timestamp without its offset (local to a zone the request names): not an RFC 3339
`date-time`, which always has one, so only its pattern states it."""


UTC_TIMESTAMP_SCHEMA: dict[str, Any] = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$",
}
"""A timestamp in an answer, as the OpenAPI document states it: UTC, `Z`."""


def in_utc(value: datetime) -> datetime:
    """`value` in UTC, as a `Timestamp` is written."""
    if value.tzinfo is None:
        raise ValueError("a naive datetime cannot be written as a timestamp")
    return value.astimezone(UTC)


Timestamp = Annotated[
    datetime,
    PlainSerializer(in_utc, return_type=datetime, when_used="json"),
    WithJsonSchema(UTC_TIMESTAMP_SCHEMA),
]
"""The type of every timestamp in an answer: written in JSON as RFC 3339 in UTC with a `Z`
suffix, at the precision stored (`2025-11-03T01:00:00Z`, `2025-11-03T01:00:00.250000Z`),
whatever zone the value is in. Local times are the client's to show (events name a zone, `tz`);
a local calendar day is a `date`, not a timestamp."""

_TIMESTAMP_ADAPTER: TypeAdapter[datetime] = TypeAdapter(Timestamp)


def timestamp_text(value: datetime) -> str:
    """`value` written as a `Timestamp` is, for JSON built by hand (a webhook's envelope)."""
    text: str = _TIMESTAMP_ADAPTER.dump_python(value, mode="json")
    return text


def is_day(text: str) -> bool:
    """Whether `text` is written as `DAY_SCHEMA` says (`YYYY-MM-DD`, years 1970..2199)."""
    return re.fullmatch(_DAY, text) is not None


def is_timestamp(text: str, *, offset_optional: bool = False) -> bool:
    """Whether `text` is written as `TIMESTAMP_SCHEMA` (or `LOCAL_TIMESTAMP_SCHEMA`) says."""
    return re.fullmatch(_LOCAL_TIMESTAMP if offset_optional else _TIMESTAMP, text) is not None


def day_in_range(value: date) -> date:
    """`value` (a day, or a timestamp's own calendar day) if it lies in the supported range."""
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(f"must be a date {DAY_RANGE}")
    return value


def instant_in_range(value: datetime) -> datetime:
    """An aware `value` if it falls between the start of `EARLIEST_DAY` and the end of
    `LATEST_DAY`, in UTC."""
    day_in_range(value)
    if not EARLIEST <= value.astimezone(UTC) < LATEST:
        raise ValueError(f"must lie between {EARLIEST.isoformat()} and {LATEST.isoformat()}")
    return value


def _day_text(value: object) -> object:
    # The schema says a string: pydantic alone would also take a number as a Unix time.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not is_day(value):
        raise ValueError(f"must be a date (YYYY-MM-DD) {DAY_RANGE}")
    return value


Day = Annotated[
    date, BeforeValidator(_day_text), AfterValidator(day_in_range), WithJsonSchema(DAY_SCHEMA)
]
"""A calendar day a client gives (`YYYY-MM-DD`), from 1970-01-01 to 2199-12-31: the shared type
of every date in a request, in a body or a query."""


def _timestamp_text(value: object) -> object:
    # Pydantic would also take a number as a Unix time; the schema says an RFC 3339 string.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not is_timestamp(value):
        raise ValueError(f"must be an RFC 3339 timestamp with an offset, {DAY_RANGE}")
    return value


TimestampIn = Annotated[
    AwareDatetime,
    BeforeValidator(_timestamp_text),
    AfterValidator(instant_in_range),
    WithJsonSchema(TIMESTAMP_SCHEMA),
]
"""An instant a client gives: an RFC 3339 timestamp with its offset (any), within the shared
range (1970-01-01T00:00Z to 2200-01-01T00:00Z). Answers write theirs as `Timestamp`."""
