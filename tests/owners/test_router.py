from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Owner, Role
from tests.helpers import KeyFactory, OwnerFactory, problem

pytestmark = pytest.mark.anyio

NGOC_QUE = {
    "name": "Công ty TNHH MTV Ngọc Quế",
    "kind": "company",
    "commune": "Hữu Lũng",
    "representative": "Ngọc Thị Quế",
}


async def count_owners(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(Owner)) or 0)


async def test_admin_creates_owner(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post("/v1/owners", json=NGOC_QUE, headers=admin)

    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/v1/owners/{body['id']}"
    assert body["name"] == "Công ty TNHH MTV Ngọc Quế"
    assert body["province"] == "Lạng Sơn"
    assert body["status"] == "active"
    assert response.headers["etag"].startswith('"')


async def test_created_owner_is_readable_by_anyone(
    client: httpx.AsyncClient, make_owner: OwnerFactory
) -> None:
    owner = await make_owner(**NGOC_QUE)

    response = await client.get(f"/v1/owners/{owner['id']}")

    assert response.status_code == 200
    assert response.json() == owner


async def test_unknown_owner_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/owners/{uuid.uuid4()}")

    assert response.status_code == 404
    assert problem(response)["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({**NGOC_QUE, "stars": 5}, ["body", "stars"]),
        ({**NGOC_QUE, "kind": "empire"}, ["body", "kind"]),
        ({**NGOC_QUE, "name": 42}, ["body", "name"]),
        ({"kind": "company", "commune": "Hữu Lũng"}, ["body", "name"]),
        ({**NGOC_QUE, "name": "   "}, ["body", "name"]),
    ],
)
async def test_invalid_owner_is_422_and_writes_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    db: AsyncSession,
    body: dict[str, Any],
    loc: list[str],
) -> None:
    response = await client.post("/v1/owners", json=body, headers=admin)

    assert response.status_code == 422
    details = problem(response)
    assert details["code"] == "validation_error"
    assert [error["loc"] for error in details["errors"]] == [loc]
    assert await count_owners(db) == 0


async def test_malformed_json_is_400_and_writes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    response = await client.post(
        "/v1/owners",
        content=b'{"name": "Ngoc Que", "kind": ',
        headers={**admin, "content-type": "application/json"},
    )

    assert response.status_code == 400
    assert problem(response)["code"] == "malformed_json"
    assert await count_owners(db) == 0


async def test_create_without_key_is_401(client: httpx.AsyncClient, db: AsyncSession) -> None:
    response = await client.post("/v1/owners", json=NGOC_QUE)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert problem(response)["code"] == "unauthorized"
    assert await count_owners(db) == 0


async def test_create_with_revoked_key_is_401(
    client: httpx.AsyncClient, admin: dict[str, str], make_key: KeyFactory, db: AsyncSession
) -> None:
    other_admin = await make_key(Role.admin)
    prefix = other_admin["Authorization"].split("_")[1]
    listed = (await client.get("/v1/api-keys", headers=admin)).json()["items"]
    key_id = next(k["id"] for k in listed if k["prefix"] == prefix)
    assert (await client.post(f"/v1/api-keys/{key_id}/revoke", headers=admin)).status_code == 200

    response = await client.post("/v1/owners", json=NGOC_QUE, headers=other_admin)

    assert response.status_code == 401
    assert problem(response)["code"] == "revoked_key"
    assert await count_owners(db) == 0


async def test_create_with_forged_secret_is_401(
    client: httpx.AsyncClient, admin: dict[str, str], db: AsyncSession
) -> None:
    prefix = admin["Authorization"].split("_")[1]
    forged = {"Authorization": f"Bearer ocop_{prefix}_{'A' * 43}"}

    response = await client.post("/v1/owners", json=NGOC_QUE, headers=forged)

    assert response.status_code == 401
    assert problem(response)["code"] == "invalid_credentials"
    assert await count_owners(db) == 0


