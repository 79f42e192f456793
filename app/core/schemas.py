"""Building blocks for request and response schemas.

Patterns are written so that Python's `re` (`regex_engine="python-re"`) and the ECMA-262 regexes
of JSON Schema agree on them, so what the OpenAPI document allows is exactly what we accept:
no `\\s` (the engines disagree on which characters are spaces) and no `$` (Python's also matches
before a final newline). Leading and trailing spaces are trimmed after validation.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

SPACE = " \t\n\r\f\v"
NOT_BLANK = r"[^ \t\n\r\f\v]"  # at least one character that is not a space
END = r"(?![\s\S])"  # end of input, in both engines
_TOKEN = r"[^@ \t\n\r\f\v]+"


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
ShortText = Annotated[str, StringConstraints(max_length=300), AfterValidator(trim)]
LongText = Annotated[str, StringConstraints(max_length=5000)]
Phone = Annotated[
    str,
    StringConstraints(max_length=30, pattern=rf"^\+?[0-9 ().-]{{6,30}}{END}"),
    AfterValidator(trim),
]
Email = Annotated[
    str, StringConstraints(max_length=254, pattern=rf"^{_TOKEN}@{_TOKEN}\.{_TOKEN}{END}")
]
Url = Annotated[str, StringConstraints(max_length=300, pattern=rf"^https?://[^ \t\n\r\f\v]+{END}")]
