"""Product queries, stock's SQL included. A product is read with its owner and its current stars
(`app.products.stars`), in one statement; the stars' stored copy is written here.

The public catalogue is the busiest read: its pages are `Prepared` statements
(`app.core.direct`), one per shape of query (which filters, how many search terms, which sort,
first page or not), built once and run with the query's values as bind parameters, into plain
rows (`CatalogueRow`) rather than ORM objects."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Date, Select, and_, bindparam, event, or_, select, update
from sqlalchemy.orm import Session, contains_eager, selectinload
from sqlalchemy.sql.elements import ColumnElement

from app.core import changes, direct
from app.core.json_sql import json_tuples
from app.core.orm import utcnow
from app.core.pagination import Ordering, SortKey
from app.core.repository import Repository
from app.core.text import fold, like_pattern, search_terms
from app.geography.schemas import PlaceFilter
from app.models.event import EventProduct
from app.models.owner import Owner
from app.models.product import Product, ProductExternalRef, ProductStatus
from app.products.schemas import ProductQuery, ProductSort, Rated
from app.products.stars import CERTIFIED_STARS, freshness, lapsed, restarred, shown_stars, star_rank


def ordering(sort: ProductSort) -> Ordering:
    """The keyset ordering for a sort; every key is non-NULL and the id makes it unique."""
    by_id = SortKey(Product.id, uuid.UUID)
    keys: tuple[SortKey, ...]
    match sort:
        case ProductSort.newest:
            keys = (
                SortKey(Product.created_at, datetime, descending=True),
                SortKey(Product.id, uuid.UUID, descending=True),
            )
        case ProductSort.name:
            keys = (SortKey(Product.sort_name, str), by_id)
        case ProductSort.price:
            keys = (SortKey(Product.price_vnd, int), by_id)
        case ProductSort.price_desc:
            keys = (
                SortKey(Product.price_vnd, int, descending=True),
                SortKey(Product.id, uuid.UUID, descending=True),
            )
        case ProductSort.stars:
            keys = (
                SortKey(star_rank(), int, descending=True),
                SortKey(Product.sort_name, str),
                by_id,
            )
    return Ordering(sort.value, keys)


def _matching(pattern: Any) -> ColumnElement[bool]:
    """Products whose own text or whose owner's name contains the folded term (`pattern`, its
    `like_pattern`): one column holds both (`Product.derive_keys`), and on PostgreSQL one
    trigram index serves it."""
    return Product.search_text.like(pattern, escape="\\")


def _named_by(system: Any, external_id: Any) -> ColumnElement[bool]:
    return and_(ProductExternalRef.system == system, ProductExternalRef.external_id == external_id)


class CatalogueRow(NamedTuple):
    """A product as the catalogue reads it, column for column (`_ROW_COLUMNS`, then the stars
    and the refs), shown through `app.products.service.fields`: a page writes it straight to
    JSON (`product_json`), a single product reads it as `ProductRead`."""

    id: uuid.UUID
    owner_id: uuid.UUID
    owner_name: str
    name: str
    description: str | None
    translations: dict[str, Any] | None
    group: Any
    subgroup: str | None
    unit: Any
    unit_step: Decimal
    price_vnd: int
    stock: Decimal | None
    commune: str
    commune_code: str
    commune_name: str
    province: str
    province_code: str
    latitude: float | None
    longitude: float | None
    status: ProductStatus
    images: list[dict[str, Any]] | None
    created_at: datetime
    updated_at: datetime
    stars: int | None
    refs: list[list[str]] | None
    """(system, id) pairs, in the order the detail has them."""


_ROW_COLUMNS = (
    Product.id, Product.owner_id, Owner.name, Product.name, Product.description,
    Product.translations, Product.group, Product.subgroup, Product.unit, Product.unit_step,
    Product.price_vnd, Product.stock, Product.commune, Product.commune_code, Product.commune_name,
    Product.province, Product.province_code, Product.latitude, Product.longitude, Product.status,
    Product.images, Product.created_at, Product.updated_at,
)  # fmt: skip
"""`CatalogueRow`'s columns, in its order (then the stars and the refs)."""


def _refs() -> ColumnElement[Any]:
    """The product's external refs, (system, id) pairs in the order the detail has them."""
    ref = ProductExternalRef
    return (
        select(json_tuples(ref.system, ref.external_id))
        .where(ref.product_id == Product.id)
        .correlate(Product)
        .scalar_subquery()
    )


