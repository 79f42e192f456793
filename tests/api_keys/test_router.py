from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.repository import KeyRepository
from app.models import ApiKey, Role
from tests.helpers import (
    FakeClock,
    InsertProduct,
    KeyFactory,
    OwnerFactory,
    idem,
    order_body,
    problem,
)

pytestmark = pytest.mark.anyio


async def test_admin_issues_a_key_shown_once_and_stored_hashed(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    response = await client.post(
        "/v1/api-keys", json={"name": "Booth app", "role": "partner"}, headers=admin
    )

    assert response.status_code == 201
    created = response.json()
    token = created["key"]
    assert token.startswith(f"ocop_{created['prefix']}_")
    assert len(token.split("_", 2)[2]) >= 43  # 256 random bits
    assert response.headers["location"] == f"/v1/api-keys/{created['id']}"
    read = (await client.get(f"/v1/api-keys/{created['id']}", headers=admin)).json()
    assert "key" not in read
    listed = (await client.get("/v1/api-keys", headers=admin)).json()["items"]
    assert all("key" not in item for item in listed)
    stored = await db.scalar(select(ApiKey).where(ApiKey.id == uuid.UUID(created["id"])))
    assert stored is not None
    assert token.split("_", 2)[2] not in stored.secret_hash
    assert len(stored.secret_hash) == 64


async def test_issued_key_works_and_records_last_use(
    client: httpx.AsyncClient, admin: dict[str, str], make_owner: OwnerFactory
) -> None:
    created = (
        await client.post("/v1/api-keys", json={"name": "ops", "role": "admin"}, headers=admin)
    ).json()
    assert created["last_used_at"] is None

    response = await client.post(
        "/v1/owners",
        json={"name": "Hợp tác xã Mới", "kind": "cooperative", "commune": "Bắc Sơn"},
        headers={"Authorization": f"Bearer {created['key']}"},
    )

    assert response.status_code == 201
    read = (await client.get(f"/v1/api-keys/{created['id']}", headers=admin)).json()
    assert read["last_used_at"] is not None


@pytest.mark.postgres_only
async def test_a_request_does_not_wait_for_another_that_touched_the_same_key(
    app: FastAPI,
    client: httpx.AsyncClient,
    partner: dict[str, str],
    insert_product: InsertProduct,
    clock: FakeClock,
) -> None:
    # Another request with this key is mid-transaction and has touched last_used_at, so it
    # holds the key's row. This one must skip the touch rather than queue, and placing an
    # order (its rows reference the key) must not wait for that row either.
    mandarin = await insert_product()
    token = partner["Authorization"].removeprefix("Bearer ")
    async with app.state.writer_sessionmaker() as other:
        key_id = await other.scalar(select(ApiKey.id).where(ApiKey.prefix == token.split("_")[1]))
        assert key_id is not None
        touched = await other.execute(KeyRepository.touch_statement(key_id, clock.now()))
        assert touched.rowcount == 1
        response = await asyncio.wait_for(
            client.post("/v1/orders", json=order_body((mandarin, 1)), headers=idem(partner)),
            timeout=10,
        )
        await other.rollback()

    assert response.status_code == 201, response.text


async def test_owner_key_needs_an_existing_owner(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    missing = await client.post("/v1/api-keys", json={"name": "x", "role": "owner"}, headers=admin)
    unknown = await client.post(
        "/v1/api-keys",
        json={"name": "x", "role": "owner", "owner_id": str(uuid.uuid4())},
        headers=admin,
    )
    extra = await client.post(
        "/v1/api-keys",
        json={"name": "x", "role": "partner", "owner_id": str(uuid.uuid4())},
        headers=admin,
    )

    assert missing.status_code == 422
    assert unknown.status_code == 404
    assert extra.status_code == 422
    assert (
        len((await client.get("/v1/api-keys", headers=admin)).json()["items"]) == 1
    )  # the admin's own


async def test_revoked_key_stops_working(
    client: httpx.AsyncClient, admin: dict[str, str], make_key: KeyFactory, make_owner: OwnerFactory
) -> None:
    owner = await make_owner()
    created = (
        await client.post(
            "/v1/api-keys",
            json={"name": "o", "role": "owner", "owner_id": owner["id"]},
            headers=admin,
        )
    ).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert (
        await client.patch(
            f"/v1/owners/{owner['id']}", json={"phone": "0205 123 456"}, headers=headers
        )
    ).status_code == 200

    revoked = await client.post(f"/v1/api-keys/{created['id']}/revoke", headers=admin)
    after = await client.patch(
        f"/v1/owners/{owner['id']}", json={"phone": "0205 999 999"}, headers=headers
    )

    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert after.status_code == 401
    assert problem(after)["code"] == "revoked_key"
    assert (await client.get(f"/v1/owners/{owner['id']}")).json()["phone"] == "0205 123 456"


@pytest.mark.parametrize("role", [Role.partner, Role.owner])
async def test_only_admins_manage_keys(
    client: httpx.AsyncClient, make_key: KeyFactory, make_owner: OwnerFactory, role: Role
) -> None:
    owner = await make_owner()
    headers = await make_key(role, owner_id=uuid.UUID(owner["id"]) if role is Role.owner else None)

    listing = await client.get("/v1/api-keys", headers=headers)
    creating = await client.post(
        "/v1/api-keys", json={"name": "x", "role": "admin"}, headers=headers
    )

    assert listing.status_code == 403
    assert creating.status_code == 403


async def test_keys_need_a_key(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/api-keys")).status_code == 401
    assert (
        await client.get("/v1/api-keys", headers={"Authorization": "Bearer nonsense"})
    ).status_code == 401
    assert (
        await client.get("/v1/api-keys", headers={"Authorization": "Basic abc"})
    ).status_code == 401
