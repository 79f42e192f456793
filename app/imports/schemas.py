"""What an import reports."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ImportResult(BaseModel):
    dry_run: bool = Field(description="True when nothing was written on purpose.")
    rows: int = Field(description="Data rows read.")
    owners_created: int
    products_created: int
    products_updated: int
    products_unchanged: int
    certificates_created: int
