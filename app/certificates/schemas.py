"""Certificate schemas: the score band of each star class is part of the schema."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
)

from app.core.schemas import NFC, Day, InputModel, NumberOnly, Timestamp
from app.models.product import CertificateLevel


class _CertificateFields(InputModel):
    decision_no: Annotated[
        str,
        StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00]*[^\x00 ][^\x00]*"),
        NFC,
    ] = Field(description="Number of the decision that awarded it, e.g. `1234/QĐ-UBND`.")
    issued_on: Day = Field(description="Date of the decision (1970..2199).")
    valid_until: Day | None = Field(
        default=None, description="Last valid day; default 36 months after `issued_on`."
    )


class OneStar(_CertificateFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"stars": 1, "score": 20, "decision_no": "2101/QĐ-UBND", "issued_on": "2025-09-30"}
            ]
        }
    )

    stars: Annotated[Literal[1], NumberOnly] = Field(
        description="Stars, 1..5; below 3 is not certified."
    )
    score: Annotated[int, Field(ge=0, le=29), NumberOnly] = Field(
        description="Council score: 0-29 for 1 star."
    )


class TwoStars(_CertificateFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"stars": 2, "score": 42, "decision_no": "2102/QĐ-UBND", "issued_on": "2025-09-30"}
            ]
        }
    )

    stars: Annotated[Literal[2], NumberOnly] = Field(
        description="Stars, 1..5; below 3 is not certified."
    )
    score: Annotated[int, Field(ge=30, le=49), NumberOnly] = Field(
        description="Council score: 30-49 for 2 stars."
    )


class ThreeStars(_CertificateFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"stars": 3, "score": 62, "decision_no": "1873/QĐ-UBND", "issued_on": "2025-09-30"}
            ]
        }
    )

    stars: Annotated[Literal[3], NumberOnly] = Field(description="Stars, 1..5.")
    score: Annotated[int, Field(ge=50, le=69), NumberOnly] = Field(
        description="Council score: 50-69 for 3 stars."
    )


class FourStars(_CertificateFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"stars": 4, "score": 78, "decision_no": "1874/QĐ-UBND", "issued_on": "2025-09-30"}
            ]
        }
    )

    stars: Annotated[Literal[4], NumberOnly] = Field(description="Stars, 1..5.")
    score: Annotated[int, Field(ge=70, le=89), NumberOnly] = Field(
        description="Council score: 70-89 for 4 stars."
    )


class FiveStars(_CertificateFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"stars": 5, "score": 92, "decision_no": "315/QĐ-BNN", "issued_on": "2025-09-30"}
            ]
        }
    )

    stars: Annotated[Literal[5], NumberOnly] = Field(description="Stars, 1..5.")
    score: Annotated[int, Field(ge=90, le=100), NumberOnly] = Field(
        description="Council score: 90-100 for 5 stars."
    )


def _stars_tag(value: Any) -> str | None:
    stars = value.get("stars") if isinstance(value, dict) else getattr(value, "stars", None)
    return str(stars) if isinstance(stars, int) and not isinstance(stars, bool) else None


# Chosen by `stars` through a callable discriminator: the OpenAPI document then shows a plain
# oneOf whose branches exclude each other by their `stars` const (an OpenAPI discriminator
# mapping is keyed by strings, which does not fit an integer field).
CertificateCreate = Annotated[
    Annotated[OneStar, Tag("1")]
    | Annotated[TwoStars, Tag("2")]
    | Annotated[ThreeStars, Tag("3")]
    | Annotated[FourStars, Tag("4")]
    | Annotated[FiveStars, Tag("5")],
    Discriminator(
        _stars_tag,
        custom_error_type="invalid_stars",
        custom_error_message="stars must be an integer from 1 to 5",
    ),
]
"""A certificate; the score must fall in its stars' band (the schema says which)."""


class CertificateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    product_id: uuid.UUID
    stars: int = Field(description="1..5.")
    score: int | None = Field(
        description="The council's score, 0..100, within the stars' band; null when the source "
        "did not give one (imported certificates, the demo data)."
    )
    decision_no: str
    issued_on: date
    valid_until: date
    level: CertificateLevel | None = Field(
        description="provincial (3-4 stars), central (5 stars), null below 3 stars."
    )
    created_at: Timestamp
