from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

from app.core import metrics
from app.core.db import SessionDep, ping
from app.core.errors import problem_response
from app.core.openapi import responses
from app.webhooks import service as webhooks

logger = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses=responses(503))
async def readyz(request: Request) -> Health | Response:
    """Readiness: the database answers."""
    try:
        await ping(request.app.state.engine)
    except (SQLAlchemyError, OSError) as exc:
        logger.warning("readiness check failed: %s", exc)
        return problem_response(503, "database_unavailable", "The database does not answer.")
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
async def prometheus_metrics(session: SessionDep) -> Response:
    """Prometheus metrics: requests, latency, orders, webhook deliveries, outbox backlog."""
    metrics.OUTBOX_BACKLOG.set(await webhooks.backlog(session))
    return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)