def _rows() -> Select[Any]:
    """Products as `CatalogueRow`s: with their owner's name, their stars on `:today` and their
    external refs."""
    today = bindparam("today", type_=Date())
    return select(*_ROW_COLUMNS, shown_stars(today).label("stars"), _refs().label("refs")).join(
        Owner, Owner.id == Product.owner_id
    )


_BY_ID = direct.Prepared(_rows().where(Product.id == bindparam("product_id")))


class CatalogueShape(NamedTuple):
    """What makes one catalogue statement differ from another: the filters given, how many
    search terms, the sort, and whether the page follows a cursor."""

    filters: frozenset[str]
    terms: int
    sort: ProductSort
    after_cursor: bool


def catalogue(
    query: ProductQuery, where: PlaceFilter, today: date
) -> tuple[direct.Prepared, dict[str, Any]]:
    """The page statement of `query` (its commune and province as `where` names them) and the
    values to run it with."""
    # The filters given, each with the value it binds (`certified` binds none: its shape is
    # the whole filter).
    filters: dict[str, Any] = {
        "group": query.group,
        "min_stars": query.min_stars,
        "commune_code": where.commune_code,
        "province_code": where.province_code,
        "owner_id": query.owner_id,
        "event_id": query.event_id,
        "min_price_vnd": query.min_price_vnd,
        "max_price_vnd": query.max_price_vnd,
    }
    # Stored stars are 3 or more, or none: at least 1, 2 or 3 stars is `certified`, with an
    # index of its own.
    any_certified = query.min_stars is not None and query.min_stars <= CERTIFIED_STARS
    if any_certified:
        filters["min_stars"] = None
    values = {name: value for name, value in filters.items() if value is not None}
    given = set(values)
    if query.certified is not None:
        given.add("certified" if query.certified else "uncertified")
    if any_certified:
        given.add("certified")
    if query.ref is not None:
        given.add("ref")
        values["ref_system"], values["ref_id"] = query.ref
    terms = search_terms(query.q or "")
    values.update((f"term_{i}", like_pattern(term)) for i, term in enumerate(terms))
    values.update(ordering(query.sort).bound(query.cursor, query.limit))
    values["today"] = today
    shape = CatalogueShape(frozenset(given), len(terms), query.sort, query.cursor is not None)
    return _catalogue(shape), values


_EVENT_NEWEST = Ordering(
    ProductSort.newest.value,
    (
        SortKey(EventProduct.product_created_at, datetime, descending=True),
        SortKey(EventProduct.product_id, uuid.UUID, descending=True),
    ),
)
"""The newest-first order of an event's products, on its entries' copy of their products'
`created_at` and ids, which their index holds in this order: the same values, so the same
cursors, as `ordering(ProductSort.newest)`."""


@lru_cache(maxsize=512)
def _catalogue(shape: CatalogueShape) -> direct.Prepared:
    """The page statement of one shape of catalogue query: active products with their owner's
    name and their stars on `:today`, filtered, ordered, one row past the page.

    The page is chosen on products alone (every filter and sort key is a product's column, or
    for an event's newest page its entries' copy of one), then only its rows are read with
    their owner and refs (`Ordering.prepared_late`): where a filter gathers many products
    before the sort (an event's in another order, a commune's, a search's), only the page's
    rows are joined to their owners and look up their refs."""
    stmt = select(Product.id).where(Product.status == ProductStatus.active)
    event_newest = "event_id" in shape.filters and shape.sort is ProductSort.newest
    stars = Product.stars  # stored: `search` makes it current first when a filter reads it
    given = shape.filters
    equal = {
        "group": Product.group,
        "commune_code": Product.commune_code,
        "province_code": Product.province_code,
        "owner_id": Product.owner_id,
    }
    for name, column in equal.items():
        if name in given:
            stmt = stmt.where(column == bindparam(name))
    if "min_stars" in given:
        stmt = stmt.where(stars >= bindparam("min_stars"))
    if "certified" in given:
        stmt = stmt.where(stars.is_not(None))
    if "uncertified" in given:
        stmt = stmt.where(stars.is_(None))
    if event_newest:
        # The event's entries newest first (`_EVENT_NEWEST`, their index's order), each to its
        # product, until the page is full: as many rows as the page, whatever the catalogue's
        # size.
        stmt = stmt.join(
            EventProduct,
            and_(
                EventProduct.product_id == Product.id,
                EventProduct.event_id == bindparam("event_id"),
            ),
        )
    elif "event_id" in given:
        # The event's entries first (a few thousand at most), then their products: walking
        # every product newest first for the few an event holds grows with the catalogue.
        # MATERIALIZED keeps the planner from folding it back into that walk.
        entered = (
            select(EventProduct.product_id)
            .where(EventProduct.event_id == bindparam("event_id"))
            .cte("entered")
            .prefix_with("MATERIALIZED")
        )
        stmt = stmt.join(entered, entered.c.product_id == Product.id)
    if "min_price_vnd" in given:
        stmt = stmt.where(Product.price_vnd >= bindparam("min_price_vnd"))
    if "max_price_vnd" in given:
        stmt = stmt.where(Product.price_vnd <= bindparam("max_price_vnd"))
    if "ref" in given:
        named = select(ProductExternalRef.product_id).where(
            _named_by(bindparam("ref_system"), bindparam("ref_id"))
        )
        stmt = stmt.where(Product.id.in_(named))
    for i in range(shape.terms):
        stmt = stmt.where(_matching(bindparam(f"term_{i}")))
    order = _EVENT_NEWEST if event_newest else ordering(shape.sort)
    return direct.Prepared(order.prepared_late(stmt, _rows(), after_cursor=shape.after_cursor))


