"""`GET /v1/reports/tourism`: visitors (people booked, tickets, checked in) and revenue of the
experiences' confirmed bookings, by experience, experience and day, commune and month."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ProductGroup, Role, Ticket, Unit
from tests.helpers import (
    CONTACT,
    CreateExperienceViaApi,
    FakeClock,
    HoldViaApi,
    InsertProduct,
    KeyFactory,
    OwnerFactory,
    csv_rows,
    problem,
    vn,
)

pytestmark = pytest.mark.anyio

NOVEMBER_TO_DECEMBER = {"from": "2025-11-01", "to": "2025-12-31"}
FIGURES = ("bookings", "people", "tickets", "checked_in", "revenue_vnd")
BAC_SON = {"commune": "Bắc Sơn", "commune_code": "06325", "commune_name": "Xã Bắc Sơn"}
TAN_THANH = {"commune": "Tân Thành", "commune_code": "06445", "commune_name": "Xã Tân Thành"}


@pytest.fixture
def clock() -> FakeClock:
    """1 November 2025, 08:00 in the province: before every visit booked here."""
    return FakeClock(vn(1, 8))


@dataclass
class Tourism:
    """Three experiences of two owners in two communes, and their bookings."""

    temple: str
    mandarin: str
    homestay: str
    bac_le: uuid.UUID
    quynh_son: uuid.UUID
    booked: dict[str, str]


def figures(*values: int) -> dict[str, int]:
    return dict(zip(FIGURES, values, strict=True))


async def tourism_report(
    client: httpx.AsyncClient, key: dict[str, str], **params: str
) -> httpx.Response:
    return await client.get(
        "/v1/reports/tourism", params={**NOVEMBER_TO_DECEMBER, **params}, headers=key
    )


@pytest.fixture
async def tourism(
    client: httpx.AsyncClient,
    partner: dict[str, str],
    admin: dict[str, str],
    make_owner: OwnerFactory,
    insert_product: InsertProduct,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
    clock: FakeClock,
    db: AsyncSession,
) -> Tourism:
    """The Bắc Lệ temple (Tân Thành; adults 50,000 VND, children 25,000, infants free and
    taking no place); mandarin picking and a homestay (Bắc Sơn; adults 60,000 and 150,000,
    children 30,000). Counted, November to December: 5 bookings, 12 people, 13 tickets, 7 of
    them checked in, 685,000 VND. Not counted: a cancelled booking, a hold, an expired hold, a
    booking in January."""
    bac_le = uuid.UUID((await make_owner(name="Cộng đồng thôn Bắc Lệ", commune="Tân Thành"))["id"])
    quynh_son = uuid.UUID((await make_owner(name="Hợp tác xã Quỳnh Sơn"))["id"])

    async def experience(owner_id: uuid.UUID, name: str, commune: str, adult: int) -> str:
        product = await insert_product(
            owner_id, name=name, group=ProductGroup.tourism, unit=Unit.ticket, unit_step=1,
            stock=None, commune=commune,
        )  # fmt: skip
        types = [
            {"code": "adult", "name": "Người lớn", "price_vnd": adult},
            {"code": "child", "name": "Trẻ em", "price_vnd": adult // 2},
            {"code": "infant", "name": "Em bé", "price_vnd": 0, "places": 0},
        ]
        return str((await create_experience_via_api(product.id, ticket_types=types))["product_id"])

    temple = await experience(bac_le, "Di tích Đình Bắc Lệ", "Tân Thành", 50_000)
    mandarin = await experience(quynh_son, "Trải nghiệm hái quýt Bắc Sơn", "Bắc Sơn", 60_000)
    homestay = await experience(quynh_son, "Du lịch cộng đồng Quỳnh Sơn", "Bắc Sơn", 150_000)

    async def book(
        product_id: str, day: str, *units: tuple[str, int], at: str = "09:00", confirm: bool = True
    ) -> dict[str, Any]:
        held = await hold_via_api(product_id, *units, date=day, start_time=at)
        assert held.status_code == 201, held.text
        if not confirm:
            return dict(held.json())
        confirmed = await client.post(
            f"/v1/bookings/{held.json()['id']}/confirm", json={"contact": CONTACT}, headers=partner
        )
        assert confirmed.status_code == 200, confirmed.text
        return dict(confirmed.json())

    async def check_in(booking: dict[str, Any], count: int) -> None:
        """Check in the booking's first `count` tickets (as the gate records an accepted one)."""
        ids = [uuid.UUID(t["id"]) for t in booking["tickets"][:count]]
        at = datetime.fromisoformat(f"{booking['date']}T02:00:00").replace(tzinfo=UTC)
        await db.execute(update(Ticket).where(Ticket.id.in_(ids)).values(checked_in_at=at))
        await db.commit()

    family = await book(temple, "2025-11-08", ("adult", 2), ("child", 1), ("infant", 1))
    await check_in(family, 3)  # two adults and the infant
    await book(temple, "2025-11-08", ("adult", 1), at="14:00")  # nobody came yet
    cancelled = await book(temple, "2025-11-09", ("adult", 4))
    response = await client.post(f"/v1/bookings/{cancelled['id']}/cancel", headers=partner)
    assert response.status_code == 200, response.text
    await check_in(await book(mandarin, "2025-11-08", ("adult", 3)), 3)
    await check_in(await book(mandarin, "2025-12-01", ("adult", 2), ("child", 2)), 1)
    await book(homestay, "2025-12-01", ("adult", 1))
    await book(temple, "2026-01-03", ("adult", 5))  # after the period
    expired = await book(temple, "2025-11-09", ("adult", 6), confirm=False)
    clock.advance(timedelta(minutes=15))
    held = await book(temple, "2025-11-09", ("adult", 7), at="14:00", confirm=False)
    return Tourism(
        temple, mandarin, homestay, bac_le, quynh_son,
        booked={"expired": expired["id"], "held": held["id"], "family": family["id"]},
    )  # fmt: skip


