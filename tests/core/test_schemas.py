"""Exact quantities: what the OpenAPI schema allows is exactly what the API accepts."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from fractions import Fraction

import pytest
from pydantic import TypeAdapter, ValidationError

from app.core.schemas import QUANTITY_MAX, NonNegativeQuantityIn, PositiveQuantityIn, QuantityIn

quantity = TypeAdapter(QuantityIn)
positive = TypeAdapter(PositiveQuantityIn)
non_negative = TypeAdapter(NonNegativeQuantityIn)


def schema_grid_point(thousandths: int) -> str:
    """The JSON a schema-driven generator sends for a multiple of 0.001: the nearest float."""
    return json.dumps(float(Fraction(thousandths, 1000)))


def test_every_grid_point_within_the_bounds_parses_exactly() -> None:
    rng = random.Random(20251103)
    top = int(QUANTITY_MAX * 1000)
    samples = [1, 3, 100, 300, 1001, top, top - 1, *(rng.randrange(1, top) for _ in range(5000))]
    for k in samples:
        assert positive.validate_json(schema_grid_point(k)) == Decimal(k) / 1000


def test_schema_states_the_bounds_it_enforces() -> None:
    assert quantity.json_schema() == {
        "type": "number",
        "multipleOf": 0.001,
        "minimum": -999999999999.999,
        "maximum": 999999999999.999,
    }
    assert positive.json_schema()["exclusiveMinimum"] == 0
    assert non_negative.json_schema()["minimum"] == 0


def test_point_one_plus_point_two_is_point_three() -> None:
    assert quantity.validate_json("0.1") + quantity.validate_json("0.2") == Decimal("0.3")


@pytest.mark.parametrize(
    "text", ["1e300", "1000000000000", "0.0001", '"1.5"', "true", "0.30000000000000004"]
)
def test_outside_the_schema_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        quantity.validate_json(text)
