from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Event, Role
from tests.helpers import CreateEventViaApi, FakeClock, KeyFactory, OwnerFactory, problem, vn

pytestmark = pytest.mark.anyio

GOLDEN_SEASON = {
    "name": "Lễ hội Mùa vàng Bắc Sơn",
    "kind": "festival",
    "starts_at": "2025-11-03T08:00:00+07:00",
    "ends_at": "2025-11-09T22:00:00+07:00",
    "venue": "Quảng trường thị trấn Bắc Sơn",
    "commune": "Bắc Sơn",
    "latitude": 21.90,
    "longitude": 106.32,
    "description": "Mùa quýt vàng.",
    "translations": {"en": {"name": "Bac Son Golden Season", "description": "Mandarins."}},
    "external_refs": [{"system": "ticketbox", "id": "EVT-1001"}],
}


async def count_events(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(Event)) or 0)


async def test_admin_creates_event(
    client: httpx.AsyncClient, admin: dict[str, str], clock: FakeClock
) -> None:
    clock.set(vn(1))

    response = await client.post("/v1/events", json=GOLDEN_SEASON, headers=admin)

    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/v1/events/{body['id']}"
    assert body["name"] == "Lễ hội Mùa vàng Bắc Sơn"
    assert body["language"] == "vi"
    assert body["province"] == "Lạng Sơn"
    assert body["status"] == "scheduled"
    assert body["starts_at"] == "2025-11-03T01:00:00Z"
    assert body["ends_at"] == "2025-11-09T15:00:00Z"
    assert body["tz"] == "Asia/Ho_Chi_Minh"
    assert body["external_refs"] == [{"system": "ticketbox", "id": "EVT-1001"}]
    assert body["distance_km"] is None
    assert body["cancelled_at"] is None


async def test_times_given_in_any_offset_are_shown_in_utc(
    create_event_via_api: CreateEventViaApi,
) -> None:
    event = await create_event_via_api(
        starts_at="2025-11-03T08:00:00+07:00", ends_at="2025-11-04T02:00:00+01:00"
    )

    assert event["starts_at"] == "2025-11-03T01:00:00Z"
    assert event["ends_at"] == "2025-11-04T01:00:00Z"


