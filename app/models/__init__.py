"""Every ORM model, imported here so Alembic and the mappers see them all."""

from app.core.db import Base
from app.models.api_key import ApiKey, Role
from app.models.owner import Owner, OwnerKind, OwnerStatus

__all__ = ["ApiKey", "Base", "Owner", "OwnerKind", "OwnerStatus", "Role"]
