"""`/v1/webhooks`: each key manages its own endpoints; unsafe targets are refused."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.main import create_app
from app.models import WebhookEndpoint
from app.models.api_key import Role
from tests.helpers import FakeClock, KeyFactory, OwnerFactory, problem

pytestmark = pytest.mark.anyio

HOOK = {"url": "https://hooks.example.com/ocop", "event_types": ["order.created"]}


@pytest.fixture
async def strict_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app that refuses private webhook targets, as in production."""
    app = create_app(settings.model_copy(update={"webhooks_allow_private": False}))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def count_endpoints(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(WebhookEndpoint)) or 0)


async def test_create_shows_the_secret_once(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    created = await client.post("/v1/webhooks", json=HOOK, headers=partner)
    read = await client.get(created.headers["location"], headers=partner)

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["status"] == "active"
    assert body["event_types"] == ["order.created"]
    assert read.status_code == 200
    assert "secret" not in read.json()


async def test_a_key_sees_only_its_own_endpoints(
    client: httpx.AsyncClient, partner: dict[str, str], admin: dict[str, str]
) -> None:
    mine = (await client.post("/v1/webhooks", json=HOOK, headers=partner)).json()

    other_list = await client.get("/v1/webhooks", headers=admin)
    other_get = await client.get(f"/v1/webhooks/{mine['id']}", headers=admin)
    other_delete = await client.delete(f"/v1/webhooks/{mine['id']}", headers=admin)
    own_list = await client.get("/v1/webhooks", headers=partner)

    assert other_list.json() == {"items": [], "next_cursor": None}
    assert other_get.status_code == 404
    assert other_delete.status_code == 404
    assert [e["id"] for e in own_list.json()["items"]] == [mine["id"]]


async def test_an_owner_key_registers_for_its_owner(
    client: httpx.AsyncClient, make_owner: OwnerFactory, make_key: KeyFactory, db: AsyncSession
) -> None:
    owner = await make_owner()
    key = await make_key(Role.owner, owner_id=uuid.UUID(owner["id"]))

    created = await client.post("/v1/webhooks", json=HOOK, headers=key)

    endpoint = await db.get(WebhookEndpoint, uuid.UUID(created.json()["id"]))
    assert endpoint is not None
    assert (endpoint.role, str(endpoint.owner_id)) == (Role.owner, owner["id"])


async def test_the_longest_description_is_stored(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    description = "đ" * 300

    created = await client.post(
        "/v1/webhooks", json={**HOOK, "description": description}, headers=partner
    )

    assert created.status_code == 201, created.text
    assert created.json()["description"] == description


async def test_etags_on_read_and_if_match_on_update(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    created = (await client.post("/v1/webhooks", json=HOOK, headers=partner)).json()
    path = f"/v1/webhooks/{created['id']}"
    read = await client.get(path, headers=partner)
    etag = read.headers["etag"]

    not_modified = await client.get(path, headers={**partner, "If-None-Match": etag})
    changed = await client.patch(
        path, json={"description": "v2"}, headers={**partner, "If-Match": etag}
    )
    stale = await client.patch(
        path, json={"description": "v3"}, headers={**partner, "If-Match": etag}
    )

    assert not_modified.status_code == 304
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert stale.status_code == 412
    assert (await client.get(path, headers=partner)).json()["description"] == "v2"


async def test_a_bad_change_is_422_whatever_its_tag(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    # The tag was checked before the body was read: a stale tag made an invalid body a 412.
    created = (await client.post("/v1/webhooks", json=HOOK, headers=partner)).json()

    response = await client.patch(
        f"/v1/webhooks/{created['id']}",
        json={"description": 7},
        headers={**partner, "If-Match": '"stale"'},
    )

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["errors"]] == [["body", "description"]]


async def test_without_a_key_it_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/webhooks", json=HOOK)

    assert response.status_code == 401


async def test_unknown_event_types_are_refused(
    client: httpx.AsyncClient, partner: dict[str, str], db: AsyncSession
) -> None:
    response = await client.post(
        "/v1/webhooks", json={**HOOK, "event_types": ["order.exploded"]}, headers=partner
    )

    assert response.status_code == 422
    assert problem(response)["errors"][0]["loc"][:2] == ["body", "event_types"]
    assert await count_endpoints(db) == 0


async def test_rotating_replaces_the_secret_and_shows_until_when_the_old_one_signs(
    client: httpx.AsyncClient, partner: dict[str, str], clock: FakeClock
) -> None:
    created = (await client.post("/v1/webhooks", json=HOOK, headers=partner)).json()

    rotated = await client.post(f"/v1/webhooks/{created['id']}/rotate-secret", headers=partner)
    read = await client.get(f"/v1/webhooks/{created['id']}", headers=partner)

    overlap_end = (clock.now() + timedelta(hours=24)).isoformat().replace("+00:00", "Z")
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != created["secret"]
    assert created["previous_secret_expires_at"] is None
    assert rotated.json()["previous_secret_expires_at"] == overlap_end
    assert read.json()["previous_secret_expires_at"] == overlap_end


async def test_a_rotation_may_choose_its_overlap(
    client: httpx.AsyncClient, partner: dict[str, str], clock: FakeClock
) -> None:
    created = (await client.post("/v1/webhooks", json=HOOK, headers=partner)).json()

    rotated = await client.post(
        f"/v1/webhooks/{created['id']}/rotate-secret",
        json={"overlap_seconds": 3600},
        headers=partner,
    )

    overlap_end = (clock.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert rotated.json()["previous_secret_expires_at"] == overlap_end


async def test_a_rotation_without_overlap_keeps_no_previous_secret(
    client: httpx.AsyncClient, partner: dict[str, str], db: AsyncSession
) -> None:
    created = (await client.post("/v1/webhooks", json=HOOK, headers=partner)).json()

    rotated = await client.post(
        f"/v1/webhooks/{created['id']}/rotate-secret", json={"overlap_seconds": 0}, headers=partner
    )

    stored = await db.get(WebhookEndpoint, uuid.UUID(created["id"]))
    assert rotated.json()["previous_secret_expires_at"] is None
    assert stored is not None
    assert (stored.previous_secret, stored.secret) == (None, rotated.json()["secret"])


async def test_the_default_overlap_is_a_setting(
    settings: Settings, partner: dict[str, str], clock: FakeClock
) -> None:
    app = create_app(settings.model_copy(update={"webhooks_secret_overlap_s": 600}), clock=clock)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        created = (await client.post("/v1/webhooks", json=HOOK, headers=partner)).json()
        rotated = await client.post(f"/v1/webhooks/{created['id']}/rotate-secret", headers=partner)

    overlap_end = (clock.now() + timedelta(seconds=600)).isoformat().replace("+00:00", "Z")
    assert rotated.json()["previous_secret_expires_at"] == overlap_end


@pytest.mark.parametrize("overlap", [-1, 7 * 24 * 3600 + 1, "1h"])
async def test_an_overlap_outside_zero_to_a_week_is_refused(
    client: httpx.AsyncClient, partner: dict[str, str], db: AsyncSession, overlap: object
) -> None:
    created = (await client.post("/v1/webhooks", json=HOOK, headers=partner)).json()

    response = await client.post(
        f"/v1/webhooks/{created['id']}/rotate-secret",
        json={"overlap_seconds": overlap},
        headers=partner,
    )

    stored = await db.get(WebhookEndpoint, uuid.UUID(created["id"]))
    assert response.status_code == 422
    assert problem(response)["errors"][0]["loc"][:2] == ["body", "overlap_seconds"]
    assert stored is not None
    assert stored.secret == created["secret"]


async def test_a_ping_to_another_keys_endpoint_is_404(
    client: httpx.AsyncClient, partner: dict[str, str], admin: dict[str, str]
) -> None:
    created = (await client.post("/v1/webhooks", json=HOOK, headers=partner)).json()

    response = await client.post(f"/v1/webhooks/{created['id']}/ping", headers=admin)

    assert response.status_code == 404


async def test_a_ping_to_a_disabled_endpoint_is_refused(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    created = (await client.post("/v1/webhooks", json=HOOK, headers=partner)).json()
    path = f"/v1/webhooks/{created['id']}"
    await client.patch(path, json={"status": "disabled"}, headers=partner)

    response = await client.post(f"{path}/ping", headers=partner)
    listed = await client.get(f"{path}/deliveries", headers=partner)

    assert response.status_code == 409
    assert problem(response)["code"] == "webhook_disabled"
    assert listed.json()["items"] == []


async def test_ping_and_resend_are_declared_as_202_with_the_delivery(
    client: httpx.AsyncClient,
) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    for path in (
        "/v1/webhooks/{webhook_id}/ping",
        "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/resend",
    ):
        answers = paths[path]["post"]["responses"]
        assert "200" not in answers
        assert answers["202"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/DeliveryRead"
        }
        assert ("404" in answers, "409" in answers) == (True, True)


async def test_update_and_delete(
    client: httpx.AsyncClient, partner: dict[str, str], db: AsyncSession
) -> None:
    created = (await client.post("/v1/webhooks", json=HOOK, headers=partner)).json()
    path = f"/v1/webhooks/{created['id']}"

    updated = await client.patch(
        path,
        json={"event_types": ["order.created", "order.cancelled"], "status": "disabled"},
        headers=partner,
    )
    deleted = await client.delete(path, headers=partner)

    assert updated.status_code == 200
    assert updated.json()["event_types"] == ["order.created", "order.cancelled"]
    assert updated.json()["status"] == "disabled"
    assert deleted.status_code == 204
    assert await count_endpoints(db) == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://127.1.2.3/hook",
        "https://10.0.0.8/hook",
        "https://172.16.5.4/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://100.64.0.1/hook",
        "https://localhost/hook",
        "https://localhost:8443/hook",
        "http://93.184.215.14/hook",
        "https://no-such-host.invalid/hook",
    ],
)
async def test_unsafe_targets_are_refused(
    strict_client: httpx.AsyncClient, partner: dict[str, str], db: AsyncSession, url: str
) -> None:
    response = await strict_client.post("/v1/webhooks", json={**HOOK, "url": url}, headers=partner)

    assert response.status_code == 422, response.text
    assert problem(response)["code"] == "unsafe_webhook_url"
    assert await count_endpoints(db) == 0


@pytest.mark.parametrize(
    "url",
    ["https://[::1]/hook", "https://user:pass@93.184.215.14/hook", "https://x:99999/", "ftp://x/"],
)
async def test_urls_outside_the_schema_are_refused(
    client: httpx.AsyncClient, partner: dict[str, str], db: AsyncSession, url: str
) -> None:
    response = await client.post("/v1/webhooks", json={**HOOK, "url": url}, headers=partner)

    assert response.status_code == 422
    assert problem(response)["errors"][0]["loc"] == ["body", "url"]
    assert await count_endpoints(db) == 0


async def test_an_update_to_an_unsafe_target_is_refused(
    strict_client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    created = await strict_client.post(
        "/v1/webhooks", json={**HOOK, "url": "https://93.184.215.14/hook"}, headers=partner
    )
    path = f"/v1/webhooks/{created.json()['id']}"

    response = await strict_client.patch(
        path, json={"url": "https://169.254.169.254/"}, headers=partner
    )
    after = await strict_client.get(path, headers=partner)

    assert created.status_code == 201, created.text
    assert problem(response)["code"] == "unsafe_webhook_url"
    assert after.json()["url"] == "https://93.184.215.14/hook"