async def test_the_figures_are_exact_in_every_section(
    client: httpx.AsyncClient, admin: dict[str, str], tourism: Tourism
) -> None:
    response = await tourism_report(client, admin)

    assert response.status_code == 200, response.text
    report = response.json()
    assert {k: report[k] for k in ("from", "to", "owner_id", *FIGURES)} == {
        "from": "2025-11-01",
        "to": "2025-12-31",
        "owner_id": None,
        **figures(5, 12, 13, 7, 685_000),
    }
    assert report["by_experience"] == [
        {
            "product_id": tourism.mandarin,
            "name": "Trải nghiệm hái quýt Bắc Sơn",
            "owner_id": str(tourism.quynh_son),
            "owner_name": "Hợp tác xã Quỳnh Sơn",
            "commune": "Bắc Sơn",
            **figures(2, 7, 7, 4, 360_000),
        },
        {
            "product_id": tourism.temple,
            "name": "Di tích Đình Bắc Lệ",
            "owner_id": str(tourism.bac_le),
            "owner_name": "Cộng đồng thôn Bắc Lệ",
            "commune": "Tân Thành",
            **figures(2, 4, 5, 3, 175_000),
        },
        {
            "product_id": tourism.homestay,
            "name": "Du lịch cộng đồng Quỳnh Sơn",
            "owner_id": str(tourism.quynh_son),
            "owner_name": "Hợp tác xã Quỳnh Sơn",
            "commune": "Bắc Sơn",
            **figures(1, 1, 1, 0, 150_000),
        },
    ]
    assert [(d["date"], d["product_id"], d["commune"], *map(d.get, FIGURES)) for d in report[
        "by_day"
    ]] == [
        ("2025-11-08", tourism.temple, "Tân Thành", 2, 4, 5, 3, 175_000),
        ("2025-11-08", tourism.mandarin, "Bắc Sơn", 1, 3, 3, 3, 180_000),
        ("2025-12-01", tourism.homestay, "Bắc Sơn", 1, 1, 1, 0, 150_000),
        ("2025-12-01", tourism.mandarin, "Bắc Sơn", 1, 4, 4, 1, 180_000),
    ]  # fmt: skip
    assert report["by_commune"] == [
        {**BAC_SON, "experiences": 2, **figures(3, 8, 8, 4, 510_000)},
        {**TAN_THANH, "experiences": 1, **figures(2, 4, 5, 3, 175_000)},
    ]
    assert report["by_month"] == [
        {"month": "2025-11", **figures(3, 7, 8, 6, 355_000)},
        {"month": "2025-12", **figures(2, 5, 5, 1, 330_000)},
    ]


