"""The settings a `PUT` writes: their product row-locked (404), "admin, or this owner's key"
(403), and `If-Match` against the current settings (412), in that order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.api_keys.auth import AdminOrOwner
from app.core.db import SessionDep
from app.core.errors import PreconditionFailed
from app.core.http import check_if_match
from app.experiences import service
from app.experiences.schemas import ExperienceWrite
from app.models.experience import Experience
from app.models.product import Product
from app.products import service as products


@dataclass(frozen=True)
class ExperienceWriting:
    """A `PUT` of a product's settings: the product (locked), its settings if any, the body."""

    product: Product
    current: Experience | None
    body: ExperienceWrite


async def experience_writing(
    request: Request,
    session: SessionDep,
    principal: AdminOrOwner,
    product_id: uuid.UUID,
    body: ExperienceWrite,
) -> ExperienceWriting:
    product = await products.load_product(session, product_id, for_update=True)
    products.ensure_owner_may_act_for(principal, product.owner_id)
    current = await service.find_experience(session, product_id)
    if current is not None:
        check_if_match(request, service.read(current))
    elif request.headers.get("if-match") is not None:
        raise PreconditionFailed(
            "This product has no experience settings yet, so `If-Match` names none of them.",
            code="etag_mismatch",
        )
    return ExperienceWriting(product, current, body)


ExperienceWritingDep = Annotated[ExperienceWriting, Depends(experience_writing)]
