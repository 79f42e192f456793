from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field

from app.core.schemas import Day, QuantityOut, Timestamp
from app.models.product import CertificateLevel, ProductGroup, Unit


class OwnerSalesQuery(BaseModel):
    """`GET /v1/reports/owners/{id}/sales`: the local dates counted, and optionally an event."""

    first: Day = Field(alias="from", description="First local date (YYYY-MM-DD), 1970..2199.")
    last: Day = Field(alias="to", description="Last local date, inclusive.")
    event_id: uuid.UUID | None = Field(default=None, description="Only sales at this event.")


class ProductSales(BaseModel):
    product_id: uuid.UUID
    name: str
    unit: Unit
    orders: int = Field(description="Orders containing the product.")
    quantity: QuantityOut = Field(description="Quantity sold, in the product's unit.")
    quantity_tonnes: QuantityOut | None = Field(
        description="The same in tonnes, for weight units (kg, g); else null."
    )
    revenue_vnd: int


class DaySales(BaseModel):
    date: dt.date = Field(description="The local date (Asia/Ho_Chi_Minh) the orders were placed.")
    orders: int
    revenue_vnd: int


class OwnerSales(BaseModel):
    owner_id: uuid.UUID
    name: str
    orders: int
    revenue_vnd: int


class EventSalesReport(BaseModel):
    event_id: uuid.UUID
    event_name: str
    orders: int = Field(description="Orders at the event, cancelled ones left out.")
    revenue_vnd: int
    by_product: list[ProductSales] = Field(description="Best-selling first.")
    by_day: list[DaySales] = Field(description="Oldest first; days without orders are left out.")
    by_owner: list[OwnerSales] = Field(description="Highest revenue first.")
    generated_at: Timestamp


class OwnerSalesReport(BaseModel):
    owner_id: uuid.UUID
    owner_name: str
    date_from: dt.date = Field(alias="from", description="First local date counted.")
    date_to: dt.date = Field(alias="to", description="Last local date counted.")
    event_id: uuid.UUID | None
    orders: int = Field(description="Orders with the owner's products, cancelled ones left out.")
    revenue_vnd: int = Field(description="Revenue from the owner's lines only.")
    by_product: list[ProductSales]
    by_day: list[DaySales]
    generated_at: Timestamp

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


class StarsCount(BaseModel):
    stars: int | None = Field(description="3, 4 or 5; null for products not certified today.")
    products: int


class GroupCount(BaseModel):
    group: ProductGroup
    products: int
    certified: int = Field(description="Of which rated 3 stars or more today.")


class CommuneCount(BaseModel):
    commune: str
    products: int
    certified: int = Field(description="Of which rated 3 stars or more today.")


class ExpiringCertificate(BaseModel):
    certificate_id: uuid.UUID
    product_id: uuid.UUID
    product_name: str
    owner_id: uuid.UUID
    owner_name: str
    stars: int
    level: CertificateLevel | None
    decision_no: str
    valid_until: dt.date
    days_left: int = Field(description="Days from today until `valid_until` (0: its last day).")


class CatalogReport(BaseModel):
    today: dt.date = Field(description="The local date the report counts for.")
    days: int = Field(description="The window for `expiring`, in days.")
    products: int = Field(description="Active products.")
    by_stars: list[StarsCount] = Field(description="5, 4, 3 stars, then not certified.")
    by_group: list[GroupCount]
    by_commune: list[CommuneCount] = Field(description="Most products first.")
    expiring: list[ExpiringCertificate] = Field(
        description="Certificates valid today that expire within `days`, soonest first."
    )
    generated_at: Timestamp