async def test_tz_names_the_zone_asked_for_and_leaves_the_times_in_utc(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    event = await create_event_via_api()

    response = await client.get(f"/v1/events/{event['id']}", params={"tz": "Europe/Paris"})

    assert response.status_code == 200
    body = response.json()
    assert (body["starts_at"], body["tz"]) == ("2025-11-03T01:00:00Z", "Europe/Paris")


async def test_unknown_time_zone_is_422(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    event = await create_event_via_api()

    response = await client.get(f"/v1/events/{event['id']}", params={"tz": "Mars/Olympus"})

    assert response.status_code == 422
    assert [e["loc"] for e in problem(response)["errors"]] == [["query", "tz"]]


async def test_accept_language_picks_the_translation(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    event = await create_event_via_api(**GOLDEN_SEASON)

    response = await client.get(
        f"/v1/events/{event['id']}", headers={"Accept-Language": "en-US,en;q=0.9"}
    )

    body = response.json()
    assert (body["name"], body["description"]) == ("Bac Son Golden Season", "Mandarins.")
    assert (body["language"], body["description_language"]) == ("en", "en")
    assert response.headers["content-language"] == "en"
    assert response.headers["vary"] == "Accept-Language, Authorization"


@pytest.mark.parametrize(("tag", "status"), [("zh-Hant-TW", 201), ("EN", 422), ("english", 422)])
async def test_translation_tags_follow_the_products_rule(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_owner: OwnerFactory,
    tag: str,
    status: int,
) -> None:
    # One rule for every resource with translations (app.core.i18n.LanguageTag).
    owner = await make_owner()
    translations = {tag: {"name": "Golden Season"}}
    product = {
        "owner_id": owner["id"],
        "name": "Trà Bổ Khai",
        "group": "beverage",
        "unit": "box",
        "price_vnd": 120_000,
        "commune": "Hữu Lũng",
        "translations": translations,
    }
    event = {**GOLDEN_SEASON, "external_refs": [], "translations": translations}

    answers = [
        await client.post("/v1/events", json=event, headers=admin),
        await client.post("/v1/products", json=product, headers=admin),
    ]

    assert [a.status_code for a in answers] == [status, status], [a.text for a in answers]


async def test_language_without_translation_falls_back_to_vietnamese(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    event = await create_event_via_api(**GOLDEN_SEASON)

    response = await client.get(f"/v1/events/{event['id']}", headers={"Accept-Language": "fr"})

    body = response.json()
    assert (body["name"], body["language"]) == ("Lễ hội Mùa vàng Bắc Sơn", "vi")
    assert (body["description"], body["description_language"]) == ("Mùa quýt vàng.", "vi")
    assert response.headers["content-language"] == "vi"


async def test_a_translated_description_does_not_label_the_vietnamese_name_english(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    event = await create_event_via_api(
        **{**GOLDEN_SEASON, "translations": {"en": {"description": "Mandarins."}}}
    )

    response = await client.get(f"/v1/events/{event['id']}", headers={"Accept-Language": "en"})

    body = response.json()
    assert (body["name"], body["language"]) == ("Lễ hội Mùa vàng Bắc Sơn", "vi")
    assert (body["description"], body["description_language"]) == ("Mandarins.", "en")
    assert response.headers["content-language"] == "en, vi"


async def test_a_translated_name_leaves_the_description_labelled_vietnamese(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    await create_event_via_api(
        **{**GOLDEN_SEASON, "translations": {"en": {"name": "Golden Season"}}}
    )

    response = await client.get("/v1/events", headers={"Accept-Language": "en"})

    [item] = response.json()["items"]
    assert (item["name"], item["language"]) == ("Golden Season", "en")
    assert (item["description"], item["description_language"]) == ("Mùa quýt vàng.", "vi")
    assert response.headers["content-language"] == "en, vi"


async def test_etag_gives_304(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    event = await create_event_via_api()
    first = await client.get(f"/v1/events/{event['id']}")

    again = await client.get(
        f"/v1/events/{event['id']}", headers={"If-None-Match": first.headers["etag"]}
    )

    assert again.status_code == 304


async def test_unknown_event_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/events/{uuid.uuid4()}")

    assert response.status_code == 404
    assert problem(response)["code"] == "not_found"


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"ends_at": "2025-11-03T08:00:00+07:00"}, ["body"]),
        ({"starts_at": "2025-11-03T08:00:00"}, ["body", "starts_at"]),
        ({"latitude": None}, ["body"]),
        ({"kind": "rave"}, ["body", "kind"]),
        ({"latitude": 91, "longitude": 0}, ["body", "latitude"]),
        (
            {"external_refs": [{"system": "t", "id": "1"}, {"system": "t", "id": "1"}]},
            ["body", "external_refs"],
        ),
        ({"external_refs": [{"system": "T B", "id": "1"}]}, ["body", "external_refs", 0, "system"]),
        ({"organiser": "me"}, ["body", "organiser"]),
    ],
)
async def test_invalid_event_is_422_and_writes_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    db: AsyncSession,
    change: dict[str, Any],
    loc: list[Any],
) -> None:
    response = await client.post("/v1/events", json={**GOLDEN_SEASON, **change}, headers=admin)

    assert response.status_code == 422
    assert [e["loc"] for e in problem(response)["errors"]] == [loc]
    assert await count_events(db) == 0


async def test_admin_updates_event_with_if_match(
    client: httpx.AsyncClient, admin: dict[str, str], create_event_via_api: CreateEventViaApi
) -> None:
    event = await create_event_via_api()
    etag = (await client.get(f"/v1/events/{event['id']}")).headers["etag"]

    response = await client.patch(
        f"/v1/events/{event['id']}",
        json={"venue": "Sân vận động Bắc Sơn", "kind": "trade_fair"},
        headers={**admin, "If-Match": etag},
    )

    assert response.status_code == 200
    assert (response.json()["venue"], response.json()["kind"]) == (
        "Sân vận động Bắc Sơn",
        "trade_fair",
    )


async def test_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], create_event_via_api: CreateEventViaApi
) -> None:
    event = await create_event_via_api()

    response = await client.patch(
        f"/v1/events/{event['id']}",
        json={"venue": "Elsewhere"},
        headers={**admin, "If-Match": '"stale"'},
    )

    assert response.status_code == 412
    assert (await client.get(f"/v1/events/{event['id']}")).json()["venue"] is None


