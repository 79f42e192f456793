"""A catalogue page is written without building its `ProductRead` models (`product_json` and
`jsontext.dumps`, from the statement's rows): these tests hold it to the very bytes the models
write, for rows of every shape, and hold the JSON columns' decoder to the standard library's
values."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from app.core import jsontext
from app.core.i18n import LanguagePreference
from app.core.pagination import Page
from app.models.owner import Owner
from app.models.product import Product, ProductGroup, ProductStatus, Unit
from app.products.repository import _ROW_COLUMNS, CatalogueRow
from app.products.schemas import ProductRead, product_json
from app.products.service import fields

PAGE = TypeAdapter(Page[ProductRead])

texts = st.text(st.characters(codec="utf-8"), max_size=12)
tags = st.sampled_from(["en", "zh", "fr", "ko", "zh-hans"])
quantities = st.decimals(
    min_value=Decimal("0.001"), max_value=Decimal("999999999.999"), places=3
).map(lambda value: value.normalize())
timestamps = st.builds(
    lambda at, offset: at.replace(tzinfo=UTC).astimezone(timezone(timedelta(minutes=offset))),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from([0, 0, 420, -330]),
)
translations = st.dictionaries(
    tags,
    st.one_of(
        st.fixed_dictionaries({"name": texts}),
        st.fixed_dictionaries({"name": texts, "description": st.one_of(st.none(), texts)}),
    ),
    max_size=3,
)
# Stored images come back from JSONB with their keys in its order, not the model's.
images = st.lists(
    st.builds(
        lambda url, alt: {"alt": alt, "url": url},
        st.just("https://cdn.example.vn/q.jpg"),
        st.dictionaries(st.sampled_from(["vi", "en"]), texts, min_size=1),
    ),
    max_size=2,
)
coordinates = st.one_of(st.none(), st.floats(-90, 90, allow_nan=False))
# A row as the catalogue statement gives it; its JSON columns may be NULL (a row written before
# they had defaults), and a product without external refs has NULL for them.
rows = st.builds(
    CatalogueRow,
    id=st.uuids(),
    owner_id=st.uuids(),
    owner_name=texts,
    name=texts,
    description=st.one_of(st.none(), texts),
    translations=st.one_of(st.none(), translations),
    group=st.sampled_from(ProductGroup),
    subgroup=st.one_of(st.none(), texts),
    unit=st.sampled_from(Unit),
    unit_step=quantities,
    price_vnd=st.integers(0, 10**12),
    stock=st.one_of(st.none(), quantities, st.just(Decimal(0))),
    commune=texts,
    commune_code=st.just("06253"),
    commune_name=texts,
    province=texts,
    province_code=st.just("20"),
    latitude=coordinates,
    longitude=coordinates,
    status=st.sampled_from(ProductStatus),
    images=st.one_of(st.none(), images),
    created_at=timestamps,
    updated_at=timestamps,
    stars=st.one_of(st.none(), st.integers(3, 5)),
    refs=st.one_of(st.none(), st.lists(st.lists(texts, min_size=2, max_size=2), min_size=1)),
)


@settings(max_examples=300, deadline=None)
@given(
    page=st.lists(rows, max_size=4),
    accept_language=st.sampled_from([None, "en", "zh;q=0.5, en", "ko, fr;q=0.1"]),
    next_cursor=st.one_of(st.none(), st.text(max_size=8)),
)
def test_a_page_is_written_as_its_models_write_it(
    page: list[CatalogueRow], accept_language: str | None, next_cursor: str | None
) -> None:
    languages = LanguagePreference.parse(accept_language)

    def items() -> list[dict[str, Any]]:
        return [fields(row, row.stars, languages) for row in page]

    models = PAGE.dump_json(PAGE.validate_python({"items": items(), "next_cursor": next_cursor}))
    written = jsontext.dumps(
        {"items": [product_json(item) for item in items()], "next_cursor": next_cursor}
    )

    assert written == models


def test_a_catalogue_row_names_the_statements_columns_in_order() -> None:
    names = ["owner_name" if column.class_ is Owner else column.key for column in _ROW_COLUMNS]
    assert list(CatalogueRow._fields) == [*names, "stars", "refs"]
    assert all(column.class_ in (Product, Owner) for column in _ROW_COLUMNS)


def test_an_asyncpg_uuid_is_written_as_its_text() -> None:
    from asyncpg.pgproto.pgproto import UUID as PgUUID

    value = uuid.uuid4()
    assert jsontext.dumps({"id": PgUUID(str(value))}) == f'{{"id":"{value}"}}'.encode()


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**80), 2**80),
        st.floats(allow_nan=False, allow_infinity=False),
        texts,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=10,
)


@given(json_values)
def test_a_json_column_is_written_as_the_standard_library_would(value: Any) -> None:
    text = jsontext.dumps_column(value)
    assert json.loads(text) == json.loads(json.dumps(value))
    assert jsontext.loads(text) == value


def test_a_json_column_keeps_its_text_unescaped_and_writes_what_orjson_cannot() -> None:
    assert jsontext.dumps_column({"tỉnh": "Lạng Sơn"}) == '{"tỉnh":"Lạng Sơn"}'
    assert jsontext.dumps_column({"n": 2**70}) == f'{{"n": {2**70}}}'
    assert jsontext.dumps_column({1: "một"}) == '{"1": "một"}'


@given(json_values)
def test_a_json_column_reads_back_what_the_standard_library_reads(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False)
    read = jsontext.loads(text)
    assert read == json.loads(text)
    assert type(read) is type(json.loads(text))


def test_an_integer_beyond_64_bits_stays_an_exact_integer() -> None:
    big = 2**70 + 1
    assert jsontext.loads(f'{{"n": {big}, "m": [1, 2.5]}}') == {"n": big, "m": [1, 2.5]}
