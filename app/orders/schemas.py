from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, ClassVar, NamedTuple

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from app.core.external_refs import ExternalId, ExternalIdQuery
from app.core.pagination import ChangesQuery
from app.core.schemas import (
    END,
    NFC,
    NO_NUL,
    Email,
    InputModel,
    LongText,
    Name,
    Phone,
    QuantityOut,
    Timestamp,
    number_only,
    quantity_schema,
)
from app.models.order import Order, OrderChannel, OrderStatus
from app.models.product import Unit

MAX_LINES = 50
MAX_QUANTITY = Decimal(100_000)

OrderQuantity = Annotated[
    Decimal,
    BeforeValidator(number_only),
    Field(max_digits=15, decimal_places=3, gt=0, le=MAX_QUANTITY),
    quantity_schema(gt=Decimal(0), le=MAX_QUANTITY),
]
Country = Annotated[str, StringConstraints(pattern=rf"^[A-Z]{{2}}{END}")]

MAX_METADATA_KEYS = 20
MAX_METADATA_KEY_LENGTH = 40
MAX_METADATA_VALUE_LENGTH = 500
MetadataKey = Annotated[
    str,
    StringConstraints(
        max_length=MAX_METADATA_KEY_LENGTH,
        pattern=rf"^[a-z0-9_]{{1,{MAX_METADATA_KEY_LENGTH}}}{END}",
    ),
]
MetadataValue = Annotated[
    str, StringConstraints(max_length=MAX_METADATA_VALUE_LENGTH, pattern=NO_NUL), NFC
]
Metadata = Annotated[
    dict[MetadataKey, MetadataValue],
    Field(
        max_length=MAX_METADATA_KEYS,
        description=f"The partner's own data, kept and returned with the order: at most "
        f"{MAX_METADATA_KEYS} keys of 1 to {MAX_METADATA_KEY_LENGTH} characters `[a-z0-9_]`, "
        f"each value a string of at most {MAX_METADATA_VALUE_LENGTH} characters, e.g. "
        '`{"shop_order_id": "100234", "campaign": "tet_2026"}`.',
        # The key pattern as patternProperties admits no other key (as `translations_field`).
        json_schema_extra={"additionalProperties": False},
    ),
]
NUMBER = r"^[A-Za-z0-9-]{1,32}$"


class Customer(InputModel):
    name: Name = Field(description="The customer's name.")
    phone: Phone = Field(description="The customer's phone number.")
    email: Email | None = Field(default=None, description="The customer's e-mail address.")
    country: Country | None = Field(
        default=None, description="ISO 3166-1 alpha-2 country code, e.g. `VN`, `CN`, `KR`."
    )


class OrderItem(InputModel):
    product_id: uuid.UUID = Field(description="The product ordered.")
    quantity: OrderQuantity = Field(
        description=(
            "How much, in the product's unit: positive, a multiple of its `unit_step`, "
            f"at most {MAX_QUANTITY}."
        )
    )


class OrderCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {"product_id": "9d2f4b7e-1c3a-4e8f-b6d5-0a7c9e2f1b34", "quantity": 2.5},
                        {"product_id": "c41a7e93-6b2d-4f0a-8e15-7d3b9c2a6f08", "quantity": 3},
                    ],
                    "channel": "online",
                    "customer": {
                        "name": "Nguyễn Thị Hoa",
                        "phone": "+84 912 345 678",
                        "email": "hoa.nguyen@example.vn",
                        "country": "VN",
                    },
                    "note": "Giao trước 17 giờ, gọi điện trước khi đến.",
                }
            ]
        }
    )

    items: list[OrderItem] = Field(
        min_length=1,
        max_length=MAX_LINES,
        description=f"1 to {MAX_LINES} items; items of the same product are merged (each item "
        f"a multiple of the product's unit_step, and together at most {MAX_QUANTITY}).",
    )
    event_id: uuid.UUID | None = Field(
        default=None,
        description="The event the sale happened at or through: its prices apply, and only "
        "products entered in it may be ordered.",
    )
    channel: OrderChannel | None = Field(
        default=None,
        description="event, online or partner; default: event with an event_id, else online.",
    )
    customer: Customer
    note: LongText | None = Field(default=None, description="Free text for the seller.")
    reference: ExternalId | None = Field(
        default=None,
        description="The order's id in the placing partner's own system, e.g. `WEB-100234`: "
        "1 to 200 characters, no spaces. One order per reference and API key: another order "
        "with it from the same key is 409 `reference_taken`, naming the order.",
    )
    metadata: Metadata = Field(default_factory=dict)


