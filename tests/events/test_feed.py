"""The events' change feed: `GET /v1/events?updated_since=...`, then its cursors."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from tests.helpers import (
    EPOCH,
    QUICK_FEED,
    CreateEventViaApi,
    FakeClock,
    problem,
    read_feed,
    read_list,
    settle,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=QUICK_FEED)


def upcoming(clock: FakeClock, days: int) -> dict[str, str]:
    """`starts_at` and `ends_at` of an event that opens in `days` days and lasts two."""
    start = clock.now() + timedelta(days=days)
    return {
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(days=2)).isoformat(),
    }


async def test_cancelled_events_are_served_with_their_status(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    clock: FakeClock,
    create_event_via_api: CreateEventViaApi,
) -> None:
    cancelled = await create_event_via_api(name="Hủy", **upcoming(clock, 3))
    kept = await create_event_via_api(name="Giữ", **upcoming(clock, 5))
    await client.post(f"/v1/events/{cancelled['id']}/cancel", headers=admin)
    await settle(app)

    items, _cursor = await read_feed(client, "/v1/events")

    assert [(item["id"], item["status"]) for item in items] == [
        (kept["id"], "scheduled"),
        (cancelled["id"], "cancelled"),
    ]


async def test_the_feed_shows_times_in_the_zone_asked_for(
    app: FastAPI, client: httpx.AsyncClient, create_event_via_api: CreateEventViaApi
) -> None:
    await create_event_via_api(starts_at="2025-11-03T08:00:00+07:00")
    await settle(app)

    items, _cursor = await read_feed(client, "/v1/events", tz="UTC")

    assert [item["starts_at"] for item in items] == ["2025-11-03T01:00:00Z"]


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "festival"},
        {"status": "cancelled"},
        {"from": "2025-11-01"},
        {"q": "mùa vàng"},
        {"near": "21.8,106.7"},
        {"external_ref": "ticketbox:1"},
    ],
)
async def test_the_feed_takes_no_filter(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await client.get("/v1/events", params={"updated_since": EPOCH, **params})

    assert response.status_code == 422
    (error,) = problem(response)["errors"]
    assert error["msg"].endswith(f"it does not combine with {next(iter(params))}")


# Every write of an event moves its `updated_at`, and the feed serves it again.


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("", {"venue": "Sân vận động"}),
        ("", {"translations": {"en": {"name": "Golden season"}}}),
        ("", {"external_refs": [{"system": "ticketbox", "id": "TB-1"}]}),
        ("/cancel", None),
    ],
    ids=["fields", "translations", "external refs only", "cancel"],
)
async def test_every_write_moves_updated_at_and_is_served_again(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    clock: FakeClock,
    create_event_via_api: CreateEventViaApi,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    event = await create_event_via_api(**upcoming(clock, 3))
    await settle(app)
    before, cursor = await read_feed(client, "/v1/events")

    url = f"/v1/events/{event['id']}{path}"
    if body is None:
        response = await client.post(url, headers=admin)
    else:
        response = await client.patch(url, json=body, headers=admin)
    await settle(app)
    after, _cursor = await read_feed(client, "/v1/events", cursor)

    assert response.status_code == 200, response.text
    assert [item["id"] for item in after] == [event["id"]]
    assert datetime.fromisoformat(after[0]["updated_at"]) > datetime.fromisoformat(
        before[0]["updated_at"]
    )
    assert after[0] == (await client.get(f"/v1/events/{event['id']}")).json()


async def test_the_same_external_refs_again_are_no_change(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_event_via_api: CreateEventViaApi,
) -> None:
    refs = [{"system": "ticketbox", "id": "TB-1"}]
    event = await create_event_via_api(external_refs=refs)
    await settle(app)
    _before, cursor = await read_feed(client, "/v1/events")

    response = await client.patch(
        f"/v1/events/{event['id']}", json={"external_refs": refs}, headers=admin
    )
    await settle(app)
    after, _cursor = await read_feed(client, "/v1/events", cursor)

    assert response.json()["updated_at"] == event["updated_at"]
    assert after == []


# A mirror kept from the feed equals the calendar, whatever happens to it.


@pytest.mark.parametrize("seed", [21, 22, 23])
async def test_a_mirror_built_from_the_feed_equals_the_live_calendar(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    clock: FakeClock,
    seed: int,
) -> None:
    rng = random.Random(seed)
    ids: list[str] = []
    mirror: dict[str, dict[str, Any]] = {}
    received: list[tuple[str, str]] = []
    cursor: str | None = None

    async def create() -> None:
        body = {
            "name": f"Lễ hội {len(ids)}",
            "kind": rng.choice(["festival", "trade_fair", "exhibition"]),
            "commune": rng.choice(["Bắc Sơn", "Văn Quan", "Chi Lăng"]),
            **upcoming(clock, rng.randint(-5, 30)),
        }
        response = await client.post("/v1/events", json=body, headers=admin)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])

    async def update() -> None:
        body = rng.choice(
            [
                {"venue": f"Sân {rng.randrange(100)}"},
                {"name": f"Hội chợ {rng.randrange(1000)}"},
                {"external_refs": [{"system": "ticketbox", "id": f"TB-{rng.randrange(10**9)}"}]},
                {"external_refs": []},
                upcoming(clock, rng.randint(-5, 30)),
            ]
        )
        response = await client.patch(f"/v1/events/{rng.choice(ids)}", json=body, headers=admin)
        assert response.status_code == 200, response.text

    async def cancel() -> None:
        response = await client.post(f"/v1/events/{rng.choice(ids)}/cancel", headers=admin)
        assert response.status_code in (200, 409), response.text  # already cancelled, or over

    for _batch in range(5):
        for _ in range(rng.randint(2, 8)):
            await (
                create() if len(ids) < 2 or rng.random() < 0.3 else rng.choice([update, cancel])()
            )
        await settle(app)
        items, cursor = await read_feed(client, "/v1/events", cursor, limit=7)
        for item in items:
            mirror[item["id"]] = item
            received.append((item["id"], item["updated_at"]))

        live = {item["id"]: item for item in await read_list(client, "/v1/events")}
        assert mirror == live
        for event_id, event in mirror.items():
            assert (await client.get(f"/v1/events/{event_id}")).json() == event
    assert len(set(received)) == len(received)
