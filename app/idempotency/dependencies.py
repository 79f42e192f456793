"""The `Idempotency-Key` request header, as routers declare it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="A unique key per intended operation (a UUID is ideal); retries reuse it.",
    ),
]
