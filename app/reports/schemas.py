from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field

from app.core.schemas import Day, QuantityOut, Timestamp
from app.geography.schemas import CommuneCode, CommuneName, CommuneShortName
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
    commune: CommuneShortName
    commune_code: CommuneCode
    commune_name: CommuneName
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


# Tourism.


class TourismQuery(BaseModel):
    """`GET /v1/reports/tourism`: the local dates of the visits counted, and optionally one
    owner's experiences."""

    first: Day = Field(alias="from", description="First local date of the visits (YYYY-MM-DD).")
    last: Day = Field(alias="to", description="Last local date, inclusive; a year at most.")
    owner_id: uuid.UUID | None = Field(
        default=None,
        description="Only this owner's experiences (an owner key: always its own, the default).",
    )


class Visitors(BaseModel):
    """The figures of a set of confirmed bookings (holds, expired holds and cancelled bookings
    count nowhere)."""

    bookings: int = Field(description="Confirmed bookings.")
    people: int = Field(
        description="People booked: the places the bookings take (an infant on a lap, none)."
    )
    tickets: int = Field(description="Tickets issued: one per person, infants included.")
    checked_in: int = Field(description="Of those tickets, the ones checked in at the gate.")
    revenue_vnd: int = Field(description="The bookings' totals, whole VND.")


class ExperienceVisitors(Visitors):
    product_id: uuid.UUID
    name: str = Field(description="The experience (a tourism product).")
    owner_id: uuid.UUID
    owner_name: str = Field(description="The site's owner: the community, cooperative...")
    commune: str


class ExperienceDayVisitors(Visitors):
    date: dt.date = Field(description="The local date of the visit.")
    product_id: uuid.UUID
    name: str
    commune: str


class CommuneVisitors(Visitors):
    commune: CommuneShortName
    commune_code: CommuneCode
    commune_name: CommuneName
    experiences: int = Field(description="Experiences of the commune with a booking counted.")


class MonthVisitors(Visitors):
    month: str = Field(
        pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="The month of the visits, YYYY-MM."
    )


class TourismReport(Visitors):
    """Visitors and revenue of the tourism experiences, counted by the local date of the visit
    (the booking's date, not the day it was made). The totals are the sums of each section."""

    model_config = {"populate_by_name": True, "serialize_by_alias": True}

    date_from: dt.date = Field(alias="from", description="First local date counted.")
    date_to: dt.date = Field(alias="to", description="Last local date counted.")
    owner_id: uuid.UUID | None = Field(description="The owner counted; null: every owner.")
    by_experience: list[ExperienceVisitors] = Field(description="Most people first.")
    by_day: list[ExperienceDayVisitors] = Field(
        description="Each experience on each date it had visits: oldest first, then by name."
    )
    by_commune: list[CommuneVisitors] = Field(description="Most people first.")
    by_month: list[MonthVisitors] = Field(description="Oldest first.")
    generated_at: Timestamp
