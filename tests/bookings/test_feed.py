"""The bookings' change feed: `GET /v1/bookings?updated_since=...`, then its cursors. Every
change of a booking's representation (its status, expiry, contact, its tickets' check-ins)
moves its `updated_at`, so that a mirror following the feed keeps an exact copy."""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.bookings.expiry import HoldSweeper
from app.core.config import Settings
from app.models import Role
from tests.helpers import (
    CONTACT,
    EPOCH,
    QUICK_FEED,
    BookViaApi,
    CreateExperienceViaApi,
    FakeClock,
    HoldViaApi,
    KeyFactory,
    Site,
    problem,
    read_feed,
    read_list,
    settle,
    vn,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=QUICK_FEED)


async def owner_key(
    client: httpx.AsyncClient, make_key: KeyFactory, product_id: str, name: str
) -> dict[str, str]:
    """An owner key of the owner of this product."""
    owner_id = (await client.get(f"/v1/products/{product_id}")).json()["owner_id"]
    return await make_key(Role.owner, owner_id=uuid.UUID(owner_id), name=name)


async def held(hold_via_api: HoldViaApi, product_id: str, **fields: Any) -> dict[str, Any]:
    response = await hold_via_api(product_id, **fields)
    assert response.status_code == 201, response.text
    booking: dict[str, Any] = response.json()
    return booking


async def post(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], body: Any = None
) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer


def served(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(item["id"], item["status"]) for item in items]


async def test_each_key_is_served_the_bookings_it_may_see_in_every_status(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    make_key: KeyFactory,
    site: Site,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
    clock: FakeClock,
    sweeper: HoldSweeper,
) -> None:
    elsewhere = str((await create_experience_via_api())["product_id"])
    other_partner = await make_key(Role.partner, name="other partner")
    expired = await held(hold_via_api, site.product_id)
    confirmed = await held(hold_via_api, elsewhere)
    await post(client, f"/v1/bookings/{confirmed['id']}/confirm", partner, {"contact": CONTACT})
    cancelled = await held(hold_via_api, site.product_id, headers=other_partner)
    await post(client, f"/v1/bookings/{cancelled['id']}/cancel", other_partner)
    clock.advance(timedelta(minutes=16))
    assert await sweeper.run_once() == 1
    on_hold = await held(hold_via_api, site.product_id)
    await settle(app)

    assert served((await read_feed(client, "/v1/bookings", headers=partner))[0]) == [
        (confirmed["id"], "confirmed"),
        (expired["id"], "expired"),
        (on_hold["id"], "on_hold"),
    ]
    assert served((await read_feed(client, "/v1/bookings", headers=other_partner))[0]) == [
        (cancelled["id"], "cancelled"),
    ]
    assert served((await read_feed(client, "/v1/bookings", headers=site.staff))[0]) == [
        (cancelled["id"], "cancelled"),
        (expired["id"], "expired"),
        (on_hold["id"], "on_hold"),
    ]
    assert served((await read_feed(client, "/v1/bookings", headers=admin))[0]) == [
        (confirmed["id"], "confirmed"),
        (cancelled["id"], "cancelled"),
        (expired["id"], "expired"),
        (on_hold["id"], "on_hold"),
    ]


async def test_the_feed_needs_a_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/bookings", params={"updated_since": EPOCH})

    assert response.status_code == 401


async def test_the_feed_may_be_of_one_experience_on_one_date(
    app: FastAPI,
    client: httpx.AsyncClient,
    partner: dict[str, str],
    site: Site,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
) -> None:
    elsewhere = str((await create_experience_via_api())["product_id"])
    wanted = await held(hold_via_api, site.product_id)
    await held(hold_via_api, site.product_id, date="2025-11-09")
    await held(hold_via_api, elsewhere)
    await settle(app)

    items, _cursor = await read_feed(
        client, "/v1/bookings", headers=partner, product_id=site.product_id, date="2025-11-08"
    )

    assert [item["id"] for item in items] == [wanted["id"]]


