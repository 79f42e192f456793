"""The opening calendar's rules: what an experience offers on a local date, and until when it
can be booked. Pure functions over loaded rows, so that a month is resolved without a query.

On a date, in this order:
1. an experience offered at an event is closed outside the event's local dates (and on all of
   them once the event is cancelled);
2. a closed date is closed;
3. of the rules whose date range holds the date and whose weekdays include its weekday, the
   most specific governs: the shortest date range (an open end is longest), then the fewest
   weekdays, then the one listed first. No rule: closed.
4. the governing rule gives the start times (start_time mode) or the opening hours (date mode),
   each with the rule's capacity. A start is bookable until its cut-off: `cutoff_minutes`
   before the start time (date mode: before the day's opening; midnight without one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from app.core.zones import day_start
from app.experiences.schemas import ClosedReason
from app.models.event import Event
from app.models.experience import BookingMode, Experience, ExperienceSchedule

_UNBOUNDED = 10**9  # the span, in days, of a range with an open end


@dataclass(frozen=True)
class EventDates:
    """The local dates of an experience's event, and whether it was cancelled."""

    first: date
    last: date
    cancelled: bool

    @classmethod
    def of(cls, event: Event, zone: tzinfo) -> EventDates:
        # `ends_at` is the instant it ends: an event ending at midnight has its last day before.
        last_moment = event.ends_at - timedelta(microseconds=1)
        return cls(
            first=event.starts_at.astimezone(zone).date(),
            last=max(last_moment.astimezone(zone).date(), event.starts_at.astimezone(zone).date()),
            cancelled=event.cancelled_at is not None,
        )


@dataclass(frozen=True)
class Start:
    """One bookable start on a date: a start time, or (date mode) the date itself."""

    start_time: time | None
    capacity: int
    starts_at: datetime
    ends_at: datetime
    cutoff_at: datetime

    def bookable(self, now: datetime) -> bool:
        """Whether it can still be booked at `now` (before its cut-off)."""
        return now < self.cutoff_at


@dataclass(frozen=True)
class Opening:
    """What a local date offers: its starts, or why it is closed."""

    date: date
    closed: ClosedReason | None
    schedule: ExperienceSchedule | None = None
    starts: tuple[Start, ...] = ()

    def start(self, start_time: time | None) -> Start | None:
        """The start at `start_time` (date mode: None), if the date offers it."""
        return next((s for s in self.starts if s.start_time == start_time), None)


def span_days(schedule: ExperienceSchedule) -> int:
    """How many dates a rule's range holds (an open end: unbounded)."""
    if schedule.valid_from is None or schedule.valid_to is None:
        return _UNBOUNDED
    return (schedule.valid_to - schedule.valid_from).days + 1


def specificity(schedule: ExperienceSchedule) -> tuple[int, int, int]:
    """Sorts the most specific rule first: shortest range, fewest weekdays, listed first."""
    return (span_days(schedule), schedule.weekdays.bit_count(), schedule.position)


def applies(schedule: ExperienceSchedule, day: date) -> bool:
    """Whether the rule's range holds `day` and its weekdays include `day`'s weekday."""
    if schedule.valid_from is not None and day < schedule.valid_from:
        return False
    if schedule.valid_to is not None and day > schedule.valid_to:
        return False
    return bool(schedule.weekdays & (1 << day.weekday()))


def start_times(schedule: ExperienceSchedule) -> tuple[time, ...]:
    """A rule's start times (stored as ISO text), as times of day."""
    return tuple(time.fromisoformat(text) for text in schedule.start_times)


def _local(day: date, moment: time, zone: tzinfo) -> datetime:
    """The instant (UTC) of a local date and time of day in `zone`."""
    return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class OpeningCalendar:
    """An experience's rules, ready to resolve dates: its schedules, closed dates and event."""

    mode: BookingMode
    duration: timedelta
    cutoff: timedelta
    schedules: Sequence[ExperienceSchedule]
    """Most specific first (`specificity`), so the first that applies to a date governs it."""
    closures: frozenset[date]
    event: EventDates | None
    zone: tzinfo
    times: Mapping[ExperienceSchedule, tuple[time, ...]]
    """Each rule's `start_times`, parsed once rather than on every date it governs."""
    available: bool = True  # False: the product is archived, nothing is bookable

    @classmethod
    def of(
        cls,
        experience: Experience,
        event: Event | None,
        zone: tzinfo,
        *,
        available: bool = True,
    ) -> OpeningCalendar:
        """The calendar of an experience loaded with its schedules and closures."""
        schedules = sorted(experience.schedules, key=specificity)
        return cls(
            mode=experience.booking_mode,
            duration=timedelta(minutes=experience.duration_minutes),
            cutoff=timedelta(minutes=experience.cutoff_minutes),
            schedules=tuple(schedules),
            closures=frozenset(closure.date for closure in experience.closures),
            event=EventDates.of(event, zone) if event is not None else None,
            zone=zone,
            available=available,
            times={schedule: start_times(schedule) for schedule in schedules},
        )

    def closed_reason(self, day: date) -> ClosedReason | None:
        """Why `day` is closed before any rule is consulted, or None."""
        if not self.available:
            return ClosedReason.unavailable
        if self.event is not None:
            if self.event.cancelled:
                return ClosedReason.event_cancelled
            if not self.event.first <= day <= self.event.last:
                return ClosedReason.outside_event
        if day in self.closures:
            return ClosedReason.closure
        return None

    def opening(self, day: date) -> Opening:
        """What `day` offers (see the module docstring)."""
        closed = self.closed_reason(day)
        if closed is not None:
            return Opening(day, closed)
        # The rule that governs: the most specific that applies (`schedules` are sorted so).
        schedule = next((s for s in self.schedules if applies(s, day)), None)
        if schedule is None:
            return Opening(day, ClosedReason.no_schedule)
        return Opening(day, None, schedule, self._starts(schedule, day))

    def _starts(self, schedule: ExperienceSchedule, day: date) -> tuple[Start, ...]:
        if self.mode is BookingMode.start_time:
            starts = []
            for start_time in self.times[schedule]:
                starts_at = _local(day, start_time, self.zone)
                starts.append(
                    Start(
                        start_time=start_time,
                        capacity=schedule.capacity,
                        starts_at=starts_at,
                        ends_at=starts_at + self.duration,
                        cutoff_at=starts_at - self.cutoff,
                    )
                )
            return tuple(starts)
        opens = _local(day, schedule.opening_from or time.min, self.zone)
        closes = (
            _local(day, schedule.opening_to, self.zone)
            if schedule.opening_to is not None
            else day_start(day + timedelta(days=1), self.zone)
        )
        return (
            Start(
                start_time=None,
                capacity=schedule.capacity,
                starts_at=opens,
                ends_at=closes,
                cutoff_at=opens - self.cutoff,
            ),
        )
