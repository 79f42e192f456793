from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from app.api_keys.auth import AdminPrincipal
from app.core.clock import ClockDep
from app.core.db import SessionDep, TransactionRoute
from app.core.negotiation import negotiate
from app.core.openapi import responses
from app.core.text import without_marks
from app.core.zones import TodayDep, ZoneDep
from app.reports import csv_format, service
from app.reports.dependencies import OwnerSalesAskedDep, SalesEventId, TourismQueryDep
from app.reports.schemas import CatalogReport, EventSalesReport, OwnerSalesReport, TourismReport

router = APIRouter(
    prefix="/v1/reports",
    tags=["reports"],
    responses=responses(401, 403, 404, 406),
    route_class=TransactionRoute,
)

JSON_MEDIA_TYPE = "application/json"
CSV_MEDIA_TYPE = "text/csv"
OFFERED = (JSON_MEDIA_TYPE, CSV_MEDIA_TYPE)
"""What a report answers with, JSON first: it wins a tie (`*/*`, or no `Accept`)."""
_CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
        "description": "The report, as `Accept` asks (q-values honoured): JSON, or CSV "
        "(UTF-8 with a byte order mark, for spreadsheets) with `Accept: text/csv`. Nothing "
        "acceptable: 406, listing both.",
        "headers": {
            "Content-Disposition": {
                "schema": {"type": "string"},
                "description": "CSV only: `attachment`, with a file name (`filename*` in UTF-8).",
            },
        },
    }
}
UNSAFE_IN_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


async def _media_type(request: Request) -> str:
    return negotiate(request.headers.get("accept"), OFFERED)


MediaType = Annotated[str, Depends(_media_type)]
"""The media type of the answer, negotiated before any work (406 when nothing fits)."""


def attachment(filename: str) -> str:
    """A `Content-Disposition` offering the answer as a file: `filename` in UTF-8
    (`filename*`, RFC 6266 and 8187), and an ASCII one for clients that know no other."""
    safe = UNSAFE_IN_FILENAME.sub("-", filename).strip()
    ascii_name = without_marks(safe).encode("ascii", "ignore").decode() or "report.csv"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(safe, safe='')}"


def _answer(
    media_type: str,
    report: EventSalesReport | OwnerSalesReport | CatalogReport | TourismReport,
    filename: str,
) -> Response:
    headers = {"Vary": "Accept"}
    if media_type == CSV_MEDIA_TYPE:
        if isinstance(report, CatalogReport):
            text = csv_format.render_catalog(report)
        elif isinstance(report, TourismReport):
            text = csv_format.render_tourism(report)
        else:
            text = csv_format.render(report)
        headers["Content-Disposition"] = attachment(f"{filename}.csv")
        return Response(
            csv_format.encode(text), media_type=csv_format.CONTENT_TYPE, headers=headers
        )
    return Response(_json(report), media_type=JSON_MEDIA_TYPE, headers=headers)


def _json(model: BaseModel) -> bytes:
    return model.model_dump_json(by_alias=True).encode()


@router.get("/events/{event_id}/sales", response_model=EventSalesReport, responses=_CSV_RESPONSE)
async def event_sales(
    session: SessionDep,
    event_id: SalesEventId,
    media_type: MediaType,
    clock: ClockDep,
) -> Response:
    """What an event sold, by product, local day and owner (admin, or a partner key granted
    the event)."""
    report = await service.event_sales(session, event_id, now=clock.now())
    return _answer(media_type, report, f"{report.event_name} sales")


@router.get("/owners/{owner_id}/sales", response_model=OwnerSalesReport, responses=_CSV_RESPONSE)
async def owner_sales(
    session: SessionDep,
    asked: OwnerSalesAskedDep,
    media_type: MediaType,
    clock: ClockDep,
    zone: ZoneDep,
) -> Response:
    """An owner's sales over a date range (admin, or that owner's key)."""
    query = asked.query
    report = await service.owner_sales(session, asked.owner_id, query, zone=zone, now=clock.now())
    return _answer(media_type, report, f"{report.owner_name} sales {query.first} to {query.last}")


@router.get("/catalog", response_model=CatalogReport, responses=_CSV_RESPONSE)
async def catalog(
    session: SessionDep,
    _admin: AdminPrincipal,
    media_type: MediaType,
    clock: ClockDep,
    today: TodayDep,
    days: Annotated[
        int, Query(ge=0, le=3650, description="Window for certificates about to expire.")
    ] = 90,
) -> Response:
    """The catalogue: products by stars, group and commune; certificates expiring soon (admin)."""
    report = await service.catalog(session, today=today, days=days, now=clock.now())
    return _answer(media_type, report, f"OCOP catalogue {today}")


@router.get("/tourism", response_model=TourismReport, responses=_CSV_RESPONSE)
async def tourism(
    session: SessionDep, query: TourismQueryDep, media_type: MediaType, clock: ClockDep
) -> Response:
    """Visitors and tourism revenue of the experiences, by experience, experience and day,
    commune and month, over the local dates of the visits (admin; an owner key: its own
    experiences)."""
    report = await service.tourism(session, query, now=clock.now())
    return _answer(media_type, report, f"Tourism {query.first} to {query.last}")
