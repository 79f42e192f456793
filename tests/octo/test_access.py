"""Who may call `/octo` (partner keys), and how every kind of error is written there: OCTO's
body (`error`, `errorMessage`), never problem+json, with `Octo-Capabilities`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.core.config import Settings
from app.main import create_app
from app.octo import service
from tests.helpers import FakeClock, OctoSpec

pytestmark = pytest.mark.anyio


def octo_error(answer: httpx.Response) -> str:
    """The OCTO error code of an answer, checked for its form."""
    assert answer.headers["content-type"] == "application/json", answer.text
    assert answer.headers["Octo-Capabilities"] == ""
    body = answer.json()
    assert set(body) >= {"error", "errorMessage"}
    error: str = body["error"]
    return error


async def test_no_key_is_unauthorized(client: httpx.AsyncClient) -> None:
    answer = await client.get("/octo/supplier")

    assert answer.status_code == 400
    assert octo_error(answer) == "UNAUTHORIZED"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer ocop_0123456789ab_notthesecret", "Basic dXNlcjpwYXNz"],
    ids=["unknown_key", "not_bearer"],
)
async def test_a_key_that_is_not_one_is_forbidden(
    client: httpx.AsyncClient, authorization: str
) -> None:
    answer = await client.get("/octo/products", headers={"Authorization": authorization})

    assert answer.status_code == 400
    assert octo_error(answer) == "FORBIDDEN"


async def test_an_owner_key_is_forbidden(
    client: httpx.AsyncClient, owner_key: dict[str, str], product_id: str
) -> None:
    answer = await client.post(
        "/octo/availability",
        json={"productId": product_id, "optionId": "DEFAULT", "localDate": "2025-11-08"},
        headers=owner_key,
    )

    assert answer.status_code == 400
    assert octo_error(answer) == "FORBIDDEN"


async def test_an_admin_key_is_forbidden(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    answer = await client.get("/octo/supplier", headers=admin)

    assert octo_error(answer) == "FORBIDDEN"


async def test_a_body_that_is_not_json_is_bad_request(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    answer = await client.post(
        "/octo/bookings",
        content=b"{not json",
        headers={**partner, "Content-Type": "application/json"},
    )

    assert answer.status_code == 400
    assert octo_error(answer) == "BAD_REQUEST"


async def test_a_body_without_its_required_fields_is_bad_request_naming_them(
    client: httpx.AsyncClient, partner: dict[str, str], product_id: str
) -> None:
    answer = await client.post(
        "/octo/bookings",
        json={"productId": product_id, "availabilityId": "2025-11-08T09:00:00+07:00"},
        headers=partner,
    )

    assert answer.status_code == 400
    assert octo_error(answer) == "BAD_REQUEST"
    message = answer.json()["errorMessage"]
    assert "optionId: Field required" in message
    assert "unitItems: Field required" in message


async def test_a_path_octo_does_not_have_is_404_in_octo_s_form(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    answer = await client.get("/octo/vouchers", headers=partner)

    assert answer.status_code == 404
    assert octo_error(answer) == "BAD_REQUEST"


async def test_a_method_octo_does_not_have_is_405_with_allow(
    client: httpx.AsyncClient, partner: dict[str, str]
) -> None:
    answer = await client.delete("/octo/supplier", headers=partner)

    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD, OPTIONS"
    assert octo_error(answer) == "BAD_REQUEST"


async def test_an_unexpected_error_is_500_internal_server_error(
    app: FastAPI,
    octo_spec: OctoSpec,
    partner: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(*_: object) -> None:
        raise RuntimeError("secret")

    monkeypatch.setattr(service, "supplier", explode)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answer = await client.get("/octo/supplier", headers=partner)

    assert answer.status_code == 500
    octo_spec.check(answer)
    assert octo_error(answer) == "INTERNAL_SERVER_ERROR"
    assert "secret" not in answer.text


@pytest.fixture
async def strict_app(settings: Settings, clock: FakeClock) -> AsyncIterator[FastAPI]:
    """The app with a small body limit and two requests a minute for partners."""
    limited = settings.model_copy(update={"max_body_bytes": 200, "rate_limit_partner": "2/minute"})
    application = create_app(limited, clock=clock)
    async with LifespanManager(application):
        yield application


async def test_the_limits_answer_in_octo_s_form_with_their_http_status(
    strict_app: FastAPI, octo_spec: OctoSpec, partner: dict[str, str]
) -> None:
    transport = httpx.ASGITransport(app=strict_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        too_large = await client.post("/octo/bookings", json={"notes": "x" * 300}, headers=partner)
        first = await client.get("/octo/supplier", headers=partner)
        limited = await client.get("/octo/supplier", headers=partner)

    assert too_large.status_code == 413
    octo_spec.check(too_large)
    assert octo_error(too_large) == "BAD_REQUEST"
    assert first.status_code == 200
    assert limited.status_code == 429
    octo_spec.check(limited)
    assert octo_error(limited) == "BAD_REQUEST"
    assert int(limited.headers["Retry-After"]) > 0
