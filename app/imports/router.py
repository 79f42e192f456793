"""`POST /v1/products/import`: the catalogue from CSV (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request

from app.api_keys.auth import AdminPrincipal
from app.core.db import SessionDep, TransactionRoute
from app.core.errors import DomainError
from app.core.openapi import responses
from app.core.zones import TodayDep
from app.imports import products as importer
from app.imports.schemas import ImportResult

router = APIRouter(prefix="/v1/products", tags=["products"], route_class=TransactionRoute)

IMPORT_PATH = "/import"
MAX_IMPORT_BYTES = 5 * 1024 * 1024
BODY_LIMITS = {("POST", router.prefix + IMPORT_PATH): MAX_IMPORT_BYTES}
"""A CSV file may be larger than other bodies: the app's body limit takes this mapping."""


_EXAMPLE = (
    "owner_name,product_name,group,unit,price_vnd,commune,owner_kind,unit_step,stock,stars,"
    "score,decision_no,issued_on,name_en,description_en,description\r\n"
    "Công ty TNHH MTV Ngọc Quế,Trà Bổ Khai Ngọc Quế hòa tan,beverage,box,95000,Hữu Lũng,"
    "company,1,300,4,,2468/QĐ-UBND,2025-10-20,Ngoc Que instant Bo Khai tea,"
    "Instant Bo Khai herbal tea; 4-star OCOP.,Trà Bổ Khai hòa tan; sản phẩm OCOP 4 sao.\r\n"
)


class UnsupportedMediaType(DomainError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


@router.post(
    IMPORT_PATH,
    response_model=ImportResult,
    responses=responses(401, 403, 409, 413, 415),
    openapi_extra={
        "requestBody": {
            "required": True,
            # A file, sent as its bytes: `binary` makes generated clients take a file (or
            # bytes) rather than a string they cannot send.
            "content": {
                "text/csv": {
                    "schema": {"type": "string", "format": "binary"},
                    "example": _EXAMPLE,
                }
            },
            "description": "UTF-8 CSV with a header row, at most 5 MiB; see the README for the "
            "columns.",
        }
    },
)
async def import_products(
    request: Request,
    session: SessionDep,
    _admin: AdminPrincipal,
    content_type: Annotated[str | None, Header(include_in_schema=False)] = None,
    dry_run: Annotated[
        bool, Query(description="Check the file and report what would change; write nothing.")
    ] = False,
    *,
    today: TodayDep,
) -> ImportResult:
    """Import products and certificates from CSV (admin): every row valid, or nothing written."""
    if (content_type or "").split(";")[0].strip().lower() != "text/csv":
        raise UnsupportedMediaType("Send the file as `Content-Type: text/csv`.")
    # The size is the body limit's (`BODY_LIMITS`): a larger file is never read.
    raw = await request.body()
    return await importer.import_csv(session, importer.decode(raw), today=today, dry_run=dry_run)
