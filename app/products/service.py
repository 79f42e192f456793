"""Product rules: who may change a product, how stars and languages show, exact stock."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.auth import Principal
from app.core.errors import Forbidden
from app.core.external_refs import ExternalRef, Pairs, merge_refs, write_refs
from app.core.i18n import LanguagePreference, localize
from app.core.orm import touch
from app.geography.service import place, place_changes, place_filter
from app.models.product import Product, ProductExternalRef, ProductStatus
from app.owners import service as owners
from app.products import stock
from app.products.repository import CatalogueRow, ProductRepository
from app.products.schemas import (
    ProductCreate,
    ProductQuery,
    ProductRead,
    ProductUpdate,
    Rated,
)
from app.webhooks.outbox import emit

Shown = tuple[Product | CatalogueRow, int | None]
"""A product to show, read to change (`Product`) or only to show (`CatalogueRow`), with its
stars."""

EXTERNAL_REF_TABLE = "product_external_refs"
REF_LOOKUP_CHUNK = 200  # pairs per statement: SQLite parses a long OR as a deep expression


def fields(
    product: Product | CatalogueRow, stars: int | None, languages: LanguagePreference
) -> dict[str, Any]:
    """The product as a reader sees it, as `ProductRead`'s fields: name and description in
    their best language, each labelled with the language it is really in."""
    translations: dict[str, Any] = product.translations or {}
    texts = localize(languages, product.name, product.description, translations)
    if isinstance(product, CatalogueRow):
        owner_name = product.owner_name
        refs = [{"system": system, "id": ref_id} for system, ref_id in product.refs or ()]
    else:
        owner_name = product.owner.name
        refs = [{"system": ref.system, "id": ref.external_id} for ref in product.external_refs]
    return {
        "id": product.id,
        "owner_id": product.owner_id,
        "owner": {"id": product.owner_id, "name": owner_name},
        "name": texts.name,
        "description": texts.description,
        "language": texts.language,
        "description_language": texts.description_language,
        "translations": translations,
        "group": product.group,
        "subgroup": product.subgroup,
        "unit": product.unit,
        "unit_step": product.unit_step,
        "price_vnd": product.price_vnd,
        "stock": product.stock,
        "commune": product.commune,
        "commune_code": product.commune_code,
        "commune_name": product.commune_name,
        "province": product.province,
        "province_code": product.province_code,
        "latitude": product.latitude,
        "longitude": product.longitude,
        "stars": stars,
        "status": product.status,
        "images": product.images or [],
        "external_refs": refs,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
    }


def read(
    product: Product | CatalogueRow, stars: int | None, languages: LanguagePreference
) -> ProductRead:
    """The product as a reader sees it (`fields`)."""
    return ProductRead.model_validate(fields(product, stars, languages))


def version(product: Product | CatalogueRow, stars: int | None) -> ProductRead:
    """The product in its version representation (Vietnamese, with every translation): what
    its ETag's version, and so `If-Match`, is about, whatever language it is read in."""
    return read(product, stars, LanguagePreference())


async def get_product(
    session: AsyncSession, product_id: uuid.UUID, today: date, *, for_update: bool = False
) -> Rated:
    return await ProductRepository(session).get_rated(product_id, today, for_update=for_update)


async def read_product(session: AsyncSession, product_id: uuid.UUID, today: date) -> Shown:
    """The product for a reader, not to change (`get_product` for that)."""
    row = await ProductRepository(session).read_row(product_id, today)
    return row, row.stars


async def restar(session: AsyncSession, product_id: uuid.UUID, today: date) -> None:
    """Store the product's stars anew after a change of its certificates (same transaction)."""
    await ProductRepository(session).restar(product_id, today)


async def refresh_stars(session: AsyncSession, today: date) -> int:
    """Recompute the stored stars that no longer hold `today` (the worker's pass); how many."""
    return await ProductRepository(session).refresh_stars(today)


async def load_product(
    session: AsyncSession, product_id: uuid.UUID, *, for_update: bool = False
) -> Product:
    """The product with its owner but not its stars, or `NotFound`."""
    return await ProductRepository(session).get_or_404(product_id, for_update=for_update)


async def list_products(
    session: AsyncSession, query: ProductQuery, today: date, horizon: datetime
) -> tuple[Sequence[Shown], str | None]:
    """Active products matching `query`, one page of them; with `updated_since`, a page of the
    change feed of every product, archived ones too (their `status` says so), up to
    `horizon`."""
    products = ProductRepository(session)
    if query.feed:
        return await products.changed(query, today, horizon)
    where = await place_filter(session, query.commune, query.province)
    rows, next_cursor = await products.search(query, where, today)
    return [(row, row.stars) for row in rows], next_cursor


def ensure_owner_may_act_for(principal: Principal, owner_id: uuid.UUID) -> None:
    """Admins act for any owner; an owner key only for the owner it is bound to."""
    principal.ensure_acts_for(
        owner_id, detail="This key may not act for this owner's products.", code="not_your_product"
    )


