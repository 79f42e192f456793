from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo import products as demo
from app.models import Certificate, Owner, Product
from tests.database import PROJECT_ROOT
from tests.helpers import OwnerFactory, problem

pytestmark = pytest.mark.anyio

EXAMPLE = PROJECT_ROOT / "examples" / "products.csv"
HEADER = "owner_name,product_name,group,unit,price_vnd,stars,decision_no,issued_on\n"


async def counts(db: AsyncSession) -> tuple[int, int, int]:
    db.expire_all()
    return (
        int(await db.scalar(select(func.count()).select_from(Owner)) or 0),
        int(await db.scalar(select(func.count()).select_from(Product)) or 0),
        int(await db.scalar(select(func.count()).select_from(Certificate)) or 0),
    )


async def state(db: AsyncSession) -> list[tuple[Any, ...]]:
    db.expire_all()
    products = (await db.scalars(select(Product).order_by(Product.id))).all()
    certificates = (await db.scalars(select(Certificate).order_by(Certificate.id))).all()
    return [
        *((p.id, p.name, p.price_vnd, p.stock, p.updated_at) for p in products),
        *((c.id, c.decision_no, c.updated_at) for c in certificates),
    ]


async def post_csv(
    client: httpx.AsyncClient, headers: dict[str, str], body: str, **params: Any
) -> httpx.Response:
    return await client.post(
        "/v1/products/import",
        content=body.encode(),
        params=params,
        headers={**headers, "content-type": "text/csv; charset=utf-8"},
    )


def test_example_file_is_the_demo_data() -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == demo.csv_text()