_STARS_CURRENT = "ocop_stars_current"
_STARS_WRITTEN = "ocop_stars_written"


@event.listens_for(Session, "after_commit")
def _remember_stars(session: Session) -> None:
    """Once committed, remember what `make_stars_current` did; forget again what a concurrent
    read may have remembered before a certificate write of this transaction committed."""
    current = session.info.pop(_STARS_CURRENT, None)
    if current is not None:
        freshness.mark(*current)
    written = session.info.pop(_STARS_WRITTEN, None)
    if written is not None:
        freshness.forget(written)


@event.listens_for(Session, "after_rollback")
def _drop_stars_marks(session: Session) -> None:
    session.info.pop(_STARS_CURRENT, None)
    session.info.pop(_STARS_WRITTEN, None)


def by_stars(query: ProductQuery) -> bool:
    """Whether a catalogue query sorts or filters by stars (which reads the stored copy)."""
    return (
        query.sort == ProductSort.stars
        or query.min_stars is not None
        or query.certified is not None
    )


# An order's take of one product's stock (`updated_at` stamped as it is written).
_products: Any = Product.__table__
_TAKE_STOCK = direct.Prepared(
    update(_products)
    .where(
        Product.id == bindparam("product_id"),
        Product.status == ProductStatus.active,
        Product.stock >= bindparam("quantity"),
    )
    .values(stock=Product.stock - bindparam("quantity"), updated_at=bindparam("now"))
    .returning(Product.stock)
)