async def _ensure_owner_exists(session: AsyncSession, owner_id: uuid.UUID) -> None:
    await owners.get_owner(session, owner_id, code="owner_not_found")


async def write(
    session: AsyncSession, product: Product, refs: Sequence[ExternalRef], change: Callable[[], None]
) -> None:
    """Apply `change` (which gives `product` the external refs `refs`, or adds it) and flush; a
    (system, id) pair already held by another product is 409 `external_ref_taken`."""
    product_id = product.id  # read now: a rolled-back savepoint expires the product

    async def holders(pairs: Pairs) -> list[tuple[str, str, uuid.UUID]]:
        return await ProductRepository(session).taken_refs(pairs, exclude=product_id)

    await write_refs(
        session, change, refs, table=EXTERNAL_REF_TABLE, noun="product", holders=holders
    )


def new_refs(refs: Sequence[ExternalRef]) -> list[ProductExternalRef]:
    """The rows of a new product's external refs."""
    return [_new_ref(ref.system, ref.id) for ref in refs]


def _new_ref(system: str, external_id: str) -> ProductExternalRef:
    return ProductExternalRef(system=system, external_id=external_id)


def replace_refs(product: Product, refs: Sequence[ExternalRef]) -> bool:
    """Give the product exactly these external refs (to `write`); whether that changes them.

    The refs are rows of their own: a change of them moves the product's `updated_at`, as a
    change of one of its columns does."""
    merged = merge_refs(product.external_refs, refs, _new_ref)
    if merged is None:
        return False
    product.external_refs = merged
    touch(product)
    return True


async def ref_holders(
    session: AsyncSession, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], uuid.UUID]:
    """The product each of these (system, id) pairs names, for those that name one."""
    holders: dict[tuple[str, str], uuid.UUID] = {}
    for start in range(0, len(pairs), REF_LOOKUP_CHUNK):
        chunk = pairs[start : start + REF_LOOKUP_CHUNK]
        held = await ProductRepository(session).taken_refs(chunk, exclude=None)
        holders.update({(system, external_id): holder for system, external_id, holder in held})
    return holders


async def create_product(
    session: AsyncSession, principal: Principal, data: ProductCreate, today: date
) -> Rated:
    ensure_owner_may_act_for(principal, data.owner_id)
    await _ensure_owner_exists(session, data.owner_id)
    fields = data.model_dump(exclude={"external_refs"})
    stored = data.model_dump(mode="json", exclude_none=True, include={"translations", "images"})
    where = await place(session, data.commune, data.province)
    product = Product(
        id=uuid.uuid4(),
        **{**fields, **stored, **where.columns()},
        external_refs=new_refs(data.external_refs),
    )
    await write(session, product, data.external_refs, lambda: session.add(product))
    return await get_product(session, product.id, today)


async def update_product(
    session: AsyncSession, principal: Principal, product: Product, data: ProductUpdate, today: date
) -> Rated:
    """Apply a partial update; `external_refs` given replaces the product's set of refs."""
    changes = data.model_dump(exclude_unset=True, exclude={"external_refs"})
    json_fields = {"translations", "images"} & changes.keys()
    changes.update(data.model_dump(mode="json", exclude_none=True, include=json_fields))
    new_owner = changes.get("owner_id")
    if new_owner is not None and new_owner != product.owner_id:
        if not principal.is_admin:
            raise Forbidden(
                "Only an admin may move a product to another owner.", code="not_your_product"
            )
        await _ensure_owner_exists(session, new_owner)
    refs = data.external_refs
    await place_changes(session, changes, product.commune, product.province)

    def change() -> None:
        for field, value in changes.items():
            setattr(product, field, value)
        if refs is not None:
            replace_refs(product, refs)

    await write(session, product, refs or [], change)
    return await _announce_change(session, product, today)


async def _announce_change(session: AsyncSession, product: Product, today: date) -> Rated:
    """Write the change, read the product back and send `product.updated` to admins and its
    owner, in this transaction."""
    await session.flush()
    product, stars = await get_product(session, product.id, today)
    body = read(product, stars, LanguagePreference.parse(None)).model_dump(mode="json")
    await emit(session, "product.updated", body, owner_ids=[product.owner_id])
    return product, stars


async def set_status(
    session: AsyncSession, product: Product, status: ProductStatus, today: date
) -> Rated:
    product.status = status
    return await _announce_change(session, product, today)


async def adjust_stock(
    session: AsyncSession, product: Product, delta: Decimal, today: date
) -> Rated:
    """Add (or remove) exact units; stock never goes below zero."""
    stock.adjust(product, delta)
    return await _announce_change(session, product, today)


async def find_by_owner_and_name(
    session: AsyncSession, owner_id: uuid.UUID, name: str
) -> Product | None:
    """The owner's product with this name (accents and case aside), if any."""
    return await ProductRepository(session).find_by_owner_and_name(owner_id, name)