async def test_cancelling_a_booking_takes_it_out_of_the_report(
    client: httpx.AsyncClient, admin: dict[str, str], partner: dict[str, str], tourism: Tourism
) -> None:
    family = tourism.booked["family"]
    cancelled = await client.post(f"/v1/bookings/{family}/cancel", headers=admin)

    report = (await tourism_report(client, admin)).json()

    assert cancelled.status_code == 200, cancelled.text
    assert {k: report[k] for k in FIGURES} == figures(4, 9, 9, 4, 560_000)
    assert [d["product_id"] for d in report["by_day"]][:1] == [tourism.temple]
    assert report["by_day"][0]["people"] == 1


async def test_holds_count_nowhere_until_confirmed(
    client: httpx.AsyncClient, partner: dict[str, str], admin: dict[str, str], tourism: Tourism
) -> None:
    held = tourism.booked["held"]
    before = (await tourism_report(client, admin)).json()

    await client.post(f"/v1/bookings/{held}/confirm", json={"contact": CONTACT}, headers=partner)
    after = (await tourism_report(client, admin)).json()

    assert {k: before[k] for k in FIGURES} == figures(5, 12, 13, 7, 685_000)
    assert {k: after[k] for k in FIGURES} == figures(6, 19, 20, 7, 1_035_000)


async def test_the_csv_says_what_the_json_says(
    client: httpx.AsyncClient, admin: dict[str, str], tourism: Tourism
) -> None:
    report = (await tourism_report(client, admin)).json()

    response = await client.get(
        "/v1/reports/tourism",
        params=NOVEMBER_TO_DECEMBER,
        headers={**admin, "Accept": "text/csv"},
    )

    def numbers(row: dict[str, Any]) -> list[int]:
        return [int(row[k]) for k in FIGURES]

    rows = csv_rows(response)
    assert response.headers["content-disposition"] == (
        'attachment; filename="Tourism 2025-11-01 to 2025-12-31.csv"; '
        "filename*=UTF-8''Tourism%202025-11-01%20to%202025-12-31.csv"
    )
    assert [(r["section"], numbers(r)) for r in rows if r["section"] == "total"] == [
        ("total", numbers(report))
    ]
    assert [
        (r["product_id"], r["name"], r["owner_name"], r["commune"], numbers(r))
        for r in rows
        if r["section"] == "experience"
    ] == [
        (e["product_id"], e["name"], e["owner_name"], e["commune"], numbers(e))
        for e in report["by_experience"]
    ]
    assert [
        (r["date"], r["product_id"], r["name"], r["commune"], numbers(r))
        for r in rows
        if r["section"] == "day"
    ] == [
        (d["date"], d["product_id"], d["name"], d["commune"], numbers(d)) for d in report["by_day"]
    ]
    assert [
        (r["commune"], int(r["experiences"]), numbers(r)) for r in rows if r["section"] == "commune"
    ] == [(c["commune"], c["experiences"], numbers(c)) for c in report["by_commune"]]
    assert [(r["month"], numbers(r)) for r in rows if r["section"] == "month"] == [
        (m["month"], numbers(m)) for m in report["by_month"]
    ]
    assert len(rows) == 1 + 3 + 4 + 2 + 2


async def test_a_name_that_reads_as_a_formula_is_neutralised_in_the_csv(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    insert_product: InsertProduct,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
    partner: dict[str, str],
) -> None:
    product = await insert_product(
        name="=HYPERLINK(\"http://evil.example\")", group=ProductGroup.tourism,
        unit=Unit.ticket, unit_step=1, stock=None, commune="@Bắc Sơn",
    )  # fmt: skip
    await create_experience_via_api(product.id)
    held = (await hold_via_api(product.id)).json()
    await client.post(
        f"/v1/bookings/{held['id']}/confirm", json={"contact": CONTACT}, headers=partner
    )

    response = await client.get(
        "/v1/reports/tourism",
        params=NOVEMBER_TO_DECEMBER,
        headers={**admin, "Accept": "text/csv"},
    )

    [experience] = [r for r in csv_rows(response) if r["section"] == "experience"]
    assert (experience["name"], experience["commune"]) == (
        '\'=HYPERLINK("http://evil.example")',
        "'@Bắc Sơn",
    )