async def test_example_file_imports_cleanly_twice_with_no_change_the_second_time(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    first = await post_csv(client, admin, EXAMPLE.read_text(encoding="utf-8"))
    assert first.status_code == 200, first.text
    after_first = await state(db)

    second = await post_csv(client, admin, EXAMPLE.read_text(encoding="utf-8"))

    assert second.status_code == 200, second.text
    rows = len(demo.PRODUCTS)
    certified = sum(1 for p in demo.PRODUCTS if p.stars)
    assert first.json() == {
        "dry_run": False,
        "rows": rows,
        "owners_created": 11,
        "products_created": rows,
        "products_updated": 0,
        "products_unchanged": 0,
        "certificates_created": certified,
    }
    assert second.json() == {
        "dry_run": False,
        "rows": rows,
        "owners_created": 0,
        "products_created": 0,
        "products_updated": 0,
        "products_unchanged": rows,
        "certificates_created": 0,
    }
    assert await state(db) == after_first


async def test_concurrent_imports_of_one_file_create_each_record_once(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    # Owners and products are matched by name, not by a key the database enforces, so
    # imports take turns; without that, each would find nothing and create everything.
    body = EXAMPLE.read_text(encoding="utf-8")

    answers = await asyncio.gather(*(post_csv(client, admin, body) for _ in range(3)))

    assert [a.status_code for a in answers] == [200, 200, 200]
    created = sorted(a.json()["products_created"] for a in answers)
    assert created == [0, 0, len(demo.PRODUCTS)]
    certified = sum(1 for p in demo.PRODUCTS if p.stars)
    assert await counts(db) == (11, len(demo.PRODUCTS), certified)


async def test_imported_products_are_searchable_with_their_stars(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await post_csv(client, admin, EXAMPLE.read_text(encoding="utf-8"))

    found = (await client.get("/v1/products", params={"q": "quyt vang bac son"})).json()

    [mandarin] = found["items"]
    assert mandarin["stars"] == 4
    assert mandarin["unit_step"] == 0.5
    assert mandarin["owner"]["name"] == "Hợp tác xã Quýt vàng Bắc Sơn"


async def test_one_bad_row_among_good_ones_writes_nothing_and_names_the_line(
    client: httpx.AsyncClient, admin: dict[str, str], make_owner: OwnerFactory, db: AsyncSession
) -> None:
    await make_owner(name="Hợp tác xã Na Chi Lăng", commune="Chi Lăng")
    body = (
        HEADER
        + "Hợp tác xã Na Chi Lăng,Na Chi Lăng,food,kg,60000,4,1/QĐ-UBND,2025-10-20\n"
        + "Hợp tác xã Na Chi Lăng,Mứt na,food,jar,sáu mươi nghìn,3,1/QĐ-UBND,2025-10-20\n"
        + "Hợp tác xã Na Chi Lăng,Rượu na,beverage,bottle,180000,,,\n"
    )
    before = await counts(db)

    response = await post_csv(client, admin, body)

    assert response.status_code == 422
    details = problem(response)
    assert details["code"] == "invalid_rows"
    assert [e["loc"] for e in details["errors"]] == [["body", 3, "price_vnd"]]
    assert details["errors"][0]["msg"].startswith("line 3: price_vnd:")
    assert await counts(db) == before


async def test_every_bad_row_is_listed(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    body = (
        HEADER
        + "Không có,Sản phẩm,food,kg,1,,,\n"
        + "Không có,Sản phẩm 2,drinks,kg,1,,,\n"
        + "Không có,Sản phẩm 3,food,kg,1,4,,2025-10-20\n"
    )

    response = await post_csv(client, admin, body)

    assert response.status_code == 422
    messages = [e["msg"] for e in problem(response)["errors"]]
    assert [m.split(":")[0] for m in messages] == ["line 2", "line 3", "line 4"]
    assert "no owner named 'Không có'" in messages[0]
    assert "group" in messages[1]
    assert "stars, decision_no and issued_on together" in messages[2]
    assert await counts(db) == (0, 0, 0)


async def test_dry_run_reports_and_writes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    response = await post_csv(client, admin, EXAMPLE.read_text(encoding="utf-8"), dry_run="true")

    assert response.status_code == 200, response.text
    assert response.json()["dry_run"] is True
    assert response.json()["products_created"] == len(demo.PRODUCTS)
    assert await counts(db) == (0, 0, 0)


async def test_reimport_with_a_new_price_updates_only_that_product(
    client: httpx.AsyncClient, admin: dict[str, str], make_owner: OwnerFactory
) -> None:
    await make_owner(name="Công ty TNHH MTV Ngọc Quế", commune="Hữu Lũng")
    row = "Công ty TNHH MTV Ngọc Quế,{name},beverage,box,{price},4,5/QĐ-UBND,2025-10-20\n"
    first = (
        HEADER
        + row.format(name="Trà túi lọc", price=85000)
        + row.format(name="Trà hòa tan", price=65000)
    )
    await post_csv(client, admin, first)

    response = await post_csv(
        client,
        admin,
        HEADER
        + row.format(name="TRÀ TÚI LỌC", price=90000)
        + row.format(name="Trà hòa tan", price=65000),
    )

    assert response.json()["products_updated"] == 1
    assert response.json()["products_unchanged"] == 1
    assert response.json()["certificates_created"] == 0
    prices = {p["name"]: p["price_vnd"] for p in (await client.get("/v1/products")).json()["items"]}
    assert prices == {"Trà túi lọc": 90000, "Trà hòa tan": 65000}


@pytest.mark.parametrize(
    ("body", "msg"),
    [
        ("owner,product\nA,B\n", "header: missing"),
        (HEADER, "no data rows"),
        (
            "owner_name,product_name,group,unit,price_vnd,colour\nA,B,food,kg,1,red\n",
            "unknown colour",
        ),
    ],
)
async def test_bad_files_are_422(
    client: httpx.AsyncClient, admin: dict[str, str], body: str, msg: str
) -> None:
    response = await post_csv(client, admin, body)

    assert response.status_code == 422
    assert msg in problem(response)["errors"][0]["msg"]


ROW = "Hợp tác xã Na Chi Lăng,Na Chi Lăng,food,kg,60000,,,\n"


@pytest.mark.parametrize(
    ("body", "line", "msg"),
    [
        pytest.param(
            (HEADER + ROW + "A," + "x" * (128 * 1024 + 1) + ",food,kg,1,,,\n" + ROW).encode(),
            3,
            "line 3: a cell is longer than 131072 characters",
            id="field over 128 KiB",
        ),
        pytest.param(
            (HEADER + ROW + 'A,"Mứt na,food,kg,1,,,\n' + ROW).encode(),
            3,
            "line 3: a quoted cell is not closed (its closing quote is missing)",
            id="unbalanced quote",
        ),
        pytest.param(
            (HEADER + ROW + 'A,"Mứt na,food,kg,1,,,\n' + ROW * 3000).encode(),
            3,
            "line 3: a quoted cell is not closed (its closing quote is missing)",
            id="unbalanced quote in a large file",
        ),
        pytest.param(
            (HEADER + ROW + 'A,"Mứt" na,food,kg,1,,,\n' + ROW).encode(),
            3,
            'line 3: a quote inside a quoted cell must be doubled ("")',
            id="stray quote",
        ),
        pytest.param(
            ('"owner_name,product_name,group,unit,price_vnd\n' + ROW).encode(),
            1,
            "line 1: a quoted cell is not closed (its closing quote is missing)",
            id="unbalanced quote in the header",
        ),
        pytest.param(
            (HEADER + ROW + "A,Mứt\x00na,food,kg,1,,,\n").encode(),
            3,
            "line 3: the file contains a NUL character",
            id="NUL byte",
        ),
        pytest.param(
            (HEADER + ROW).encode() + b"A,M\xe1t na,food,kg,1,,,\n",
            3,
            f"line 3: not UTF-8 (byte {len((HEADER + ROW).encode()) + 3} of the file)",
            id="invalid UTF-8",
        ),
    ],
)
async def test_a_malformed_file_is_422_naming_the_line(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_owner: OwnerFactory,
    db: AsyncSession,
    body: bytes,
    line: int,
    msg: str,
) -> None:
    await make_owner(name="Hợp tác xã Na Chi Lăng", commune="Chi Lăng")
    before = await counts(db)

    response = await client.post(
        "/v1/products/import", content=body, headers={**admin, "content-type": "text/csv"}
    )

    assert response.status_code == 422, response.text
    details = problem(response)
    assert details["code"] in {"invalid_rows", "invalid_encoding"}
    assert str(line) in details["detail"]
    [error] = [e for e in details["errors"] if e["loc"][1] == line]
    assert error["loc"] == ["body", line]
    assert error["msg"] == msg
    assert await counts(db) == before


@pytest.mark.parametrize("issued_on", ["0001-01-01", "9999-12-31"])
async def test_a_certificate_date_out_of_range_is_422_naming_the_cell(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_owner: OwnerFactory,
    db: AsyncSession,
    issued_on: str,
) -> None:
    await make_owner(name="Hợp tác xã Na Chi Lăng", commune="Chi Lăng")
    body = HEADER + ROW + f"Hợp tác xã Na Chi Lăng,Mứt na,food,jar,1,4,1/QĐ-UBND,{issued_on}\n"

    response = await post_csv(client, admin, body)

    assert response.status_code == 422, response.text
    [error] = problem(response)["errors"]
    assert error["loc"] == ["body", 3, "issued_on"]
    assert "from 1970-01-01 to 2199-12-31" in error["msg"]
    assert await counts(db) == (1, 0, 0)


async def test_import_needs_text_csv(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post("/v1/products/import", json={"rows": []}, headers=admin)

    assert response.status_code == 415
    assert problem(response)["code"] == "unsupported_media_type"


MIB = 1024 * 1024
GLOBAL_LIMIT = MIB  # OCOP_MAX_BODY_BYTES's default
IMPORT_LIMIT = 5 * MIB


def large_csv(size: int) -> tuple[bytes, int]:
    """A valid file of at least `size` bytes, each row a new product with a long description,
    and how many rows it has."""
    header = "owner_name,product_name,group,unit,price_vnd,owner_kind,commune,description\n"
    owner = "Hợp tác xã Lớn"
    description = ("Quýt vàng Bắc Sơn, ngọt thơm, vỏ mỏng. " * 130)[:4900]
    lines = [header]
    total = len(header.encode())
    while total < size:
        product = f"Sản phẩm {len(lines)}"
        row = f'{owner},{product},food,kg,45000,cooperative,Bắc Sơn,"{description}"\n'
        lines.append(row)
        total += len(row.encode())
    return "".join(lines).encode(), len(lines) - 1


async def in_chunks(body: bytes, size: int = 65_536) -> AsyncIterator[bytes]:
    """The body streamed, without a Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "streamed"])
async def test_a_2_mib_file_is_taken_although_other_bodies_stop_at_1_mib(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession, streamed: bool
) -> None:
    body, rows = large_csv(2 * MIB)

    response = await client.post(
        "/v1/products/import",
        content=in_chunks(body) if streamed else body,
        params={"dry_run": "true"},
        headers={**admin, "content-type": "text/csv"},
    )

    assert len(body) > 2 * MIB
    assert response.status_code == 200, response.text[:500]
    assert response.json()["rows"] == rows
    assert response.json()["products_created"] == rows
    assert await counts(db) == (0, 0, 0)


async def test_a_file_of_exactly_5_mib_is_taken(
    client: httpx.AsyncClient, admin: dict[str, str], make_owner: OwnerFactory
) -> None:
    await make_owner(name="Hợp tác xã Na Chi Lăng", commune="Chi Lăng")
    body = (HEADER + "Hợp tác xã Na Chi Lăng,Na Chi Lăng,food,kg,60000,,,\n").encode()
    body += b"\n" * (IMPORT_LIMIT - len(body))  # blank lines are skipped

    response = await client.post(
        "/v1/products/import",
        content=body,
        params={"dry_run": "true"},
        headers={**admin, "content-type": "text/csv"},
    )

    assert len(body) == IMPORT_LIMIT
    assert response.status_code == 200, response.text[:500]
    assert response.json()["rows"] == 1


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "streamed"])
async def test_a_file_over_5_mib_is_413(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession, streamed: bool
) -> None:
    body, _rows = large_csv(IMPORT_LIMIT + 1)

    response = await client.post(
        "/v1/products/import",
        content=in_chunks(body) if streamed else body,
        headers={**admin, "content-type": "text/csv"},
    )

    assert response.status_code == 413
    assert problem(response)["code"] == "payload_too_large"
    assert str(IMPORT_LIMIT) in problem(response)["detail"]
    assert await counts(db) == (0, 0, 0)


async def test_a_2_mib_body_elsewhere_is_still_413(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    padding = "x" * (2 * MIB)
    body = f'{{"name": "HTX", "kind": "cooperative", "commune": "Bac Son", "x": "{padding}"}}'

    response = await client.post(
        "/v1/owners", content=body.encode(), headers={**admin, "content-type": "application/json"}
    )

    assert response.status_code == 413
    assert problem(response)["code"] == "payload_too_large"
    assert str(GLOBAL_LIMIT) in problem(response)["detail"]
    assert await counts(db) == (0, 0, 0)


def ocop(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, "OCOP_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_cli_imports_the_example_file_then_finds_nothing_to_do(
    database_url: str, client: httpx.AsyncClient
) -> None:
    first = ocop(database_url, "import", "products", str(EXAMPLE))
    second = ocop(database_url, "import", "products", str(EXAMPLE))

    assert first.returncode == 0, first.stderr
    assert f"products created: {len(demo.PRODUCTS)}" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "products created: 0" in second.stdout
    assert f"products unchanged: {len(demo.PRODUCTS)}" in second.stdout
    listed = (await client.get("/v1/products", params={"limit": 100})).json()["items"]
    assert len(listed) == len(demo.PRODUCTS)


async def test_cli_reports_bad_lines_and_exits_1(database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "Không có,Sản phẩm,food,kg,-5,,,\n", encoding="utf-8")

    result = ocop(database_url, "import", "products", str(bad))

    assert result.returncode == 1
    assert "line 2: price_vnd" in result.stderr
    assert result.stdout == ""