class ProductRepository(Repository[Product]):
    model = Product
    noun = "product"

    def select(self) -> Select[Any]:
        """Every product read loads its owner, in the same statement, and its external refs
        (one more for a whole page)."""
        return (
            select(Product)
            .join(Product.owner)
            .options(contains_eager(Product.owner), selectinload(Product.external_refs))
        )

    def rated(self, today: date) -> Select[Any]:
        """Products with their owner and their stars on `today`."""
        return self.select().add_columns(shown_stars(today).label("stars"))

    async def read_row(self, product_id: uuid.UUID, today: date) -> CatalogueRow:
        """The product as a reader sees it (archived ones too), with its stars on `today`, in
        one statement that needs no transaction of its own; or `NotFound`."""
        found = await direct.read(self.session, _BY_ID, product_id=product_id, today=today)
        if not found:
            raise self.not_found(product_id)
        return CatalogueRow._make(found[0])

    async def get_rated(
        self, product_id: uuid.UUID, today: date, *, for_update: bool = False
    ) -> Rated:
        """The product with its stars, fresh from the database, or `NotFound`; `for_update`
        row-locks it until the transaction ends."""
        stmt = (
            self.rated(today)
            .where(Product.id == product_id)
            .execution_options(populate_existing=True)
        )
        if for_update:
            stmt = stmt.with_for_update(of=Product)
        row = (await self.session.execute(stmt)).one_or_none()
        if row is None:
            raise self.not_found(product_id)
        return row[0], row[1]

    async def search(
        self, query: ProductQuery, where: PlaceFilter, today: date
    ) -> tuple[list[CatalogueRow], str | None]:
        """One page of `query`, in its sort, with each product's external refs: one statement
        whatever the page size, which needs no transaction of its own (and, when it sorts or
        filters by stars, the first time this process does so on a new day, one more that makes
        the stored stars current)."""
        if by_stars(query):
            await self.make_stars_current(today)
        prepared, values = catalogue(query, where, today)
        rows = await direct.read(self.session, prepared, **values)
        page, next_cursor = ordering(query.sort).page(rows, query.limit)
        return [CatalogueRow._make(row) for row in page], next_cursor

    async def changed(
        self, query: ProductQuery, today: date, horizon: datetime
    ) -> tuple[list[Rated], str | None]:
        """One page of the change feed of every product, archived ones included."""
        rows, next_cursor = await self.changes(self.rated(today), query, horizon)
        return [(product, stars) for product, stars in rows], next_cursor

    async def taken_refs(
        self, pairs: Sequence[tuple[str, str]], exclude: uuid.UUID | None
    ) -> list[tuple[str, str, uuid.UUID]]:
        """Which of these (system, id) pairs already name a product other than `exclude`:
        (system, id, product id) each."""
        if not pairs:
            return []
        ref = ProductExternalRef
        stmt = select(ref.system, ref.external_id, ref.product_id).where(
            or_(*(_named_by(s, i) for s, i in pairs))
        )
        if exclude is not None:
            stmt = stmt.where(ref.product_id != exclude)
        return [(s, i, holder) for s, i, holder in await self.session.execute(stmt)]

    async def find_by_owner_and_name(self, owner_id: uuid.UUID, name: str) -> Product | None:
        """The owner's (oldest) product with this name, accents and case aside, with its
        external refs."""
        stmt = (
            select(Product)
            .where(Product.owner_id == owner_id, Product.sort_name == fold(name))
            .options(selectinload(Product.external_refs))
        )
        return await self.session.scalar(stmt.order_by(Product.created_at).limit(1))

    def _database(self) -> str:
        return str(self.session.get_bind().engine.url)

    async def make_stars_current(self, today: date) -> None:
        """Recompute the stored stars of the products whose window does not hold `today` (a
        set-based UPDATE, which an index on each window bound makes cheap when nothing lapsed),
        unless this process already did so for `today`; remembered once the transaction commits.
        """
        database = self._database()
        if freshness.is_current(database, today):
            return
        await self.refresh_stars(today)
        self.session.sync_session.info[_STARS_CURRENT] = (database, today)

    async def refresh_stars(self, today: date) -> int:
        """Recompute the stored stars of every product whose window does not hold `today`; how
        many there were."""
        result = await self.session.execute(
            update(Product)
            .where(lapsed(today))
            .values(restarred(today))
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))

    async def restar(self, product_id: uuid.UUID, today: date) -> None:
        """Store the product's stars as of `today`, after a change of its certificates, in the
        same transaction. The row now holds around `today` only: this process forgets which day
        its stored stars were current for."""
        await self.session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(restarred(today))
            .execution_options(synchronize_session=False)
        )
        freshness.forget(self._database())
        self.session.sync_session.info[_STARS_WRITTEN] = self._database()

    async def stock_levels(
        self, product_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Decimal | None]:
        rows = await self.session.execute(
            select(Product.id, Product.stock).where(Product.id.in_(product_ids))
        )
        return {row[0]: row[1] for row in rows}

    async def take_stock(self, product_id: uuid.UUID, quantity: Decimal) -> Decimal | None:
        """Take `quantity` from an active product's tracked stock; what is left, or None (and
        nothing taken) if there is too little. The UPDATE row-locks the product until commit."""
        changes.note_write(self.session)
        taken = await direct.rows(
            self.session, _TAKE_STOCK, product_id=product_id, quantity=quantity, now=utcnow()
        )
        return taken[0][0] if taken else None

    async def return_stock(self, product_id: uuid.UUID, quantity: Decimal) -> None:
        await self.session.execute(
            update(Product)
            .where(Product.id == product_id, Product.stock.is_not(None))
            .values(stock=Product.stock + quantity)
            .execution_options(synchronize_session=False)
        )
