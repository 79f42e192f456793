"""Who may call `/octo` (a partner key), and what every `/octo` answer carries."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from app.api_keys.auth import Principal, require
from app.models.api_key import Role
from app.octo.errors import CAPABILITIES_HEADER, capabilities_value

Reseller = Annotated[Principal, Depends(require(Role.partner))]
"""A partner key: the only kind OCTO serves (admins and owners use `/v1`)."""


async def capabilities_header(response: Response) -> None:
    """`Octo-Capabilities` on every answer, as OCTO requires: the capabilities in use (the
    request's own `Octo-Capabilities` asks for some; this surface supports none)."""
    response.headers[CAPABILITIES_HEADER] = capabilities_value()


def endpoint(request: Request) -> str:
    """The base URL OCTO's paths follow (the supplier's `endpoint`), as the client reached it."""
    return str(request.base_url).rstrip("/") + "/octo"


Endpoint = Annotated[str, Depends(endpoint)]
