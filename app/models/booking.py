"""Bookings of tourism experiences: holds that expire unless confirmed, their units per ticket
type, the tickets a confirmed booking issues (one per person) and every check-in attempt."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.orm import Base, TimestampedMixin, utcnow
from app.core.types import str_enum


class BookingStatus(StrEnum):
    """on_hold -> confirmed | expired | cancelled; confirmed -> cancelled."""

    on_hold = "on_hold"
    confirmed = "confirmed"
    expired = "expired"
    cancelled = "cancelled"


class Booking(TimestampedMixin, Base):
    """Places on one slot of an experience, held until `expires_at` unless confirmed.

    `people` is the places it takes (each unit's quantity times its ticket type's places); it
    counts against the slot while the booking is confirmed, or on hold with `expires_at` later
    than now, whatever the status column says (`ocop worker` only tidies expired holds).
    """

    __tablename__ = "bookings"

    reference: Mapped[str] = mapped_column(String(32), unique=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"))
    slot_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("experience_slots.id", ondelete="RESTRICT")
    )
    # The slot's local date and start time (null in date mode), copied for reads.
    date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time)
    status: Mapped[BookingStatus] = mapped_column(
        str_enum(BookingStatus, "booking_status"), default=BookingStatus.on_hold
    )
    people: Mapped[int] = mapped_column(Integer)
    total_vnd: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    # Who made it: partners see only their own.
    api_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_keys.id", ondelete="RESTRICT"))
    # The reseller's own ids: its reference, and OCTO's client `uuid` (unique per key).
    reseller_reference: Mapped[str | None] = mapped_column(String(100))
    client_uuid: Mapped[uuid.UUID | None]
    notes: Mapped[str | None] = mapped_column(Text)
    # The tourist, required to confirm.
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_country: Mapped[str | None] = mapped_column(String(2))
    contact_locale: Mapped[str | None] = mapped_column(String(35))

    units: Mapped[list[BookingUnit]] = relationship(
        back_populates="booking", lazy="raise", order_by="BookingUnit.position"
    )
    tickets: Mapped[list[Ticket]] = relationship(
        back_populates="booking", lazy="raise", order_by="Ticket.position"
    )

    __table_args__ = (
        CheckConstraint("people >= 1", name="people_positive"),
        CheckConstraint("total_vnd >= 0", name="total_not_negative"),
        UniqueConstraint("api_key_id", "client_uuid"),
        Index("ix_bookings_product_id_date_status", "product_id", "date", "status"),
        Index("ix_bookings_slot_id_status", "slot_id", "status"),
        Index("ix_bookings_status_expires_at", "status", "expires_at"),
        Index("ix_bookings_created_at_id", "created_at", "id"),
        Index("ix_bookings_api_key_id_created_at", "api_key_id", "created_at"),
        # The change feed: everyone's (admins, owners) and a partner's own.
        Index("ix_bookings_updated_at_id", "updated_at", "id"),
        Index("ix_bookings_api_key_id_updated_at_id", "api_key_id", "updated_at", "id"),
    )


class BookingUnit(Base):
    """How many tickets of one type a booking holds, with the type's name, places and price
    as they were when booked."""

    __tablename__ = "booking_units"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    ticket_type_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("experience_ticket_types.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    places: Mapped[int] = mapped_column(SmallInteger)
    quantity: Mapped[int] = mapped_column(SmallInteger)
    unit_price_vnd: Mapped[int] = mapped_column(BigInteger)
    total_vnd: Mapped[int] = mapped_column(BigInteger)

    booking: Mapped[Booking] = relationship(back_populates="units", lazy="raise")

    __table_args__ = (
        UniqueConstraint("booking_id", "ticket_type_id"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("places >= 0", name="places_not_negative"),
        CheckConstraint("unit_price_vnd >= 0", name="unit_price_not_negative"),
        CheckConstraint("total_vnd >= 0", name="total_not_negative"),
    )


class Ticket(Base):
    """One person's ticket, issued when its booking is confirmed; valid on the booking's slot
    date. Its first accepted check-in is kept here; every attempt is a `CheckIn`."""

    __tablename__ = "tickets"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    booking_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    booking_unit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("booking_units.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(SmallInteger)
    # Unguessable (`secrets`, 192 bits, URL-safe): whoever holds it holds the ticket.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    qr_payload: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_in_at: Mapped[datetime | None]
    checked_in_gate: Mapped[str | None] = mapped_column(String(100))
    checked_in_by_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )

    booking: Mapped[Booking] = relationship(back_populates="tickets", lazy="raise")


class CheckInOutcome(StrEnum):
    """What became of a check-in attempt: the one accepted (a ticket has at most one), a
    duplicate of it (later, or replaced by an earlier offline one), or refused for its reason."""

    accepted = "accepted"
    duplicate = "duplicate"
    not_this_site = "not_this_site"  # the key's owner does not run that experience
    booking_cancelled = "booking_cancelled"
    wrong_day = "wrong_day"  # scanned on another local date than the ticket's


class CheckIn(Base):
    """Every check-in attempt of a ticket, accepted or not, online or uploaded later by a gate
    that was offline: so that conflicts between gates can be resolved by time and reported."""

    __tablename__ = "check_ins"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    ticket_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    # When the gate scanned it, and when the server heard of it (later, for an offline gate).
    at: Mapped[datetime]
    received_at: Mapped[datetime]
    gate: Mapped[str | None] = mapped_column(String(100))
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    outcome: Mapped[CheckInOutcome] = mapped_column(str_enum(CheckInOutcome, "check_in_outcome"))
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    # The check-in this one displaced as the ticket's first when it was accepted (an offline
    # scan earlier than it), so that a replayed upload reports it as the first answer did.
    displaced_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("check_ins.id", ondelete="SET NULL")
    )

    __table_args__ = (
        Index("ix_check_ins_ticket_id_at", "ticket_id", "at"),
        # A ticket's first check-in, the one its columns repeat: one at most, whatever races.
        Index(
            "ix_check_ins_ticket_id_accepted",
            "ticket_id",
            unique=True,
            postgresql_where=text("outcome = 'accepted'"),
            sqlite_where=text("outcome = 'accepted'"),
        ),
    )
