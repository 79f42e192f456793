"""The opening calendar's rules, resolved without a database: which rule governs a date, closed
dates, event dates, cut-offs, and the starts of each booking mode."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.experiences.rules import OpeningCalendar
from app.experiences.schemas import ClosedReason, Weekday, weekday_mask
from app.models import (
    BookingMode,
    Event,
    EventKind,
    Experience,
    ExperienceClosure,
    ExperienceSchedule,
)
from tests.helpers import vn

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
SATURDAY = date(2025, 11, 8)
SUNDAY = date(2025, 11, 9)
MONDAY = date(2025, 11, 10)


def rule(position: int = 0, **fields: Any) -> ExperienceSchedule:
    values: dict[str, Any] = {
        "position": position,
        "valid_from": None,
        "valid_to": None,
        "weekdays": weekday_mask(list(Weekday)),
        "start_times": ["09:00"],
        "opening_from": None,
        "opening_to": None,
        "capacity": 40,
        **fields,
    }
    return ExperienceSchedule(**values)


def calendar(
    *schedules: ExperienceSchedule,
    mode: BookingMode = BookingMode.start_time,
    closed: tuple[date, ...] = (),
    event: Event | None = None,
    cutoff_minutes: int = 0,
    available: bool = True,
) -> OpeningCalendar:
    experience = Experience(
        booking_mode=mode,
        duration_minutes=90,
        cutoff_minutes=cutoff_minutes,
        hold_minutes=15,
        schedules=list(schedules),
        closures=[ExperienceClosure(date=day) for day in closed],
    )
    return OpeningCalendar.of(experience, event, ZONE, available=available)


def festival(starts_at: datetime, ends_at: datetime, cancelled: bool = False) -> Event:
    return Event(
        name="Mùa vàng Bắc Sơn",
        kind=EventKind.festival,
        starts_at=starts_at,
        ends_at=ends_at,
        cancelled_at=starts_at if cancelled else None,
    )


def capacity_on(cal: OpeningCalendar, day: date) -> int | None:
    opening = cal.opening(day)
    return opening.starts[0].capacity if opening.starts else None


def test_a_season_overrides_the_all_year_rule_within_its_dates() -> None:
    all_year = rule(0, capacity=40)
    season = rule(1, valid_from=date(2025, 11, 1), valid_to=date(2025, 12, 15), capacity=100)
    cal = calendar(all_year, season)

    assert capacity_on(cal, SATURDAY) == 100
    assert capacity_on(cal, date(2025, 12, 16)) == 40


def test_the_shortest_range_wins_whatever_the_order_listed() -> None:
    month = rule(0, valid_from=date(2025, 11, 1), valid_to=date(2025, 11, 30), capacity=30)
    weekend_fair = rule(1, valid_from=date(2025, 11, 8), valid_to=date(2025, 11, 9), capacity=10)

    assert capacity_on(calendar(month, weekend_fair), SATURDAY) == 10
    assert capacity_on(calendar(weekend_fair, month), SATURDAY) == 10


def test_an_open_ended_range_is_less_specific_than_any_bounded_one() -> None:
    from_now_on = rule(0, valid_from=date(2025, 11, 1), capacity=30)
    ten_years = rule(1, valid_from=date(2020, 1, 1), valid_to=date(2030, 1, 1), capacity=20)

    assert capacity_on(calendar(from_now_on, ten_years), SATURDAY) == 20


def test_among_equal_ranges_fewer_weekdays_win() -> None:
    every_day = rule(0, capacity=40)
    weekends = rule(1, weekdays=weekday_mask([Weekday.sat, Weekday.sun]), capacity=80)
    cal = calendar(every_day, weekends)

    assert [capacity_on(cal, day) for day in (SATURDAY, SUNDAY, MONDAY)] == [80, 80, 40]


def test_among_equally_specific_rules_the_first_listed_wins() -> None:
    cal = calendar(rule(0, capacity=40), rule(1, capacity=50))

    assert capacity_on(cal, SATURDAY) == 40


def test_a_rule_not_on_the_weekday_leaves_the_date_to_the_others() -> None:
    season_weekends = rule(
        0,
        valid_from=date(2025, 11, 1),
        valid_to=date(2025, 11, 30),
        weekdays=weekday_mask([Weekday.sat, Weekday.sun]),
        capacity=80,
    )
    cal = calendar(season_weekends, rule(1, capacity=40))

    assert capacity_on(cal, MONDAY) == 40


def test_a_date_no_rule_applies_to_is_closed() -> None:
    cal = calendar(rule(0, valid_from=date(2025, 12, 1)))

    assert cal.opening(SATURDAY).closed is ClosedReason.no_schedule
    assert cal.opening(SATURDAY).starts == ()


def test_a_closed_date_is_closed_whatever_the_rules() -> None:
    cal = calendar(rule(0), closed=(SATURDAY,))

    assert cal.opening(SATURDAY).closed is ClosedReason.closure
    assert cal.opening(SUNDAY).closed is None


def test_an_event_experience_is_open_on_the_event_local_dates_only() -> None:
    # 3 November 08:00 to 9 November 22:00, local time.
    cal = calendar(rule(0), event=festival(vn(3, 8), vn(9, 22)))

    assert cal.opening(date(2025, 11, 2)).closed is ClosedReason.outside_event
    assert cal.opening(date(2025, 11, 3)).closed is None
    assert cal.opening(date(2025, 11, 9)).closed is None
    assert cal.opening(date(2025, 11, 10)).closed is ClosedReason.outside_event


def test_an_event_ending_at_midnight_has_its_last_date_before() -> None:
    cal = calendar(rule(0), event=festival(vn(3, 8), vn(10, 0)))

    assert cal.opening(date(2025, 11, 9)).closed is None
    assert cal.opening(date(2025, 11, 10)).closed is ClosedReason.outside_event


def test_the_dates_of_an_event_are_local_not_utc() -> None:
    # 3 November 01:00 local is 2 November 18:00 UTC.
    cal = calendar(rule(0), event=festival(vn(3, 1), vn(3, 23)))

    assert cal.opening(date(2025, 11, 2)).closed is ClosedReason.outside_event
    assert cal.opening(date(2025, 11, 3)).closed is None


def test_a_cancelled_event_closes_all_its_dates() -> None:
    cal = calendar(rule(0), event=festival(vn(3, 8), vn(9, 22), cancelled=True))

    assert cal.opening(date(2025, 11, 5)).closed is ClosedReason.event_cancelled


def test_an_archived_product_is_closed_every_date() -> None:
    cal = calendar(rule(0), available=False)

    assert cal.opening(SATURDAY).closed is ClosedReason.unavailable


def test_start_time_mode_offers_each_start_time_in_local_time() -> None:
    cal = calendar(rule(0, start_times=["09:00", "14:30"], capacity=25))

    starts = cal.opening(SATURDAY).starts

    assert [(s.start_time, s.capacity) for s in starts] == [(time(9), 25), (time(14, 30), 25)]
    assert starts[0].starts_at == datetime(2025, 11, 8, 2, tzinfo=UTC)
    assert starts[0].ends_at == datetime(2025, 11, 8, 3, 30, tzinfo=UTC)


def test_a_start_is_bookable_until_its_cutoff_exclusive() -> None:
    cal = calendar(rule(0, start_times=["09:00"]), cutoff_minutes=120)
    [start] = cal.opening(SATURDAY).starts

    assert start.cutoff_at == vn(8, 7)
    assert start.bookable(vn(8, 7) - timedelta(microseconds=1))
    assert not start.bookable(vn(8, 7))


def test_date_mode_offers_the_date_within_its_opening_hours() -> None:
    opening = rule(0, start_times=[], opening_from=time(8), opening_to=time(17), capacity=200)
    cal = calendar(opening, mode=BookingMode.date, cutoff_minutes=60)

    [start] = cal.opening(SATURDAY).starts

    assert start.start_time is None
    assert start.capacity == 200
    assert (start.starts_at, start.ends_at) == (vn(8, 8), vn(8, 17))
    assert start.cutoff_at == vn(8, 7)


def test_date_mode_without_opening_hours_is_open_all_day() -> None:
    cal = calendar(rule(0, start_times=[]), mode=BookingMode.date)

    [start] = cal.opening(SATURDAY).starts

    assert (start.starts_at, start.ends_at, start.cutoff_at) == (vn(8), vn(9), vn(8))