class OrderQuery(ChangesQuery):
    """The query string of `GET /v1/orders`: filters and the page; or, with `updated_since`,
    the change feed of the orders the key may see, in every status (an order's event and
    reference never change, so `event_id` and `reference` may narrow it)."""

    feed_parameters: ClassVar[frozenset[str]] = frozenset({"event_id", "reference"})

    status: OrderStatus | None = Field(default=None, description="Only this status.")
    event_id: uuid.UUID | None = Field(default=None, description="Only orders at this event.")
    reference: ExternalIdQuery | None = Field(
        default=None,
        description="Only orders placed with this `reference` (by any key an "
        "admin sees; a partner's own: at most one).",
    )


class CustomerRead(BaseModel):
    name: str
    phone: str
    email: str | None
    country: str | None


class OrderLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: uuid.UUID
    product_name: str = Field(description="The product's name when ordered.")
    unit: Unit
    quantity: QuantityOut
    unit_price_vnd: int = Field(description="Price per unit applied, in VND.")
    line_total_vnd: int = Field(description="quantity times unit price, rounded half up to 1 VND.")


class StatusChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: OrderStatus
    at: Timestamp


class OrderRead(BaseModel):
    """An order as its readers (and webhooks) see it."""

    id: uuid.UUID
    number: str = Field(description="Human-readable unique order number, e.g. LS251103-7K3F9QXA.")
    status: OrderStatus
    channel: OrderChannel
    event_id: uuid.UUID | None
    customer: CustomerRead
    note: str | None
    reference: str | None = Field(description="The placing partner's own id for the order.")
    metadata: dict[str, str] = Field(description="The placing partner's own data.")
    lines: list[OrderLineRead]
    total_vnd: int = Field(description="Sum of the line totals, in VND.")
    history: list[StatusChangeRead] = Field(
        description="Every status the order has had, oldest first."
    )
    created_at: Timestamp
    updated_at: Timestamp


# An order being placed, as plain data: its rows are written by direct statements
# (`OrderRepository.insert_placed`) and it is read (`order_read`) as it was written, so it needs
# no ORM instance (whose instrumentation is a good part of what an order costs). The attributes
# are the models' own (`Order`, `OrderLine`, `OrderStatusChange`), their order's id aside.


class NewLine(NamedTuple):
    """A line of an order being placed: the columns of its `order_lines` row but `order_id`."""

    id: uuid.UUID
    position: int
    product_id: uuid.UUID
    owner_id: uuid.UUID
    product_name: str
    unit: Unit
    quantity: Decimal
    stock_taken: Decimal
    unit_price_vnd: int
    line_total_vnd: int


class NewStatusChange(NamedTuple):
    """A status change of an order being placed: its `order_status_changes` row but
    `order_id`."""

    id: uuid.UUID
    from_status: OrderStatus | None
    to_status: OrderStatus
    at: datetime
    by_key_id: uuid.UUID | None


@dataclass(slots=True)
class NewOrder:
    """An order being placed: the columns of its `orders` row (by the model's attribute
    names: `metadata_`), with its lines and status history."""

    id: uuid.UUID
    number: str
    status: OrderStatus
    channel: OrderChannel
    event_id: uuid.UUID | None
    placed_by_key_id: uuid.UUID
    customer_name: str
    customer_phone: str
    customer_email: str | None
    customer_country: str | None
    note: str | None
    reference: str | None
    metadata_: dict[str, str]
    total_vnd: int
    created_at: datetime
    updated_at: datetime | None
    """Stamped as the row is written."""
    lines: list[NewLine]
    history: list[NewStatusChange]


def order_read(order: Order | NewOrder) -> OrderRead:
    """The read model of an order loaded with its lines and history, or of one being placed
    (once written: its `updated_at` stamped); validated in one call, nested models and all."""
    return OrderRead.model_validate(
        {
            "id": order.id,
            "number": order.number,
            "status": order.status,
            "channel": order.channel,
            "event_id": order.event_id,
            "customer": {
                "name": order.customer_name,
                "phone": order.customer_phone,
                "email": order.customer_email,
                "country": order.customer_country,
            },
            "note": order.note,
            "reference": order.reference,
            "metadata": dict(order.metadata_ or {}),
            "lines": [
                {
                    "product_id": line.product_id,
                    "product_name": line.product_name,
                    "unit": line.unit,
                    "quantity": line.quantity,
                    "unit_price_vnd": line.unit_price_vnd,
                    "line_total_vnd": line.line_total_vnd,
                }
                for line in order.lines
            ],
            "total_vnd": order.total_vnd,
            "history": [{"status": c.to_status, "at": c.at} for c in order.history],
            "created_at": order.created_at,
            "updated_at": order.updated_at,
        }
    )
