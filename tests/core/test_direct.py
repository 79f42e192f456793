"""`app.core.direct`: a Prepared statement gives what `session.execute` gives, on both databases,
in the session's transaction, with SQLAlchemy's errors, and seen by the engine's hooks."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from fastapi import FastAPI
from sqlalchemy import Integer, bindparam, delete, func, insert, literal, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import direct
from app.models import Owner, Product, ProductExternalRef
from tests.database import BACKEND
from tests.helpers import InsertProduct, counting_statements

pytestmark = pytest.mark.anyio

PRODUCTS = direct.Prepared(
    select(
        Product.id, Product.stock, Product.unit_step, Product.status, Product.translations,
        Product.images, Product.latitude, Product.created_at, Owner.name,
    )
    .join(Owner, Owner.id == Product.owner_id)
    .where(Product.price_vnd >= bindparam("cheapest"))
    .order_by(Product.price_vnd)
)  # fmt: skip
ADD_REF = direct.Prepared(
    insert(ProductExternalRef).values(
        id=bindparam("id"),
        product_id=bindparam("product_id"),
        system="shop",
        external_id=bindparam("external_id"),
    )
)
REFS = direct.Prepared(select(func.count()).select_from(ProductExternalRef))
DIVIDED = direct.Prepared(select(literal(10, Integer) / bindparam("by", type_=Integer)))


async def test_rows_are_the_values_session_execute_gives(
    db: AsyncSession, insert_product: InsertProduct
) -> None:
    await insert_product(name="Quýt vàng", stock=Decimal("12.5"), price_vnd=40_000)
    await insert_product(name="Trà hoa vàng", stock=None, price_vnd=250_000)
    await db.commit()
    given = await direct.rows(db, PRODUCTS, cheapest=30_000)
    expected = [tuple(row) for row in await db.execute(PRODUCTS.statement, {"cheapest": 30_000})]
    assert given == expected
    assert [type(value) for value in given[0]] == [type(value) for value in expected[0]]
    assert given[0][1] == Decimal("12.5")
    assert given[1][1] is None
    assert await direct.rows(db, PRODUCTS, begin=False, cheapest=100_000) == expected[1:]


async def test_json_columns_are_written_by_the_engines_encoder(
    db: AsyncSession, insert_product: InsertProduct
) -> None:
    translations = {"en": {"name": "Bac Son mandarin"}, "zh": {"name": "北山橘子", "n": 2**70}}
    product = await insert_product(translations=translations)
    stored = await db.scalar(
        select(text("CAST(translations AS TEXT)")).where(Product.id == product.id)
    )
    assert stored is not None
    # SQLite keeps the text as written, where the standard library's encoder (SQLAlchemy's
    # default) would have escaped the Chinese; PostgreSQL's JSONB keeps the value either way.
    assert "北山橘子" in stored
    assert (await direct.rows(db, PRODUCTS, cheapest=0))[0][4] == translations


async def test_a_write_joins_the_session_transaction(
    db: AsyncSession, insert_product: InsertProduct
) -> None:
    product = await insert_product(name="Quýt vàng")
    await db.commit()
    await direct.rows(db, ADD_REF, id=uuid.uuid4(), product_id=product.id, external_id="A1")
    assert await direct.rows(db, REFS) == [(1,)]
    await db.rollback()
    assert await direct.rows(db, REFS, begin=False) == [(0,)]


async def test_a_driver_error_is_sqlalchemys_error(
    db: AsyncSession, insert_product: InsertProduct
) -> None:
    product = await insert_product(name="Quýt vàng")
    await db.commit()
    ref_id = uuid.uuid4()
    await direct.rows(db, ADD_REF, id=ref_id, product_id=product.id, external_id="A1")
    with pytest.raises(IntegrityError):
        await direct.rows(db, ADD_REF, id=ref_id, product_id=product.id, external_id="A2")
    await db.rollback()
    await db.execute(delete(ProductExternalRef))  # the session is usable again
    await db.commit()


async def test_the_engine_hooks_see_the_statement(app: FastAPI, db: AsyncSession) -> None:
    with counting_statements(app) as statements:
        await direct.rows(db, REFS, begin=False)
    assert [s for s in statements if "product_external_refs" in s] == [
        str(REFS.statement.compile(dialect=(await db.connection()).dialect))
    ]


async def test_a_read_outside_a_transaction_borrows_a_connection_of_its_own(
    app: FastAPI, db: AsyncSession
) -> None:
    """On PostgreSQL the session is left without a connection and the borrowed one is back in
    the pool at once; elsewhere the read runs on the session's connection."""
    pool = app.state.engine.sync_engine.pool
    checked_out = pool.checkedout()
    with counting_statements(app) as statements:
        assert await direct.read(db, REFS) == [(0,)]
    assert [s for s in statements if s != "BEGIN"] == [s for s in statements if "count" in s]
    assert len(statements) == {"sqlite": 2, "postgres": 1}[BACKEND]  # SQLite's BEGIN
    assert db.in_transaction() is (BACKEND == "sqlite")
    if BACKEND == "postgres":
        assert pool.checkedout() == checked_out


async def test_a_read_in_a_transaction_sees_what_it_wrote(
    db: AsyncSession, insert_product: InsertProduct
) -> None:
    product = await insert_product(name="Quýt vàng")
    await db.commit()
    await direct.rows(db, ADD_REF, id=uuid.uuid4(), product_id=product.id, external_id="A1")
    assert await direct.read(db, REFS) == [(1,)]
    await db.rollback()
    assert await direct.read(db, REFS) == [(0,)]


@pytest.mark.postgres_only
async def test_a_borrowed_connection_that_died_is_not_used_again(
    app: FastAPI, db: AsyncSession
) -> None:
    assert await direct.read(db, REFS) == [(0,)]  # a connection now idle in the pool
    await db.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    )
    await db.commit()
    failures: list[DBAPIError] = []
    for _ in range(3):
        try:
            assert await direct.read(db, REFS) == [(0,)]
        except DBAPIError as error:
            failures.append(error)
    assert all(error.connection_invalidated for error in failures)  # 503s, and discarded
    assert await direct.read(db, REFS) == [(0,)]


@pytest.mark.postgres_only  # SQLite divides by zero without an error
async def test_a_borrowed_read_that_fails_is_sqlalchemys_error_and_gives_its_connection_back(
    app: FastAPI, db: AsyncSession
) -> None:
    pool = app.state.engine.sync_engine.pool
    checked_out = pool.checkedout()
    with pytest.raises(DBAPIError) as raised:
        await direct.read(db, DIVIDED, by=0)
    assert not raised.value.connection_invalidated
    assert pool.checkedout() == checked_out
    assert await direct.read(db, DIVIDED, by=2) == [(5,)]
