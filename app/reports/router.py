from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from app.api_keys.auth import AdminPrincipal
from app.core.clock import ClockDep
from app.core.db import SessionDep
from app.core.openapi import responses
from app.core.zones import TodayDep, ZoneDep
from app.reports import csv_format, service
from app.reports.dependencies import OwnerSalesAskedDep, SalesEventId
from app.reports.schemas import CatalogReport, EventSalesReport, OwnerSalesReport

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=responses(401, 403, 404))

CSV_MEDIA_TYPE = "text/csv"
_CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
        "description": "The report; as CSV with `Accept: text/csv`.",
    }
}


def _wants_csv(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return CSV_MEDIA_TYPE in accept and "application/json" not in accept.split(CSV_MEDIA_TYPE)[0]


def _answer(
    request: Request,
    report: EventSalesReport | OwnerSalesReport | CatalogReport,
    filename: str,
) -> Response:
    if _wants_csv(request):
        text = (
            csv_format.render_catalog(report)
            if isinstance(report, CatalogReport)
            else csv_format.render(report)
        )
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    return Response(_json(report), media_type="application/json")


def _json(model: BaseModel) -> bytes:
    return model.model_dump_json(by_alias=True).encode()


@router.get("/events/{event_id}/sales", response_model=EventSalesReport, responses=_CSV_RESPONSE)
async def event_sales(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    zone: ZoneDep,
    event_id: SalesEventId,
) -> Response:
    """What an event sold, by product, local day and owner (admin, or a partner key granted
    the event)."""
    report = await service.event_sales(session, event_id, zone=zone, now=clock.now())
    return _answer(request, report, f"event-{event_id}-sales")


@router.get("/owners/{owner_id}/sales", response_model=OwnerSalesReport, responses=_CSV_RESPONSE)
async def owner_sales(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    zone: ZoneDep,
    asked: OwnerSalesAskedDep,
) -> Response:
    """An owner's sales over a date range (admin, or that owner's key)."""
    query = asked.query
    report = await service.owner_sales(session, asked.owner_id, query, zone=zone, now=clock.now())
    return _answer(request, report, f"owner-{asked.owner_id}-sales-{query.first}-{query.last}")


@router.get("/catalog", response_model=CatalogReport, responses=_CSV_RESPONSE)
async def catalog(
    request: Request,
    session: SessionDep,
    _admin: AdminPrincipal,
    clock: ClockDep,
    today: TodayDep,
    days: Annotated[
        int, Query(ge=0, le=3650, description="Window for certificates about to expire.")
    ] = 90,
) -> Response:
    """The catalogue: products by stars, group and commune; certificates expiring soon (admin)."""
    report = await service.catalog(session, today=today, days=days, now=clock.now())
    return _answer(request, report, f"catalog-{today}")
