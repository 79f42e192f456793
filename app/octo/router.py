"""`/octo`: the OCTO core specification (docs.octo.travel) for resellers.

Its contract is OCTO's own OpenAPI definition, not this API's document, which leaves these
routes out. Errors are OCTO's (`app.octo.errors`). Each collection answers with or without
the trailing slash OCTO's definition writes (`/octo/supplier` and `/octo/supplier/`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query

from app.core.clock import ClockDep
from app.core.config import SettingsDep
from app.core.db import SessionDep, TransactionRoute
from app.core.schemas import Day
from app.core.zones import ZoneDep
from app.octo import service
from app.octo.dependencies import Endpoint, Reseller, capabilities_header
from app.octo.schemas import (
    Availability,
    Booking,
    CalendarDay,
    CalendarIn,
    CancelIn,
    Capability,
    CheckIn,
    ConfirmIn,
    ExtendIn,
    Product,
    ReserveIn,
    Supplier,
)

router = APIRouter(
    prefix="/octo",
    tags=["octo"],
    include_in_schema=False,
    dependencies=[Depends(capabilities_header)],
    route_class=TransactionRoute,
)

Text = Annotated[str | None, Query(max_length=100)]


@router.get("/capabilities")
@router.get("/capabilities/")
async def octo_list_capabilities() -> list[Capability]:
    """The OCTO capabilities supported: none beyond the core (no key needed)."""
    return []


@router.get("/supplier")
@router.get("/supplier/")
async def octo_get_supplier(_: Reseller, settings: SettingsDep, endpoint: Endpoint) -> Supplier:
    """Who sells: the operator of this API."""
    return service.supplier(settings, endpoint)


@router.get("/products")
@router.get("/products/")
async def octo_list_products(_: Reseller, session: SessionDep, zone: ZoneDep) -> list[Product]:
    """Every bookable experience, with its option and units (ticket types)."""
    return await service.list_products(session, zone)


@router.get("/products/{product_id}")
async def octo_get_product(
    _: Reseller, session: SessionDep, zone: ZoneDep, product_id: str
) -> Product:
    """One bookable experience."""
    return await service.get_product(session, product_id, zone)


@router.post("/availability/calendar")
async def octo_availability_calendar(
    _: Reseller, session: SessionDep, clock: ClockDep, zone: ZoneDep, body: CalendarIn
) -> list[CalendarDay]:
    """Each local date of a range, summed up."""
    return await service.calendar(session, body, now=clock.now(), zone=zone)


@router.post("/availability")
@router.post("/availability/")
async def octo_availability_check(
    _: Reseller, session: SessionDep, clock: ClockDep, zone: ZoneDep, body: CheckIn
) -> list[Availability]:
    """Each start of a date, of dates or of the ids asked for: the ids a booking names."""
    return await service.check(session, body, now=clock.now(), zone=zone)


@router.post("/bookings")
@router.post("/bookings/")
async def octo_reserve(
    reseller: Reseller,
    session: SessionDep,
    clock: ClockDep,
    zone: ZoneDep,
    settings: SettingsDep,
    body: ReserveIn,
) -> Booking:
    """Hold places until `utcExpiresAt`; `uuid` makes a retry give the same booking back."""
    now = clock.now()
    booking = await service.reserve(
        session, reseller, body, now=now, zone=zone, hold_override=settings.hold_override
    )
    return await service.view(session, booking, now=now, zone=zone)


@router.get("/bookings")
@router.get("/bookings/")
async def octo_list_bookings(
    reseller: Reseller,
    session: SessionDep,
    clock: ClockDep,
    zone: ZoneDep,
    reseller_reference: Annotated[
        str | None, Query(alias="resellerReference", max_length=100)
    ] = None,
    supplier_reference: Annotated[
        str | None, Query(alias="supplierReference", max_length=100)
    ] = None,
    local_date: Annotated[Day | None, Query(alias="localDate")] = None,
    local_date_start: Annotated[Day | None, Query(alias="localDateStart")] = None,
    local_date_end: Annotated[Day | None, Query(alias="localDateEnd")] = None,
    product_id: Annotated[str | None, Query(alias="productId", max_length=100)] = None,
    option_id: Annotated[str | None, Query(alias="optionId", max_length=100)] = None,
) -> list[Booking]:
    """The bookings this key made, by reference or local dates."""
    found = await service.list_bookings(
        session,
        reseller,
        reseller_reference=reseller_reference,
        supplier_reference=supplier_reference,
        local_date=local_date,
        local_date_start=local_date_start,
        local_date_end=local_date_end,
        product_id=product_id,
        option_id=option_id,
    )
    return await service.views(session, found, now=clock.now(), zone=zone)


@router.get("/bookings/{uuid}")
async def octo_get_booking(
    reseller: Reseller, session: SessionDep, clock: ClockDep, zone: ZoneDep, uuid: str
) -> Booking:
    """One booking this key made."""
    booking = await service.get_booking(session, reseller, uuid)
    return await service.view(session, booking, now=clock.now(), zone=zone)


@router.post("/bookings/{uuid}/confirm")
async def octo_confirm(
    reseller: Reseller,
    session: SessionDep,
    clock: ClockDep,
    zone: ZoneDep,
    uuid: str,
    body: ConfirmIn,
) -> Booking:
    """Confirm a hold with the tourist's contact; issues one ticket per person."""
    now = clock.now()
    booking = await service.confirm(session, reseller, uuid, body, now=now)
    return await service.view(session, booking, now=now, zone=zone)


@router.post("/bookings/{uuid}/extend")
async def octo_extend(
    reseller: Reseller,
    session: SessionDep,
    clock: ClockDep,
    zone: ZoneDep,
    uuid: str,
    body: Annotated[ExtendIn, Body(default_factory=ExtendIn)],
) -> Booking:
    """Hold a live hold's places longer."""
    now = clock.now()
    booking = await service.extend(session, reseller, uuid, body, now=now)
    return await service.view(session, booking, now=now, zone=zone)


@router.post("/bookings/{uuid}/cancel")
async def octo_cancel(
    reseller: Reseller,
    session: SessionDep,
    clock: ClockDep,
    zone: ZoneDep,
    uuid: str,
    body: Annotated[CancelIn, Body(default_factory=CancelIn)],
) -> Booking:
    """Cancel a hold, or a confirmed booking before it starts; its places return once."""
    now = clock.now()
    booking = await service.cancel(session, reseller, uuid, body.reason, now=now, zone=zone)
    return await service.view(session, booking, now=now, zone=zone)
