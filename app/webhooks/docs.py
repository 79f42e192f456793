"""The webhooks in the OpenAPI document (its top-level `webhooks`, OpenAPI 3.1): one operation
per event type, with the body its deliveries carry and the Standard Webhooks signature headers.

The bodies are `WebhookMessage` (what the worker sends) with `type` fixed to the event type and
`data` typed as the resource the event carries, so the document follows both.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Header
from pydantic import BaseModel, Field, create_model
from starlette.responses import Response

from app.webhooks.schemas import WebhookMessage
from app.webhooks.signing import TOLERANCE_S

SIGNATURE_HEADERS = {
    "webhook-id": "The message id (`msg_...`): the same on every retry of a delivery, so drop "
    "a message whose id you have already handled.",
    "webhook-timestamp": "When this attempt was signed, in Unix seconds; refuse a message more "
    f"than {TOLERANCE_S // 60} minutes from your clock (a replay).",
    "webhook-signature": "`v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<body>` "
    "under the endpoint's secret (`whsec_<base64 key>`); during a secret rotation several, "
    "space-separated: one match is enough.",
}

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Any 2xx status acknowledges the message; its body is ignored."},
    410: {"description": "Gone: the endpoint is disabled and receives nothing more."},
    "default": {
        "description": "Any other answer, or none in time: the message is sent again later, "
        "with exponential backoff for about three days, or after the `Retry-After` you give."
    },
}


def message_model(event_type: str, data: type[BaseModel]) -> type[WebhookMessage]:
    """`WebhookMessage` for one event type: `type` is that type, `data` is `data`
    (`OrderCreatedWebhook` for `order.created`)."""
    name = "".join(word.capitalize() for word in re.split(r"[._]", event_type)) + "Webhook"
    return create_model(
        name,
        __base__=WebhookMessage,
        __doc__=f"The body of a `{event_type}` webhook.",
        type=(cast(Any, Literal)[event_type], Field(description="The event type.")),
        data=(data, Field(description=data.__doc__ or "The resource after the change.")),
    )


def _receiver(message: type[WebhookMessage]) -> Callable[..., Response]:
    """A stand-in endpoint whose signature is what a receiver gets: the body and the headers."""

    def receive(**_: Any) -> Response:  # documentation only: never routed
        raise NotImplementedError

    parameters = [
        inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=message),
        *(
            inspect.Parameter(
                name.replace("-", "_"),
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[str, Header(alias=name, description=description)],
            )
            for name, description in SIGNATURE_HEADERS.items()
        ),
    ]
    receive.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return receive


def document_webhooks(webhooks: APIRouter, payloads: Mapping[str, type[BaseModel]]) -> None:
    """Add an operation to the app's `webhooks` router for each event type, whose `data` is
    `payloads[event type]`."""
    for event_type, data in payloads.items():
        message = message_model(event_type, data)
        webhooks.add_api_route(
            event_type,
            _receiver(message),
            methods=["POST"],
            operation_id=event_type.replace(".", "_") + "_webhook",
            summary=f"`{event_type}`",
            description=(
                f"What an endpoint subscribed to `{event_type}` receives: a signed POST "
                "(Standard Webhooks). Check the signature over the raw body before parsing it."
            ),
            response_class=Response,
            responses=_RESPONSES,
            tags=["webhooks"],
        )
