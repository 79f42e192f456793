"""Tourism experiences: a tourism product's booking settings, opening calendar, ticket types,
and the slots whose capacity bookings take.

An experience is bookable by date (`date` mode: one slot per local date, open from one hour to
another) or by date and start time (`start_time` mode: one slot per local date and start time).
Its opening calendar is a set of rules (`ExperienceSchedule`) plus closed dates
(`ExperienceClosure`); the rule that governs a date is resolved in `app.experiences.rules`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

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
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.orm import Base, utcnow
from app.core.types import json_document, str_enum
from app.models.product import Product

MAX_CAPACITY = 10_000
"""The most people one date or start time may take."""


class BookingMode(StrEnum):
    """How an experience is booked: by local date, or by local date and start time."""

    date = "date"
    start_time = "start_time"


class Experience(Base):
    """The booking settings of a tourism product (1:1, keyed by the product)."""

    __tablename__ = "experiences"

    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    booking_mode: Mapped[BookingMode] = mapped_column(str_enum(BookingMode, "booking_mode"))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    # No booking later than this before the start (date mode: before the day's opening).
    cutoff_minutes: Mapped[int] = mapped_column(Integer)
    # How long a hold lasts unless confirmed or extended.
    hold_minutes: Mapped[int] = mapped_column(SmallInteger)
    # Offered at this festival: bookable only on its local dates.
    event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("events.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship(lazy="raise")
    schedules: Mapped[list[ExperienceSchedule]] = relationship(
        lazy="raise", order_by="ExperienceSchedule.position"
    )
    closures: Mapped[list[ExperienceClosure]] = relationship(
        lazy="raise", order_by="ExperienceClosure.date"
    )
    ticket_types: Mapped[list[ExperienceTicketType]] = relationship(
        lazy="raise", order_by="ExperienceTicketType.position"
    )

    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 1 AND 10080", name="duration_range"),
        CheckConstraint("cutoff_minutes BETWEEN 0 AND 10080", name="cutoff_range"),
        CheckConstraint("hold_minutes BETWEEN 1 AND 120", name="hold_range"),
    )


class ExperienceSchedule(Base):
    """One rule of an opening calendar: over [valid_from, valid_to] (null: unbounded), on these
    weekdays, these start times (start_time mode) or these opening hours (date mode), each
    start time or date taking `capacity` people."""

    __tablename__ = "experience_schedules"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("experiences.product_id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(SmallInteger)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    # ISO weekdays as bits: Monday 1, Tuesday 2, ... Sunday 64.
    weekdays: Mapped[int] = mapped_column(SmallInteger)
    # Local start times "HH:MM", ascending (start_time mode); empty in date mode.
    start_times: Mapped[list[str]] = mapped_column(json_document(), default=list)
    opening_from: Mapped[time | None] = mapped_column(Time)
    opening_to: Mapped[time | None] = mapped_column(Time)
    capacity: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint(f"capacity BETWEEN 1 AND {MAX_CAPACITY}", name="capacity_range"),
        CheckConstraint("weekdays BETWEEN 1 AND 127", name="weekdays_range"),
        CheckConstraint("valid_to >= valid_from", name="valid_range"),
        CheckConstraint("opening_to > opening_from", name="opening_range"),
    )


class ExperienceClosure(Base):
    """A local date on which the experience is closed, whatever its rules say."""

    __tablename__ = "experience_closures"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("experiences.product_id", ondelete="CASCADE")
    )
    date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (UniqueConstraint("product_id", "date"),)


class ExperienceTicketType(Base):
    """A kind of ticket (adult, child, senior...): its price and how many places one takes
    (1, or 0 for an infant on a lap). Never deleted once booked: it is deactivated instead."""

    __tablename__ = "experience_ticket_types"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("experiences.product_id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(SmallInteger)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    # {"en": {"name": "Adult"}}
    translations: Mapped[dict[str, Any]] = mapped_column(json_document(), default=dict)
    price_vnd: Mapped[int] = mapped_column(BigInteger)
    places: Mapped[int] = mapped_column(SmallInteger)
    min_per_booking: Mapped[int] = mapped_column(SmallInteger)
    max_per_booking: Mapped[int] = mapped_column(SmallInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        UniqueConstraint("product_id", "code"),
        CheckConstraint("price_vnd >= 0", name="price_not_negative"),
        CheckConstraint("places BETWEEN 0 AND 50", name="places_range"),
        CheckConstraint(
            "min_per_booking >= 0 AND max_per_booking >= 1 AND max_per_booking >= min_per_booking",
            name="per_booking_range",
        ),
    )


class ExperienceSlot(Base):
    """The places of one local date (date mode, `start_time` null) or one start time.

    Created on first demand. `taken` counts the people of the slot's holds and confirmed
    bookings; the database keeps it within `capacity` (copied from the rule, refreshed at
    each reserve), across any number of API processes.
    """

    __tablename__ = "experience_slots"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("experiences.product_id", ondelete="CASCADE")
    )
    date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time)
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint("taken >= 0 AND taken <= capacity", name="taken_within_capacity"),
        # One slot per (experience, date, start time), the date's own (start_time null) too:
        # NULLs are distinct in a plain unique constraint, so two partial indexes.
        Index(
            "uq_experience_slots_product_id_date_start_time",
            "product_id",
            "date",
            "start_time",
            unique=True,
            postgresql_where=text("start_time IS NOT NULL"),
            sqlite_where=text("start_time IS NOT NULL"),
        ),
        Index(
            "uq_experience_slots_product_id_date",
            "product_id",
            "date",
            unique=True,
            postgresql_where=text("start_time IS NULL"),
            sqlite_where=text("start_time IS NULL"),
        ),
    )
