from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from tests.helpers import CertificateFactory, CreateProductViaApi, OwnerFactory

SCORES = {1: 20, 2: 40, 3: 60, 4: 80, 5: 95}


@pytest.fixture
async def owner(make_owner: OwnerFactory) -> dict[str, Any]:
    return await make_owner(name="Hợp tác xã Quýt vàng Bắc Sơn", commune="Bắc Sơn")


@pytest.fixture
def create_product_via_api(
    client: httpx.AsyncClient, admin: dict[str, str], owner: dict[str, Any]
) -> CreateProductViaApi:
    """Create a product through the API (as admin) and return its JSON."""

    async def factory(**fields: Any) -> dict[str, Any]:
        body = {
            "owner_id": owner["id"],
            "name": "Quýt vàng Bắc Sơn",
            "group": "food",
            "unit": "kg",
            "unit_step": 0.5,
            "price_vnd": 45000,
            "stock": 1200,
            "commune": "Bắc Sơn",
            **fields,
        }
        response = await client.post("/v1/products", json=body, headers=admin)
        assert response.status_code == 201, response.text
        product: dict[str, Any] = response.json()
        return product

    return factory


@pytest.fixture
def add_certificate(client: httpx.AsyncClient, admin: dict[str, str]) -> CertificateFactory:
    """Record a certificate through the API (as admin) and return its JSON."""

    async def factory(
        product_id: str, stars: int, issued_on: date, **fields: Any
    ) -> dict[str, Any]:
        body = {
            "stars": stars,
            "score": SCORES[stars],
            "decision_no": f"{issued_on.isoformat()}-{stars}/QĐ-UBND",
            "issued_on": issued_on.isoformat(),
            **fields,
        }
        response = await client.post(
            f"/v1/products/{product_id}/certificates", json=body, headers=admin
        )
        assert response.status_code == 201, response.text
        certificate: dict[str, Any] = response.json()
        return certificate

    return factory