async def test_a_visit_counts_on_its_local_date(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
) -> None:
    """06:00 on 1 December in the province is still 30 November in UTC."""
    dawn = (await create_experience_via_api(schedules=[{"start_times": ["06:00"], "capacity": 9}]))[
        "product_id"
    ]
    held = (await hold_via_api(dawn, date="2025-12-01", start_time="06:00")).json()
    await client.post(
        f"/v1/bookings/{held['id']}/confirm", json={"contact": CONTACT}, headers=partner
    )

    report = (await tourism_report(client, admin)).json()

    assert [(d["date"], d["people"]) for d in report["by_day"]] == [("2025-12-01", 1)]
    assert [m["month"] for m in report["by_month"]] == ["2025-12"]


async def test_the_dates_bound_the_report(
    client: httpx.AsyncClient, admin: dict[str, str], tourism: Tourism
) -> None:
    november = await tourism_report(client, admin, to="2025-11-30")
    eighth = await tourism_report(client, admin, **{"from": "2025-11-08", "to": "2025-11-08"})

    assert {k: november.json()[k] for k in FIGURES} == figures(3, 7, 8, 6, 355_000)
    assert {k: eighth.json()[k] for k in FIGURES} == figures(3, 7, 8, 6, 355_000)
    assert [m["month"] for m in november.json()["by_month"]] == ["2025-11"]


@pytest.mark.parametrize(
    "params",
    [{"from": "2025-11-02", "to": "2025-11-01"}, {"from": "2025-01-01", "to": "2026-01-02"}],
)
async def test_a_range_backwards_or_over_a_year_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get("/v1/reports/tourism", params=params, headers=admin)

    assert response.status_code == 422
    assert [e["loc"] for e in problem(response)["errors"]] == [["query", "to"]]


async def test_an_owner_key_sees_its_own_experiences_only(
    client: httpx.AsyncClient, make_key: KeyFactory, tourism: Tourism
) -> None:
    quynh_son = await make_key(Role.owner, owner_id=tourism.quynh_son)

    report = (await tourism_report(client, quynh_son)).json()

    assert report["owner_id"] == str(tourism.quynh_son)
    assert {k: report[k] for k in FIGURES} == figures(3, 8, 8, 4, 510_000)
    assert [e["product_id"] for e in report["by_experience"]] == [
        tourism.mandarin,
        tourism.homestay,
    ]
    assert {d["product_id"] for d in report["by_day"]} == {tourism.mandarin, tourism.homestay}
    assert [c["commune"] for c in report["by_commune"]] == ["Bắc Sơn"]


async def test_an_owner_key_may_not_read_another_owners_visitors(
    client: httpx.AsyncClient, make_key: KeyFactory, tourism: Tourism
) -> None:
    quynh_son = await make_key(Role.owner, owner_id=tourism.quynh_son)

    response = await tourism_report(client, quynh_son, owner_id=str(tourism.bac_le))

    assert response.status_code == 403
    assert problem(response)["code"] == "not_your_owner"


async def test_an_admin_may_ask_for_one_owner(
    client: httpx.AsyncClient, admin: dict[str, str], tourism: Tourism
) -> None:
    response = await tourism_report(client, admin, owner_id=str(tourism.bac_le))

    assert response.json()["owner_id"] == str(tourism.bac_le)
    assert [e["product_id"] for e in response.json()["by_experience"]] == [tourism.temple]
    assert {k: response.json()[k] for k in FIGURES} == figures(2, 4, 5, 3, 175_000)


async def test_an_unknown_owner_is_404(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await tourism_report(client, admin, owner_id=str(uuid.uuid4()))

    assert response.status_code == 404


async def test_partners_and_anonymous_callers_may_not_read_it(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    as_partner = await tourism_report(client, partner)
    anonymous = await client.get("/v1/reports/tourism", params=NOVEMBER_TO_DECEMBER)

    assert [as_partner.status_code, anonymous.status_code] == [403, 401]


async def test_an_empty_period_has_zero_figures_and_no_rows(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    report = (await tourism_report(client, admin)).json()

    assert {k: report[k] for k in FIGURES} == figures(0, 0, 0, 0, 0)
    assert [report[s] for s in ("by_experience", "by_day", "by_commune", "by_month")] == [
        [],
        [],
        [],
        [],
    ]
