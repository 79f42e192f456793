"""The `ocop` command, run as a user runs it."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.demo import data
from tests.helpers import InsertEvent, ocop

pytestmark = pytest.mark.anyio


async def test_keys_create_prints_the_key_alone_last_and_it_works(
    database_url: str, client: httpx.AsyncClient
) -> None:
    result = ocop(database_url, "keys", "create", "--role", "admin", "--name", "cli admin")

    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("ocop_")
    assert " " not in token
    response = await client.get("/v1/api-keys", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert [k["name"] for k in response.json()["items"]] == ["cli admin"]


async def test_keys_revoke_by_prefix(database_url: str, client: httpx.AsyncClient) -> None:
    token = ocop(database_url, "keys", "create", "--role", "admin", "--name", "x").stdout.split()[
        -1
    ]
    prefix = token.split("_")[1]

    result = ocop(database_url, "keys", "revoke", prefix)

    assert result.returncode == 0, result.stderr
    response = await client.get("/v1/api-keys", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_keys_grant_and_revoke_grant(
    database_url: str, client: httpx.AsyncClient, insert_event: InsertEvent
) -> None:
    event = await insert_event()
    created = ocop(database_url, "keys", "create", "--role", "partner", "--name", "tickets")
    token = created.stdout.split()[-1]
    prefix = token.split("_")[1]
    sales = f"/v1/reports/events/{event.id}/sales"
    partner = {"Authorization": f"Bearer {token}"}

    granted = ocop(database_url, "keys", "grant", prefix, str(event.id))
    while_granted = await client.get(sales, headers=partner)
    taken = ocop(database_url, "keys", "revoke-grant", prefix, str(event.id))
    after = await client.get(sales, headers=partner)

    assert granted.returncode == 0, granted.stderr
    assert granted.stdout == f"granted: key {prefix} (tickets) on event {event.id}\n"
    assert while_granted.status_code == 200
    assert taken.returncode == 0, taken.stderr
    assert after.status_code == 403


async def test_keys_grant_refuses_a_key_that_is_not_a_partners(
    database_url: str, insert_event: InsertEvent
) -> None:
    event = await insert_event()
    token = ocop(database_url, "keys", "create", "--role", "admin", "--name", "x").stdout.split()[
        -1
    ]

    result = ocop(database_url, "keys", "grant", token.split("_")[1], str(event.id))

    assert result.returncode == 1
    assert result.stdout == ""
    assert "Only partner keys hold grants" in result.stderr


async def test_owner_key_needs_owner_id(database_url: str) -> None:
    result = ocop(database_url, "keys", "create", "--role", "owner", "--name", "x")

    assert result.returncode == 2
    assert result.stdout == ""


@pytest.mark.slow
async def test_seed_demo_is_safe_to_run_twice(
    database_url: str, client: httpx.AsyncClient, app: FastAPI
) -> None:
    first = ocop(database_url, "seed-demo")
    second = ocop(database_url, "seed-demo")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "nothing added" in second.stdout
    names = [
        o["name"] for o in (await client.get("/v1/owners", params={"limit": 100})).json()["items"]
    ]
    assert sorted(names) == sorted(o.name for o in data.OWNERS)
    assert "Công ty TNHH MTV Ngọc Quế" in names


async def test_idempotency_purge_refuses_less_than_a_day(database_url: str) -> None:
    result = ocop(database_url, "idempotency", "purge", "--older-than-hours", "23")

    assert result.returncode == 2
    assert "24 hours" in result.stderr


async def test_idempotency_purge_runs(database_url: str) -> None:
    result = ocop(database_url, "idempotency", "purge")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "removed 0 stored idempotent answers older than 48 hours"


def test_a_database_that_cannot_be_reached_is_one_line_not_a_traceback() -> None:
    """Nothing listens on port 9 of this host: the command says so and exits 1."""
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"

    result = ocop(unreachable, "seed-demo")

    assert result.returncode == 1
    assert result.stderr == "error: The database cannot be reached; retry shortly.\n"