async def test_update_that_ends_before_start_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], create_event_via_api: CreateEventViaApi
) -> None:
    event = await create_event_via_api()

    response = await client.patch(
        f"/v1/events/{event['id']}", json={"ends_at": "2025-11-02T00:00:00+07:00"}, headers=admin
    )

    assert response.status_code == 422
    assert problem(response)["code"] == "ends_before_start"
    assert (await client.get(f"/v1/events/{event['id']}")).json()["ends_at"] == event["ends_at"]


async def test_cancel_keeps_the_event_with_status_cancelled(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    clock: FakeClock,
) -> None:
    clock.set(vn(1))
    event = await create_event_via_api()

    response = await client.post(f"/v1/events/{event['id']}/cancel", headers=admin)

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancelled_at"] == "2025-10-31T17:00:00Z"
    assert (await client.get(f"/v1/events/{event['id']}")).json()["status"] == "cancelled"


async def test_cancelling_twice_is_409(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    clock: FakeClock,
) -> None:
    clock.set(vn(1))
    event = await create_event_via_api()
    await client.post(f"/v1/events/{event['id']}/cancel", headers=admin)

    response = await client.post(f"/v1/events/{event['id']}/cancel", headers=admin)

    assert response.status_code == 409
    assert problem(response)["code"] == "already_cancelled"


async def test_an_ended_event_cannot_be_cancelled(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    clock: FakeClock,
) -> None:
    clock.set(vn(20))
    event = await create_event_via_api()

    response = await client.post(f"/v1/events/{event['id']}/cancel", headers=admin)

    assert response.status_code == 409
    assert problem(response)["code"] == "event_ended"


async def test_reads_need_no_key_but_writes_do(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    event = await create_event_via_api()

    assert (await client.get("/v1/events")).status_code == 200
    assert (await client.post("/v1/events", json=GOLDEN_SEASON)).status_code == 401
    assert (await client.post(f"/v1/events/{event['id']}/cancel")).status_code == 401


async def test_owner_key_cannot_create_change_or_cancel_events(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    make_owner: OwnerFactory,
    create_event_via_api: CreateEventViaApi,
    clock: FakeClock,
) -> None:
    clock.set(vn(1))
    owner = await make_owner()
    key = await make_key(Role.owner, owner_id=uuid.UUID(owner["id"]))
    event = await create_event_via_api()

    created = await client.post("/v1/events", json=GOLDEN_SEASON, headers=key)
    changed = await client.patch(f"/v1/events/{event['id']}", json={"venue": "X"}, headers=key)
    cancelled = await client.post(f"/v1/events/{event['id']}/cancel", headers=key)

    assert [created.status_code, changed.status_code, cancelled.status_code] == [403, 403, 403]
    after = (await client.get("/v1/events")).json()["items"]
    assert [(e["id"], e["venue"], e["status"]) for e in after] == [(event["id"], None, "scheduled")]


async def test_list_says_which_languages_its_items_are_in(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    await create_event_via_api(**GOLDEN_SEASON)
    await create_event_via_api(
        name="Hội chợ",
        starts_at="2025-11-20T08:00:00+07:00",
        ends_at="2025-11-21T08:00:00+07:00",
        external_refs=[],
    )

    response = await client.get("/v1/events", headers={"Accept-Language": "en"})

    assert [(e["name"], e["language"]) for e in response.json()["items"]] == [
        ("Bac Son Golden Season", "en"),
        ("Hội chợ", "vi"),
    ]
    assert response.headers["content-language"] == "en, vi"
