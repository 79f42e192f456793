"""A small typed base for repositories: one model, one session, the reads every domain needs.

A domain's repository subclasses `Repository[Model]`, names its model and adds its own queries;
services hold an instance (`ProductRepository(session)`) and never build SQL themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.base import ExecutableOption

from app.core.errors import NotFound
from app.core.pagination import NIL_ID, ChangesQuery, Ordering, PageQuery, oldest_change_first

M = TypeVar("M", bound=DeclarativeBase)
T = TypeVar("T")


class Repository(Generic[M]):
    """Typed reads of `model` by id and keyset pages of any select of it."""

    model: ClassVar[type[Any]]
    noun: ClassVar[str] = "record"
    """How a 404 names a missing row: "No product 7f0c...". """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def select(self) -> Select[M]:
        """The base query of this repository's reads; override to join or load what every
        read needs."""
        return select(self.model)

    def options(self) -> Sequence[ExecutableOption]:
        """Loader options every single-row read applies (relationships are lazy="raise")."""
        return ()

    async def get(self, id_: uuid.UUID, *, for_update: bool = False) -> M | None:
        """The row with this id, fresh from the database (never a stale identity-map copy);
        `for_update` row-locks it until the transaction ends."""
        stmt = (
            self.select()
            .where(self.model.id == id_)
            .options(*self.options())
            .execution_options(populate_existing=True)
        )
        if for_update:
            stmt = stmt.with_for_update(of=self.model)
        row: M | None = await self.session.scalar(stmt)
        return row

    async def get_or_404(
        self, id_: uuid.UUID, *, for_update: bool = False, code: str | None = None
    ) -> M:
        """The row with this id, or `NotFound` naming it."""
        row = await self.get(id_, for_update=for_update)
        if row is None:
            raise self.not_found(id_, code=code)
        return row

    @classmethod
    def not_found(cls, id_: uuid.UUID, *, code: str | None = None) -> NotFound:
        """The 404 of a missing (or, to this caller, invisible) row: "No product 7f0c...".

        For reads that load more than `get` does, or filter by who may see the row."""
        return NotFound(f"No {cls.noun} {id_}.", code=code)

    async def get_for_update(self, id_: uuid.UUID) -> M | None:
        return await self.get(id_, for_update=True)

    async def exists(self, id_: uuid.UUID) -> bool:
        found = await self.session.scalar(select(self.model.id).where(self.model.id == id_))
        return found is not None

    async def page(
        self, stmt: Select[T], ordering: Ordering, page: PageQuery
    ) -> tuple[list[T], str | None]:
        """One keyset page of `stmt` in `ordering`, and the cursor of the next page."""
        rows = (await self.session.execute(ordering.apply(stmt, page.cursor, page.limit))).all()
        return ordering.page(rows, page.limit)

    async def page_rows(
        self, stmt: Select[Any], ordering: Ordering, page: PageQuery
    ) -> tuple[list[tuple[Any, ...]], str | None]:
        """As `page`, for a select of several columns: each item is a tuple of them."""
        rows = (await self.session.execute(ordering.apply(stmt, page.cursor, page.limit))).all()
        return ordering.page(rows, page.limit)

    async def changes(
        self, stmt: Select[T], query: ChangesQuery, horizon: datetime
    ) -> tuple[list[T], str | None]:
        """One page of `stmt` read as a change feed (`query.feed`): rows changed after the
        cursor, or else since `updated_since`, up to `horizon`
        (`app.core.changes.feed_horizon`), oldest change first; the cursor to resume from is
        always given."""
        ordering = oldest_change_first(self.model.updated_at, self.model.id)
        position = query.cursor or ordering.encode([query.updated_since, NIL_ID])
        stmt = stmt.where(self.model.updated_at <= horizon)
        rows = (await self.session.execute(ordering.apply(stmt, position, query.limit))).all()
        return ordering.page(rows, query.limit, resume_from=position)
