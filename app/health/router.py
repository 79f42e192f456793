from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from app.core import metrics
from app.core.caching import NoStore
from app.core.clock import ClockDep
from app.core.db import SessionDep, TransactionRoute, check_ready
from app.core.openapi import responses
from app.webhooks import service as webhooks

logger = logging.getLogger(__name__)
# The service's state of this moment: never served from a cache.
router = APIRouter(tags=["operations"], dependencies=[NoStore], route_class=TransactionRoute)


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses=responses(503))
async def readyz(request: Request) -> Health:
    """Readiness: the database answers (within 1.5 s) and its schema is this release's."""
    fault = await check_ready(request.app.state.engine, request.app.state.schema_head)
    if fault is not None:
        raise fault
    return Health(status="ok")


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def prometheus_metrics(session: SessionDep, clock: ClockDep) -> Response:
    """Prometheus metrics: requests, latency, orders, webhook deliveries, outbox backlog."""
    figures = await webhooks.figures(session, clock.now())
    return Response(metrics.render(figures), media_type=metrics.CONTENT_TYPE)
