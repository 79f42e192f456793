from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from tests.helpers import CreateEventViaApi, FakeClock, problem, vn

pytestmark = pytest.mark.anyio

BAC_SON = (21.90, 106.32)
LANG_SON_CITY = (21.85, 106.76)
HUU_LUNG = (21.50, 106.35)


async def names(client: httpx.AsyncClient, **params: str | int | float) -> list[str]:
    response = await client.get("/v1/events", params=params)
    assert response.status_code == 200, response.text
    return [event["name"] for event in response.json()["items"]]


# Window: [from, to) against the event's [starts_at, ends_at): they overlap when
# starts_at < to and ends_at > from.


async def test_window_overlapping_the_end_of_an_event_finds_it(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    await create_event_via_api(
        name="3rd to 9th", starts_at=vn(3, 8).isoformat(), ends_at=vn(9, 22).isoformat()
    )

    assert await names(client, **{"from": "2025-11-08", "to": "2025-11-12"}) == ["3rd to 9th"]


async def test_window_after_an_event_does_not_find_it(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    await create_event_via_api(
        name="3rd to 9th", starts_at=vn(3, 8).isoformat(), ends_at=vn(9, 22).isoformat()
    )

    assert await names(client, **{"from": "2025-11-10", "to": "2025-11-12"}) == []


async def test_window_dates_are_whole_local_days(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    # Opens late on the 12th, Vietnam time (which is still the 12th in UTC, 16:00).
    await create_event_via_api(
        name="evening", starts_at=vn(12, 23).isoformat(), ends_at=vn(13, 2).isoformat()
    )

    assert await names(client, **{"from": "2025-11-10", "to": "2025-11-12"}) == ["evening"]
    assert await names(client, **{"from": "2025-11-10", "to": "2025-11-11"}) == []


async def test_window_bounds_are_exclusive_for_timestamps(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    await create_event_via_api(
        name="3rd to 9th", starts_at=vn(3, 8).isoformat(), ends_at=vn(9, 22).isoformat()
    )

    # An event that ends exactly when the window opens, or opens exactly when it closes, is out.
    assert await names(client, **{"from": vn(9, 22).isoformat()}) == []
    assert await names(client, to=vn(3, 8).isoformat()) == []
    assert await names(client, **{"from": vn(9, 21).isoformat()}) == ["3rd to 9th"]


async def test_bad_window_bound_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/events", params={"from": "1700000000"})

    assert response.status_code == 422
    assert [e["loc"] for e in problem(response)["errors"]] == [["query", "from"]]


async def test_status_follows_the_clock(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi, clock: FakeClock
) -> None:
    clock.set(vn(1))
    event = await create_event_via_api(
        starts_at=vn(3, 8).isoformat(), ends_at=vn(9, 22).isoformat()
    )
    url = f"/v1/events/{event['id']}"
    seen = [(await client.get(url)).json()["status"]]

    clock.set(vn(3, 8))
    seen.append((await client.get(url)).json()["status"])
    clock.set(vn(9, 22) - timedelta(microseconds=1))
    seen.append((await client.get(url)).json()["status"])
    clock.set(vn(9, 22))
    seen.append((await client.get(url)).json()["status"])

    assert seen == ["scheduled", "ongoing", "ongoing", "ended"]


async def test_status_filter_follows_the_clock(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
    clock: FakeClock,
) -> None:
    clock.set(vn(1))
    await create_event_via_api(name="early", starts_at=vn(3).isoformat(), ends_at=vn(5).isoformat())
    await create_event_via_api(
        name="late", starts_at=vn(10).isoformat(), ends_at=vn(12).isoformat()
    )
    dropped = await create_event_via_api(
        name="dropped", starts_at=vn(4).isoformat(), ends_at=vn(6).isoformat()
    )
    await client.post(f"/v1/events/{dropped['id']}/cancel", headers=admin)

    clock.set(vn(4))
    on_the_4th = {s: await names(client, status=s) for s in ("scheduled", "ongoing", "ended")}
    clock.set(vn(11))
    on_the_11th = {s: await names(client, status=s) for s in ("scheduled", "ongoing", "ended")}

    assert on_the_4th == {"scheduled": ["late"], "ongoing": ["early"], "ended": []}
    assert on_the_11th == {"scheduled": [], "ongoing": ["late"], "ended": ["early"]}
    assert await names(client, status="cancelled") == ["dropped"]


async def test_default_order_is_soonest_first(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    for name, day in (("b", 10), ("c", 20), ("a", 3)):
        await create_event_via_api(
            name=name, starts_at=vn(day).isoformat(), ends_at=vn(day + 1).isoformat()
        )

    assert await names(client) == ["a", "b", "c"]


async def test_kind_commune_and_q_filters(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    await create_event_via_api(name="Lễ hội Mùa vàng Bắc Sơn", kind="festival", commune="Bắc Sơn")
    await create_event_via_api(name="Hội chợ OCOP Lạng Sơn", kind="trade_fair", commune="Đông Kinh")

    assert await names(client, kind="trade_fair") == ["Hội chợ OCOP Lạng Sơn"]
    assert await names(client, commune="dong kinh") == ["Hội chợ OCOP Lạng Sơn"]
    assert await names(client, q="mua vang") == ["Lễ hội Mùa vàng Bắc Sơn"]
    assert await names(client, q="hoi cho lang son") == ["Hội chợ OCOP Lạng Sơn"]


async def test_q_searches_translated_names(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    await create_event_via_api(translations={"en": {"name": "Golden Season"}})

    assert await names(client, q="golden") == ["Lễ hội Mùa vàng Bắc Sơn"]


async def test_near_finds_what_lies_within_the_radius_nearest_first(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    for name, (lat, lon) in (("Hữu Lũng", HUU_LUNG), ("Bắc Sơn", BAC_SON), ("city", LANG_SON_CITY)):
        await create_event_via_api(name=name, latitude=lat, longitude=lon)
    await create_event_via_api(name="nowhere in particular")

    # From Bắc Sơn: itself (0 km), Hữu Lũng (~44.6 km), Lạng Sơn city (~45.8 km).
    response = await client.get("/v1/events", params={"near": "21.90,106.32", "radius_km": 50})
    within_40 = await names(client, near="21.90,106.32", radius_km=40)
    from_huu_lung = await names(client, near="21.50,106.35", radius_km=45)

    items = response.json()["items"]
    assert [(e["name"], round(e["distance_km"])) for e in items] == [
        ("Bắc Sơn", 0),
        ("Hữu Lũng", 45),
        ("city", 46),
    ]
    assert within_40 == ["Bắc Sơn"]
    assert from_huu_lung == ["Hữu Lũng", "Bắc Sơn"]


async def test_near_distance_is_the_great_circle_distance(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    await create_event_via_api(name="city", latitude=LANG_SON_CITY[0], longitude=LANG_SON_CITY[1])

    response = await client.get("/v1/events", params={"near": "21.90,106.32", "radius_km": 100})

    # Haversine on a 6371.0088 km sphere: 45.74 km between Bắc Sơn and Lạng Sơn city.
    assert response.json()["items"][0]["distance_km"] == pytest.approx(45.74, abs=0.01)


async def test_near_with_out_of_range_latitude_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/events", params={"near": "91,106"})

    assert response.status_code == 422
    assert [e["loc"] for e in problem(response)["errors"]] == [["query", "near"]]


async def walk(client: httpx.AsyncClient, **params: str | int | float) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        body = (await client.get("/v1/events", params=query)).json()
        pages.append([event["name"] for event in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


async def test_pages_soonest_first_with_equal_start_times(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    for i in range(7):
        day = 3 + i // 2  # pairs share a start time: the id breaks the tie
        await create_event_via_api(
            name=f"e{i}", starts_at=vn(day).isoformat(), ends_at=vn(day + 1).isoformat()
        )

    pages = await walk(client, limit=3)

    assert [len(page) for page in pages] == [3, 3, 1]
    seen = [name for page in pages for name in page]
    assert sorted(seen) == [f"e{i}" for i in range(7)]
    assert [sorted(seen[i : i + 2]) for i in range(0, 7, 2)] == [
        ["e0", "e1"],
        ["e2", "e3"],
        ["e4", "e5"],
        ["e6"],
    ]


async def test_pages_nearest_first(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    # Five events stepping north from Hữu Lũng, two at the same spot (a distance tie).
    for i, lat in enumerate((21.50, 21.55, 21.60, 21.60, 21.70)):
        await create_event_via_api(name=f"n{i}", latitude=lat, longitude=106.35)

    pages = await walk(client, near="21.50,106.35", radius_km=30, limit=2)

    assert [len(page) for page in pages] == [2, 2, 1]
    seen = [name for page in pages for name in page]
    assert seen[:2] == ["n0", "n1"]
    assert sorted(seen[2:4]) == ["n2", "n3"]
    assert seen[4] == "n4"


async def test_external_ref_finds_the_event(
    client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    await create_event_via_api(name="a", external_refs=[{"system": "ticketbox", "id": "EVT:1"}])
    await create_event_via_api(name="b", external_refs=[{"system": "vnpay", "id": "EVT:1"}])

    assert await names(client, external_ref="ticketbox:EVT:1") == ["a"]
    assert await names(client, external_ref="ticketbox:EVT:2") == []
