"""At the gate: tickets looked up by the site's staff, checked in online or uploaded later by a
gate that was offline, and the day's list of tickets an offline gate works from.

Who may (also in README): the site's staff, that is an owner key of the experience's owner,
and admins. Another owner's key is refused 403 `not_this_site` for a ticket of a site it does
not run: the code is a 192-bit bearer secret, so whoever sends it holds the ticket already,
and the answer tells nothing of it (no date, booking or site), only that it is a real ticket
for somewhere else, which a gate needs to tell a tourist at the wrong site from a forgery.

A check-in is judged in this order: the ticket exists (404 `ticket_not_found`); the key runs
its site (`not_this_site`); an offline `at` is neither ahead of the server's clock by more than
`OCOP_CHECK_IN_CLOCK_SKEW_S` nor before the booking was confirmed (422, not recorded); the
booking is not cancelled (`booking_cancelled`); `at` falls on the ticket's local date in the
province (`wrong_day`); the ticket is not checked in yet (`already_checked_in`, naming the
first). Every attempt on a known ticket that gets past the time checks is recorded in
`check_ins`, refusals included.

Concurrency: the ticket's first check-in is written by one conditional UPDATE (`checked_in_at
IS NULL`), so of any number of check-ins racing, in any number of processes, one alone wins;
the others are duplicates naming it. Offline check-ins (those with an `at`) resolve by time
instead: the earliest `at` wins (`checked_in_at IS NULL OR checked_in_at > at`), and the one it
replaces becomes a duplicate, which the winner names (`displaced_id`) and its answer reports.
Their ticket is row-locked first, so that the same scan sent twice at once is recorded once (a
scan a key sent before is answered as it is now resolved, and nothing is recorded again). A
check-in row-locks its booking first, so a cancel and a check-in of the same booking queue
instead of crossing, and so do check-ins of its tickets: a booking shows its tickets'
check-ins, so the one that becomes a ticket's first moves the booking's `updated_at` (`touch`,
for the bookings' change feed), a write on which two check-ins holding a shared lock each
would deadlock.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.auth import Principal
from app.bookings.repository import (
    CheckInRepository,
    LoggedCheckIn,
    ScannedTicket,
    TicketRepository,
)
from app.bookings.schemas import (
    CheckInRead,
    CheckInRefusal,
    CheckInResult,
    CheckInUploadRead,
    GateList,
    GateTicket,
    OfflineCheckIn,
    TicketBooking,
    TicketDetail,
    UploadedCheckIn,
)
from app.bookings.service import ticket_status
from app.core.errors import Conflict, DomainError, Forbidden, NotFound, Unprocessable
from app.core.orm import touch
from app.models.booking import BookingStatus, CheckIn, CheckInOutcome

# The refusals of the online check-in, each with its code.


class TicketNotFound(NotFound):
    code, title = "ticket_not_found", "No such ticket"


class NotThisSite(Forbidden):
    code, title = "not_this_site", "Not a ticket of this site"


class AlreadyCheckedIn(Conflict):
    """409 naming the first check-in (`first_check_in`: when, which gate, which key)."""

    code, title = "already_checked_in", "Already checked in"


class BookingCancelled(Conflict):
    code, title = "booking_cancelled", "Booking cancelled"


class WrongDay(Conflict):
    """409 naming the local date the ticket is valid on (`valid_on`)."""

    code, title = "wrong_day", "Not valid today"


class CheckInTimeOutOfRange(Unprocessable):
    """422 `at_in_future` or `at_before_confirmation`."""

    code, title = "at_in_future", "Check-in time out of range"


@dataclass(frozen=True)
class Staff:
    """Who checks tickets in, and when the server hears of it."""

    principal: Principal
    now: datetime
    zone: ZoneInfo
    skew: timedelta
    """How far ahead of `now` an offline `at` may be (a gate's clock running fast)."""


@dataclass(frozen=True)
class Scan:
    """A ticket code as a gate read it: `at` None for now (online), else when an offline gate
    scanned it."""

    code: str
    at: datetime | None
    gate: str | None


@dataclass(frozen=True)
class Verdict:
    """What became of one scan of a known ticket."""

    result: CheckInResult
    reason: CheckInRefusal | None = None
    first: CheckInRead | None = None
    displaced: CheckInRead | None = None
    """For an accepted offline scan: the ticket's check-in it displaced, now a duplicate."""
    replay: bool = False


# Reading.


def check_in_read(logged: LoggedCheckIn) -> CheckInRead:
    check_in, key_name = logged
    return CheckInRead(
        at=check_in.at,
        received_at=check_in.received_at,
        gate=check_in.gate,
        api_key_id=check_in.api_key_id,
        key_name=key_name,
        offline=check_in.offline,
        outcome=check_in.outcome,
    )


def _detail(scanned: ScannedTicket, log: list[LoggedCheckIn]) -> TicketDetail:
    ticket, booking, unit = scanned.ticket, scanned.booking, scanned.unit
    entries = [check_in_read(logged) for logged in log]
    return TicketDetail(
        code=ticket.code,
        qr_payload=ticket.qr_payload,
        ticket_type=unit.code,
        ticket_type_name=unit.name,
        status=ticket_status(booking, ticket),
        product_id=booking.product_id,
        date=booking.date,
        start_time=booking.start_time,
        booking=TicketBooking(
            id=booking.id,
            reference=booking.reference,
            status=booking.status,
            name=booking.contact_name,
            people=booking.people,
        ),
        check_in=next((e for e in entries if e.outcome is CheckInOutcome.accepted), None),
        check_ins=entries,
    )


def _runs_site(staff: Staff, scanned: ScannedTicket, product_id: uuid.UUID | None) -> bool:
    """Whether the key is the staff of the ticket's site (and the experience the gate admits
    to, if it says): admins everywhere; an owner key at its owner's experiences."""
    return staff.principal.acts_for(scanned.owner_id) and (
        product_id is None or scanned.booking.product_id == product_id
    )


async def _scanned(
    session: AsyncSession, code: str, *, lock_booking: bool = False
) -> ScannedTicket:
    found = await TicketRepository(session).find_by_codes([code], lock_bookings=lock_booking)
    if code not in found:
        raise TicketNotFound("No ticket has this code.")
    return found[code]


def _not_this_site() -> NotThisSite:
    return NotThisSite("This ticket is not for this site.")


async def _reloaded(session: AsyncSession, scanned: ScannedTicket) -> TicketDetail:
    fresh = await _scanned(session, scanned.ticket.code)
    return _detail(fresh, await CheckInRepository(session).log(fresh.ticket.id))


async def read_ticket(session: AsyncSession, principal: Principal, code: str) -> TicketDetail:
    """A ticket with its check-ins, for its site's staff: 404 `ticket_not_found`, 403
    `not_this_site`."""
    scanned = await _scanned(session, code)
    if not principal.acts_for(scanned.owner_id):
        raise _not_this_site()
    return _detail(scanned, await CheckInRepository(session).log(scanned.ticket.id))


# Judging a scan.


async def _first(session: AsyncSession, ticket_id: uuid.UUID) -> CheckInRead | None:
    accepted = await CheckInRepository(session).accepted(ticket_id)
    return check_in_read(accepted) if accepted is not None else None


def _displaced_read(logged: LoggedCheckIn | None) -> CheckInRead | None:
    """A check-in an earlier one displaced, as it reads once displaced: a duplicate."""
    if logged is None:
        return None
    return check_in_read(logged).model_copy(update={"outcome": CheckInOutcome.duplicate})


async def _as_now(session: AsyncSession, check_in: CheckIn) -> Verdict:
    """A scan this key sent before, answered as it is resolved now."""
    if check_in.outcome is CheckInOutcome.accepted:
        displaced = None
        if check_in.displaced_id is not None:
            displaced = await CheckInRepository(session).logged(check_in.displaced_id)
        return Verdict(CheckInResult.accepted, displaced=_displaced_read(displaced), replay=True)
    if check_in.outcome is CheckInOutcome.duplicate:
        first = await _first(session, check_in.ticket_id)
        return Verdict(CheckInResult.duplicate, first=first, replay=True)
    return Verdict(CheckInResult.refused, CheckInRefusal(check_in.outcome.value), replay=True)


def _time_refusal(staff: Staff, scanned: ScannedTicket, at: datetime) -> CheckInRefusal | None:
    if at > staff.now + staff.skew:
        return CheckInRefusal.at_in_future
    confirmed_at = scanned.booking.confirmed_at
    if confirmed_at is not None and at < confirmed_at:
        return CheckInRefusal.at_before_confirmation
    return None


def _state_refusal(staff: Staff, scanned: ScannedTicket, at: datetime) -> CheckInOutcome | None:
    if scanned.booking.status is not BookingStatus.confirmed:
        return CheckInOutcome.booking_cancelled
    if at.astimezone(staff.zone).date() != scanned.booking.date:
        return CheckInOutcome.wrong_day
    return None


async def _judge(
    session: AsyncSession,
    staff: Staff,
    scanned: ScannedTicket,
    scan: Scan,
    product_id: uuid.UUID | None,
) -> Verdict:
    """Judge and record one scan of a known ticket whose booking the caller row-locked
    (and, for an offline scan, its ticket too)."""
    tickets, check_ins = TicketRepository(session), CheckInRepository(session)
    ticket, key_id = scanned.ticket, staff.principal.key_id
    offline = scan.at is not None
    at = scan.at if scan.at is not None else staff.now

    async def record(outcome: CheckInOutcome, displaced: LoggedCheckIn | None = None) -> None:
        session.add(
            CheckIn(
                ticket_id=ticket.id,
                at=at,
                received_at=staff.now,
                gate=scan.gate,
                api_key_id=key_id,
                outcome=outcome,
                offline=offline,
                displaced_id=displaced[0].id if displaced is not None else None,
            )
        )
        await session.flush()  # the next scan of the upload may be this one again

    if offline:
        sent_before = await check_ins.recorded(ticket.id, at, scan.gate, key_id)
        if sent_before is not None:
            return await _as_now(session, sent_before)
    if not _runs_site(staff, scanned, product_id):
        await record(CheckInOutcome.not_this_site)
        return Verdict(CheckInResult.refused, CheckInRefusal.not_this_site)
    if offline and (too := _time_refusal(staff, scanned, at)) is not None:
        return Verdict(CheckInResult.refused, too)
    refused = _state_refusal(staff, scanned, at)
    if refused is not None:
        await record(refused)
        return Verdict(CheckInResult.refused, CheckInRefusal(refused.value))
    if await tickets.check_in(ticket.id, at, scan.gate, key_id, earliest_wins=offline):
        displaced = None
        if offline:
            displaced = await check_ins.accepted(ticket.id)  # the later one this replaces, if any
            await check_ins.demote_accepted(ticket.id)
        touch(scanned.booking)  # its ticket's status or `checked_in_at` changed
        await record(CheckInOutcome.accepted, displaced)
        return Verdict(CheckInResult.accepted, displaced=_displaced_read(displaced))
    await record(CheckInOutcome.duplicate)
    return Verdict(CheckInResult.duplicate, first=await _first(session, ticket.id))


# Online.


@dataclass(frozen=True)
class Admitted:
    ticket: TicketDetail
    recorded: bool
    """False when the same offline scan was sent before and nothing new was recorded."""


def _refusal(verdict: Verdict, scanned: ScannedTicket) -> DomainError:
    reason = verdict.reason
    if verdict.result is CheckInResult.duplicate:
        first = verdict.first
        when = first.at.isoformat() if first is not None else "earlier"
        return AlreadyCheckedIn(
            f"Checked in already, at {when}.",
            first_check_in=first.model_dump(mode="json") if first is not None else None,
        )
    if reason is CheckInRefusal.not_this_site:
        return _not_this_site()
    if reason is CheckInRefusal.booking_cancelled:
        return BookingCancelled("The booking of this ticket was cancelled.")
    if reason is CheckInRefusal.wrong_day:
        valid_on = scanned.booking.date
        return WrongDay(f"This ticket is valid on {valid_on}.", valid_on=valid_on.isoformat())
    if reason is CheckInRefusal.at_before_confirmation:
        return CheckInTimeOutOfRange("`at` is before the booking was confirmed.", code=reason.value)
    return CheckInTimeOutOfRange("`at` is in the future.", code=CheckInRefusal.at_in_future)


async def check_in(
    session: AsyncSession,
    staff: Staff,
    scan: Scan,
    product_id: uuid.UUID | None = None,
) -> Admitted | DomainError:
    """Check a ticket in: `Admitted`, or the refusal to answer, recorded (the caller commits
    it). 404 `ticket_not_found` and the 422s of an offline `at` are raised: nothing is
    recorded for them."""
    scanned = await _scanned(session, scan.code, lock_booking=True)
    if scan.at is not None:
        await TicketRepository(session).lock([scanned.ticket.id])
    verdict = await _judge(session, staff, scanned, scan, product_id)
    if verdict.result is not CheckInResult.accepted:
        refusal = _refusal(verdict, scanned)
        if isinstance(refusal, CheckInTimeOutOfRange):
            raise refusal
        return refusal
    return Admitted(await _reloaded(session, scanned), recorded=not verdict.replay)


# Offline: the day's list, and the upload.


async def site_of(session: AsyncSession, principal: Principal, product_id: uuid.UUID) -> None:
    """404 `experience_not_found` unless the product is an experience; 403 `not_this_site`
    unless the key is its site's staff."""
    owner_id = await TicketRepository(session).site_owner(product_id)
    if owner_id is None:
        raise NotFound(
            f"Product {product_id} has no experience settings (or does not exist).",
            code="experience_not_found",
        )
    principal.ensure_acts_for(
        owner_id, detail="This key is not the staff of this site.", code="not_this_site"
    )


def code_sha256(code: str) -> str:
    """What the gate list names a ticket by: the SHA-256 of its code, in lowercase hex."""
    return hashlib.sha256(code.encode()).hexdigest()


async def gate_list(session: AsyncSession, product_id: uuid.UUID, day: date) -> GateList:
    """The tickets of the experience's confirmed bookings on `day`: one statement."""
    rows = await TicketRepository(session).of_day(product_id, day)
    return GateList(
        product_id=product_id,
        date=day,
        tickets=[
            GateTicket(
                code_sha256=code_sha256(ticket.code),
                ticket_type=unit.code,
                ticket_type_name=unit.name,
                start_time=booking.start_time,
                booking_reference=booking.reference,
                name=booking.contact_name,
                checked_in_at=ticket.checked_in_at,
                checked_in_gate=ticket.checked_in_gate,
            )
            for ticket, booking, unit in rows
        ],
    )


async def upload(
    session: AsyncSession,
    staff: Staff,
    product_id: uuid.UUID,
    scans: list[OfflineCheckIn],
) -> CheckInUploadRead:
    """Record what an offline gate of this experience scanned: each scan accepted (the
    ticket's earliest, naming the later check-in it displaced, if any), a duplicate (naming
    the one that counts) or refused with its reason.
    Scans are judged earliest first, so within one upload none replaces another; the answer
    lists them in the order sent."""
    tickets = TicketRepository(session)
    found = await tickets.find_by_codes(sorted({scan.code for scan in scans}), lock_bookings=True)
    await tickets.lock(sorted(scanned.ticket.id for scanned in found.values()))
    verdicts: dict[int, Verdict] = {}
    for i in sorted(range(len(scans)), key=lambda i: (scans[i].at, i)):
        sent = scans[i]
        scanned = found.get(sent.code)
        if scanned is None:
            verdicts[i] = Verdict(CheckInResult.refused, CheckInRefusal.unknown_ticket)
            continue
        verdicts[i] = await _judge(
            session, staff, scanned, Scan(sent.code, sent.at, sent.gate), product_id
        )
    return upload_read(scans, [verdicts[i] for i in range(len(scans))])


def upload_read(scans: list[OfflineCheckIn], verdicts: list[Verdict]) -> CheckInUploadRead:
    """The answer to an upload: each scan's verdict, in the order sent, and their counts."""
    results = [
        UploadedCheckIn(
            code=sent.code,
            at=sent.at.astimezone(UTC),
            gate=sent.gate,
            result=verdict.result,
            reason=verdict.reason,
            first_check_in=verdict.first,
            displaced_check_in=verdict.displaced,
            replay=verdict.replay,
        )
        for sent, verdict in zip(scans, verdicts, strict=True)
    ]
    count = {result: sum(r.result is result for r in results) for result in CheckInResult}
    return CheckInUploadRead(
        results=results,
        accepted=count[CheckInResult.accepted],
        duplicate=count[CheckInResult.duplicate],
        refused=count[CheckInResult.refused],
    )