@pytest.mark.parametrize("role", [Role.partner, Role.owner])
async def test_create_with_non_admin_key_is_403(
    client: httpx.AsyncClient,
    make_key: KeyFactory,
    make_owner: OwnerFactory,
    db: AsyncSession,
    role: Role,
) -> None:
    owner = await make_owner()
    headers = await make_key(role, owner_id=uuid.UUID(owner["id"]) if role is Role.owner else None)

    response = await client.post("/v1/owners", json=NGOC_QUE, headers=headers)

    assert response.status_code == 403
    assert problem(response)["code"] == "forbidden_role"
    assert await count_owners(db) == 1


async def test_owner_key_updates_its_own_owner(
    client: httpx.AsyncClient, make_key: KeyFactory, make_owner: OwnerFactory
) -> None:
    owner = await make_owner(**NGOC_QUE)
    headers = await make_key(Role.owner, owner_id=uuid.UUID(owner["id"]))

    response = await client.patch(
        f"/v1/owners/{owner['id']}", json={"phone": "0205 3812 345"}, headers=headers
    )

    assert response.status_code == 200
    assert response.json()["phone"] == "0205 3812 345"
    assert response.json()["name"] == NGOC_QUE["name"]


async def test_owner_key_cannot_edit_another_owner(
    client: httpx.AsyncClient, make_key: KeyFactory, make_owner: OwnerFactory
) -> None:
    mine = await make_owner(name="Hợp tác xã Của Tôi")
    theirs = await make_owner(**NGOC_QUE)
    headers = await make_key(Role.owner, owner_id=uuid.UUID(mine["id"]))

    response = await client.patch(
        f"/v1/owners/{theirs['id']}", json={"name": "Hijacked"}, headers=headers
    )

    assert response.status_code == 403
    assert problem(response)["code"] == "not_your_owner"
    assert (await client.get(f"/v1/owners/{theirs['id']}")).json() == theirs


async def test_a_bad_body_is_422_before_the_owner_is_looked_at(
    client: httpx.AsyncClient, admin: dict[str, str], make_key: KeyFactory, make_owner: OwnerFactory
) -> None:
    mine = await make_owner(name="Hợp tác xã Của Tôi")
    theirs = await make_owner(**NGOC_QUE)
    intruder = await make_key(Role.owner, owner_id=uuid.UUID(mine["id"]))

    for owner_id, headers in [
        (uuid.uuid4(), admin),  # no such owner
        (theirs["id"], intruder),  # not its own
        (theirs["id"], {**admin, "If-Match": '"stale"'}),
    ]:
        response = await client.patch(f"/v1/owners/{owner_id}", json={"name": ""}, headers=headers)

        assert response.status_code == 422
        assert {tuple(e["loc"][:2]) for e in problem(response)["errors"]} == {("body", "name")}


async def test_partner_key_cannot_edit_an_owner(
    client: httpx.AsyncClient, partner: dict[str, str], make_owner: OwnerFactory
) -> None:
    owner = await make_owner(**NGOC_QUE)

    response = await client.patch(
        f"/v1/owners/{owner['id']}", json={"name": "Hijacked"}, headers=partner
    )

    assert response.status_code == 403
    assert (await client.get(f"/v1/owners/{owner['id']}")).json() == owner


async def test_patch_rejects_null_for_required_field(
    client: httpx.AsyncClient, admin: dict[str, str], make_owner: OwnerFactory
) -> None:
    owner = await make_owner(**NGOC_QUE)

    response = await client.patch(f"/v1/owners/{owner['id']}", json={"name": None}, headers=admin)

    assert response.status_code == 422
    assert (await client.get(f"/v1/owners/{owner['id']}")).json() == owner


async def test_if_none_match_gives_304(client: httpx.AsyncClient, make_owner: OwnerFactory) -> None:
    owner = await make_owner(**NGOC_QUE)
    first = await client.get(f"/v1/owners/{owner['id']}")

    again = await client.get(
        f"/v1/owners/{owner['id']}", headers={"If-None-Match": first.headers["etag"]}
    )

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]


async def test_if_match_with_stale_tag_is_412_and_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], make_owner: OwnerFactory
) -> None:
    owner = await make_owner(**NGOC_QUE)
    stale = (await client.get(f"/v1/owners/{owner['id']}")).headers["etag"]
    first = await client.patch(
        f"/v1/owners/{owner['id']}",
        json={"phone": "0205 111 111"},
        headers={**admin, "If-Match": stale},
    )
    assert first.status_code == 200

    second = await client.patch(
        f"/v1/owners/{owner['id']}",
        json={"phone": "0205 222 222"},
        headers={**admin, "If-Match": stale},
    )

    assert second.status_code == 412
    assert problem(second)["code"] == "etag_mismatch"
    assert (await client.get(f"/v1/owners/{owner['id']}")).json()["phone"] == "0205 111 111"


