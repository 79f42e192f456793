"""Province and commune queries."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Ordering, SortKey
from app.core.repository import Repository
from app.core.text import fold, like_pattern, search_terms
from app.geography.schemas import CommuneQuery, ProvinceQuery
from app.models.event import Event
from app.models.geography import Commune, CommuneKind, Province
from app.models.owner import Owner
from app.models.product import Product

PLACED: dict[str, type[Owner] | type[Product] | type[Event]] = {
    "owners": Owner,
    "products": Product,
    "events": Event,
}
"""The tables whose rows name a commune (an experience is a product's: its product's)."""

PROVINCES_BY_CODE = Ordering("code", (SortKey(Province.code, str),))
COMMUNES_BY_CODE = Ordering("code", (SortKey(Commune.code, str),))


class ProvinceRepository(Repository[Province]):
    model = Province
    noun = "province"

    async def search(self, query: ProvinceQuery) -> tuple[list[Province], str | None]:
        stmt = self.select()
        for term in search_terms(query.q or ""):
            stmt = stmt.where(Province.name_key.like(like_pattern(term), escape="\\"))
        return await self.page(stmt, PROVINCES_BY_CODE, query)

    async def by_code(self, code: str) -> Province | None:
        return await self.session.get(Province, code)

    async def by_name(self, key: str) -> list[Province]:
        """The provinces whose folded name is `key`, or `key` after "thành phố"."""
        stmt = select(Province).where(
            or_(Province.name_key == key, Province.name_key == "thanh pho " + key)
        )
        return list((await self.session.scalars(stmt)).all())


class CommuneRepository(Repository[Commune]):
    model = Commune
    noun = "commune"

    async def search(
        self, province_code: str, query: CommuneQuery
    ) -> tuple[list[Commune], str | None]:
        stmt = self.select().where(Commune.province_code == province_code)
        if query.kind is not None:
            stmt = stmt.where(Commune.kind == query.kind)
        for term in search_terms(query.q or ""):
            stmt = stmt.where(Commune.name_key.like(like_pattern(term), escape="\\"))
        return await self.page(stmt, COMMUNES_BY_CODE, query)

    async def by_code(self, code: str) -> Commune | None:
        return await self.session.get(Commune, code)

    def _named(self, province_code: str | None, kind: CommuneKind | None) -> Select[Commune, str]:
        stmt = select(Commune, Province.name).join(Province, Province.code == Commune.province_code)
        if province_code is not None:
            stmt = stmt.where(Commune.province_code == province_code)
        if kind is not None:
            stmt = stmt.where(Commune.kind == kind)
        return stmt.order_by(Commune.code)

    async def named(
        self, short_key: str, *, province_code: str | None, kind: CommuneKind | None
    ) -> list[tuple[Commune, str]]:
        """The communes (with their province's name) whose name without its kind folds to
        `short_key`."""
        stmt = self._named(province_code, kind).where(Commune.short_key == short_key)
        return [(c, p) for c, p in (await self.session.execute(stmt)).all()]

    async def like(
        self, short_key: str, *, province_code: str | None, limit: int
    ) -> list[tuple[Commune, str]]:
        """Up to `limit` communes whose name holds `short_key`: the near misses of a name."""
        stmt = (
            self._named(province_code, None)
            .where(Commune.short_key.like(like_pattern(short_key), escape="\\"))
            .limit(limit)
        )
        return [(c, p) for c, p in (await self.session.execute(stmt)).all()]

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Commune)) or 0)


async def places(
    session: AsyncSession, table: str, *, without_code: bool = False
) -> list[tuple[uuid.UUID, str, str]]:
    """(id, commune, province) of every row of one of the `PLACED` tables (`without_code`:
    those without a `commune_code`), by id."""
    model = PLACED[table]
    stmt = select(model.id, model.commune, model.province).order_by(model.id)
    if without_code:
        stmt = stmt.where(model.commune_code.is_(None))
    return [
        (row_id, commune, province) for row_id, commune, province in await session.execute(stmt)
    ]


async def set_place(
    session: AsyncSession, table: str, id_: uuid.UUID, columns: dict[str, str]
) -> None:
    """Set where one row of a `PLACED` table is (`app.geography.service.Placed.columns`), its
    folded keys with it; `updated_at` stays (the row names the same place as before)."""
    model = PLACED[table]
    keys = {"commune_key": fold(columns["commune"])}
    if model is Owner:
        keys["province_key"] = fold(columns["province"])
    await session.execute(
        update(model)
        .where(model.id == id_)
        .values(**columns, **keys, updated_at=model.updated_at)
        .execution_options(synchronize_session=False)
    )
