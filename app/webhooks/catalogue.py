"""The webhook message types, and who may hear each: the one place the audience rule lives.

Every type is heard by admin keys. Each type then says how far it reaches the keys of the other
roles, if at all:
- `named`: the keys a message names: owner keys of the owners it lists (an order's lines'
  owners, a product's owner, the owners selling at an event), the partner key that placed an
  order;
- `granted`: partner keys an admin granted the event (festival, fair) the message is about;
- `every`: every key of the role.

The fan-out (`hears`) and the check of a subscription (`can_hear`) both follow this table, and
`GET /v1/webhooks/event-types` shows it.

Partners and the catalogue: `product.updated` carries what the public catalogue shows
(`GET /v1/products/{id}`), so every partner key hears it, which lets a shop mirror the catalogue
without polling. `stock.low` is a restocking alert for the product's owner (and the province),
not catalogue data: partners read stock from the catalogue instead.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from app.api_keys.auth import Principal
from app.models.api_key import Role
from app.models.webhook import OutboxMessage
from app.webhooks.outbox import EVENT_TYPES, EventType


class Reach(StrEnum):
    every = "every"
    named = "named"
    granted = "granted"


@dataclass(frozen=True)
class Hearer:
    """The keys of one role that hear a type, and how far it reaches them."""

    role: Role
    reach: Reach
    who: str


@dataclass(frozen=True)
class MessageType:
    type: EventType
    description: str
    payload: str
    """The name of the schema of the message's `data`."""
    hearers: tuple[Hearer, ...]

    def reach(self, role: Role) -> Reach | None:
        """How far the type reaches keys of `role`; None if they never hear it."""
        return next((h.reach for h in self.hearers if h.role is role), None)


ADMINS = Hearer(Role.admin, Reach.every, "every admin key")


def _order(type_: EventType) -> MessageType:
    happened = type_.removeprefix("order.")
    return MessageType(
        type=type_,
        description=f"An order was {happened}; `data` is the order as `GET /v1/orders/{{id}}` "
        "shows it.",
        payload="OrderRead",
        hearers=(
            ADMINS,
            Hearer(Role.owner, Reach.named, "the owners of the order's products"),
            Hearer(Role.partner, Reach.named, "the partner key that placed the order"),
        ),
    )


def _booking(type_: EventType, what: str) -> MessageType:
    return MessageType(
        type=type_,
        description=f"A tourism booking was {what}; `data` is the booking as "
        "`GET /v1/bookings/{id}` shows it.",
        payload="BookingRead",
        hearers=(
            ADMINS,
            Hearer(Role.owner, Reach.named, "the owner of the booked experience"),
            Hearer(Role.partner, Reach.named, "the partner key that made the booking"),
        ),
    )


CATALOGUE: Mapping[str, MessageType] = {
    kind.type: kind
    for kind in (
        _order("order.created"),
        _order("order.confirmed"),
        _order("order.fulfilled"),
        _order("order.cancelled"),
        MessageType(
            type="product.updated",
            description="A product was changed, archived or restored, or its stock adjusted; "
            "`data` is the product as `GET /v1/products/{id}` shows it.",
            payload="ProductRead",
            hearers=(
                ADMINS,
                Hearer(Role.owner, Reach.named, "the product's owner"),
                Hearer(Role.partner, Reach.every, "every partner key: the catalogue is public"),
            ),
        ),
        MessageType(
            type="stock.low",
            description="An order took a product's stock down to the low-stock threshold or "
            "below (once, as it crossed); `data`: `product_id`, `name`, `unit`, `stock`, "
            "`threshold`.",
            payload="StockLowData",
            hearers=(ADMINS, Hearer(Role.owner, Reach.named, "the product's owner")),
        ),
        MessageType(
            type="event.updated",
            description="An event (festival, fair) changed or was cancelled; `data` is the "
            "event as `GET /v1/events/{id}` shows it.",
            payload="EventRead",
            hearers=(
                ADMINS,
                Hearer(Role.owner, Reach.named, "the owners with a product entered in the event"),
                Hearer(Role.partner, Reach.granted, "the partner keys granted the event"),
            ),
        ),
        _booking("booking.created", "held (places taken until `expires_at`)"),
        _booking("booking.confirmed", "confirmed, its tickets issued"),
        _booking("booking.cancelled", "cancelled, its places given back"),
        _booking("booking.expired", "not confirmed in time: its hold expired"),
    )
}
if set(CATALOGUE) != set(EVENT_TYPES):  # pragma: no cover - a programming error
    raise RuntimeError("app.webhooks.catalogue must describe every type of EVENT_TYPES")


def hears(listener: Principal, message: OutboxMessage) -> bool:
    """Whether the key `listener` may hear the message (whatever types it subscribed to)."""
    kind = CATALOGUE.get(message.type)
    reach = kind.reach(listener.role) if kind is not None else None
    if reach is Reach.every:
        return True
    if reach is Reach.named:
        if listener.role is Role.owner:
            return str(listener.owner_id) in message.owner_ids
        return message.partner_key_id is not None and message.partner_key_id == listener.key_id
    if reach is Reach.granted:
        return message.event_id is not None and message.event_id in listener.event_ids
    return False


def can_hear(listener: Principal, message_type: str) -> bool:
    """Whether the key may hear any message of this type as things stand: its role is in the
    type's audience and, where the type reaches by grant, it holds a grant."""
    reach = CATALOGUE[message_type].reach(listener.role)
    return reach is not None and (reach is not Reach.granted or bool(listener.event_ids))


def unheard(listener: Principal, message_types: Collection[str]) -> list[str]:
    """The types among `message_types` the key cannot hear, in the order given."""
    return [t for t in message_types if not can_hear(listener, t)]
