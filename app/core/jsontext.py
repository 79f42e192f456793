"""JSON text read and written at orjson's speed, exactly as the standard library and Pydantic do.

- `loads` is the engine's decoder of JSON columns (`json_deserializer`): orjson, except for a
  text holding a run of 19 digits or more, which the standard library reads, since orjson reads
  an integer beyond 64 bits as a float (a partner's order `metadata` may hold one; it must come
  back as it was sent).
- `dumps_column` is the engine's encoder of JSON columns (`json_serializer`): compact UTF-8
  text that reads back as the very value the standard library's text would, at orjson's speed
  (an order's webhook message is one such column); the standard library writes what orjson
  does not (an integer beyond 64 bits, keys that are not text). A float that is not a number
  is written `null` (the standard library writes `NaN`, which is not JSON and PostgreSQL
  refuses).
- `dumps` writes a page the endpoint has made JSON-ready itself (see `ProductRead`'s
  `product_json`), when building the response models only to write them would cost more than
  the rest of the request: UUIDs as their text, timestamps in RFC 3339 with `Z` (every stored
  timestamp is read back in UTC, `app.core.types.UTCDateTime`), enums as their values, text as
  UTF-8; the same bytes as Pydantic's `model_dump_json`, which the tests compare.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import orjson

_LONG_DIGITS = re.compile(r"\d{19}")


def loads(text: str) -> Any:
    """The value of JSON `text`, as `json.loads` gives it."""
    if _LONG_DIGITS.search(text) is None:
        return orjson.loads(text)
    return json.loads(text)


def _default(value: object) -> str:
    # asyncpg's UUIDs are a subclass of uuid.UUID, which orjson writes only when exact.
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON-ready")


def dumps_column(value: Any) -> str:
    """`value` as the JSON text of a column; UTF-8 as it is, not escaped to ASCII."""
    try:
        return orjson.dumps(value, option=orjson.OPT_UTC_Z).decode()
    except orjson.JSONEncodeError:
        # What orjson refuses and the standard library writes, and what neither writes (a
        # TypeError from json, as the default encoder raised).
        return json.dumps(value, ensure_ascii=False)


def dumps(value: Any) -> bytes:
    """`value` (JSON-ready: dicts, lists, text, numbers, UUIDs, enums, UTC timestamps) as
    compact JSON."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_UTC_Z)
