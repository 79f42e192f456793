"""Owner queries."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import Select, Text, func, update

from app.core.orm import utcnow
from app.core.pagination import Ordering, SortKey
from app.core.repository import Repository
from app.core.text import like_pattern, search_terms
from app.geography.schemas import PlaceFilter
from app.models.owner import Owner
from app.models.product import Product
from app.owners.schemas import OwnerQuery

BY_NAME = Ordering("name", (SortKey(Owner.sort_name, str), SortKey(Owner.id, uuid.UUID)))


class OwnerRepository(Repository[Owner]):
    model = Owner
    noun = "owner"

    def filtered(self, query: OwnerQuery, where: PlaceFilter) -> Select[Owner]:
        """Owners matching every filter of `query`, its commune and province as `where`
        names them."""
        stmt = self.select().where(Owner.status == query.status)
        if query.kind is not None:
            stmt = stmt.where(Owner.kind == query.kind)
        if where.commune_code is not None:
            stmt = stmt.where(Owner.commune_code == where.commune_code)
        if where.province_code is not None:
            stmt = stmt.where(Owner.province_code == where.province_code)
        for term in search_terms(query.q or ""):
            stmt = stmt.where(Owner.search_text.like(like_pattern(term), escape="\\"))
        return stmt

    async def search(self, query: OwnerQuery, where: PlaceFilter) -> tuple[list[Owner], str | None]:
        """One page of `query`, by name."""
        return await self.page(self.filtered(query, where), BY_NAME, query)

    async def named(self, folded_names: Collection[str]) -> list[Owner]:
        """Every owner whose folded name is one of these."""
        stmt = self.select().where(Owner.sort_name.in_(folded_names))
        return list((await self.session.scalars(stmt)).all())

    async def retext_products(self, owner_id: uuid.UUID, old: str, new: str) -> None:
        """Give the owner's products its new search text: theirs ends with the owner's
        (`Product.derive_keys`), so the end is swapped in place, in one statement."""
        kept = func.length(Product.search_text) - len(old)
        await self.session.execute(
            update(Product)
            .where(Product.owner_id == owner_id)
            .values(
                search_text=func.substr(Product.search_text, 1, kept, type_=Text) + new,
                updated_at=Product.updated_at,  # a rename touches them (`touch_products`)
            )
            .execution_options(synchronize_session=False)
        )

    async def touch_products(self, owner_id: uuid.UUID) -> None:
        """Mark the owner's products changed now: they show its name (the change feed)."""
        await self.session.execute(
            update(Product)
            .where(Product.owner_id == owner_id)
            .values(updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
