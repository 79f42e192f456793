"""Building blocks for request and response schemas.

Patterns are written so that Python's `re` (`regex_engine="python-re"`) and the ECMA-262 regexes
of JSON Schema agree on them, so what the OpenAPI document allows is exactly what we accept:
no `\\s` (the engines disagree on which characters are spaces) and no `$` (Python's also matches
before a final newline). Leading and trailing spaces are trimmed after validation.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from app.core.text import MAX_SEARCH_TERMS

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


SearchText = Annotated[
    str,
    StringConstraints(max_length=SEARCH_TEXT_MAX_LENGTH),
    AfterValidator(_search_text),
    WithJsonSchema({"type": "string", "maxLength": SEARCH_TEXT_MAX_LENGTH, "pattern": SEARCH_TEXT}),
]
"""A search query (`q`): at most 200 characters, no NUL, and at most `MAX_SEARCH_TERMS` words
(422 `validation_error` naming the field beyond). The schema's pattern states the same rule, so
what the OpenAPI document allows is exactly what is accepted."""

DEFAULT_PROVINCE = "Lạng Sơn"
"""The province this service serves: the default `province` of owners, products and events."""
_TOKEN = r"[^@\x00 \t\n\r\f\v]+"


def trim(value: str) -> str:
    return value.strip(SPACE)


class InputModel(BaseModel):
    """Base of every request body: unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid", regex_engine="python-re")


Name = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=NOT_BLANK), AfterValidator(trim)
]
Place = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=NOT_BLANK), AfterValidator(trim)
]
ShortText = Annotated[str, StringConstraints(max_length=300, pattern=NO_NUL), AfterValidator(trim)]
LongText = Annotated[str, StringConstraints(max_length=5000, pattern=NO_NUL)]
Phone = Annotated[
    str,
    StringConstraints(max_length=30, pattern=rf"^\+?[0-9 ().-]{{6,30}}{END}"),
    AfterValidator(trim),
]
Email = Annotated[
    str, StringConstraints(max_length=254, pattern=rf"^{_TOKEN}@{_TOKEN}\.{_TOKEN}{END}")
]
Url = Annotated[
    str, StringConstraints(max_length=300, pattern=rf"^https?://[^\x00 \t\n\r\f\v]+{END}")
]


def _quantity_json(value: Decimal) -> int | float:
    # A JSON number, not pydantic's default string. At most 3 decimals and 15 significant
    # digits, so the float's shortest repr is the decimal itself (0.3 stays 0.3).
    return int(value) if value == value.to_integral_value() else float(value)


QuantityOut = Annotated[
    Decimal, PlainSerializer(_quantity_json, return_type=int | float, when_used="json")
]
"""An exact quantity in a response, written as a JSON number."""


def number_only(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("must be a JSON number")
    return value


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
