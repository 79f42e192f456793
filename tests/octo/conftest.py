"""OCTO tests: every answer under `/octo`, whichever client got it, is checked against OCTO's own
definition (`OctoSpec.check`); `octo` also checks each request it sends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.models import Role
from tests.helpers import (
    CreateExperienceViaApi,
    FakeClock,
    KeyFactory,
    OctoSpec,
    OwnerFactory,
    vn,
)


@pytest.fixture(scope="session")
def octo_spec() -> OctoSpec:
    return OctoSpec.load()


@pytest.fixture
def clock() -> FakeClock:
    """1 November 2025, 08:00 in the province: a week before the dates the tests book."""
    return FakeClock(vn(1, 8))


def _checking(octo_spec: OctoSpec) -> Any:
    async def check(response: httpx.Response) -> None:
        if response.request.url.path.startswith("/octo"):
            await response.aread()
            octo_spec.check(response)

    return check


@pytest.fixture
async def client(app: FastAPI, octo_spec: OctoSpec) -> AsyncIterator[httpx.AsyncClient]:
    """The suite's client, checking every answer under `/octo` against OCTO's definition."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        event_hooks={"response": [_checking(octo_spec)]},
    ) as c:
        yield c


@pytest.fixture
async def octo(
    app: FastAPI, octo_spec: OctoSpec, partner: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    """A reseller: the partner key, paths below `/octo`, each request and answer checked."""

    async def check_request(request: httpx.Request) -> None:
        octo_spec.check_request(request)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver/octo",
        headers={**partner, "Octo-Capabilities": ""},
        event_hooks={"request": [check_request], "response": [_checking(octo_spec)]},
    ) as c:
        yield c


@pytest.fixture
async def owner_key(make_owner: OwnerFactory, make_key: KeyFactory) -> dict[str, str]:
    owner = await make_owner()
    return await make_key(Role.owner, owner_id=uuid.UUID(owner["id"]))


@pytest.fixture
async def product_id(create_experience_via_api: CreateExperienceViaApi) -> str:
    """An experience by start time: 09:00 and 14:00, 40 places each, every day; adults, children
    and infants (no place)."""
    experience = await create_experience_via_api()
    return str(experience["product_id"])
