from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from app.core.db import SessionDep, TransactionRoute
from app.core.http import conditional_json
from app.core.openapi import responses
from app.core.pagination import Page
from app.core.query import query_model
from app.geography import service
from app.geography.schemas import CommuneQuery, CommuneRead, ProvinceQuery, ProvinceRead

router = APIRouter(prefix="/v1/geography", tags=["geography"], route_class=TransactionRoute)


@router.get("/provinces", response_model=Page[ProvinceRead], responses=responses(304))
async def list_provinces(
    request: Request,
    session: SessionDep,
    query: Annotated[ProvinceQuery, query_model(ProvinceQuery)],
) -> Response:
    """The 34 provinces since 1 July 2025, by code; `q` searches their names."""
    provinces, next_cursor = await service.list_provinces(session, query)
    page = Page[ProvinceRead](
        items=[ProvinceRead.model_validate(p) for p in provinces], next_cursor=next_cursor
    )
    return conditional_json(request, page)


@router.get(
    "/provinces/{code}/communes",
    response_model=Page[CommuneRead],
    responses=responses(304, 404),
)
async def list_communes(
    request: Request,
    session: SessionDep,
    code: Annotated[str, Path(max_length=2, description="The province's two-digit code.")],
    query: Annotated[CommuneQuery, query_model(CommuneQuery)],
) -> Response:
    """A province's communes, wards and special zones, by code; `q` searches their names."""
    communes, next_cursor = await service.list_communes(session, code, query)
    page = Page[CommuneRead](
        items=[CommuneRead.model_validate(c) for c in communes], next_cursor=next_cursor
    )
    return conditional_json(request, page)