async def test_patch_answers_the_new_etag(
    client: httpx.AsyncClient, admin: dict[str, str], make_owner: OwnerFactory
) -> None:
    owner = await make_owner(**NGOC_QUE)

    patched = await client.patch(
        f"/v1/owners/{owner['id']}", json={"phone": "0205 111 111"}, headers=admin
    )

    assert (
        patched.headers["etag"] == (await client.get(f"/v1/owners/{owner['id']}")).headers["etag"]
    )


async def test_deactivated_owner_leaves_the_list_but_stays_readable(
    client: httpx.AsyncClient, admin: dict[str, str], make_owner: OwnerFactory
) -> None:
    owner = await make_owner(**NGOC_QUE)

    response = await client.post(f"/v1/owners/{owner['id']}/deactivate", headers=admin)

    assert response.status_code == 200
    assert response.json()["status"] == "inactive"
    assert (await client.get("/v1/owners")).json()["items"] == []
    assert (await client.get(f"/v1/owners/{owner['id']}")).json()["status"] == "inactive"
    inactive = (await client.get("/v1/owners", params={"status": "inactive"})).json()["items"]
    assert [o["id"] for o in inactive] == [owner["id"]]


async def test_owner_key_cannot_deactivate_itself(
    client: httpx.AsyncClient, make_key: KeyFactory, make_owner: OwnerFactory
) -> None:
    owner = await make_owner(**NGOC_QUE)
    headers = await make_key(Role.owner, owner_id=uuid.UUID(owner["id"]))

    response = await client.post(f"/v1/owners/{owner['id']}/deactivate", headers=headers)

    assert response.status_code == 403
    assert (await client.get(f"/v1/owners/{owner['id']}")).json()["status"] == "active"


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ngoc que", ["Công ty TNHH MTV Ngọc Quế"]),
        ("NGỌC", ["Công ty TNHH MTV Ngọc Quế"]),
        ("dao", ["Hộ kinh doanh Lương Thị Đào"]),
        ("đào", ["Hộ kinh doanh Lương Thị Đào"]),
        ("thi", ["Công ty TNHH MTV Ngọc Quế", "Hộ kinh doanh Lương Thị Đào"]),
        ("que dao", []),
        ("100%", []),
    ],
)
async def test_q_is_diacritic_insensitive(
    client: httpx.AsyncClient, make_owner: OwnerFactory, q: str, expected: list[str]
) -> None:
    await make_owner(**NGOC_QUE)
    await make_owner(name="Hộ kinh doanh Lương Thị Đào", kind="household", commune="Đồng Đăng")
    await make_owner(name="Hợp tác xã Na Chi Lăng", commune="Chi Lăng")

    response = await client.get("/v1/owners", params={"q": q})

    assert response.status_code == 200
    assert [o["name"] for o in response.json()["items"]] == expected


async def test_filters_by_kind_commune_and_province(
    client: httpx.AsyncClient, make_owner: OwnerFactory
) -> None:
    await make_owner(**NGOC_QUE)
    await make_owner(name="Hộ kinh doanh Lương Thị Đào", kind="household", commune="Đồng Đăng")
    await make_owner(name="Hợp tác xã Cao Bằng", commune="Hòa An", province="Cao Bằng")

    by_kind = await client.get("/v1/owners", params={"kind": "household"})
    by_commune = await client.get("/v1/owners", params={"commune": "dong dang"})
    by_province = await client.get("/v1/owners", params={"province": "Cao Bang"})

    assert [o["name"] for o in by_kind.json()["items"]] == ["Hộ kinh doanh Lương Thị Đào"]
    assert [o["name"] for o in by_commune.json()["items"]] == ["Hộ kinh doanh Lương Thị Đào"]
    assert [o["name"] for o in by_province.json()["items"]] == ["Hợp tác xã Cao Bằng"]
