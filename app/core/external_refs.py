"""External refs: the ids other systems (ticketing systems, shops) know a record by.

A record lists them as `[{"system": "ticketbox", "id": "EVT-1001"}]`. A (system, id) pair names
one record of a kind only: the unique constraint on its table's (system, external_id) decides,
so two concurrent writes of one pair cannot both win (`app.core.unique`). A list given on a
write replaces the record's set (`merge_refs`), and `?external_ref=system:id` finds the record.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Protocol, TypeVar

from pydantic import AfterValidator, BaseModel, Field, StringConstraints
from pydantic.fields import FieldInfo
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.core.schemas import END, NFC, InputModel
from app.core.unique import flush_unique

MAX_EXTERNAL_REFS = 20

ExternalSystem = Annotated[
    str, StringConstraints(min_length=1, max_length=50, pattern=rf"^[a-z0-9][a-z0-9_.-]*{END}")
]
ExternalId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=rf"^[^\x00-\x20\x7f]+{END}"),
    NFC,
]
"""An id in another system: 1 to 200 characters, no spaces nor control characters, in NFC."""
ExternalIdQuery = Annotated[
    str, StringConstraints(max_length=200, pattern=r"^[^\x00-\x20\x7f]+$"), NFC
]
"""An `ExternalId` as a query parameter (checked by pydantic's default engine: `$` ends it)."""

EXTERNAL_REF_QUERY = r"^[a-z0-9][a-z0-9_.-]{0,49}:[^\x00-\x20\x7f]{1,200}$"
ExternalRefQuery = Annotated[
    str, StringConstraints(max_length=251, pattern=EXTERNAL_REF_QUERY), NFC
]
"""`system:id`, the query parameter that finds a record by one of its external refs."""


class ExternalRef(InputModel):
    system: ExternalSystem = Field(
        description="The other system, e.g. `ticketbox` or `shopee`: lower case letters, "
        "digits, `_`, `.` and `-`."
    )
    id: ExternalId = Field(description="The record's id in that system.")


class ExternalRefRead(BaseModel):
    system: str = Field(description="The other system.")
    id: str = Field(description="The record's id in that system.")


def _distinct(refs: list[ExternalRef]) -> list[ExternalRef]:
    pairs = [(ref.system, ref.id) for ref in refs]
    if len(set(pairs)) != len(pairs):
        raise ValueError("external_refs names the same (system, id) twice")
    return refs


def external_refs_field(description: str) -> FieldInfo:
    """The constraints of an `external_refs` input: at most `MAX_EXTERNAL_REFS` pairs."""
    field: FieldInfo = Field(
        max_length=MAX_EXTERNAL_REFS,
        description=description,
        # A pair is the whole item, so the schema can say that no pair comes twice.
        json_schema_extra={"uniqueItems": True},
    )
    return field


DistinctRefs = AfterValidator(_distinct)
"""Refuses a list naming one (system, id) pair twice (422)."""


def split_ref(text: str) -> tuple[str, str]:
    """An `ExternalRefQuery` as (system, id): the system holds no `:`, the id may."""
    system, _, external_id = text.partition(":")
    return system, external_id


class StoredRef(Protocol):
    system: str
    external_id: str


R = TypeVar("R", bound=StoredRef)


def merge_refs(
    current: Sequence[R], wanted: Sequence[ExternalRef], make: Callable[[str, str], R]
) -> list[R] | None:
    """The rows of `wanted` (those of `current` that stay, new ones made by `make(system, id)`),
    or None when the set does not change.

    The rows that stay are kept rather than replaced: a delete and re-insert of one pair would
    trip the unique constraint, since the unit of work inserts before it deletes. The list is in
    the relationships' order, (system, id), as a later read loads it: an answer (and its ETag,
    which a client sends back as `If-Match`) must be the record as stored.
    """
    pairs = {(ref.system, ref.id) for ref in wanted}
    if pairs == {(row.system, row.external_id) for row in current}:
        return None
    kept = [row for row in current if (row.system, row.external_id) in pairs]
    have = {(row.system, row.external_id) for row in kept}
    rows = kept + [make(system, external_id) for system, external_id in pairs - have]
    return sorted(rows, key=lambda row: (row.system, row.external_id))


Pairs = list[tuple[str, str]]
Holders = Callable[[Pairs], Awaitable[list[tuple[str, str, uuid.UUID]]]]
"""Which of these (system, id) pairs another record holds: (system, id, its id) each."""


async def write_refs(
    session: AsyncSession,
    change: Callable[[], None],
    refs: Sequence[ExternalRef],
    *,
    table: str,
    noun: str,
    holders: Holders,
) -> None:
    """Apply `change` (which writes `refs`) and flush; a pair already held by another record
    of `table` is a 409 `external_ref_taken` naming, for each such pair, its `<noun>_id`."""

    async def taken() -> Conflict:
        held = await holders([(ref.system, ref.id) for ref in refs])
        return Conflict(
            f"An external ref already names another {noun}: "
            + ", ".join(f"{system}:{external_id}" for system, external_id, _ in held),
            code="external_ref_taken",
            external_refs=[
                {"system": system, "id": external_id, f"{noun}_id": str(holder)}
                for system, external_id, holder in held
            ],
        )

    await flush_unique(session, change, table=table, conflict=taken)
