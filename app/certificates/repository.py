"""Certificate queries."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select

from app.core.pagination import Ordering, PageQuery, SortKey
from app.core.repository import Repository
from app.models.product import Certificate

HISTORY = Ordering(
    "history",
    (
        SortKey(Certificate.issued_on, date, descending=True),
        SortKey(Certificate.created_at, datetime, descending=True),
        SortKey(Certificate.id, uuid.UUID, descending=True),
    ),
)


class CertificateRepository(Repository[Certificate]):
    model = Certificate
    noun = "certificate"

    async def find(self, product_id: uuid.UUID, decision_no: str) -> Certificate | None:
        """The product's certificate under this decision, if any."""
        stmt = select(Certificate).where(
            Certificate.product_id == product_id, Certificate.decision_no == decision_no
        )
        return await self.session.scalar(stmt)

    async def history(
        self, product_id: uuid.UUID, page: PageQuery
    ) -> tuple[list[Certificate], str | None]:
        """One page of the product's certificates, latest first."""
        return await self.page(
            self.select().where(Certificate.product_id == product_id), HISTORY, page
        )