async def test_the_feed_takes_no_status_filter(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    response = await client.get(
        "/v1/bookings", params={"updated_since": EPOCH, "status": "on_hold"}, headers=partner
    )

    assert response.status_code == 422
    (error,) = problem(response)["errors"]
    assert error["msg"].endswith("it does not combine with status")


# Every write of a booking moves its `updated_at`, and the feed serves it again.


@dataclass(frozen=True)
class Writes:
    """What a write-path case may use."""

    client: httpx.AsyncClient
    partner: dict[str, str]
    site: Site
    clock: FakeClock
    sweeper: HoldSweeper
    hold_via_api: HoldViaApi
    book_via_api: BookViaApi


Step = Callable[[Writes, dict[str, Any]], Awaitable[list[str]]]
"""A write on a booking: the ids of the bookings it changes, in the order it changes them."""


async def _hold(w: Writes) -> dict[str, Any]:
    return await held(w.hold_via_api, w.site.product_id)


async def _book(w: Writes) -> dict[str, Any]:
    return await w.book_via_api(w.site.product_id, ("adult", 2))


async def _confirm(w: Writes, booking: dict[str, Any]) -> list[str]:
    await post(w.client, f"/v1/bookings/{booking['id']}/confirm", w.partner, {"contact": CONTACT})
    return [booking["id"]]


async def _extend(w: Writes, booking: dict[str, Any]) -> list[str]:
    await post(w.client, f"/v1/bookings/{booking['id']}/extend", w.partner, {"minutes": 30})
    return [booking["id"]]


async def _cancel(w: Writes, booking: dict[str, Any]) -> list[str]:
    await post(w.client, f"/v1/bookings/{booking['id']}/cancel", w.partner)
    return [booking["id"]]


async def _sweep(w: Writes, booking: dict[str, Any]) -> list[str]:
    w.clock.advance(timedelta(minutes=16))
    assert await w.sweeper.run_once() == 1
    return [booking["id"]]


async def _reserve_after_expiry(w: Writes, booking: dict[str, Any]) -> list[str]:
    w.clock.advance(timedelta(minutes=16))
    return [booking["id"], (await _hold(w))["id"]]  # released as the new hold is taken


async def _check_in_online(w: Writes, booking: dict[str, Any]) -> list[str]:
    w.clock.set(vn(8, 8))
    code = booking["tickets"][1]["code"]
    await post(w.client, f"/v1/tickets/{code}/check-in", w.site.staff)
    return [booking["id"]]


def _scan(code: str, minutes: int) -> dict[str, str]:
    """An offline scan on 8 November, `minutes` after 08:00 in the province."""
    at = vn(8, 8) + timedelta(minutes=minutes)
    return {"code": code, "at": at.isoformat(), "gate": "cổng-2"}


async def _upload(w: Writes, *scans: dict[str, str]) -> dict[str, Any]:
    w.clock.set(vn(8, 9))
    path = f"/v1/experiences/{w.site.product_id}/check-ins"
    return await post(w.client, path, w.site.staff, {"check_ins": list(scans)})


async def _check_in_offline(w: Writes, booking: dict[str, Any]) -> list[str]:
    answer = await _upload(w, _scan(booking["tickets"][0]["code"], 30))
    assert answer["accepted"] == 1
    return [booking["id"]]


async def _checked_in_at_0840(w: Writes, booking: dict[str, Any]) -> list[str]:
    await _upload(w, _scan(booking["tickets"][0]["code"], 40))
    return [booking["id"]]


async def _earlier_scan_replaces_it(w: Writes, booking: dict[str, Any]) -> list[str]:
    answer = await _upload(w, _scan(booking["tickets"][0]["code"], 20))
    assert answer["accepted"] == 1
    return [booking["id"]]


WRITES: dict[str, tuple[Callable[[Writes], Awaitable[dict[str, Any]]], Step | None, Step]] = {
    "confirm": (_hold, None, _confirm),
    "extend": (_hold, None, _extend),
    "cancel a hold": (_hold, None, _cancel),
    "cancel a confirmed booking": (_book, None, _cancel),
    "expire by the worker's sweep": (_hold, None, _sweep),
    "expire by a reserve on its slot": (_hold, None, _reserve_after_expiry),
    "check a ticket in online": (_book, None, _check_in_online),
    "check a ticket in offline": (_book, None, _check_in_offline),
    "an earlier offline scan replaces a check-in": (
        _book,
        _checked_in_at_0840,
        _earlier_scan_replaces_it,
    ),
}


@pytest.mark.parametrize("case", list(WRITES))
async def test_every_write_moves_updated_at_and_is_served_again(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    site: Site,
    clock: FakeClock,
    sweeper: HoldSweeper,
    hold_via_api: HoldViaApi,
    book_via_api: BookViaApi,
    case: str,
) -> None:
    make, before, write = WRITES[case]
    w = Writes(client, partner, site, clock, sweeper, hold_via_api, book_via_api)
    booking = await make(w)
    if before is not None:
        await before(w, booking)
    await settle(app)
    earlier, cursor = await read_feed(client, "/v1/bookings", headers=admin)

    changed = await write(w, booking)
    await settle(app)
    after, _cursor = await read_feed(client, "/v1/bookings", cursor, headers=admin)

    assert [item["id"] for item in after] == changed
    assert datetime.fromisoformat(after[0]["updated_at"]) > datetime.fromisoformat(
        earlier[0]["updated_at"]
    )
    assert after[0] != earlier[0]
    assert after[0] == (await client.get(f"/v1/bookings/{booking['id']}", headers=admin)).json()


async def test_a_check_in_refused_changes_no_booking(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    site: Site,
    clock: FakeClock,
    book_via_api: BookViaApi,
) -> None:
    code = (await book_via_api(site.product_id))["tickets"][0]["code"]
    clock.set(vn(8, 8))
    await post(client, f"/v1/tickets/{code}/check-in", site.staff)
    await settle(app)
    _served, cursor = await read_feed(client, "/v1/bookings", headers=admin)

    again = await client.post(f"/v1/tickets/{code}/check-in", headers=site.staff)
    await settle(app)
    after, _cursor = await read_feed(client, "/v1/bookings", cursor, headers=admin)

    assert problem(again)["code"] == "already_checked_in"
    assert after == []


# Mirrors kept from the feed, one per key, equal what each key may read of each booking.


@pytest.mark.parametrize("seed", [41, 42, 43])
async def test_mirrors_built_from_the_feed_equal_the_live_bookings(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    partner: dict[str, str],
    make_key: KeyFactory,
    site: Site,
    create_experience_via_api: CreateExperienceViaApi,
    hold_via_api: HoldViaApi,
    clock: FakeClock,
    sweeper: HoldSweeper,
    seed: int,
) -> None:
    rng = random.Random(seed)
    elsewhere = str((await create_experience_via_api())["product_id"])
    staff = {
        site.product_id: site.staff,
        elsewhere: await owner_key(client, make_key, elsewhere, "Cổng phụ"),
    }
    bookers = {
        "admin": admin,
        "partner": partner,
        "other partner": await make_key(Role.partner, name="other partner"),
    }
    keys = {**bookers, "site": site.staff, "elsewhere": staff[elsewhere]}
    clock.set(vn(8, 7))  # the day booked: holds, confirmations and check-ins all happen on it
    ids: list[str] = []
    confirmed: list[str] = []
    mirrors: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in keys}
    cursors: dict[str, str | None] = dict.fromkeys(keys)
    received: list[tuple[str, str, str]] = []

    async def booking(id_: str) -> dict[str, Any]:
        read: dict[str, Any] = (await client.get(f"/v1/bookings/{id_}", headers=admin)).json()
        return read

    async def hold() -> None:
        response = await hold_via_api(
            rng.choice([site.product_id, elsewhere]),
            ("adult", rng.randint(1, 3)),
            start_time=rng.choice(["09:00", "14:00"]),
            headers=bookers[rng.choice(list(bookers))],
        )
        assert response.status_code in (201, 409), response.text  # 409: full, or past cut-off
        if response.status_code == 201:
            ids.append(response.json()["id"])

    async def move() -> None:
        action = rng.choices(["confirm", "extend", "cancel"], weights=[5, 2, 2])[0]
        id_ = rng.choice(ids[-3:] if rng.random() < 0.7 else ids)  # recent: likely still held
        body = {"contact": CONTACT} if action == "confirm" else None
        response = await client.post(f"/v1/bookings/{id_}/{action}", json=body, headers=admin)
        assert response.status_code in (200, 409), response.text  # 409: not from that status
        if action == "confirm" and response.status_code == 200:
            confirmed.append(id_)

    async def check_in() -> None:
        if not confirmed:
            return
        read = await booking(rng.choice(confirmed))
        product_id, code = read["product_id"], rng.choice(read["tickets"])["code"]
        if rng.random() < 0.5:
            response = await client.post(f"/v1/tickets/{code}/check-in", headers=staff[product_id])
            assert response.status_code in (201, 409), response.text  # checked in, cancelled
            return
        at = clock.now() - timedelta(minutes=rng.randint(0, 30))  # may precede the confirmation
        response = await client.post(
            f"/v1/experiences/{product_id}/check-ins",
            json={"check_ins": [{"code": code, "at": at.isoformat(), "gate": "cổng-2"}]},
            headers=staff[product_id],
        )
        assert response.status_code == 200, response.text

    async def wait() -> None:
        clock.advance(timedelta(minutes=rng.randint(1, 8)))
        if rng.random() < 0.5:
            await sweeper.run_once()

    for _batch in range(6):
        for _ in range(rng.randint(3, 9)):
            roll = rng.random()
            if len(ids) < 2 or roll < 0.3:
                await hold()
            elif roll < 0.6:
                await move()
            elif roll < 0.8:
                await check_in()
            else:
                await wait()
        await settle(app)
        for name, headers in keys.items():
            items, cursors[name] = await read_feed(
                client, "/v1/bookings", cursors[name], headers=headers, limit=5
            )
            for item in items:
                mirrors[name][item["id"]] = item
                received.append((name, item["id"], item["updated_at"]))

            visible = [
                item["id"] for item in await read_list(client, "/v1/bookings", headers=headers)
            ]
            live = {
                id_: (await client.get(f"/v1/bookings/{id_}", headers=headers)).json()
                for id_ in visible
            }
            assert mirrors[name] == live
    assert sorted(mirrors["admin"]) == sorted(ids)
    assert len(set(received)) == len(received)
